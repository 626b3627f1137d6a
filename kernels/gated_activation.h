// The activations of the vision towers' MLPs in one pass over bfloat16 numbers: read, widen to float32,
// y = x * sigmoid(linear * x + cubic * x^3), round back to bfloat16 (to nearest even, as LibTorch
// rounds). Torch-free: core/nn/cpu_fused_ops.h is the LibTorch side.
//
// LibTorch computes the same in five passes (widen, scale, sigmoid, multiply, narrow), each writing a new
// tensor of the MLP's widest shape; in CLIP's image tower those passes took as long as the matrix
// products around them.
#pragma once

#include <cstdint>

#include "kernels/vector_kernel.h"

namespace pictor::kernels {

// quick_gelu: linear 1.702. silu: linear 1. gelu with the tanh curve: 0.5 * (1 + tanh(u)) = sigmoid(2u),
// so linear 2 * sqrt(2 / pi) and cubic that times 0.044715.
struct SigmoidGate {
    float linear = 1.0f;
    float cubic = 0.0f;
};

// y[i] = x[i] * sigmoid(gate(x[i])) for i in [0, count), bfloat16 bit patterns in and out. The reference
// uses std::exp; the others a polynomial exp with float32 rounding error, so a result may differ from the
// reference's in the last bfloat16 bit. NaN stays NaN.
void gatedActivationBf16(
    const std::uint16_t* x, std::uint16_t* y, std::int64_t count, SigmoidGate gate, VectorKernel kernel);

} // namespace pictor::kernels
