// Every difference between the LibTorch versions Pictor builds against (Debian's 1.13, PyTorch 2.x)
// lives here and in torch_compat.cpp; nothing else tests TORCH_VERSION_*.
#pragma once

#include <optional>

#include <ATen/ATen.h>
#include <torch/version.h>

namespace pictor::nn {

// at::scaled_dot_product_attention takes an explicit scale from PyTorch 2.1 on.
#define PICTOR_TORCH_HAS_SDPA_SCALE                                                                          \
    (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1))

// softmax(q k^T * scale + mask) v for [batch, heads, tokens, head_dim] tensors. `additiveMask` is
// broadcastable to [batch, heads, q_tokens, k_tokens]. Uses the fused kernel where LibTorch has one.
inline at::Tensor scaledDotProductAttention(const at::Tensor& query, const at::Tensor& key,
    const at::Tensor& value, const std::optional<at::Tensor>& additiveMask, double scale)
{
#if PICTOR_TORCH_HAS_SDPA_SCALE
    return at::scaled_dot_product_attention(query, key, value, additiveMask, 0.0, false, scale);
#else
    at::Tensor scores = at::matmul(query * scale, key.transpose(-2, -1));
    if (additiveMask)
        scores = scores + *additiveMask;
    return at::matmul(at::softmax(scores, -1, at::kFloat).to(value.scalar_type()), value);
#endif
}

} // namespace pictor::nn
