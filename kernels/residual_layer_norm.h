// A pre-norm transformer's step between sublayers in one pass per row: the float32 residual stream takes
// the sublayer's bfloat16 output (x += update), and the next sublayer's input is the stream's layer norm
// rounded to bfloat16. Torch-free: core/nn/cpu_fused_ops.h is the LibTorch side.
//
// LibTorch does it in four passes (widen the update, add, normalize, narrow), each writing a new tensor.
#pragma once

#include <cstdint>

#include "kernels/vector_kernel.h"

namespace pictor::kernels {

// For each of `rows` rows of `width` numbers: stream += widened update (update may be null: nothing is
// added), then normalized = (stream - mean) / sqrt(variance + epsilon) * gamma + beta, rounded to bfloat16
// (variance: the biased one, as layer_norm's). The kernels differ from the reference only in the order of
// the float additions of the two sums.
void addAndLayerNormBf16(float* stream, const std::uint16_t* update, const float* gamma, const float* beta,
    float epsilon, std::uint16_t* normalized, std::int64_t rows, std::int64_t width, VectorKernel kernel);

} // namespace pictor::kernels
