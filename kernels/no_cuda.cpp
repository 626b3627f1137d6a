// The kernels library when CUDA is off: everything reports that there is no GPU.
#include "core/error.h"
#include "kernels/kernels.h"

namespace pictor::kernels {

bool cudaAvailable()
{
    return false;
}

std::string cudaStatus()
{
    return "built without CUDA (configure with -DPICTOR_CUDA=ON)";
}

std::uint64_t cudaTotalMemory()
{
    return 0;
}

void cropNormalizeCuda(const std::uint8_t*, int, int, int, int, int, int, float, const std::array<float, 3>&,
    const std::array<float, 3>&, float*)
{
    PICTOR_FAIL("cropNormalizeCuda: ", cudaStatus());
}

KernelCheck checkCropNormalize(int, int, int, int, int, int, int)
{
    PICTOR_FAIL("checkCropNormalize: ", cudaStatus());
}

} // namespace pictor::kernels
