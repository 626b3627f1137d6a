// Which instruction set a vectorized CPU kernel (gated_activation.h, stacked_attention.h) runs with: the
// same loops compiled for AVX2 and for AVX-512 with target attributes, picked at run time from what this
// CPU reports (one binary for every x86-64 machine), and a plain C++ reference.
#pragma once

namespace pictor::kernels {

enum class VectorKernel { Reference, Avx2, Avx512 };
VectorKernel bestVectorKernel();
bool vectorKernelRunsHere(VectorKernel kernel);
const char* vectorKernelName(VectorKernel kernel); // "reference", "avx2", "avx512"

} // namespace pictor::kernels
