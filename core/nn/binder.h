// The strict binder: checkpoint tensors <-> declared parameter slots, by name. Missing, unexpected,
// shape- or dtype-mismatched tensors are errors naming each tensor with expected vs actual.
#pragma once

#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "core/nn/device.h"
#include "core/nn/parameters.h"
#include "core/safetensors.h"

namespace pictor::nn {

struct BindOptions {
    at::ScalarType dtype = at::kFloat; // floating-point tensors are converted to this
    at::Device device = at::kCPU;
    // Checkpoint keys a family may carry without using them (exact names or suffixes after a '*',
    // e.g. "*.position_ids" for the buffers older CLIP checkpoints saved).
    std::vector<std::string> ignorableKeys;
};

struct BindReport {
    std::size_t bound = 0;
    std::size_t ignored = 0;
    std::size_t zeroCopy = 0; // tensors used in place from the memory-mapped file
    std::uint64_t bytes = 0;
};

// Fills every slot of `table` from `checkpoint` or throws pictor::Error listing every problem.
// CPU float32 tensors already in the working dtype alias the mapped file (the checkpoint must outlive them).
BindReport bindParameters(
    const ParameterTable& table, const Checkpoint& checkpoint, const BindOptions& options);

// Random weights in the declared shapes, for benchmarks in real shapes (nothing is read): N(0, 0.02), norm
// weights 1, made directly in the working dtype and device.
void fillWithRandomValues(const ParameterTable& table, const ComputeDevice& device, std::uint64_t seed);

// The checkpoint tensor as an ATen tensor (a view of the mapped bytes; clone before writing).
at::Tensor tensorFromView(const TensorView& view);

} // namespace pictor::nn
