// The vision towers' bfloat16 work on the CPU that LibTorch does in many passes, done in one: the MLP's
// activation (kernels/gated_activation.h), the attention of short unmasked sequences
// (kernels/stacked_attention.h) and the residual add with the next layer norm
// (kernels/residual_layer_norm.h). All compute in float32 between bfloat16 inputs and outputs.
#pragma once

#include <ATen/ATen.h>

#include "core/nn/layers.h"

namespace pictor::nn {

// quick_gelu, silu and the tanh gelu have the one-pass form; the others (erf gelu, relu) do not.
bool hasOnePassBfloat16Form(Activation activation);
// activate(x.to(float32), activation).to(bfloat16), within one bfloat16 rounding step, for a bfloat16 CPU
// tensor and an activation with the one-pass form; on every thread LibTorch may use.
at::Tensor activateBfloat16InOnePass(const at::Tensor& x, Activation activation);

// Attention of every head over the output of a stacked q/k/v projection (SelfAttention::stackProjections),
// [batch, tokens, 3 * hidden] in bfloat16 on the CPU, without a mask: softmax(q k^T * scale) v, the heads'
// outputs side by side, [batch, tokens, hidden] in bfloat16; on every thread LibTorch may use.
at::Tensor attendStackedBfloat16(const at::Tensor& qkv, std::int64_t heads, double scale);

// The float32 residual stream (contiguous, on the CPU) takes a sublayer's bfloat16 output of its shape, in
// place (`update` undefined: nothing is added); returns layer_norm(stream) with `norm`'s weights, rounded to
// bfloat16. On every thread LibTorch may use.
at::Tensor addAndLayerNormBfloat16(at::Tensor& stream, const at::Tensor& update, const LayerNorm& norm);

} // namespace pictor::nn
