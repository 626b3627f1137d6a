// The vectorized bfloat16 kernels' workbench (one-pass activations, stacked attention, residual add + layer
// norm): every kernel this CPU runs (AVX2, AVX-512) against the plain C++ reference, the reference against
// LibTorch's float32 result rounded to bfloat16, and the layers' bfloat16 paths through them (and the patch
// embedding's matrix product) against LibTorch's.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/nn/cpu_fused_ops.h"
#include "core/nn/layers.h"
#include "core/nn/torch_compat.h"
#include "kernels/gated_activation.h"
#include "kernels/residual_layer_norm.h"
#include "kernels/stacked_attention.h"

namespace pictor {
namespace {

using kernels::VectorKernel;
using nn::Activation;

// bfloat16 numbers around the MLPs' range (normal, scaled by 4), with zeros, tiny and huge ones, and
// infinities; an odd count, so the vector loops' tails run too.
at::Tensor testInputs()
{
    std::mt19937 generator(11);
    std::normal_distribution<float> normal(0.0f, 4.0f);
    std::vector<float> numbers(10007);
    for (float& x : numbers)
        x = normal(generator);
    const float specials[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 50.0f, -50.0f, 100.0f, -100.0f, 1e30f, -1e30f,
        3e38f, std::numeric_limits<float>::infinity()};
    for (std::size_t i = 0; i < std::size(specials); ++i)
        numbers[i * 7] = specials[i];
    return at::tensor(numbers).to(at::kBFloat16);
}

const std::uint16_t* bitsOf(const at::Tensor& t)
{
    return reinterpret_cast<const std::uint16_t*>(t.data_ptr<c10::BFloat16>());
}

// How many bfloat16 steps apart two finite results are (same sign: consecutive patterns are neighbours;
// across zero, both distances to zero).
int stepsApart(std::uint16_t a, std::uint16_t b)
{
    const auto ordered = [](std::uint16_t bits) {
        return (bits & 0x8000) ? -static_cast<int>(bits & 0x7FFF) : static_cast<int>(bits);
    };
    return std::abs(ordered(a) - ordered(b));
}

const auto kEveryKernel = testing::Values(VectorKernel::Reference, VectorKernel::Avx2, VectorKernel::Avx512);

// A parameterized test's name: its kernel ("Reference", "Avx2", "Avx512").
std::string testName(const testing::TestParamInfo<VectorKernel>& kernel)
{
    switch (kernel.param) {
    case VectorKernel::Reference:
        return "Reference";
    case VectorKernel::Avx2:
        return "Avx2";
    case VectorKernel::Avx512:
        return "Avx512";
    }
    return "Unknown";
}

class ActivationKernels : public testing::TestWithParam<VectorKernel> { };

TEST_P(ActivationKernels, AgreeWithTheReferenceToOneBfloat16Step)
{
    const VectorKernel kernel = GetParam();
    if (!kernels::vectorKernelRunsHere(kernel))
        GTEST_SKIP() << "this CPU has no " << kernels::vectorKernelName(kernel);
    const at::Tensor x = testInputs();
    const std::int64_t count = x.numel();
    for (const kernels::SigmoidGate gate : {kernels::SigmoidGate {1.702f, 0.0f},
             kernels::SigmoidGate {1.0f, 0.0f}, kernels::SigmoidGate {1.5957691f, 0.0713548f}}) {
        std::vector<std::uint16_t> fast(static_cast<std::size_t>(count)), reference(fast.size());
        kernels::gatedActivationBf16(bitsOf(x), fast.data(), count, gate, kernel);
        kernels::gatedActivationBf16(bitsOf(x), reference.data(), count, gate, VectorKernel::Reference);
        int differing = 0;
        for (std::int64_t i = 0; i < count; ++i) {
            const std::size_t at = static_cast<std::size_t>(i);
            ASSERT_LE(stepsApart(fast[at], reference[at]), 1)
                << kernels::vectorKernelName(kernel) << " at " << i << ": " << fast[at] << " against "
                << reference[at];
            differing += fast[at] != reference[at];
        }
        // A polynomial exp within float32's rounding changes a bfloat16 result only near a rounding tie.
        EXPECT_LT(differing, count / 100) << kernels::vectorKernelName(kernel);
    }
}

INSTANTIATE_TEST_SUITE_P(EveryKernel, ActivationKernels, kEveryKernel, testName);

TEST(VectorKernels, TheBestKernelIsOneThisCpuRuns)
{
    const VectorKernel best = kernels::bestVectorKernel();
    EXPECT_TRUE(kernels::vectorKernelRunsHere(best));
    std::printf("activation kernel on this CPU: %s\n", kernels::vectorKernelName(best));
    if (kernels::vectorKernelRunsHere(VectorKernel::Avx512)) {
        EXPECT_EQ(best, VectorKernel::Avx512);
    }
}

// The one-pass form is the activation LibTorch computes in float32, rounded once to bfloat16: within one
// bfloat16 step of the result, or 1e-5 where LibTorch's tanh gelu, 0.5 * x * (1 + tanh(u)), cancels to
// (almost) 0 in the negative tail and the sigmoid form keeps the small true value.
TEST(OnePassActivation, MatchesLibTorchsFloat32ActivationRoundedToBfloat16)
{
    c10::InferenceMode guard;
    const at::Tensor x = testInputs().view({-1});
    for (const Activation activation : {Activation::QuickGelu, Activation::Silu, Activation::GeluTanh}) {
        ASSERT_TRUE(nn::hasOnePassBfloat16Form(activation));
        const at::Tensor onePass = nn::activateBfloat16InOnePass(x, activation);
        const at::Tensor libtorch = nn::activate(x.to(at::kFloat), activation).to(at::kBFloat16);
        ASSERT_EQ(onePass.scalar_type(), at::kBFloat16);
        ASSERT_EQ(onePass.sizes(), x.sizes());
        int differing = 0;
        for (std::int64_t i = 0; i < x.numel(); ++i) {
            const float input = x[i].item<float>();
            const float ours = onePass[i].item<float>(), theirs = libtorch[i].item<float>();
            if (std::isnan(theirs)) { // -inf * sigmoid(-inf) = -inf * 0
                EXPECT_TRUE(std::isnan(ours)) << "input " << input;
                continue;
            }
            if (ours == theirs) // infinities included
                continue;
            ++differing;
            const float step = std::ldexp(std::max(std::fabs(ours), std::fabs(theirs)), -7);
            EXPECT_LE(std::fabs(ours - theirs), std::max(step, 1e-5f))
                << "input " << input << ": " << ours << " against " << theirs;
        }
        // The same formula rounds differently only near ties; the tanh gelu's two formulas more often.
        EXPECT_LT(differing, x.numel() / (activation == Activation::GeluTanh ? 5 : 50))
            << static_cast<int>(activation);
    }
    EXPECT_FALSE(nn::hasOnePassBfloat16Form(Activation::Gelu)); // erf: LibTorch's own path
    EXPECT_FALSE(nn::hasOnePassBfloat16Form(Activation::Relu));
}

TEST(OnePassActivation, NanStaysNanAndNonContiguousInputsAreRead)
{
    c10::InferenceMode guard;
    const at::Tensor x
        = at::tensor({1.0f, std::numeric_limits<float>::quiet_NaN(), -2.0f, 3.0f}).to(at::kBFloat16);
    const at::Tensor y = nn::activateBfloat16InOnePass(x, Activation::QuickGelu);
    EXPECT_TRUE(std::isnan(y[1].item<float>()));
    EXPECT_NEAR(y[0].item<float>(), 1.0f / (1.0f + std::exp(-1.702f)), 0.004f);

    const at::Tensor wide = testInputs().narrow(0, 0, 10000).view({100, 100}).t(); // strided
    const at::Tensor fromStrided = nn::activateBfloat16InOnePass(wide, Activation::Silu);
    EXPECT_TRUE(at::equal(fromStrided, nn::activateBfloat16InOnePass(wide.contiguous(), Activation::Silu)));
    EXPECT_THROW(nn::activateBfloat16InOnePass(x.to(at::kFloat), Activation::Silu), Error);
    EXPECT_THROW(nn::activateBfloat16InOnePass(x, Activation::Relu), Error);
}

// The MLP in the bfloat16 format (what CLIP's and SigLIP's image towers run on a CPU with bfloat16) gives
// what the widen-activate-narrow path gives, to bfloat16's rounding of the products after it.
TEST(OnePassActivation, TheBfloat16MlpMatchesTheWidenedPath)
{
    c10::InferenceMode guard;
    at::manual_seed(5);
    nn::Mlp mlp;
    mlp.activation = Activation::QuickGelu;
    mlp.fc1.weight = (at::randn({256, 64}) * 0.1).to(at::kBFloat16);
    mlp.fc1.bias = (at::randn({256}) * 0.1).to(at::kBFloat16);
    mlp.fc2.weight = (at::randn({64, 256}) * 0.1).to(at::kBFloat16);
    mlp.fc2.bias = (at::randn({64}) * 0.1).to(at::kBFloat16);
    const at::Tensor x = at::randn({2, 50, 64}).to(at::kBFloat16);
    const at::Tensor fused = mlp.forward(x).to(at::kFloat);
    const at::Tensor hidden = mlp.fc1.forward(x);
    const at::Tensor widened
        = mlp.fc2.forward(nn::activate(hidden.to(at::kFloat), mlp.activation).to(at::kBFloat16))
              .to(at::kFloat);
    EXPECT_TRUE(at::allclose(fused, widened, 0.02, 0.02)) << (fused - widened).abs().max().item<float>();
    EXPECT_GT(at::cosine_similarity(fused.flatten(), widened.flatten(), 0).item<float>(), 0.9999f);
}

// Attention shapes: CLIP ViT-B/32's head (50 tokens: the scores padded to 64), SigLIP's 72-wide heads, the
// fixtures' 16-wide ones, a single token, a batch of several.
struct AttentionCase {
    std::int64_t batch, tokens, heads, headDim;
};
const AttentionCase kAttentionCases[]
    = {{2, 50, 3, 64}, {1, 37, 2, 72}, {3, 17, 4, 16}, {1, 1, 2, 16}, {2, 16, 1, 8}};

at::Tensor stackedQkv(const AttentionCase& c, std::uint64_t seed)
{
    at::manual_seed(seed);
    return (at::randn({c.batch, c.tokens, 3 * c.heads * c.headDim}) * 2.0).to(at::kBFloat16);
}

// softmax(q k^T * scale) v per head, as LibTorch computes it in float32 from the same bfloat16 numbers,
// rounded to bfloat16: what the layers did before.
at::Tensor libtorchAttention(const at::Tensor& qkv, std::int64_t heads, double scale)
{
    const auto batch = qkv.size(0), tokens = qkv.size(1), hidden = qkv.size(2) / 3;
    const auto split = [&](std::int64_t part) {
        return qkv.narrow(-1, part * hidden, hidden)
            .to(at::kFloat)
            .reshape({batch, tokens, heads, hidden / heads})
            .transpose(1, 2);
    };
    return nn::scaledDotProductAttention(split(0), split(1), split(2), std::nullopt, scale)
        .transpose(1, 2)
        .reshape({batch, tokens, hidden})
        .to(at::kBFloat16);
}

class StackedAttentionKernels : public testing::TestWithParam<VectorKernel> { };

TEST_P(StackedAttentionKernels, AgreeWithTheReferenceToOneBfloat16Step)
{
    const VectorKernel kernel = GetParam();
    if (!kernels::vectorKernelRunsHere(kernel))
        GTEST_SKIP() << "this CPU has no " << kernels::vectorKernelName(kernel);
    for (const AttentionCase& c : kAttentionCases) {
        const at::Tensor qkv = stackedQkv(c, 3);
        const kernels::StackedQkvShape shape {c.batch, c.tokens, c.heads, c.headDim};
        const std::size_t count = static_cast<std::size_t>(c.batch * c.tokens * c.heads * c.headDim);
        std::vector<std::uint16_t> fast(count, 0xFFFF), reference(count, 0xFFFF);
        const float scale = 1.0f / std::sqrt(static_cast<float>(c.headDim));
        // In two ranges of pairs, as threads take them.
        const std::int64_t middle = shape.pairs() / 2;
        kernels::attendStackedBf16(bitsOf(qkv), fast.data(), shape, scale, 0, middle, kernel);
        kernels::attendStackedBf16(bitsOf(qkv), fast.data(), shape, scale, middle, shape.pairs(), kernel);
        kernels::attendStackedBf16(
            bitsOf(qkv), reference.data(), shape, scale, 0, shape.pairs(), VectorKernel::Reference);
        for (std::size_t i = 0; i < count; ++i)
            ASSERT_LE(stepsApart(fast[i], reference[i]), 1)
                << kernels::vectorKernelName(kernel) << " tokens " << c.tokens << " head width " << c.headDim
                << " at " << i << ": " << fast[i] << " against " << reference[i];
    }
}

INSTANTIATE_TEST_SUITE_P(EveryKernel, StackedAttentionKernels, kEveryKernel, testName);

TEST(StackedAttention, MatchesLibTorchsFloat32AttentionRoundedToBfloat16)
{
    c10::InferenceMode guard;
    for (const AttentionCase& c : kAttentionCases) {
        const at::Tensor qkv = stackedQkv(c, 4);
        const double scale = 1.0 / std::sqrt(static_cast<double>(c.headDim));
        const at::Tensor ours = nn::attendStackedBfloat16(qkv, c.heads, scale);
        const at::Tensor theirs = libtorchAttention(qkv, c.heads, scale);
        ASSERT_EQ(ours.sizes(), theirs.sizes());
        ASSERT_EQ(ours.scalar_type(), at::kBFloat16);
        const at::Tensor difference = (ours.to(at::kFloat) - theirs.to(at::kFloat)).abs();
        // One bfloat16 step of the larger result (float32 sums in another order, either side of a tie).
        const at::Tensor step
            = at::maximum(ours.to(at::kFloat).abs(), theirs.to(at::kFloat).abs()) / 128 + 1e-6;
        EXPECT_TRUE(difference.le(step).all().item<bool>())
            << "tokens " << c.tokens << ": largest difference " << difference.max().item<float>();
        EXPECT_LT(difference.gt(0).sum().item<std::int64_t>(), ours.numel() / 20) << "tokens " << c.tokens;
    }
}

TEST(StackedAttention, WrongInputsAreRefused)
{
    c10::InferenceMode guard;
    const at::Tensor qkv = stackedQkv({1, 4, 2, 8}, 1);
    EXPECT_THROW(nn::attendStackedBfloat16(qkv.to(at::kFloat), 2, 1.0), Error);
    EXPECT_THROW(nn::attendStackedBfloat16(qkv, 5, 1.0), Error); // 48 is not 3 * 5 heads * a width
    EXPECT_THROW(nn::attendStackedBfloat16(qkv.flatten(), 2, 1.0), Error);
}

// A bfloat16 self-attention with stacked projections and no mask (a ViT's) goes through the kernel; with a
// mask of zeros, the same numbers through LibTorch's path: the results agree to bfloat16's rounding.
TEST(StackedAttention, TheUnmaskedLayerMatchesTheLibTorchPath)
{
    c10::InferenceMode guard;
    at::manual_seed(6);
    nn::SelfAttention attention;
    attention.heads = 4;
    for (nn::Linear* projection :
        {&attention.q_proj, &attention.k_proj, &attention.v_proj, &attention.out_proj}) {
        projection->weight = (at::randn({64, 64}) * 0.1).to(at::kBFloat16);
        projection->bias = (at::randn({64}) * 0.1).to(at::kBFloat16);
    }
    attention.stackProjections();
    const at::Tensor x = at::randn({2, 50, 64}).to(at::kBFloat16);
    const at::Tensor fused = attention.forward(x, std::nullopt).to(at::kFloat);
    const at::Tensor viaLibTorch = attention.forward(x, at::zeros({1, 1, 50, 50})).to(at::kFloat);
    EXPECT_TRUE(at::allclose(fused, viaLibTorch, 0.02, 0.01))
        << (fused - viaLibTorch).abs().max().item<float>();
    EXPECT_GT(at::cosine_similarity(fused.flatten(), viaLibTorch.flatten(), 0).item<float>(), 0.9999f);
}

class ResidualLayerNormKernels : public testing::TestWithParam<VectorKernel> { };

// Rows of CLIP's width and of an odd one (the vector loops' tails), with and without an update.
TEST_P(ResidualLayerNormKernels, AgreeWithTheReferenceToOneBfloat16Step)
{
    const VectorKernel kernel = GetParam();
    if (!kernels::vectorKernelRunsHere(kernel))
        GTEST_SKIP() << "this CPU has no " << kernels::vectorKernelName(kernel);
    for (const std::int64_t width : {768, 37}) {
        for (const bool withUpdate : {true, false}) {
            at::manual_seed(8);
            const std::int64_t rows = 9;
            const at::Tensor start = at::randn({rows, width}) * 3 + 1;
            const at::Tensor update = at::randn({rows, width}).to(at::kBFloat16);
            const at::Tensor gamma = at::rand({width}) + 0.5, beta = at::randn({width}) * 0.1;
            at::Tensor fastStream = start.clone(), referenceStream = start.clone();
            const std::size_t count = static_cast<std::size_t>(rows * width);
            std::vector<std::uint16_t> fast(count), reference(count);
            const std::uint16_t* added = withUpdate ? bitsOf(update) : nullptr;
            kernels::addAndLayerNormBf16(fastStream.data_ptr<float>(), added, gamma.data_ptr<float>(),
                beta.data_ptr<float>(), 1e-5f, fast.data(), rows, width, kernel);
            kernels::addAndLayerNormBf16(referenceStream.data_ptr<float>(), added, gamma.data_ptr<float>(),
                beta.data_ptr<float>(), 1e-5f, reference.data(), rows, width, VectorKernel::Reference);
            EXPECT_TRUE(at::equal(fastStream, referenceStream)) << "the stream's sums are one addition each";
            const at::Tensor expected = withUpdate ? start + update.to(at::kFloat) : start;
            EXPECT_TRUE(at::equal(referenceStream, expected));
            for (std::size_t i = 0; i < count; ++i)
                ASSERT_LE(stepsApart(fast[i], reference[i]), 1)
                    << kernels::vectorKernelName(kernel) << " width " << width << " at " << i;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(EveryKernel, ResidualLayerNormKernels, kEveryKernel, testName);

TEST(ResidualLayerNorm, MatchesLibTorchsAddAndLayerNormRoundedToBfloat16)
{
    c10::InferenceMode guard;
    at::manual_seed(9);
    nn::LayerNorm norm;
    norm.weight = (at::rand({768}) + 0.5).to(at::kBFloat16);
    norm.bias = (at::randn({768}) * 0.1).to(at::kBFloat16);
    norm.eps = 1e-5;
    const at::Tensor start = at::randn({2, 50, 768}) * 4;
    const at::Tensor update = at::randn({2, 50, 768}).to(at::kBFloat16);
    at::Tensor stream = start.clone();
    const at::Tensor ours = nn::addAndLayerNormBfloat16(stream, update, norm).to(at::kFloat);
    const at::Tensor sum = start + update.to(at::kFloat);
    EXPECT_TRUE(at::equal(stream, sum)) << "the stream takes the update in place";
    const at::Tensor theirs
        = at::layer_norm(sum, {768}, norm.weight.to(at::kFloat), norm.bias.to(at::kFloat), 1e-5)
              .to(at::kBFloat16)
              .to(at::kFloat);
    const at::Tensor step = at::maximum(ours.abs(), theirs.abs()) / 128 + 1e-6;
    EXPECT_TRUE((ours - theirs).abs().le(step).all().item<bool>())
        << (ours - theirs).abs().max().item<float>();

    at::Tensor wrongStream = start.to(at::kBFloat16);
    EXPECT_THROW(nn::addAndLayerNormBfloat16(wrongStream, update, norm), Error);
    at::Tensor narrowStream = start.narrow(-1, 0, 700).contiguous();
    EXPECT_THROW(nn::addAndLayerNormBfloat16(narrowStream, at::Tensor(), norm), Error);
    EXPECT_THROW(nn::addAndLayerNormBfloat16(stream, update.to(at::kFloat), norm), Error);
}

nn::Linear randomLinear(std::int64_t in, std::int64_t out)
{
    nn::Linear linear;
    linear.weight = (at::randn({out, in}) * 0.1).to(at::kBFloat16);
    linear.bias = (at::randn({out}) * 0.1).to(at::kBFloat16);
    return linear;
}

// CLIP's image encoder in bfloat16 around a float32 stream, with its norms fused into the residual adds,
// against the same layers run one by one (EncoderLayer::forward, LibTorch's passes).
TEST(ResidualLayerNorm, TheFusedEncoderMatchesItsLayersOneByOne)
{
    c10::InferenceMode guard;
    at::manual_seed(10);
    nn::Encoder encoder;
    encoder.layers.resize(3);
    for (nn::EncoderLayer& layer : encoder.layers) {
        for (nn::LayerNorm* norm : {&layer.layer_norm1, &layer.layer_norm2}) {
            norm->weight = (at::rand({64}) + 0.5).to(at::kBFloat16);
            norm->bias = (at::randn({64}) * 0.1).to(at::kBFloat16);
        }
        layer.self_attn.heads = 4;
        layer.self_attn.q_proj = randomLinear(64, 64);
        layer.self_attn.k_proj = randomLinear(64, 64);
        layer.self_attn.v_proj = randomLinear(64, 64);
        layer.self_attn.out_proj = randomLinear(64, 64);
        layer.self_attn.stackProjections();
        layer.mlp.fc1 = randomLinear(64, 256);
        layer.mlp.fc2 = randomLinear(256, 64);
    }
    const at::Tensor x = at::randn({2, 50, 64});
    const at::Tensor fused = encoder.forward(x, std::nullopt);
    at::Tensor oneByOne = x;
    for (const nn::EncoderLayer& layer : encoder.layers)
        oneByOne = layer.forward(oneByOne, std::nullopt);
    ASSERT_EQ(fused.scalar_type(), at::kFloat);
    EXPECT_TRUE(at::allclose(fused, oneByOne, 0.02, 0.02)) << (fused - oneByOne).abs().max().item<float>();
    EXPECT_GT(at::cosine_similarity(fused.flatten(), oneByOne.flatten(), 0).item<float>(), 0.9999f);
    EXPECT_TRUE(at::equal(x, x.clone())) << "the caller's tensor is not added to";
    at::Tensor twoLayers = x;
    for (std::size_t i = 0; i < 2; ++i)
        twoLayers = encoder.layers[i].forward(twoLayers, std::nullopt);
    EXPECT_TRUE(at::allclose(encoder.forward(x, std::nullopt, 2), twoLayers, 0.02, 0.02))
        << "the first two layers";
}

// The bfloat16 patch embedding is a matrix product over the patches: the convolution's numbers, its
// bias, and the pixels past the last whole patch dropped as the convolution drops them.
TEST(PatchEmbedding, TheBfloat16MatrixProductIsTheConvolution)
{
    c10::InferenceMode guard;
    at::manual_seed(11);
    nn::Conv2d patch;
    patch.stride = 16;
    patch.padding = 0;
    patch.weight = (at::randn({32, 3, 16, 16}) * 0.05).to(at::kBFloat16);
    patch.bias = (at::randn({32}) * 0.1).to(at::kBFloat16);
    const at::Tensor pixels = at::randn({2, 3, 70, 52}).to(at::kBFloat16); // 4 x 3 patches, 6 and 4 px left
    const at::Tensor ours = patch.forward(pixels).to(at::kFloat);
    const at::Tensor theirs = at::conv2d(pixels.to(at::kFloat), patch.weight.to(at::kFloat),
        patch.bias.to(at::kFloat), at::IntArrayRef {16, 16}, at::IntArrayRef {0, 0});
    ASSERT_EQ(ours.sizes(), theirs.sizes());
    EXPECT_TRUE(at::allclose(ours, theirs, 0.02, 0.02)) << (ours - theirs).abs().max().item<float>();
}

} // namespace
} // namespace pictor
