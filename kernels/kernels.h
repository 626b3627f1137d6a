// CUDA kernels behind a Torch-free, CUDA-free interface. Each kernel has a CPU reference in core
// (here: pictor::cropNormalizeToChw) and a check that compares the two on the GPU.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace pictor::kernels {

// True when this build has CUDA kernels and a usable GPU (driver present, device count > 0).
bool cudaAvailable();
// A human-readable reason when cudaAvailable() is false ("built without CUDA", "no driver", ...).
std::string cudaStatus();
// The memory of GPU 0 in bytes; 0 without a usable GPU.
std::uint64_t cudaTotalMemory();

// Fused last step of CLIP preprocessing on device pointers: crop a window of an interleaved uint8 RGB
// image, rescale, normalise, write planar float CHW. Same semantics as pictor::cropNormalizeToChw.
void cropNormalizeCuda(const std::uint8_t* deviceRgb, int width, int height, int top, int left,
    int cropHeight, int cropWidth, float rescale, const std::array<float, 3>& mean,
    const std::array<float, 3>& std, float* deviceChw);

// Workbench: runs the CPU reference and the kernel on a random image of the given size with the given
// crop window (which may reach outside the image), returns the max abs difference and the timings.
struct KernelCheck {
    double maxAbsDiff = 0;
    double cpuMs = 0;
    double gpuMs = 0; // kernel only, averaged over `repeats`
};
KernelCheck checkCropNormalize(
    int width, int height, int top, int left, int cropHeight, int cropWidth, int repeats);

} // namespace pictor::kernels
