// Device and dtype policy: float32 on CPU, float16 on CUDA; CPU thread count from settings.
#pragma once

#include <string>

#include <ATen/ATen.h>

namespace pictor::nn {

enum class DeviceChoice { Auto, Cpu, Cuda };

// "auto", "cpu" or "cuda"; anything else is an error naming the accepted values.
DeviceChoice parseDeviceChoice(const std::string& text);

struct ComputeDevice {
    at::Device device = at::kCPU;
    at::ScalarType dtype = at::kFloat;
    std::string describe() const; // "CPU float32", "CUDA:0 float16"
};

// Auto picks CUDA when LibTorch was built with it and a GPU is present; asking for CUDA without one
// is an error that says why.
ComputeDevice resolveDevice(DeviceChoice choice);

// Sets LibTorch's intra-op threads (its default here is 1); 0 means every core.
void setCpuThreads(int threads);
int cpuThreads();

} // namespace pictor::nn
