// The 8-bit weight kernels' workbench: quantization against its definition, every matrix-vector kernel
// this CPU runs (AVX2, AVX-512 VNNI) against the plain C++ reference and an exact double-precision sum,
// and the LibTorch linear layer over them against the float product of the same numbers.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/nn/layers.h"
#include "kernels/q8_0.h"

namespace pictor {
namespace {

using kernels::kQ8BlockSize;
using kernels::Q8Kernel;

template <typename Value, typename View> struct Quantized {
    std::vector<Value> values;
    std::vector<float> scales;
    std::int64_t rows, cols;
    View view() const { return {values.data(), scales.data(), rows, cols}; }
};
using Weights = Quantized<std::int8_t, kernels::Q8Rows>;
using Inputs = Quantized<std::int16_t, kernels::Q16Rows>;

Weights quantize(const std::vector<float>& numbers, std::int64_t rows, std::int64_t cols)
{
    Weights q {std::vector<std::int8_t>(static_cast<std::size_t>(rows * cols)),
        std::vector<float>(static_cast<std::size_t>(rows * cols / kQ8BlockSize)), rows, cols};
    kernels::quantizeQ8Rows(numbers.data(), rows, cols, q.values.data(), q.scales.data());
    return q;
}

Inputs quantizeInputs(const std::vector<float>& numbers, std::int64_t rows, std::int64_t cols)
{
    Inputs q {std::vector<std::int16_t>(static_cast<std::size_t>(rows * cols)),
        std::vector<float>(static_cast<std::size_t>(rows * cols / kQ8BlockSize)), rows, cols};
    kernels::quantizeQ16Rows(numbers.data(), rows, cols, q.values.data(), q.scales.data());
    return q;
}

std::vector<float> gaussian(std::int64_t count, std::uint32_t seed, float scale = 1.0f)
{
    std::mt19937 generator(seed);
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> numbers(static_cast<std::size_t>(count));
    for (float& x : numbers)
        x = normal(generator);
    return numbers;
}

// Exactly what the kernels compute, in double precision: int32 block dots times the two scales.
double exactDot(const Weights& w, std::int64_t row, const Inputs& x, std::int64_t token)
{
    const std::int64_t blocks = w.cols / kQ8BlockSize;
    double sum = 0;
    for (std::int64_t b = 0; b < blocks; ++b) {
        std::int64_t dot = 0;
        for (std::int64_t i = 0; i < kQ8BlockSize; ++i)
            dot += std::int64_t(w.values[std::size_t(row * w.cols + b * kQ8BlockSize + i)])
                * x.values[std::size_t(token * x.cols + b * kQ8BlockSize + i)];
        sum += double(dot) * w.scales[std::size_t(row * blocks + b)]
            * x.scales[std::size_t(token * blocks + b)];
    }
    return sum;
}

TEST(Q8Quantization, EachBlockSpansItsLargestValueAndRoundsToTheNearestStep)
{
    std::vector<float> numbers = gaussian(4 * 64, 1);
    for (int i = 64; i < 96; ++i)
        numbers[std::size_t(i)] = 0.0f; // an all-zero block
    numbers[5] = -9.0f; // the largest magnitude of block 0 is negative
    const Weights q = quantize(numbers, 4, 64);
    EXPECT_FLOAT_EQ(q.scales[0], 9.0f / 127.0f);
    EXPECT_EQ(q.values[5], -127);
    EXPECT_EQ(q.scales[2], 0.0f);
    for (int i = 64; i < 96; ++i)
        EXPECT_EQ(q.values[std::size_t(i)], 0);
    std::vector<float> back(numbers.size());
    kernels::dequantizeQ8Rows(q.view(), back.data());
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        const float scale = q.scales[i / kQ8BlockSize];
        EXPECT_LE(std::fabs(back[i] - numbers[i]), 0.5f * scale * 1.0001f) << "value " << i;
        EXPECT_LE(std::abs(int(q.values[i])), 127);
    }
}

TEST(Q8Quantization, InputsKeepSixteenBits)
{
    const std::vector<float> numbers = gaussian(64, 6, 3.0f);
    const Inputs q = quantizeInputs(numbers, 1, 64);
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        const float scale = q.scales[i / kQ8BlockSize];
        EXPECT_LE(std::fabs(float(q.values[i]) * scale - numbers[i]), 0.5f * scale * 1.0001f);
    }
    const auto top = *std::max_element(q.values.begin(), q.values.begin() + kQ8BlockSize,
        [](std::int16_t a, std::int16_t b) { return std::abs(int(a)) < std::abs(int(b)); });
    EXPECT_EQ(std::abs(int(top)), 32767) << "the largest value of a block spans the 16 bits";
}

TEST(Q8Quantization, NumbersTooTinyForAScaleAreZeros)
{
    std::vector<float> numbers(32, 1e-39f); // denormal: 1 / (max / 127) overflows
    numbers[3] = -2e-39f;
    const Weights q = quantize(numbers, 1, 32);
    EXPECT_EQ(q.scales[0], 0.0f);
    for (const std::int8_t value : q.values)
        EXPECT_EQ(value, 0);
}

TEST(Q8Quantization, RowsThatAreNotWholeBlocksAreRefused)
{
    std::vector<float> numbers(40);
    std::vector<std::int8_t> values(40);
    std::vector<float> scales(2);
    EXPECT_THROW(kernels::quantizeQ8Rows(numbers.data(), 1, 40, values.data(), scales.data()), Error);
}

class Q8MatMulKernels : public testing::TestWithParam<Q8Kernel> { };

// Row counts that are not multiples of the kernels' four-row groups, widths of the Qwen2-0.5B projections,
// one token (decoding) and a few; a row range that starts and ends inside the groups.
TEST_P(Q8MatMulKernels, AgreeWithTheReferenceAndTheExactSum)
{
    const Q8Kernel kernel = GetParam();
    if (!kernels::q8KernelRunsHere(kernel))
        GTEST_SKIP() << "this CPU has no " << kernels::q8KernelName(kernel);
    struct Shape {
        std::int64_t rows, cols, tokens, begin, end;
    };
    for (const Shape s : {Shape {37, 96, 1, 0, 37}, Shape {64, 896, 3, 0, 64}, Shape {21, 4864, 2, 3, 18},
             Shape {9, 32, 5, 1, 9}}) {
        const Weights w = quantize(gaussian(s.rows * s.cols, 2, 0.05f), s.rows, s.cols);
        const Inputs x = quantizeInputs(gaussian(s.tokens * s.cols, 3, 2.0f), s.tokens, s.cols);
        std::vector<float> fast(std::size_t(s.tokens * s.rows), -1.0f), reference = fast;
        kernels::q8MatMul(w.view(), x.view(), fast.data(), s.begin, s.end, kernel);
        kernels::q8MatMul(w.view(), x.view(), reference.data(), s.begin, s.end, Q8Kernel::Reference);
        for (std::int64_t t = 0; t < s.tokens; ++t)
            for (std::int64_t r = 0; r < s.rows; ++r) {
                const std::size_t at = std::size_t(t * s.rows + r);
                if (r < s.begin || r >= s.end) {
                    EXPECT_EQ(fast[at], -1.0f) << "row " << r << " is outside the range asked for";
                    continue;
                }
                const double exact = exactDot(w, r, x, t);
                // Float additions in another order: a few units in the last place of the larger terms.
                const double tolerance = 1e-5 * (std::fabs(exact) + 1.0);
                EXPECT_NEAR(fast[at], exact, tolerance) << kernels::q8KernelName(kernel) << " row " << r;
                EXPECT_NEAR(reference[at], exact, tolerance) << "reference row " << r;
            }
    }
}

INSTANTIATE_TEST_SUITE_P(EveryKernel, Q8MatMulKernels,
    testing::Values(Q8Kernel::Reference, Q8Kernel::Avx2, Q8Kernel::Avx512Vnni),
    [](const testing::TestParamInfo<Q8Kernel>& kernel) {
        return kernel.param == Q8Kernel::Reference ? std::string("Reference")
            : kernel.param == Q8Kernel::Avx2       ? std::string("Avx2")
                                                   : std::string("Avx512Vnni");
    });

TEST(Q8Kernels, TheBestKernelIsOneThisCpuRuns)
{
    const Q8Kernel best = kernels::bestQ8Kernel();
    EXPECT_TRUE(kernels::q8KernelRunsHere(best));
    std::printf("8-bit kernel on this CPU: %s\n", kernels::q8KernelName(best));
    if (kernels::q8KernelRunsHere(Q8Kernel::Avx512Vnni)) {
        EXPECT_EQ(best, Q8Kernel::Avx512Vnni);
    }
}

TEST(Q8Kernels, MismatchedWidthsAreRefused)
{
    const Weights w = quantize(gaussian(64, 4), 1, 64);
    const Inputs narrow = quantizeInputs(gaussian(32, 5), 1, 32);
    const Inputs x = quantizeInputs(gaussian(64, 5), 1, 64);
    float out = 0;
    EXPECT_THROW(kernels::q8MatMul(w.view(), narrow.view(), &out, 0, 1, kernels::bestQ8Kernel()), Error);
    EXPECT_THROW(kernels::q8MatMul(w.view(), x.view(), &out, 0, 2, kernels::bestQ8Kernel()), Error)
        << "rows beyond the matrix";
}

// The linear layer in 8 bits: a few tokens go through the kernel (inputs quantized too), a long run
// through the expanded weight; both are close to the float product, and to each other.
TEST(Q8Linear, ForwardIsCloseToTheFloatLayerForDecodingAndForAPrompt)
{
    c10::InferenceMode guard;
    at::manual_seed(7);
    nn::Linear linear;
    linear.weight = at::randn({200, 256}) * 0.05;
    linear.bias = at::randn({200});
    const at::Tensor originalWeight = linear.weight.clone();
    ASSERT_TRUE(linear.quantizeTo8Bit());
    EXPECT_FALSE(linear.weight.defined()) << "the float weight is released";
    const at::Tensor expanded = linear.weight8.dequantize(at::kFloat);
    EXPECT_LE((expanded - originalWeight).abs().max().item<float>(),
        0.5f * linear.weight8.scales.max().item<float>() * 1.0001f);

    for (const std::int64_t tokens : {std::int64_t(1), nn::kQ8KernelMaxTokens, nn::kQ8KernelMaxTokens + 5}) {
        const at::Tensor x = at::randn({1, tokens, 256});
        const at::Tensor y = linear.forward(x);
        ASSERT_EQ(y.sizes(), (std::vector<std::int64_t> {1, tokens, 200}));
        EXPECT_EQ(y.scalar_type(), at::kFloat);
        const at::Tensor exact = at::linear(x, originalWeight, linear.bias);
        const double relative = ((y - exact).norm() / exact.norm()).item<double>();
        EXPECT_LT(relative, 0.01) << tokens << " tokens";
        const at::Tensor sameNumbers = at::linear(x, expanded, linear.bias);
        // The kernel also rounds the inputs to 16 bits; the expanded path multiplies the same numbers.
        EXPECT_LT(((y - sameNumbers).norm() / sameNumbers.norm()).item<double>(),
            tokens > nn::kQ8KernelMaxTokens ? 1e-6 : 1e-4)
            << tokens << " tokens";
    }
    // bfloat16 numbers in and out (the decoding format on CPUs with native bfloat16), bias included.
    const at::Tensor x16 = at::randn({3, 256}).to(at::kBFloat16);
    const at::Tensor y16 = linear.forward(x16);
    EXPECT_EQ(y16.scalar_type(), at::kBFloat16) << "the output keeps the input's format";
    const at::Tensor exact16 = at::linear(x16.to(at::kFloat), expanded, linear.bias);
    EXPECT_LT(((y16.to(at::kFloat) - exact16).norm() / exact16.norm()).item<double>(), 0.01);
}

TEST(Q8Linear, MatricesThatAreNotWholeBlocksStayInTheirFormat)
{
    nn::Linear linear;
    linear.weight = at::randn({8, 40});
    EXPECT_FALSE(linear.quantizeTo8Bit());
    EXPECT_TRUE(linear.weight.defined());
    EXPECT_FALSE(linear.weight8.defined());
}

} // namespace
} // namespace pictor
