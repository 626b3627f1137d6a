#include "kernels/vector_kernel.h"

namespace pictor::kernels {

bool vectorKernelRunsHere(VectorKernel kernel)
{
    switch (kernel) {
    case VectorKernel::Reference:
        return true;
#if defined(__x86_64__)
    case VectorKernel::Avx2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case VectorKernel::Avx512:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
            && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl");
#else
    default:
        return false;
#endif
    }
    return false;
}

VectorKernel bestVectorKernel()
{
    static const VectorKernel best = vectorKernelRunsHere(VectorKernel::Avx512) ? VectorKernel::Avx512
        : vectorKernelRunsHere(VectorKernel::Avx2)                              ? VectorKernel::Avx2
                                                                                : VectorKernel::Reference;
    return best;
}

const char* vectorKernelName(VectorKernel kernel)
{
    switch (kernel) {
    case VectorKernel::Reference:
        return "reference";
    case VectorKernel::Avx2:
        return "avx2";
    case VectorKernel::Avx512:
        return "avx512";
    }
    return "?";
}

} // namespace pictor::kernels
