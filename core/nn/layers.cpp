#include "core/nn/layers.h"

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "core/nn/cpu_fused_ops.h"
#include "core/nn/torch_compat.h"

namespace pictor::nn {

Activation activationFromName(const std::string& name)
{
    if (name == "quick_gelu")
        return Activation::QuickGelu;
    if (name == "gelu")
        return Activation::Gelu;
    if (name == "gelu_pytorch_tanh" || name == "gelu_new" || name == "gelu_fast")
        return Activation::GeluTanh;
    if (name == "silu" || name == "swish")
        return Activation::Silu;
    if (name == "relu")
        return Activation::Relu;
    PICTOR_FAIL("unsupported activation '", name,
        "' (supported: quick_gelu, gelu, gelu_pytorch_tanh, gelu_new, gelu_fast, silu, swish, relu)");
}

namespace {

// bfloat16 on the CPU: statistics, attention and activations are computed in float32 around the
// bfloat16 matrix products (8 bits of mantissa lose them; LibTorch 1.13's bfloat16 kernels for them are
// also slower than converting).
bool widensOnCpu(const at::Tensor& t)
{
    return t.scalar_type() == at::kBFloat16 && t.is_cpu();
}

} // namespace

at::Tensor activate(const at::Tensor& x, Activation activation)
{
    switch (activation) {
    case Activation::QuickGelu:
        return x * at::sigmoid(1.702 * x);
    case Activation::Gelu:
        return at::gelu(x);
    case Activation::GeluTanh:
        return at::gelu(x, "tanh");
    case Activation::Silu:
        return at::silu(x);
    case Activation::Relu:
        return at::relu(x);
    }
    return x;
}

void Linear::declare(const Scope& scope, std::int64_t in, std::int64_t out, bool withBias)
{
    scope.param("weight", {out, in}, weight);
    if (withBias)
        scope.param("bias", {out}, bias);
}

at::Tensor Linear::forward(const at::Tensor& x) const
{
    if (weight8.defined())
        return weight8.linear(x, bias);
    return at::linear(x, weight, bias);
}

bool Linear::quantizeTo8Bit()
{
    if (!Q8Weight::fits(weight))
        return false;
    weight8 = Q8Weight::quantize(weight);
    weight = at::Tensor();
    return true;
}

void LayerNorm::declare(const Scope& scope, std::int64_t dim, double epsilon)
{
    eps = epsilon;
    scope.param("weight", {dim}, weight);
    scope.param("bias", {dim}, bias);
}

at::Tensor LayerNorm::forward(const at::Tensor& x) const
{
    // The result in the input's format: a float32 residual stream stays float32.
    if (widensOnCpu(weight) && x.is_cpu())
        return at::layer_norm(
            x.to(at::kFloat), {weight.size(0)}, weight.to(at::kFloat), bias.to(at::kFloat), eps)
            .to(x.scalar_type());
    return at::layer_norm(x, {weight.size(0)}, weight, bias, eps);
}

void Conv2d::declare(const Scope& scope, std::int64_t in, std::int64_t out, std::int64_t kernel)
{
    padding = kernel / 2;
    scope.param("weight", {out, in, kernel, kernel}, weight);
    scope.param("bias", {out}, bias);
}

void Conv2d::declarePatchEmbedding(
    const Scope& scope, std::int64_t in, std::int64_t out, std::int64_t patch, bool withBias)
{
    stride = patch;
    padding = 0;
    scope.param("weight", {out, in, patch, patch}, weight);
    if (withBias)
        scope.param("bias", {out}, bias);
}

at::Tensor Conv2d::forward(const at::Tensor& x) const
{
    const std::int64_t kernel = weight.size(2);
    if (widensOnCpu(weight) && stride == kernel && padding == 0 && kernel > 1) {
        // A patch embedding in bfloat16 on the CPU: the patches side by side times the kernel as one matrix
        // product, several times faster than LibTorch 1.13's bfloat16 convolution (the same sums). The
        // convolution drops the pixels past the last whole patch; so does this.
        const std::int64_t batch = x.size(0), channels = x.size(1);
        const std::int64_t rows = x.size(2) / kernel, columns = x.size(3) / kernel;
        const at::Tensor patches = x.narrow(2, 0, rows * kernel)
                                       .narrow(3, 0, columns * kernel)
                                       .reshape({batch, channels, rows, kernel, columns, kernel})
                                       .permute({0, 2, 4, 1, 3, 5})
                                       .reshape({batch * rows * columns, channels * kernel * kernel});
        return at::linear(patches, weight.reshape({weight.size(0), -1}), bias)
            .view({batch, rows, columns, weight.size(0)})
            .permute({0, 3, 1, 2});
    }
    return at::conv2d(x, weight, bias, {stride, stride}, {padding, padding});
}

void GroupNorm::declare(const Scope& scope, std::int64_t channels, std::int64_t numGroups, double epsilon)
{
    PICTOR_CHECK(numGroups > 0 && channels % numGroups == 0, scope.prefix(), ": ", channels,
        " channels cannot be split into ", numGroups, " groups");
    groups = numGroups;
    eps = epsilon;
    scope.param("weight", {channels}, weight);
    scope.param("bias", {channels}, bias);
}

at::Tensor GroupNorm::forward(const at::Tensor& x) const
{
    return at::group_norm(x, groups, weight, bias, eps);
}

void SelfAttention::declare(const Scope& scope, std::int64_t hidden, std::int64_t numHeads)
{
    PICTOR_CHECK(numHeads > 0 && hidden % numHeads == 0, "hidden size ", hidden, " is not divisible by ",
        numHeads, " attention heads (", scope.prefix(), ")");
    heads = numHeads;
    q_proj.declare(scope / "q_proj", hidden, hidden);
    k_proj.declare(scope / "k_proj", hidden, hidden);
    v_proj.declare(scope / "v_proj", hidden, hidden);
    out_proj.declare(scope / "out_proj", hidden, hidden);
}

Linear stackLinears(const std::vector<const Linear*>& parts)
{
    std::vector<at::Tensor> weights, biases;
    for (const Linear* part : parts) {
        weights.push_back(part->weight);
        if (part->bias.defined())
            biases.push_back(part->bias);
    }
    PICTOR_CHECK(
        biases.empty() || biases.size() == weights.size(), "stacked projections: some have a bias, some not");
    Linear stacked;
    stacked.weight = at::cat(weights, 0);
    if (!biases.empty())
        stacked.bias = at::cat(biases, 0);
    return stacked;
}

void SelfAttention::stackProjections()
{
    qkv_proj = stackLinears({&q_proj, &k_proj, &v_proj});
    for (Linear* part : {&q_proj, &k_proj, &v_proj})
        *part = Linear();
}

at::Tensor SelfAttention::forward(
    const at::Tensor& hidden_states, const std::optional<at::Tensor>& additiveMask) const
{
    const auto batch = hidden_states.size(0);
    const auto tokens = hidden_states.size(1);
    const auto hidden = hidden_states.size(2);
    const auto head_dim = hidden / heads;
    const at::ScalarType working
        = qkv_proj.weight.defined() ? qkv_proj.weight.scalar_type() : q_proj.weight.scalar_type();
    // Scores, softmax and the weighted sum: for short sequences (a ViT's 50 tokens, a query's 10) a small
    // part of the time and most of bfloat16's error.
    const bool wider = working == at::kBFloat16 && hidden_states.is_cpu();
    auto widened = [&](const at::Tensor& t) { return wider ? t.to(at::kFloat) : t; };
    auto split_heads = [&](const at::Tensor& x) {
        return x.reshape({batch, tokens, heads, head_dim}).transpose(1, 2);
    };
    const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
    // Unmasked (a vision tower's): one pass per head from the stacked rows, about a third of LibTorch 1.13's
    // time from ViT-B/32's 50 tokens to SigLIP's 729.
    if (qkv_proj.weight.defined() && wider && !additiveMask)
        return out_proj.forward(attendStackedBfloat16(qkv_proj.forward(hidden_states), heads, scale));
    at::Tensor query_states, key_states, value_states;
    if (qkv_proj.weight.defined()) {
        const at::Tensor qkv = widened(qkv_proj.forward(hidden_states)); // one conversion for the three
        query_states = split_heads(qkv.narrow(-1, 0, hidden));
        key_states = split_heads(qkv.narrow(-1, hidden, hidden));
        value_states = split_heads(qkv.narrow(-1, 2 * hidden, hidden));
    } else {
        query_states = split_heads(widened(q_proj.forward(hidden_states)));
        key_states = split_heads(widened(k_proj.forward(hidden_states)));
        value_states = split_heads(widened(v_proj.forward(hidden_states)));
    }
    std::optional<at::Tensor> mask = additiveMask;
    if (wider && mask)
        mask = mask->to(at::kFloat);
    at::Tensor attn_output
        = scaledDotProductAttention(query_states, key_states, value_states, mask, scale).to(working);
    attn_output = attn_output.transpose(1, 2).reshape({batch, tokens, heads * head_dim});
    return out_proj.forward(attn_output);
}

void Mlp::declare(const Scope& scope, std::int64_t hidden, std::int64_t intermediate, Activation act)
{
    activation = act;
    fc1.declare(scope / "fc1", hidden, intermediate);
    fc2.declare(scope / "fc2", intermediate, hidden);
}

at::Tensor Mlp::forward(const at::Tensor& x) const
{
    const at::Tensor hidden = fc1.forward(x);
    if (widensOnCpu(hidden) && hasOnePassBfloat16Form(activation)) // the curve in float32, in one pass
        return fc2.forward(activateBfloat16InOnePass(hidden, activation));
    if (widensOnCpu(hidden)) // the activation's curve
        return fc2.forward(activate(hidden.to(at::kFloat), activation).to(at::kBFloat16));
    return fc2.forward(activate(hidden, activation));
}

at::Tensor EncoderLayer::forward(
    const at::Tensor& hidden_states, const std::optional<at::Tensor>& additiveMask) const
{
    // The residual stream may be wider than the weights (float32 around bfloat16 matrix products: see
    // keepResidualsInFloat32); each sublayer computes in the weights' format.
    const at::ScalarType working = mlp.fc1.weight.scalar_type();
    const at::ScalarType stream = hidden_states.scalar_type();
    at::Tensor x = hidden_states
        + self_attn.forward(layer_norm1.forward(hidden_states).to(working), additiveMask).to(stream);
    return x + mlp.forward(layer_norm2.forward(x).to(working)).to(stream);
}

void Encoder::declare(const Scope& scope, const EncoderConfig& config)
{
    layers.resize(static_cast<std::size_t>(config.layers)); // sized once: slots point into these layers
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const Scope layer = scope / "layers" / i;
        layers[i].layer_norm1.declare(layer / "layer_norm1", config.hidden, config.layerNormEps);
        layers[i].self_attn.declare(layer / "self_attn", config.hidden, config.heads);
        layers[i].layer_norm2.declare(layer / "layer_norm2", config.hidden, config.layerNormEps);
        layers[i].mlp.declare(layer / "mlp", config.hidden, config.intermediate, config.activation);
    }
}

at::Tensor Encoder::forward(
    at::Tensor hidden_states, const std::optional<at::Tensor>& additiveMask, int numLayers) const
{
    const std::size_t count
        = std::min(numLayers < 0 ? layers.size() : static_cast<std::size_t>(numLayers), layers.size());
    if (count > 0 && !additiveMask && hidden_states.scalar_type() == at::kFloat
        && widensOnCpu(layers.front().mlp.fc1.weight))
        return forwardWithFusedNorms(hidden_states, count);
    for (std::size_t i = 0; i < count; ++i)
        hidden_states = layers[i].forward(hidden_states, additiveMask);
    return hidden_states;
}

// What EncoderLayer::forward computes layer after layer for a float32 stream around bfloat16 sublayers,
// with each residual add and the layer norm after it in one pass (addAndLayerNormBfloat16).
at::Tensor Encoder::forwardWithFusedNorms(const at::Tensor& hidden_states, std::size_t count) const
{
    at::Tensor stream = hidden_states.contiguous().clone(); // added to in place
    at::Tensor normalized = addAndLayerNormBfloat16(stream, at::Tensor(), layers.front().layer_norm1);
    for (std::size_t i = 0; i < count; ++i) {
        const EncoderLayer& layer = layers[i];
        normalized = addAndLayerNormBfloat16(
            stream, layer.self_attn.forward(normalized, std::nullopt), layer.layer_norm2);
        const at::Tensor mlpOutput = layer.mlp.forward(normalized);
        if (i + 1 < count)
            normalized = addAndLayerNormBfloat16(stream, mlpOutput, layers[i + 1].layer_norm1);
        else
            stream += mlpOutput.to(at::kFloat);
    }
    return stream;
}

at::Tensor causalMask(std::int64_t tokens, const at::TensorOptions& options)
{
    return at::full({tokens, tokens}, -std::numeric_limits<float>::infinity(), options)
        .triu(1)
        .view({1, 1, tokens, tokens});
}

at::Tensor paddingMask(const at::Tensor& attentionMask, const at::TensorOptions& options)
{
    const auto batch = attentionMask.size(0);
    const auto tokens = attentionMask.size(1);
    at::Tensor blocked = attentionMask.eq(0).view({batch, 1, 1, tokens});
    return at::zeros({batch, 1, 1, tokens}, options)
        .masked_fill(blocked, -std::numeric_limits<float>::infinity());
}

} // namespace pictor::nn
