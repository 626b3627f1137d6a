// Ctrl+C and SIGTERM for the long commands (index, caption, ask, generate): the first asks the running
// job to stop at its next check (a batch, a token, a diffusion step: its work so far is kept) and says
// so on stderr; a second ends the process at once (the catalog's journal keeps it consistent).
#pragma once

#include <atomic>

namespace pictor::app {

// The flag the job polls; installs the handlers on first use.
const std::atomic<bool>& stopRequest();

} // namespace pictor::app
