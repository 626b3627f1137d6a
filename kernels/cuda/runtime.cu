// Whether a usable GPU is present; the static runtime reports "no driver" on machines without one.
#include <cuda_runtime.h>

#include "kernels/kernels.h"

namespace pictor::kernels {

std::string cudaStatus()
{
    int devices = 0;
    const cudaError_t status = cudaGetDeviceCount(&devices);
    if (status != cudaSuccess)
        return std::string("no usable GPU: ") + cudaGetErrorString(status);
    if (devices == 0)
        return "no GPU present";
    cudaDeviceProp properties {};
    cudaGetDeviceProperties(&properties, 0);
    return std::string("CUDA device 0: ") + properties.name;
}

bool cudaAvailable()
{
    int devices = 0;
    return cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
}

std::uint64_t cudaTotalMemory()
{
    if (!cudaAvailable())
        return 0;
    cudaDeviceProp properties {};
    if (cudaGetDeviceProperties(&properties, 0) != cudaSuccess)
        return 0;
    return properties.totalGlobalMem;
}

} // namespace pictor::kernels
