// Shared LibTorch building blocks. Slot names mirror Hugging Face checkpoints so that declared
// names equal the safetensors keys; forward() locals mirror the Python reference.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "core/nn/parameters.h"
#include "core/nn/quantized_linear.h"

namespace pictor::nn {

enum class Activation { QuickGelu, Gelu, GeluTanh, Silu, Relu };

// From a config's hidden_act ("quick_gelu", "gelu", "gelu_pytorch_tanh", "silu", ...); unknown names
// are an error listing the supported ones.
Activation activationFromName(const std::string& name);
at::Tensor activate(const at::Tensor& x, Activation activation);

struct Linear {
    at::Tensor weight; // [out, in]; undefined once quantized
    at::Tensor bias; // [out] or undefined
    Q8Weight weight8; // the weight in 8 bits (quantizeTo8Bit), or undefined
    void declare(const Scope& scope, std::int64_t in, std::int64_t out, bool withBias = true);
    at::Tensor forward(const at::Tensor& x) const;
    // Replaces the weight with its 8-bit blocks when it fits them (rows of whole 32-value blocks, on the
    // CPU); returns whether it did.
    bool quantizeTo8Bit();
};

struct LayerNorm {
    at::Tensor weight;
    at::Tensor bias;
    double eps = 1e-5;
    void declare(const Scope& scope, std::int64_t dim, double epsilon);
    at::Tensor forward(const at::Tensor& x) const;
};

struct Conv2d {
    at::Tensor weight; // [out, in, k, k]
    at::Tensor bias; // [out], or undefined
    std::int64_t stride = 1;
    std::int64_t padding = 0;
    // Stride 1, "same" padding (k / 2), with bias: the UNets' convolutions.
    void declare(const Scope& scope, std::int64_t in, std::int64_t out, std::int64_t kernel);
    // A ViT's patch embedding: stride = kernel = patch, no padding (CLIP has no bias, SigLIP has one).
    void declarePatchEmbedding(
        const Scope& scope, std::int64_t in, std::int64_t out, std::int64_t patch, bool withBias);
    at::Tensor forward(const at::Tensor& x) const;
};

struct GroupNorm {
    at::Tensor weight;
    at::Tensor bias;
    std::int64_t groups = 32;
    double eps = 1e-5;
    void declare(const Scope& scope, std::int64_t channels, std::int64_t numGroups, double epsilon);
    at::Tensor forward(const at::Tensor& x) const; // x: [batch, channels, ...]
};

// Multi-head self-attention with separate q/k/v/out projections (CLIP, SigLIP).
// One Linear whose output is the parts' outputs side by side (weights and biases stacked): one matrix
// product instead of several, larger and so closer to the machine's peak. The parts are left as they are.
Linear stackLinears(const std::vector<const Linear*>& parts);

struct SelfAttention {
    Linear q_proj, k_proj, v_proj, out_proj;
    Linear qkv_proj; // q, k and v stacked (stackProjections), or undefined
    std::int64_t heads = 1;
    void declare(const Scope& scope, std::int64_t hidden, std::int64_t numHeads);
    // Replaces q/k/v with one stacked product (their weights are released).
    void stackProjections();
    // hidden_states [batch, tokens, hidden]; additiveMask broadcastable to [batch, heads, tokens, tokens].
    at::Tensor forward(const at::Tensor& hidden_states, const std::optional<at::Tensor>& additiveMask) const;
};

struct Mlp {
    Linear fc1, fc2;
    Activation activation = Activation::QuickGelu;
    void declare(const Scope& scope, std::int64_t hidden, std::int64_t intermediate, Activation act);
    at::Tensor forward(const at::Tensor& x) const;
};

// Pre-LayerNorm transformer encoder layer: x + attn(ln1(x)), then x + mlp(ln2(x)).
struct EncoderLayer {
    LayerNorm layer_norm1, layer_norm2;
    SelfAttention self_attn;
    Mlp mlp;
    at::Tensor forward(const at::Tensor& hidden_states, const std::optional<at::Tensor>& additiveMask) const;
};

struct EncoderConfig {
    std::int64_t hidden = 0;
    std::int64_t intermediate = 0;
    std::int64_t heads = 0;
    std::int64_t layers = 0;
    double layerNormEps = 1e-5;
    Activation activation = Activation::QuickGelu;
};

// "encoder.layers.N.*" as in CLIP/SigLIP checkpoints.
struct Encoder {
    std::vector<EncoderLayer> layers;
    void declare(const Scope& scope, const EncoderConfig& config);
    // Runs the first `numLayers` layers (all when negative).
    at::Tensor forward(
        at::Tensor hidden_states, const std::optional<at::Tensor>& additiveMask, int numLayers = -1) const;

private:
    at::Tensor forwardWithFusedNorms(const at::Tensor& hidden_states, std::size_t count) const;
};

// Additive causal mask [1, 1, tokens, tokens]: 0 on and below the diagonal, -inf above.
at::Tensor causalMask(std::int64_t tokens, const at::TensorOptions& options);
// Additive padding mask [batch, 1, 1, tokens] from a 0/1 attention mask.
at::Tensor paddingMask(const at::Tensor& attentionMask, const at::TensorOptions& options);

} // namespace pictor::nn
