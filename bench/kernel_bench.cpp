// The kernels' workbench with timings (JSON lines): the 8-bit matrix-vector kernels of decoding on one and
// two threads against their plain C++ reference, in the shapes of Qwen2-0.5B's projections and lm_head
// (weight bytes read per second: decoding is bound by them); then each CUDA kernel against its CPU reference
// when this build has CUDA and a GPU.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/q8_0.h"

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
    benchCuda();
    return 0;
}
