// Stable model ids: a hash of what defines a checkpoint's outputs.
#pragma once

#include <filesystem>
#include <string>

#include "core/safetensors.h"

namespace pictor {

// "<family>-<16 hex digits>": XXH3-64 over the canonical config.json, the tensor index (names, dtypes,
// shapes) and the first bytes of every tensor, so fine-tunes of one architecture get different ids
// without hashing gigabytes at load time.
std::string computeModelId(
    const std::string& family, const std::filesystem::path& configFile, const Checkpoint& checkpoint);

} // namespace pictor
