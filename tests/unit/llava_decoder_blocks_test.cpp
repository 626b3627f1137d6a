// The decoder blocks of core/nn against direct formulas, for the head layouts the fixtures do not cover:
// multi-head (kv_heads = heads, llava-1.5-7b), GQA with 2 and 4 groups, biases on and off. Prefill in one
// pass, prefill in chunks and token-by-token decoding must agree with a plain reference.
#include <cmath>

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "core/nn/decoder_blocks.h"
#include "tests/support/tensor_compare.h"

namespace pictor {
namespace {

nn::DecoderConfig smallConfig(std::int64_t heads, std::int64_t kvHeads, bool bias)
{
    nn::DecoderConfig config;
    config.hiddenSize = 32;
    config.intermediateSize = 48;
    config.numHeads = heads;
    config.numKvHeads = kvHeads;
    config.headDim = 32 / heads;
    config.numLayers = 2;
    config.rmsNormEps = 1e-6;
    config.ropeTheta = 10000.0;
    config.qkvBias = bias;
    config.outputBias = bias;
    return config;
}

struct RandomDecoder {
    nn::ParameterTable table;
    nn::CausalDecoder decoder;
    RandomDecoder(const nn::DecoderConfig& config, std::int64_t vocab, std::uint64_t seed)
    {
        decoder.declare(nn::Scope(table, "model"), nn::Scope(table, "lm_head"), config, vocab, false);
        at::manual_seed(seed);
        for (const nn::ParameterSlot& slot : table.slots())
            *slot.tensor = at::randn(slot.shape) * (slot.shape.size() == 1 ? 0.1 : 0.3)
                + (slot.shape.size() == 1 ? 1.0 : 0.0);
    }
};

// The last position's logits computed without a cache, heads repeated explicitly, softmax written out.
at::Tensor referenceLogits(const nn::CausalDecoder& d, const at::Tensor& ids)
{
    const auto& c = d.config;
    const std::int64_t tokens = ids.size(1);
    auto rms = [](const at::Tensor& x, const at::Tensor& w, double eps) {
        return w * (x / at::sqrt(x.pow(2).mean(-1, true) + eps));
    };
    auto linear = [](const at::Tensor& x, const nn::Linear& l) {
        return l.bias.defined() ? at::matmul(x, l.weight.t()) + l.bias : at::matmul(x, l.weight.t());
    };
    // RoPE written pairwise: (x_i, x_{i+half}) rotated by position * theta^(-2i/d).
    auto rope = [&](const at::Tensor& x) { // [heads, tokens, d]
        at::Tensor out = x.clone();
        const std::int64_t half = c.headDim / 2;
        for (std::int64_t p = 0; p < tokens; ++p)
            for (std::int64_t i = 0; i < half; ++i) {
                const double angle = p * std::pow(c.ropeTheta, -2.0 * i / c.headDim);
                const at::Tensor a = x.select(1, p).select(1, i), b = x.select(1, p).select(1, i + half);
                out.select(1, p).select(1, i).copy_(a * std::cos(angle) - b * std::sin(angle));
                out.select(1, p).select(1, i + half).copy_(b * std::cos(angle) + a * std::sin(angle));
            }
        return out;
    };
    at::Tensor h = at::embedding(d.embed_tokens, ids)[0]; // [tokens, hidden]
    for (const nn::DecoderLayer& layer : d.layers) {
        const at::Tensor x = rms(h, layer.input_layernorm.weight, c.rmsNormEps);
        const at::Tensor q
            = rope(linear(x, layer.self_attn.q_proj).view({tokens, c.numHeads, c.headDim}).transpose(0, 1));
        at::Tensor k
            = rope(linear(x, layer.self_attn.k_proj).view({tokens, c.numKvHeads, c.headDim}).transpose(0, 1));
        at::Tensor v
            = linear(x, layer.self_attn.v_proj).view({tokens, c.numKvHeads, c.headDim}).transpose(0, 1);
        k = k.repeat_interleave(c.numHeads / c.numKvHeads, 0);
        v = v.repeat_interleave(c.numHeads / c.numKvHeads, 0);
        at::Tensor scores = at::matmul(q, k.transpose(1, 2)) / std::sqrt(static_cast<double>(c.headDim));
        scores = scores.masked_fill(at::ones({tokens, tokens}, at::kBool).triu(1), -INFINITY);
        const at::Tensor attn = at::matmul(at::softmax(scores, -1), v).transpose(0, 1).reshape({tokens, -1});
        h = h + linear(attn, layer.self_attn.o_proj);
        const at::Tensor y = rms(h, layer.post_attention_layernorm.weight, c.rmsNormEps);
        h = h
            + linear(
                at::silu(linear(y, layer.mlp.gate_proj)) * linear(y, layer.mlp.up_proj), layer.mlp.down_proj);
    }
    return at::matmul(rms(h[tokens - 1], d.norm.weight, c.rmsNormEps), d.lm_head.t());
}

class DecoderLayouts : public testing::TestWithParam<std::tuple<int, int, bool>> { };

TEST_P(DecoderLayouts, OnePassChunksAndDecodingMatchTheReference)
{
    c10::InferenceMode guard;
    const auto [heads, kvHeads, bias] = GetParam();
    RandomDecoder model(smallConfig(heads, kvHeads, bias), 50, 7);
    const at::Tensor ids = at::randint(0, 50, {1, 9}, at::kLong);
    const at::Tensor expected = referenceLogits(model.decoder, ids);

    nn::KvCache whole;
    const at::Tensor onePass
        = model.decoder.logits(model.decoder.forward(model.decoder.embed(ids), whole))[0];
    EXPECT_TRUE(test::tensorsClose("one pass", onePass, expected, 1e-4));

    nn::KvCache pieces; // 4 tokens, a chunk of 3 (causal within, after history), then one by one
    model.decoder.forward(model.decoder.embed(ids.slice(1, 0, 4)), pieces);
    model.decoder.forward(model.decoder.embed(ids.slice(1, 4, 7)), pieces);
    model.decoder.forward(model.decoder.embed(ids.slice(1, 7, 8)), pieces);
    const at::Tensor stepwise
        = model.decoder.logits(model.decoder.forward(model.decoder.embed(ids.slice(1, 8, 9)), pieces))[0];
    EXPECT_TRUE(test::tensorsClose("chunks then decoding", stepwise, expected, 1e-4));
    EXPECT_EQ(pieces.length, 9);
    EXPECT_GE(pieces.capacity(), 9);
}

// 8-bit weights: q/k/v and gate/up stacked into one product each, the rest one by one (down_proj's 48-wide
// rows are not whole 32-value blocks and stay float). A prompt runs through the expanded weights, a decoded
// token through the 8-bit kernel; both stay close to the float reference.
TEST_P(DecoderLayouts, EightBitWeightsStayCloseToTheReference)
{
    c10::InferenceMode guard;
    const auto [heads, kvHeads, bias] = GetParam();
    RandomDecoder model(smallConfig(heads, kvHeads, bias), 64, 11);
    const at::Tensor ids = at::randint(0, 64, {1, nn::kQ8KernelMaxTokens + 2}, at::kLong);
    const at::Tensor expected = referenceLogits(model.decoder, ids);
    const std::int64_t tokens = ids.size(1);

    EXPECT_EQ(model.decoder.quantizeTo8Bit(), 2 * (3 + 1 + 2) + 1);
    EXPECT_TRUE(model.decoder.layers[0].self_attn.qkv_proj8.weight8.defined());
    EXPECT_FALSE(model.decoder.layers[0].self_attn.q_proj.weight.defined())
        << "the float weights are released";
    EXPECT_TRUE(model.decoder.layers[0].mlp.down_proj.weight.defined());
    auto relativeError
        = [](const at::Tensor& a, const at::Tensor& b) { return ((a - b).norm() / b.norm()).item<double>(); };
    nn::KvCache whole;
    const at::Tensor onePass
        = model.decoder.logits(model.decoder.forward(model.decoder.embed(ids), whole))[0];
    // Each product's 8-bit rounding costs about 1 % here, compounded over two layers: 2.5 % at most seen.
    EXPECT_LT(relativeError(onePass, expected), 0.04);

    nn::KvCache pieces;
    model.decoder.forward(model.decoder.embed(ids.slice(1, 0, tokens - 1)), pieces);
    const at::Tensor decoded = model.decoder.logits(
        model.decoder.forward(model.decoder.embed(ids.slice(1, tokens - 1)), pieces))[0];
    EXPECT_LT(relativeError(decoded, expected), 0.04);
    EXPECT_LT(relativeError(decoded, onePass), 1e-3) << "the same 8-bit weights, inputs rounded to 16 bits";
}

// A tied lm_head (Qwen2-0.5B's) gets its own 8-bit copy; embed_tokens stays for the lookups.
TEST(DecoderBlocks, ATiedHeadIsQuantizedAndTheEmbeddingsKept)
{
    c10::InferenceMode guard;
    nn::ParameterTable table;
    nn::CausalDecoder decoder;
    decoder.declare(
        nn::Scope(table, "model"), nn::Scope(table, "lm_head"), smallConfig(4, 2, false), 64, true);
    at::manual_seed(5);
    for (const nn::ParameterSlot& slot : table.slots())
        *slot.tensor = at::randn(slot.shape) * 0.3 + (slot.shape.size() == 1 ? 1.0 : 0.0);
    decoder.tieWeights();
    const at::Tensor ids = at::randint(0, 64, {1, 5}, at::kLong);
    nn::KvCache floatCache;
    const at::Tensor expected = decoder.logits(decoder.forward(decoder.embed(ids), floatCache))[0];
    const at::Tensor embeddings = decoder.embed_tokens.clone();

    decoder.quantizeTo8Bit();
    EXPECT_TRUE(decoder.lm_head8.defined());
    EXPECT_FALSE(decoder.lm_head.defined());
    ASSERT_TRUE(decoder.embed_tokens.defined());
    EXPECT_TRUE(at::equal(decoder.embed_tokens, embeddings)) << "the lookups read the float embeddings";
    nn::KvCache cache;
    const at::Tensor logits = decoder.logits(decoder.forward(decoder.embed(ids), cache))[0];
    EXPECT_LT(((logits - expected).norm() / expected.norm()).item<double>(), 0.04);
}

INSTANTIATE_TEST_SUITE_P(HeadLayouts, DecoderLayouts,
    testing::Values(std::make_tuple(4, 4, false), std::make_tuple(4, 2, true), std::make_tuple(4, 1, false),
        std::make_tuple(8, 2, true)));

// Decoding's one-loop RMSNorm (a few rows) and rotation (one position) against the general formulas, in
// both formats: the same rounding steps, so at most a unit in the last place apart.
TEST(DecoderBlocks, OnePositionLoopsMatchTheGeneralPath)
{
    c10::InferenceMode guard;
    at::manual_seed(3);
    for (const at::ScalarType type : {at::kFloat, at::kBFloat16}) {
        nn::RmsNorm norm;
        norm.eps = 1e-6;
        norm.weight = (at::rand({64}) + 0.5).to(type);
        const at::Tensor x = (at::randn({1, 2, 64}) * 3).to(type);
        const at::Tensor loop = norm.forward(x); // two rows: the loop's (it takes up to eight)
        const at::Tensor f = x.to(at::kFloat);
        const at::Tensor formula = norm.weight * (f * at::rsqrt(f.pow(2).mean(-1, true) + norm.eps)).to(type);
        const double ulp = type == at::kFloat ? 1e-6 : 1.0 / 128;
        EXPECT_TRUE(at::allclose(loop.to(at::kFloat), formula.to(at::kFloat), ulp, 1e-6)) << type;

        nn::RotaryEmbedding rotary;
        rotary.headDim = 64;
        const at::Tensor heads = (at::randn({1, 4, 2, 64})).to(type);
        const auto [cos, sin] = rotary.cosSin(5, 2, type, at::kCPU);
        const at::Tensor both = nn::applyRotary(heads, cos, sin); // general: two positions
        const at::Tensor second = nn::applyRotary(heads.narrow(2, 1, 1).contiguous(),
            cos.narrow(0, 1, 1).contiguous(), sin.narrow(0, 1, 1).contiguous());
        EXPECT_TRUE(at::allclose(second.to(at::kFloat), both.narrow(2, 1, 1).to(at::kFloat), ulp, 1e-6))
            << type;
    }
}

TEST(DecoderBlocks, ChunkCausalMaskAfterHistory)
{
    const at::Tensor mask = nn::chunkCausalMask(2, 3, at::TensorOptions().dtype(at::kFloat));
    ASSERT_EQ(mask.sizes(), (at::IntArrayRef {3, 5}));
    // Query i (position 2 + i) sees keys 0 .. 2 + i.
    const at::Tensor visible = mask.eq(0);
    const at::Tensor expected
        = at::tensor(std::vector<std::uint8_t> {1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1})
              .view({3, 5})
              .to(at::kBool);
    EXPECT_TRUE(at::equal(visible, expected));
    EXPECT_FALSE(nn::chunkCausalMask(7, 1, at::TensorOptions()).defined()); // one query sees everything
}

TEST(DecoderBlocks, CacheGrowthKeepsWhatIsFilled)
{
    nn::KvCache cache;
    const auto options = at::TensorOptions().dtype(at::kFloat);
    cache.reserve(2, 1, 2, 4, 3, options);
    cache.keys[1].narrow(2, 0, 3).copy_(at::arange(24, options).view({1, 2, 3, 4}));
    cache.length = 3;
    cache.reserve(2, 1, 2, 4, 4, options);
    EXPECT_EQ(cache.capacity(), 6); // doubled
    EXPECT_TRUE(at::equal(cache.keys[1].narrow(2, 0, 3), at::arange(24, options).view({1, 2, 3, 4})));
}

} // namespace
} // namespace pictor
