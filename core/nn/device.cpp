#include "core/nn/device.h"

#include <thread>

#include <ATen/Parallel.h>

#include "core/error.h"
#include "kernels/q8_0.h"

namespace pictor::nn {

DeviceChoice parseDeviceChoice(const std::string& text)
{
    if (text == "auto")
        return DeviceChoice::Auto;
    if (text == "cpu")
        return DeviceChoice::Cpu;
    if (text == "cuda")
        return DeviceChoice::Cuda;
    PICTOR_FAIL("unknown device '", text, "' (use auto, cpu or cuda)");
}

std::string ComputeDevice::describe() const
{
    std::string name
        = device.is_cuda() ? "CUDA:" + std::to_string(device.has_index() ? device.index() : 0) : "CPU";
    return name + " "
        + (dtype == at::kHalf            ? "float16"
                : dtype == at::kBFloat16 ? "bfloat16"
                                         : "float32")
        + (weights8Bit ? " with 8-bit weights" : "");
}

ComputeDevice resolveDevice(DeviceChoice choice)
{
    const bool cuda = at::hasCUDA();
    if (choice == DeviceChoice::Cuda)
        PICTOR_CHECK(cuda, "CUDA was requested but this LibTorch has no CUDA support or no GPU is present");
    if (choice != DeviceChoice::Cpu && cuda)
        return {at::Device(at::kCUDA, 0), at::kHalf, "the GPU's format"};
    return {at::kCPU, at::kFloat, "float32"};
}

namespace {

// A format asked for by name ("int8" is chooseNumberFormat's). float16 runs only on CUDA.
void applyNamedFormat(ComputeDevice& compute, const std::string& dtype)
{
    if (dtype == "float32" || dtype == "fp32" || dtype == "f32")
        compute.dtype = at::kFloat;
    else if (dtype == "bfloat16" || dtype == "bf16")
        compute.dtype = at::kBFloat16;
    else if (dtype == "float16" || dtype == "fp16" || dtype == "f16") {
        PICTOR_CHECK(
            compute.device.is_cuda(), "float16 runs only on CUDA; use float32 or bfloat16 on the CPU");
        compute.dtype = at::kHalf;
    } else
        PICTOR_FAIL("unknown number format '", dtype, "' (use auto, float32, bfloat16, float16 or int8)");
}

void chooseActivationFormat(ComputeDevice& compute, bool allowsBfloat16)
{
    if (compute.device.is_cuda()) {
        compute.formatReason = "the GPU's format";
    } else if (!allowsBfloat16) {
        compute.formatReason = "this model's CPU format";
    } else if (cpuHasFastBfloat16()) {
        compute.dtype = at::kBFloat16;
        compute.formatReason = "native on this CPU (AVX512_BF16)";
    } else {
        compute.formatReason = "this CPU has no native bfloat16";
    }
}

std::string weights8BitReason()
{
    return std::string("8-bit weights, ") + kernels::q8KernelName(kernels::bestQ8Kernel()) + " kernel";
}

} // namespace

void chooseNumberFormat(ComputeDevice& compute, const std::string& asked, CpuFormatsAllowed allowed)
{
    compute.weights8Bit = false;
    if (asked == "int8") {
        PICTOR_CHECK(allowed.weights8Bit,
            "8-bit weights are for the language models of captions and questions, not this model");
        PICTOR_CHECK(compute.device.is_cpu(), "8-bit weights run on the CPU; use float16 on the GPU");
        chooseActivationFormat(compute, allowed.bfloat16);
        compute.weights8Bit = true;
        compute.formatReason = "as asked (" + weights8BitReason() + "; " + compute.formatReason + ")";
        return;
    }
    if (asked != "auto") {
        applyNamedFormat(compute, asked);
        compute.formatReason = "as asked";
        return;
    }
    chooseActivationFormat(compute, allowed.bfloat16);
    // Without AVX2 only the plain C++ kernel is left, slower than the float formats' matrix products.
    if (allowed.weights8Bit && compute.device.is_cpu()
        && kernels::bestQ8Kernel() != kernels::Q8Kernel::Reference) {
        compute.weights8Bit = true;
        compute.formatReason = weights8BitReason() + "; " + compute.formatReason;
    }
}

bool cpuHasFastBfloat16()
{
#if defined(__x86_64__) || defined(__i386__)
    static const bool fast = __builtin_cpu_supports("avx512bf16");
    return fast;
#else
    return false;
#endif
}

void setCpuThreads(int threads)
{
    const int all = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(threads > 0 ? threads : all);
}

int cpuThreads()
{
    return at::get_num_threads();
}

CpuThreadLimit::CpuThreadLimit(int threads) : previous_(at::get_num_threads())
{
    if (threads > 0 && threads < previous_)
        at::set_num_threads(threads);
}

CpuThreadLimit::~CpuThreadLimit()
{
    if (at::get_num_threads() != previous_)
        at::set_num_threads(previous_);
}

} // namespace pictor::nn
