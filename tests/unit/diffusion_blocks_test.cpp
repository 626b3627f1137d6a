// The building blocks of core/nn on their own: what each block must do beyond the parity tests' numbers
// (resampling inside the ResNet block, masked context tokens, causal prior attention, the scheduler's
// learned variance and guidance layout, self-attention with stacked projections).
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/nn/diffusion_blocks.h"
#include "core/nn/unclip_scheduler.h"

namespace pictor::nn {
namespace {

// Declares `declareFn`'s slots and fills them with seeded random values (norm weights near 1).
template <typename Declare> ParameterTable randomTable(Declare declareFn, std::uint64_t seed = 1)
{
    ParameterTable table;
    declareFn(Scope(table));
    at::manual_seed(static_cast<std::int64_t>(seed));
    for (const ParameterSlot& slot : table.slots())
        *slot.tensor = slot.name.find("norm") != std::string::npos && slot.shape.size() == 1
            ? 1 + 0.1 * at::randn(slot.shape)
            : 0.2 * at::randn(slot.shape);
    return table;
}

class DiffusionBlocks : public testing::Test {
protected:
    c10::InferenceMode inferenceMode;
};

TEST_F(DiffusionBlocks, ResnetBlockResamplesInsideAndAddsTheShortcut)
{
    for (const Resample resample : {Resample::None, Resample::Down, Resample::Up}) {
        ResnetBlock2D block;
        ResnetBlockOptions options;
        options.groups = 4;
        options.resample = resample;
        options.time = TimeConditioning::ScaleShift;
        randomTable([&](const Scope& s) { block.declare(s, 8, 12, 16, options); });
        EXPECT_TRUE(block.hasShortcut);
        EXPECT_EQ(block.time_emb_proj.weight.size(0), 24); // scale and shift
        const at::Tensor out = block.forward(at::randn({2, 8, 8, 8}), at::randn({2, 16}));
        const std::int64_t size = resample == Resample::Down ? 4 : resample == Resample::Up ? 16 : 8;
        EXPECT_EQ(out.sizes(), (std::vector<std::int64_t> {2, 12, size, size}));
    }
    ResnetBlock2D same;
    ResnetBlockOptions plain;
    plain.groups = 4;
    randomTable([&](const Scope& s) { same.declare(s, 8, 8, 16, plain); });
    EXPECT_FALSE(same.hasShortcut); // identity residual when the width is kept
}

TEST_F(DiffusionBlocks, GroupNormNeedsWholeGroups)
{
    GroupNorm norm;
    ParameterTable table;
    EXPECT_THROW(norm.declare(Scope(table, "norm"), 30, 32, 1e-5), Error);
}

TEST_F(DiffusionBlocks, MaskedContextTokensAreIgnored)
{
    AddedKvAttention attention;
    randomTable([&](const Scope& s) { attention.declare(s, 16, 6, 4, 4, 1e-5); });
    EXPECT_EQ(attention.heads, 4);
    const at::Tensor x = at::randn({1, 16, 4, 4});
    at::Tensor context = at::randn({1, 5, 6});
    const at::Tensor mask = (1 - at::tensor({1.0f, 1.0f, 1.0f, 0.0f, 0.0f}).view({1, 1, 5})) * -10000.0;
    const at::Tensor out = attention.forward(x, context, mask);
    context.slice(1, 3) = 100 * at::randn({1, 2, 6}); // change only the masked tokens
    EXPECT_TRUE(at::allclose(attention.forward(x, context, mask), out, 1e-5, 1e-5));
    context.select(1, 0).fill_(3.0); // a visible token does count
    EXPECT_FALSE(at::allclose(attention.forward(x, context, mask), out, 1e-3, 1e-3));
}

TEST_F(DiffusionBlocks, PriorBlockIsCausalUnderItsMask)
{
    PriorTransformerBlock block;
    randomTable([&](const Scope& s) { block.declare(s, 12, 3, 4); });
    const at::Tensor causal = at::full({5, 5}, -10000.0).triu(1).view({1, 1, 5, 5});
    at::Tensor x = at::randn({1, 5, 12});
    const at::Tensor out = block.forward(x, causal);
    x.select(1, 4).fill_(7.0); // the last token cannot change the earlier ones
    const at::Tensor changed = block.forward(x, causal);
    EXPECT_TRUE(at::allclose(changed.slice(1, 0, 4), out.slice(1, 0, 4), 1e-5, 1e-5));
    EXPECT_FALSE(at::allclose(changed.select(1, 4), out.select(1, 4), 1e-3, 1e-3));
}

TEST_F(DiffusionBlocks, GuidanceKeepsTheConditionalVariance)
{
    const at::Tensor uncond = at::zeros({1, 6, 2, 2}), cond = at::ones({1, 6, 2, 2});
    cond.slice(1, 3).fill_(0.5);
    const at::Tensor guided = classifierFreeGuidance(at::cat({uncond, cond}), 8.0, 3);
    EXPECT_EQ(guided.sizes(), (std::vector<std::int64_t> {1, 6, 2, 2}));
    EXPECT_TRUE(at::allclose(guided.slice(1, 0, 3), at::full({1, 3, 2, 2}, 8.0)));
    EXPECT_TRUE(at::allclose(guided.slice(1, 3), at::full({1, 3, 2, 2}, 0.5))); // from the cond half
}

TEST_F(DiffusionBlocks, LearnedVarianceSpansTheTwoBounds)
{
    UnclipSchedulerConfig config;
    config.variance = UnclipSchedulerConfig::Variance::LearnedRange;
    const UnclipScheduler scheduler(config);
    const at::Tensor sample = at::zeros({1, 1, 1, 1});
    auto spread = [&](float v) { // the noise's weight for predicted variance v
        const at::Tensor output = at::cat({at::zeros({1, 1, 1, 1}), at::full({1, 1, 1, 1}, v)}, 1);
        return scheduler
            .step(output, 500, 460, sample, [](const at::Tensor& like) { return at::ones_like(like); })
            .prevSample.item<float>();
    };
    const float low = spread(-1), high = spread(1), middle = spread(0);
    EXPECT_LT(low, middle);
    EXPECT_LT(middle, high);
    EXPECT_NEAR(middle, std::sqrt(low * high), 1e-6); // log-linear between beta_tilde and beta
    EXPECT_THROW(scheduler.step(at::zeros({1, 1, 1, 1}), 500, 460, sample, {}), Error); // no variance half
}

// Stacked q/k/v (one product, as CLIP's image tower runs in bfloat16) give the attention of the three,
// with and without biases' effect on every head, in float32 and in bfloat16 on the CPU.
TEST(SharedBlocks, StackedProjectionsAttendLikeTheThree)
{
    c10::InferenceMode guard;
    at::manual_seed(9);
    for (const at::ScalarType type : {at::kFloat, at::kBFloat16}) {
        SelfAttention separate;
        separate.heads = 4;
        for (Linear* l : {&separate.q_proj, &separate.k_proj, &separate.v_proj, &separate.out_proj}) {
            l->weight = (at::randn({32, 32}) * 0.2).to(type);
            l->bias = at::randn({32}).to(type);
        }
        SelfAttention stacked = separate;
        stacked.stackProjections();
        EXPECT_FALSE(stacked.q_proj.weight.defined());
        ASSERT_EQ(stacked.qkv_proj.weight.sizes(), (at::IntArrayRef {96, 32}));
        const at::Tensor x = at::randn({2, 7, 32}).to(type);
        const at::Tensor expected = separate.forward(x, std::nullopt).to(at::kFloat);
        const at::Tensor actual = stacked.forward(x, std::nullopt).to(at::kFloat);
        const double tolerance = type == at::kFloat ? 1e-5 : 2e-2;
        EXPECT_TRUE(at::allclose(actual, expected, tolerance, tolerance))
            << type << ": " << (actual - expected).abs().max().item<float>();
    }
}

} // namespace
} // namespace pictor::nn
