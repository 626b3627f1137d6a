// Paths in plain-text output, quoted as `ls` quotes them for a terminal, so a name with a newline or a
// space cannot pass for two lines or two fields.
#pragma once

#include <filesystem>
#include <string>

namespace pictor::app {

// plain/name.jpg as it is; 'with space.jpg'; 'it'\''s.jpg'; $'line\nbreak.jpg' for control characters.
std::string shellQuoted(const std::filesystem::path& path);

} // namespace pictor::app
