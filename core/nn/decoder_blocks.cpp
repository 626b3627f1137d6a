#include "core/nn/decoder_blocks.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/nn/torch_compat.h"

namespace pictor::nn {

void RmsNorm::declare(const Scope& scope, std::int64_t dim, double epsilon)
{
    eps = epsilon;
    scope.param("weight", {dim}, weight);
}

namespace {

// RMSNorm of a few rows on the CPU as one loop: decoding runs it twice per layer per token, where the
// eight LibTorch operations of the general path cost more than the arithmetic. Same steps: statistics and
// scaling in float32, rounded to the input's format, then multiplied by the weight in that format.
template <typename Number> at::Tensor rmsNormRows(const at::Tensor& x, const at::Tensor& weight, double eps)
{
    const std::int64_t width = x.size(-1), rows = x.numel() / width;
    at::Tensor result = at::empty_like(x);
    const Number* source = x.data_ptr<Number>();
    const Number* scale = weight.data_ptr<Number>();
    Number* destination = result.data_ptr<Number>();
    for (std::int64_t r = 0; r < rows; ++r) {
        const Number* row = source + r * width;
        double sumOfSquares = 0; // a 4096-wide row summed in order: float would drift
        for (std::int64_t i = 0; i < width; ++i)
            sumOfSquares += double(float(row[i]) * float(row[i]));
        const float inverse = 1.0f / std::sqrt(float(sumOfSquares / double(width)) + float(eps));
        for (std::int64_t i = 0; i < width; ++i)
            destination[r * width + i] = Number(float(scale[i]) * float(Number(float(row[i]) * inverse)));
    }
    return result;
}

constexpr std::int64_t kRmsNormLoopRows = 8;

} // namespace

at::Tensor RmsNorm::forward(const at::Tensor& hidden_states) const
{
    const bool fewRows = hidden_states.numel() <= kRmsNormLoopRows * hidden_states.size(-1);
    if (fewRows && hidden_states.is_cpu() && hidden_states.is_contiguous() && weight.is_contiguous()
        && weight.scalar_type() == hidden_states.scalar_type()) {
        if (hidden_states.scalar_type() == at::kBFloat16)
            return rmsNormRows<c10::BFloat16>(hidden_states, weight, eps);
        if (hidden_states.scalar_type() == at::kFloat)
            return rmsNormRows<float>(hidden_states, weight, eps);
    }
    const at::Tensor x = hidden_states.to(at::kFloat);
    const at::Tensor variance = x.pow(2).mean(-1, /*keepdim=*/true);
    return weight * (x * at::rsqrt(variance + eps)).to(hidden_states.scalar_type());
}

std::pair<at::Tensor, at::Tensor> RotaryEmbedding::cosSin(
    std::int64_t start, std::int64_t tokens, at::ScalarType dtype, at::Device device) const
{
    const auto floats = at::TensorOptions().dtype(at::kFloat).device(device);
    // float32 throughout, as transformers computes inv_freq and the angles.
    const at::Tensor exponents = at::arange(0, headDim, 2, floats.dtype(at::kLong)).to(at::kFloat) / headDim;
    const at::Tensor inv_freq = 1.0 / at::pow(theta, exponents);
    const at::Tensor positions = at::arange(start, start + tokens, floats.dtype(at::kLong)).to(at::kFloat);
    const at::Tensor freqs = positions.unsqueeze(1) * inv_freq.unsqueeze(0);
    const at::Tensor emb = at::cat({freqs, freqs}, -1);
    return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

namespace {

// applyRotary for one position as one loop (decoding: twice per layer per token), rounding where the
// LibTorch operations of the general path round: x * cos and rotate_half(x) * sin, then their sum.
template <typename Number>
at::Tensor rotateOnePosition(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin)
{
    const std::int64_t width = x.size(-1), half = width / 2, rows = x.numel() / width;
    at::Tensor result = at::empty(x.sizes(), x.options());
    const Number* source = x.data_ptr<Number>();
    const Number* c = cos.data_ptr<Number>();
    const Number* s = sin.data_ptr<Number>();
    Number* destination = result.data_ptr<Number>();
    for (std::int64_t r = 0; r < rows; ++r) {
        const Number* row = source + r * width;
        for (std::int64_t i = 0; i < width; ++i) {
            const float rotated = i < half ? -float(row[i + half]) : float(row[i - half]);
            destination[r * width + i]
                = Number(float(Number(float(row[i]) * float(c[i]))) + float(Number(rotated * float(s[i]))));
        }
    }
    return result;
}

} // namespace

at::Tensor applyRotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin)
{
    if (x.size(-2) == 1 && x.is_cpu() && x.is_contiguous() && cos.numel() == x.size(-1)
        && sin.numel() == x.size(-1) && cos.is_contiguous() && sin.is_contiguous()
        && cos.scalar_type() == x.scalar_type() && sin.scalar_type() == x.scalar_type()) {
        if (x.scalar_type() == at::kBFloat16)
            return rotateOnePosition<c10::BFloat16>(x, cos, sin);
        if (x.scalar_type() == at::kFloat)
            return rotateOnePosition<float>(x, cos, sin);
    }
    const auto half = x.size(-1) / 2;
    const at::Tensor rotated = at::cat({-x.slice(-1, half), x.slice(-1, 0, half)}, -1);
    return x * cos + rotated * sin;
}

void KvCache::reserve(std::int64_t layers, std::int64_t batch, std::int64_t kvHeads, std::int64_t headDim,
    std::int64_t tokens, const at::TensorOptions& options)
{
    if (tokens <= capacity() && static_cast<std::int64_t>(keys.size()) == layers)
        return;
    const std::int64_t grown = std::max(tokens, 2 * capacity());
    auto grow = [&](std::vector<at::Tensor>& tensors) {
        tensors.resize(static_cast<std::size_t>(layers));
        for (at::Tensor& tensor : tensors) {
            at::Tensor bigger = at::empty({batch, kvHeads, grown, headDim}, options);
            if (tensor.defined() && length > 0)
                bigger.narrow(2, 0, length).copy_(tensor.narrow(2, 0, length));
            tensor = bigger;
        }
    };
    grow(keys);
    grow(values);
}

void KvCache::clear()
{
    length = 0;
}

void GroupedQueryAttention::declare(const Scope& scope, const DecoderConfig& config)
{
    PICTOR_CHECK(config.numHeads > 0 && config.numKvHeads > 0 && config.numHeads % config.numKvHeads == 0,
        scope.prefix(), ": ", config.numHeads, " attention heads cannot share ", config.numKvHeads,
        " key/value heads");
    heads = config.numHeads;
    kvHeads = config.numKvHeads;
    headDim = config.headDim;
    q_proj.declare(scope / "q_proj", config.hiddenSize, heads * headDim, config.qkvBias);
    k_proj.declare(scope / "k_proj", config.hiddenSize, kvHeads * headDim, config.qkvBias);
    v_proj.declare(scope / "v_proj", config.hiddenSize, kvHeads * headDim, config.qkvBias);
    o_proj.declare(scope / "o_proj", heads * headDim, config.hiddenSize, config.outputBias);
}

at::Tensor GroupedQueryAttention::forward(const at::Tensor& hidden_states, const at::Tensor& cos,
    const at::Tensor& sin, at::Tensor& keyCache, at::Tensor& valueCache, std::int64_t past) const
{
    const auto batch = hidden_states.size(0);
    const auto tokens = hidden_states.size(1);
    at::Tensor queries, keys, values;
    if (qkv_proj8.weight8.defined()) {
        const at::Tensor qkv = qkv_proj8.forward(hidden_states);
        queries = qkv.narrow(-1, 0, heads * headDim);
        keys = qkv.narrow(-1, heads * headDim, kvHeads * headDim);
        values = qkv.narrow(-1, (heads + kvHeads) * headDim, kvHeads * headDim);
    } else {
        queries = q_proj.forward(hidden_states);
        keys = k_proj.forward(hidden_states);
        values = v_proj.forward(hidden_states);
    }
    auto split_heads = [&](const at::Tensor& x, std::int64_t n) {
        return x.reshape({batch, tokens, n, headDim}).transpose(1, 2);
    };
    at::Tensor query_states = applyRotary(split_heads(queries, heads), cos, sin);
    at::Tensor key_states = applyRotary(split_heads(keys, kvHeads), cos, sin);
    at::Tensor value_states = split_heads(values, kvHeads);

    const std::int64_t total = past + tokens;
    PICTOR_CHECK(
        total <= keyCache.size(2), "KV cache holds ", keyCache.size(2), " positions, ", total, " needed");
    keyCache.narrow(2, past, tokens).copy_(key_states);
    valueCache.narrow(2, past, tokens).copy_(value_states);
    // repeat_kv: each KV head serves heads / kv_heads consecutive query heads.
    const std::int64_t groups = heads / kvHeads;
    const double scale = 1.0 / std::sqrt(static_cast<double>(headDim));
    if (tokens == 1 && groups > 1) {
        // Decoding: fold each group's queries into one KV head's rows instead of copying the cache
        // `groups` times ([batch, kv_heads, groups, head_dim] against [batch, kv_heads, total, head_dim]).
        at::Tensor attn_output
            = scaledDotProductAttention(query_states.reshape({batch, kvHeads, groups, headDim}),
                keyCache.narrow(2, 0, total), valueCache.narrow(2, 0, total), std::nullopt, scale);
        return o_proj.forward(attn_output.reshape({batch, 1, heads * headDim}));
    }
    auto repeat_kv = [&](const at::Tensor& cached) {
        const at::Tensor filled = cached.narrow(2, 0, total);
        if (groups == 1)
            return filled;
        return filled.unsqueeze(2)
            .expand({batch, kvHeads, groups, total, headDim})
            .reshape({batch, heads, total, headDim});
    };
    const at::Tensor mask = chunkCausalMask(past, tokens, query_states.options());
    at::Tensor attn_output = scaledDotProductAttention(query_states, repeat_kv(keyCache),
        repeat_kv(valueCache), mask.defined() ? std::optional<at::Tensor>(mask) : std::nullopt, scale);
    attn_output = attn_output.transpose(1, 2).reshape({batch, tokens, heads * headDim});
    return o_proj.forward(attn_output);
}

void GatedMlp::declare(const Scope& scope, const DecoderConfig& config)
{
    activation = config.activation;
    gate_proj.declare(scope / "gate_proj", config.hiddenSize, config.intermediateSize, config.mlpBias);
    up_proj.declare(scope / "up_proj", config.hiddenSize, config.intermediateSize, config.mlpBias);
    down_proj.declare(scope / "down_proj", config.intermediateSize, config.hiddenSize, config.mlpBias);
}

at::Tensor GatedMlp::forward(const at::Tensor& x) const
{
    if (gate_up_proj8.weight8.defined()) {
        const at::Tensor gateUp = gate_up_proj8.forward(x);
        const std::int64_t half = gateUp.size(-1) / 2;
        return down_proj.forward(
            activate(gateUp.narrow(-1, 0, half), activation) * gateUp.narrow(-1, half, half));
    }
    return down_proj.forward(activate(gate_proj.forward(x), activation) * up_proj.forward(x));
}

namespace {

// Stacks the projections' weights (and biases) into `stacked` and quantizes it; the originals are
// released. Nothing changes when the stack does not fit 8-bit blocks.
bool stackIn8Bit(Linear& stacked, const std::vector<Linear*>& parts)
{
    stacked = stackLinears(std::vector<const Linear*>(parts.begin(), parts.end()));
    if (!stacked.quantizeTo8Bit()) {
        stacked = Linear();
        return false;
    }
    for (Linear* part : parts)
        *part = Linear();
    return true;
}

} // namespace

int GroupedQueryAttention::quantizeTo8Bit()
{
    const int stacked = stackIn8Bit(qkv_proj8, {&q_proj, &k_proj, &v_proj}) ? 3 : 0;
    return stacked + (o_proj.quantizeTo8Bit() ? 1 : 0);
}

int GatedMlp::quantizeTo8Bit()
{
    const int stacked = stackIn8Bit(gate_up_proj8, {&gate_proj, &up_proj}) ? 2 : 0;
    return stacked + (down_proj.quantizeTo8Bit() ? 1 : 0);
}

void DecoderLayer::declare(const Scope& scope, const DecoderConfig& config)
{
    input_layernorm.declare(scope / "input_layernorm", config.hiddenSize, config.rmsNormEps);
    self_attn.declare(scope / "self_attn", config);
    post_attention_layernorm.declare(
        scope / "post_attention_layernorm", config.hiddenSize, config.rmsNormEps);
    mlp.declare(scope / "mlp", config);
}

at::Tensor DecoderLayer::forward(const at::Tensor& hidden_states, const at::Tensor& cos,
    const at::Tensor& sin, at::Tensor& keyCache, at::Tensor& valueCache, std::int64_t past) const
{
    at::Tensor residual = hidden_states;
    at::Tensor x = residual
        + self_attn.forward(input_layernorm.forward(hidden_states), cos, sin, keyCache, valueCache, past);
    return x + mlp.forward(post_attention_layernorm.forward(x));
}

void CausalDecoder::declare(const Scope& model, const Scope& lmHead, const DecoderConfig& decoderConfig,
    std::int64_t vocab, bool tieWordEmbeddings)
{
    PICTOR_CHECK(decoderConfig.headDim > 0 && decoderConfig.headDim % 2 == 0, model.prefix(),
        ": rotary embeddings need an even head_dim, not ", decoderConfig.headDim);
    PICTOR_CHECK(vocab > 0 && decoderConfig.numLayers > 0 && decoderConfig.hiddenSize > 0, model.prefix(),
        ": vocabulary, layer count and hidden size must be positive");
    config = decoderConfig;
    vocabSize = vocab;
    tiedLmHead = tieWordEmbeddings;
    rotary.headDim = config.headDim;
    rotary.theta = config.ropeTheta;
    model.param("embed_tokens.weight", {vocab, config.hiddenSize}, embed_tokens);
    layers.resize(static_cast<std::size_t>(config.numLayers)); // sized once: slots point into the layers
    for (std::size_t i = 0; i < layers.size(); ++i)
        layers[i].declare(model / "layers" / i, config);
    norm.declare(model / "norm", config.hiddenSize, config.rmsNormEps);
    if (!tieWordEmbeddings)
        lmHead.param("weight", {vocab, config.hiddenSize}, lm_head);
}

void CausalDecoder::tieWeights()
{
    if (tiedLmHead)
        lm_head = embed_tokens;
}

at::Tensor CausalDecoder::embed(const at::Tensor& input_ids) const
{
    return at::embedding(embed_tokens, input_ids.to(embed_tokens.device()));
}

at::Tensor CausalDecoder::forward(const at::Tensor& inputs_embeds, KvCache& cache) const
{
    const auto batch = inputs_embeds.size(0);
    const auto tokens = inputs_embeds.size(1);
    const std::int64_t past = cache.length;
    cache.reserve(
        config.numLayers, batch, config.numKvHeads, config.headDim, past + tokens, inputs_embeds.options());
    const auto [cos, sin] = rotary.cosSin(past, tokens, inputs_embeds.scalar_type(), inputs_embeds.device());
    at::Tensor hidden_states = inputs_embeds;
    for (std::size_t i = 0; i < layers.size(); ++i)
        hidden_states = layers[i].forward(hidden_states, cos, sin, cache.keys[i], cache.values[i], past);
    cache.length = past + tokens;
    return norm.forward(hidden_states.select(1, tokens - 1));
}

at::Tensor CausalDecoder::logits(const at::Tensor& hidden) const
{
    if (lm_head8.defined())
        return lm_head8.linear(hidden, at::Tensor());
    return at::linear(hidden, lm_head);
}

int CausalDecoder::quantizeTo8Bit()
{
    int quantized = 0;
    for (DecoderLayer& layer : layers)
        quantized += layer.self_attn.quantizeTo8Bit() + layer.mlp.quantizeTo8Bit();
    if (Q8Weight::fits(lm_head)) {
        // A tied head keeps embed_tokens for the lookups; only the head's products read the 8-bit copy.
        lm_head8 = Q8Weight::quantize(lm_head);
        lm_head = at::Tensor();
        ++quantized;
    }
    return quantized;
}

at::Tensor chunkCausalMask(std::int64_t past, std::int64_t tokens, const at::TensorOptions& options)
{
    if (tokens <= 1)
        return {};
    // Key j is hidden from query i when j > past + i: the diagonal of the [tokens, past + tokens] block
    // starts at column past + 1.
    return at::full({tokens, past + tokens}, -std::numeric_limits<float>::infinity(), options).triu(past + 1);
}

} // namespace pictor::nn
