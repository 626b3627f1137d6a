// Every difference between the LibTorch versions Pictor builds against (Debian's 1.13, PyTorch 2.x)
// lives here; nothing else tests TORCH_VERSION_*.
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

// Attention as diffusers computes it: SDPA where LibTorch has it (its AttnProcessor2_0 and
// AttnAddedKVProcessor2_0), else baddbmm(mask, q, k^T, alpha=scale), a float32 softmax and bmm (its
// AttnProcessor and AttnAddedKVProcessor). The reference's rounding matters: a scheduler step at t=999
// divides the predicted noise by sqrt(alphas_cumprod[999]) = 4.9e-5. Shapes as scaledDotProductAttention.
inline at::Tensor diffusersAttention(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
    const std::optional<at::Tensor>& additiveMask, double scale)
{
#if PICTOR_TORCH_HAS_SDPA_SCALE
    return at::scaled_dot_product_attention(query, key, value, additiveMask, 0.0, false, scale);
#else
    const auto batch = query.size(0), heads = query.size(1), queries = query.size(2), keys = key.size(2);
    const at::Tensor q = query.reshape({batch * heads, queries, -1});
    const at::Tensor kT = key.reshape({batch * heads, keys, -1}).transpose(1, 2);
    const at::Tensor v = value.reshape({batch * heads, keys, -1});
    at::Tensor scores;
    if (additiveMask) {
        const auto& m = *additiveMask; // [B or 1, heads or 1, queries or 1, keys]
        const at::Tensor mask
            = m.expand({batch, heads, m.size(2), keys}).reshape({batch * heads, m.size(2), keys});
        scores = at::baddbmm(mask.to(q.scalar_type()), q, kT, 1.0, scale);
    } else {
        scores = at::baddbmm(at::zeros({batch * heads, queries, keys}, q.options()), q, kT, 0.0, scale);
    }
    const at::Tensor probs = scores.to(at::kFloat).softmax(-1).to(value.scalar_type());
    return at::bmm(probs, v).view({batch, heads, queries, -1});
#endif
}

} // namespace pictor::nn
