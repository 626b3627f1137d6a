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
    std::string formatReason; // why this number format, for a person ("native on this CPU (AVX512_BF16)")
    // The language model's matrices in 8-bit blocks (Q8_0-like, core/nn/quantized_linear.h) on the CPU;
    // dtype is then the format of everything else (activations, embeddings, norms, the KV cache).
    bool weights8Bit = false;
    std::string describe() const; // "CPU float32", "CUDA:0 float16", "CPU bfloat16 with 8-bit weights"
};

// Auto picks CUDA when LibTorch was built with it and a GPU is present; asking for CUDA without one
// is an error that says why.
ComputeDevice resolveDevice(DeviceChoice choice);

// What a model family's quality gates (tests/parity) allow on the CPU.
struct CpuFormatsAllowed {
    bool bfloat16 = false;
    bool weights8Bit = false; // decoding language models: 8-bit weight blocks
};

// The number format of a model family on this machine, picked at run time (one binary for every x86-64
// CPU): "auto" is bfloat16 on a CPU that computes it natively when the family allows it, float32 on other
// CPUs, the device's default on CUDA; with 8-bit weights besides where the family allows them and the CPU
// has a fast kernel for them (AVX2 or AVX-512 VNNI). A format named ("float32", "bfloat16", "float16",
// "int8"; also f32, bf16, f16) is used as asked, float16 only on CUDA; "int8" keeps auto's format for
// everything but the weights. Sets compute.dtype,
// compute.weights8Bit and compute.formatReason.
void chooseNumberFormat(ComputeDevice& compute, const std::string& asked, CpuFormatsAllowed allowed);

// Whether this CPU computes bfloat16 natively (AVX512_BF16, which also comes with AMX), checked at run time:
// the build machine says nothing about the user's. Where it does, LibTorch's bfloat16 convolutions and
// matrix products beat float32 (unclip_bench: 2.8x per unCLIP picture); without it they are emulated and
// slower.
bool cpuHasFastBfloat16();

// Sets LibTorch's intra-op threads (its default here is 1); 0 means every core.
void setCpuThreads(int threads);
int cpuThreads();

// Runs a scope with at most `threads` intra-op CPU threads, then restores the previous count. For small
// work (one text query: ~10 tokens) more threads only add synchronisation, and when another process
// holds a core they wait for it. clip_bench, ViT-B/32 text at 10 tokens, 2 cores: quiet 25 ms with one
// thread, 29 ms with two; at load 5, 42-45 ms against 63-71 ms (OMP_WAIT_POLICY=PASSIVE) or 1445 ms
// (spinning OpenMP threads).
class CpuThreadLimit {
public:
    explicit CpuThreadLimit(int threads);
    ~CpuThreadLimit();
    CpuThreadLimit(const CpuThreadLimit&) = delete;
    CpuThreadLimit& operator=(const CpuThreadLimit&) = delete;

private:
    int previous_;
};

} // namespace pictor::nn
