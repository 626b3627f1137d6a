// Fused crop + rescale + normalise, uint8 interleaved RGB -> float planar CHW: the last step of CLIP
// preprocessing, done where the pixels will be used. CPU reference: pictor::cropNormalizeToChw.
#include <chrono>
#include <cmath>
#include <random>
#include <vector>

#include "core/preprocess.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/kernels.h"

namespace pictor::kernels {
namespace {

struct Normalization {
    float rescale;
    float mean[3];
    float std[3];
};

// One thread per output pixel; each writes its three channel planes.
__global__ void cropNormalizeKernel(const std::uint8_t* rgb, int width, int height, int top, int left,
    int cropHeight, int cropWidth, Normalization norm, float* chw)
{
    const int x = blockIdx.x * blockDim.x + threadIdx.x;
    const int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= cropWidth || y >= cropHeight)
        return;
    const int sourceX = left + x;
    const int sourceY = top + y;
    const bool inside = sourceX >= 0 && sourceY >= 0 && sourceX < width && sourceY < height;
    const std::size_t plane = static_cast<std::size_t>(cropHeight) * cropWidth;
    const std::size_t out = static_cast<std::size_t>(y) * cropWidth + x;
    const std::uint8_t* pixel
        = inside ? rgb + (static_cast<std::size_t>(sourceY) * width + sourceX) * 3 : nullptr;
    for (int c = 0; c < 3; ++c) {
        const float value = inside ? static_cast<float>(pixel[c]) : 0.0f;
        chw[c * plane + out] = (value * norm.rescale - norm.mean[c]) / norm.std[c];
    }
}

} // namespace

void cropNormalizeCuda(const std::uint8_t* deviceRgb, int width, int height, int top, int left,
    int cropHeight, int cropWidth, float rescale, const std::array<float, 3>& mean,
    const std::array<float, 3>& std, float* deviceChw)
{
    const Normalization norm {rescale, {mean[0], mean[1], mean[2]}, {std[0], std[1], std[2]}};
    const dim3 block(32, 8);
    const dim3 grid((cropWidth + block.x - 1) / block.x, (cropHeight + block.y - 1) / block.y);
    cropNormalizeKernel<<<grid, block>>>(
        deviceRgb, width, height, top, left, cropHeight, cropWidth, norm, deviceChw);
    PICTOR_CUDA_CHECK(cudaGetLastError());
}

KernelCheck checkCropNormalize(
    int width, int height, int top, int left, int cropHeight, int cropWidth, int repeats)
{
    PICTOR_CHECK(cudaAvailable(), "checkCropNormalize: ", cudaStatus());
    const std::array<float, 3> mean {0.48145466f, 0.4578275f, 0.40821073f};
    const std::array<float, 3> std {0.26862954f, 0.26130258f, 0.27577711f};
    const float rescale = 1.0f / 255.0f;

    std::vector<std::uint8_t> image(static_cast<std::size_t>(width) * height * 3);
    std::mt19937 random(42);
    for (auto& value : image)
        value = static_cast<std::uint8_t>(random() & 0xff);
    const std::size_t outputCount = 3ull * cropHeight * cropWidth;
    std::vector<float> expected(outputCount), actual(outputCount);

    KernelCheck check;
    const auto cpuStart = std::chrono::steady_clock::now();
    cropNormalizeToChw(
        image.data(), width, height, top, left, cropHeight, cropWidth, rescale, mean, std, expected.data());
    check.cpuMs
        = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - cpuStart).count();

    std::uint8_t* deviceImage = nullptr;
    float* deviceOutput = nullptr;
    PICTOR_CUDA_CHECK(cudaMalloc(&deviceImage, image.size()));
    PICTOR_CUDA_CHECK(cudaMalloc(&deviceOutput, outputCount * sizeof(float)));
    PICTOR_CUDA_CHECK(cudaMemcpy(deviceImage, image.data(), image.size(), cudaMemcpyHostToDevice));
    cudaEvent_t start, stop;
    PICTOR_CUDA_CHECK(cudaEventCreate(&start));
    PICTOR_CUDA_CHECK(cudaEventCreate(&stop));
    cropNormalizeCuda(
        deviceImage, width, height, top, left, cropHeight, cropWidth, rescale, mean, std, deviceOutput);
    PICTOR_CUDA_CHECK(cudaEventRecord(start));
    for (int i = 0; i < repeats; ++i)
        cropNormalizeCuda(
            deviceImage, width, height, top, left, cropHeight, cropWidth, rescale, mean, std, deviceOutput);
    PICTOR_CUDA_CHECK(cudaEventRecord(stop));
    PICTOR_CUDA_CHECK(cudaEventSynchronize(stop));
    float elapsedMs = 0;
    PICTOR_CUDA_CHECK(cudaEventElapsedTime(&elapsedMs, start, stop));
    check.gpuMs = repeats > 0 ? elapsedMs / repeats : 0.0;
    PICTOR_CUDA_CHECK(
        cudaMemcpy(actual.data(), deviceOutput, outputCount * sizeof(float), cudaMemcpyDeviceToHost));
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaFree(deviceImage);
    cudaFree(deviceOutput);

    for (std::size_t i = 0; i < outputCount; ++i)
        check.maxAbsDiff
            = std::max(check.maxAbsDiff, static_cast<double>(std::fabs(actual[i] - expected[i])));
    return check;
}

} // namespace pictor::kernels
