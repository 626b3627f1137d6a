// Filling a component's declared parameters: from its safetensors weights (strict binding, errors name
// the tensor), or with random values in the same shapes for benchmarks.
#pragma once

#include <cstdint>
#include <filesystem>

#include "core/nn/device.h"
#include "core/nn/parameters.h"
#include "core/safetensors.h"

namespace pictor::unclip {

struct ComponentWeights {
    Checkpoint checkpoint; // keeps the mapped file alive while parameters alias it (empty otherwise)
    std::int64_t parameters = 0;
    std::uint64_t bytes = 0; // in the working dtype
};

ComponentWeights bindComponent(
    const nn::ParameterTable& table, const std::filesystem::path& weights, const nn::ComputeDevice& device);
ComponentWeights randomComponent(
    const nn::ParameterTable& table, const nn::ComputeDevice& device, std::uint64_t seed);

} // namespace pictor::unclip
