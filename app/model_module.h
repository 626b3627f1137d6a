// The model families (LibTorch and everything built on it) live in a loadable module, pictor_models.so,
// so that `pictor` starts without LibTorch (loading it costs 1.5-3 s on the development machine): the
// CLI loads the module before running a command, the desktop app on the compute worker at first use.
#pragma once

#include <filesystem>

#include "core/embedder.h"

namespace pictor::app {

// Loads the module (once per process) and registers its families. Throws pictor::Error naming the
// module file when it cannot be loaded.
void loadModelFamilies(ModelRegistry& registry);

// The same for a given module file (tests); a module built against another API version is refused with a
// message naming both versions.
void loadModelFamiliesFrom(const std::filesystem::path& moduleFile, ModelRegistry& registry);

} // namespace pictor::app
