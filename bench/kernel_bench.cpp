// The kernels' workbench with timings (JSON lines): the 8-bit matrix-vector kernels of decoding on one and
// two threads against their plain C++ reference, in the shapes of Qwen2-0.5B's projections and lm_head
// (weight bytes read per second: decoding is bound by them); the vision towers' one-pass bfloat16 kernels
// (activation, stacked attention, residual add + layer norm) on one thread in CLIP ViT-B/32's shapes at
// batch 8, each instruction set against the reference; then each CUDA kernel against its CPU reference
// when this build has CUDA and a GPU.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "kernels/gated_activation.h"
#include "kernels/kernels.h"
#include "kernels/q8_0.h"
#include "kernels/residual_layer_norm.h"
#include "kernels/stacked_attention.h"

namespace {

using pictor::kernels::Q8Kernel;

void benchQ8(std::int64_t rows, std::int64_t cols, std::int64_t tokens, int threads)
{
    std::mt19937 generator(1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> weights(static_cast<std::size_t>(rows * cols)),
        inputs(static_cast<std::size_t>(tokens * cols));
    for (float& w : weights)
        w = normal(generator);
    for (float& x : inputs)
        x = normal(generator);
    const std::int64_t blocks = cols / pictor::kernels::kQ8BlockSize;
    std::vector<std::int8_t> values(weights.size());
    std::vector<float> scales(static_cast<std::size_t>(rows * blocks));
    std::vector<std::int16_t> inputValues(inputs.size());
    std::vector<float> inputScales(static_cast<std::size_t>(tokens * blocks));
    pictor::kernels::quantizeQ8Rows(weights.data(), rows, cols, values.data(), scales.data());
    pictor::kernels::quantizeQ16Rows(inputs.data(), tokens, cols, inputValues.data(), inputScales.data());
    const pictor::kernels::Q8Rows w {values.data(), scales.data(), rows, cols};
    const pictor::kernels::Q16Rows x {inputValues.data(), inputScales.data(), tokens, cols};
    std::vector<float> reference(static_cast<std::size_t>(rows * tokens)), out(reference.size());
    pictor::kernels::q8MatMul(w, x, reference.data(), 0, rows, Q8Kernel::Reference);
    const double bytes = static_cast<double>(rows * cols + rows * blocks * 4);
    for (const Q8Kernel kernel : {Q8Kernel::Reference, Q8Kernel::Avx2, Q8Kernel::Avx512Vnni}) {
        if (!pictor::kernels::q8KernelRunsHere(kernel))
            continue;
        const int repeats = kernel == Q8Kernel::Reference ? 3 : 30;
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < repeats; ++i) {
            std::vector<std::thread> workers;
            for (int t = 0; t < threads; ++t)
                workers.emplace_back([&, t] {
                    // Whole groups of four rows to each thread, as the model's parallel loop hands them out.
                    const std::int64_t share = (rows / threads + 3) / 4 * 4;
                    const std::int64_t begin = std::min(rows, t * share);
                    const std::int64_t end = t + 1 == threads ? rows : std::min(rows, begin + share);
                    pictor::kernels::q8MatMul(w, x, out.data(), begin, end, kernel);
                });
            for (std::thread& worker : workers)
                worker.join();
        }
        const double seconds
            = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
        double largestDifference = 0;
        for (std::size_t i = 0; i < out.size(); ++i)
            largestDifference = std::max(largestDifference, double(std::fabs(out[i] - reference[i])));
        std::printf(
            "{\"kernel\":\"q8_matmul\",\"isa\":\"%s\",\"rows\":%lld,\"cols\":%lld,\"tokens\":%lld,"
            "\"threads\":%d,\"ms\":%.3f,\"weight_gb_per_s\":%.2f,\"max_abs_diff_to_reference\":%.3g}\n",
            pictor::kernels::q8KernelName(kernel), static_cast<long long>(rows), static_cast<long long>(cols),
            static_cast<long long>(tokens), threads, seconds * 1e3, bytes / seconds / 1e9, largestDifference);
        std::fflush(stdout);
    }
}

// Milliseconds per call of `run`, over enough calls to take about 0.3 s.
template <typename Run> double millisecondsPerCall(Run run)
{
    run();
    int calls = 0;
    const auto start = std::chrono::steady_clock::now();
    double seconds = 0;
    while (seconds < 0.3) {
        run();
        ++calls;
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    return seconds / calls * 1e3;
}

void benchVectorKernels()
{
    using pictor::kernels::VectorKernel;
    std::mt19937 generator(2);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const auto bfloat16Numbers = [&](std::int64_t count) {
        std::vector<std::uint16_t> numbers(static_cast<std::size_t>(count));
        for (std::uint16_t& n : numbers) {
            const float x = normal(generator);
            std::uint32_t bits;
            std::memcpy(&bits, &x, sizeof bits);
            n = static_cast<std::uint16_t>(bits >> 16);
        }
        return numbers;
    };
    // ViT-B/32, batch 8: 400 rows of 768, the MLP's 3072, 12 heads of 64 over 50 tokens.
    const std::int64_t rows = 400, width = 768, wide = 3072;
    const std::vector<std::uint16_t> mlpHidden = bfloat16Numbers(rows * wide),
                                     qkv = bfloat16Numbers(rows * 3 * width),
                                     update = bfloat16Numbers(rows * width);
    std::vector<std::uint16_t> out(mlpHidden.size());
    std::vector<float> stream(static_cast<std::size_t>(rows * width), 0.5f), gamma(width, 1.0f),
        beta(width, 0.0f);
    const pictor::kernels::StackedQkvShape shape {8, 50, 12, 64};
    for (const VectorKernel kernel : {VectorKernel::Reference, VectorKernel::Avx2, VectorKernel::Avx512}) {
        if (!pictor::kernels::vectorKernelRunsHere(kernel))
            continue;
        const double activation = millisecondsPerCall([&] {
            pictor::kernels::gatedActivationBf16(
                mlpHidden.data(), out.data(), rows * wide, {1.702f, 0.0f}, kernel);
        });
        const double attention = millisecondsPerCall([&] {
            pictor::kernels::attendStackedBf16(
                qkv.data(), out.data(), shape, 0.125f, 0, shape.pairs(), kernel);
        });
        const double norm = millisecondsPerCall([&] {
            pictor::kernels::addAndLayerNormBf16(stream.data(), update.data(), gamma.data(), beta.data(),
                1e-5f, out.data(), rows, width, kernel);
        });
        std::printf("{\"kernel\":\"vector\",\"isa\":\"%s\",\"threads\":1,\"quick_gelu_400x3072_ms\":%.3f,"
                    "\"attention_8x50x12x64_ms\":%.3f,\"add_layer_norm_400x768_ms\":%.3f}\n",
            pictor::kernels::vectorKernelName(kernel), activation, attention, norm);
        std::fflush(stdout);
    }
}

void benchCuda()
{
    if (!pictor::kernels::cudaAvailable()) {
        std::printf("{\"cuda\":\"%s\"}\n", pictor::kernels::cudaStatus().c_str());
        return;
    }
    struct Case {
        int width, height, crop;
    };
    for (const Case c : {Case {298, 224, 224}, Case {448, 336, 336}, Case {4000, 3000, 2048}}) {
        const int top = (c.height - c.crop) / 2, left = (c.width - c.crop) / 2;
        const auto check
            = pictor::kernels::checkCropNormalize(c.width, c.height, top, left, c.crop, c.crop, 100);
        std::printf("{\"kernel\":\"crop_normalize\",\"image\":\"%dx%d\",\"crop\":%d,\"max_abs_diff\":%.3g,"
                    "\"cpu_ms\":%.3f,\"gpu_ms\":%.4f}\n",
            c.width, c.height, c.crop, check.maxAbsDiff, check.cpuMs, check.gpuMs);
    }
}

} // namespace

int main()
{
    // Qwen2-0.5B: q/o 896x896, the MLP's 4864x896 and 896x4864, the lm_head 151936x896; one token, and a
    // short run of tokens (a chat turn's text).
    for (const int threads : {1, 2}) {
        benchQ8(896, 896, 1, threads);
        benchQ8(4864, 896, 1, threads);
        benchQ8(896, 4864, 1, threads);
        benchQ8(151936, 896, 1, threads);
        benchQ8(4864, 896, 8, threads);
    }
    benchVectorKernels();
    benchCuda();
    return 0;
}
