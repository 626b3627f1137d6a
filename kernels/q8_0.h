// 8-bit weights in blocks of 32 values with one float scale each (llama.cpp's Q8_0 layout, with float32
// scales kept beside the values instead of float16 ones inside the blocks), and the matrix-vector products
// of decoding over them. Torch-free: core/nn/quantized_linear.h is the LibTorch side.
//
// Decoding one token reads every weight once, so its speed is the memory's: 8-bit weights move a quarter
// of float32's bytes and half of bfloat16's. The inputs (activations) are rounded to 16-bit integers with
// one scale per 32 values, so each block's dot product is exact in int32 and costs one VNNI instruction
// (vpdpwssd, 32 products) or two AVX2 ones (vpmaddwd). 16 bits, not ggml's 8: with 8-bit inputs the
// LLaVA fixtures' top token agreed with float32 at 0.93 of the positions, under the 0.95 gate; with 16-bit
// inputs the error is the weights' alone.
#pragma once

#include <cstdint>

namespace pictor::kernels {

inline constexpr std::int64_t kQ8BlockSize = 32;

// A row-major matrix of int8 weights [rows, cols] and its scales [rows, cols / 32]. value * scale is the
// number; cols is a multiple of 32.
struct Q8Rows {
    const std::int8_t* values = nullptr;
    const float* scales = nullptr;
    std::int64_t rows = 0;
    std::int64_t cols = 0;
};

// The inputs of a product, one row per token, in 16-bit blocks of 32 with one scale each.
struct Q16Rows {
    const std::int16_t* values = nullptr;
    const float* scales = nullptr;
    std::int64_t rows = 0;
    std::int64_t cols = 0;
};

// Each block of 32: scale = max|x| / 127, value = round(x / scale) (an all-zero block: scale 0, values 0).
void quantizeQ8Rows(
    const float* source, std::int64_t rows, std::int64_t cols, std::int8_t* values, float* scales);
void dequantizeQ8Rows(const Q8Rows& rows, float* destination);
// The same with 16-bit values: scale = max|x| / 32767.
void quantizeQ16Rows(
    const float* source, std::int64_t rows, std::int64_t cols, std::int16_t* values, float* scales);

// The instruction sets a matrix-vector product can use; the best one is picked at run time from what
// this CPU reports (one binary for every x86-64 machine).
enum class Q8Kernel { Reference, Avx2, Avx512Vnni };
Q8Kernel bestQ8Kernel();
bool q8KernelRunsHere(Q8Kernel kernel);
const char* q8KernelName(Q8Kernel kernel); // "reference", "avx2", "avx512-vnni"

// out[t * weights.rows + r] = sum over blocks b of dot(weights[r, b], inputs[t, b]) * scale(r, b) * scale(t,
// b) for the output rows r in [rowBegin, rowEnd) and every input row t (a token). weights.cols ==
// inputs.cols. The reference kernel is plain C++ with the same exact int32 block dots; the others differ from
// it only in the order of float additions.
void q8MatMul(const Q8Rows& weights, const Q16Rows& inputs, float* out, std::int64_t rowBegin,
    std::int64_t rowEnd, Q8Kernel kernel);

} // namespace pictor::kernels
