// Building blocks of diffusion models, named as diffusers names them so that declared slots equal the
// checkpoint keys (convolutions and group norm are in layers.h): the sinusoidal timestep embedding, the
// UNet's ResNet block, attention over a feature map plus an added context (SimpleCrossAttn), the prior's
// transformer block and the antialiased bicubic resize between stages. Reused by every diffusion family.
#pragma once

#include <cstdint>
#include <optional>

#include <ATen/ATen.h>

#include "core/nn/layers.h"
#include "core/nn/parameters.h"

namespace pictor::nn {

// diffusers' get_timestep_embedding: [len(timesteps), dim] float32 sinusoids, cat(sin, cos) or, with
// flipSinToCos, cat(cos, sin); frequencies exp(-ln(10000) * j / (dim/2 - downscaleFreqShift)).
at::Tensor sinusoidalTimestepEmbedding(
    const at::Tensor& timesteps, std::int64_t dim, bool flipSinToCos, double downscaleFreqShift);

// TimestepEmbedding: linear_1 -> SiLU -> linear_2.
struct TimestepMlp {
    Linear linear_1, linear_2;
    void declare(const Scope& scope, std::int64_t in, std::int64_t out);
    at::Tensor forward(const at::Tensor& x) const;
};

// How a ResNet block takes the time embedding: added before norm2 ("default"), or as scale and shift
// after it ("scale_shift": norm2(h) * (1 + scale) + shift).
enum class TimeConditioning { Add, ScaleShift };
// A ResNet block that also resamples (ResnetDownsampleBlock2D / ResnetUpsampleBlock2D): 2x2 average pool
// or nearest 2x, applied to the input and to the hidden state after norm1 + SiLU.
enum class Resample { None, Down, Up };

struct ResnetBlockOptions {
    std::int64_t groups = 32;
    double eps = 1e-5;
    TimeConditioning time = TimeConditioning::Add;
    Resample resample = Resample::None;
};

// diffusers' ResnetBlock2D with SiLU, dropout 0, output_scale_factor 1 and a 1x1 shortcut when the
// channel count changes.
struct ResnetBlock2D {
    GroupNorm norm1, norm2;
    Conv2d conv1, conv2, conv_shortcut;
    Linear time_emb_proj;
    bool hasShortcut = false;
    ResnetBlockOptions options;
    void declare(const Scope& scope, std::int64_t in, std::int64_t out, std::int64_t timeChannels,
        const ResnetBlockOptions& blockOptions);
    at::Tensor forward(at::Tensor x, const at::Tensor& temb) const;
};

// diffusers' Attention with AttnAddedKVProcessor (SimpleCrossAttn blocks): group norm over the spatial
// tokens, queries from them, keys and values from the context (add_k_proj / add_v_proj) placed BEFORE
// those of the spatial tokens, softmax(q k^T / sqrt(head_dim)), to_out, residual.
struct AddedKvAttention {
    GroupNorm group_norm;
    Linear to_q, to_k, to_v, add_k_proj, add_v_proj, to_out;
    std::int64_t heads = 1;
    void declare(const Scope& scope, std::int64_t channels, std::int64_t contextDim, std::int64_t headDim,
        std::int64_t groups, double eps);
    // x [B, C, H, W]; context [B, T, contextDim]; contextMask additive [B, 1, T] (or undefined).
    at::Tensor forward(const at::Tensor& x, const at::Tensor& context, const at::Tensor& contextMask) const;
};

// diffusers' BasicTransformerBlock as the prior uses it (self-attention only): x + attn1(norm1(x)), then
// x + ff(norm3(x)) with an exact-GELU feed-forward of 4x width.
struct PriorTransformerBlock {
    LayerNorm norm1, norm3;
    Linear to_q, to_k, to_v, to_out; // attn1.*
    Linear ff_proj, ff_out; // ff.net.0.proj, ff.net.2
    std::int64_t heads = 1;
    void declare(const Scope& scope, std::int64_t dim, std::int64_t numHeads, std::int64_t headDim);
    // additiveMask broadcastable to [batch, heads, tokens, tokens].
    at::Tensor forward(const at::Tensor& x, const at::Tensor& additiveMask) const;
};

// F.interpolate(images, size, mode="bicubic", align_corners=False, antialias=True): the a = -0.5 kernel,
// which differs from plain bicubic (a = -0.75) even when enlarging. images: [B, C, H, W].
at::Tensor resizeBicubicAntialiased(const at::Tensor& images, std::int64_t height, std::int64_t width);

} // namespace pictor::nn
