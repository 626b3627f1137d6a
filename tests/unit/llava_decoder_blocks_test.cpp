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

INSTANTIATE_TEST_SUITE_P(HeadLayouts, DecoderLayouts,
    testing::Values(std::make_tuple(4, 4, false), std::make_tuple(4, 2, true), std::make_tuple(4, 1, false),
        std::make_tuple(8, 2, true)));

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
