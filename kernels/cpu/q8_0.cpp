// Q8_0 quantization and matrix-vector products: a plain C++ reference and AVX2 / AVX-512 VNNI versions
// compiled for those instruction sets with target attributes and chosen at run time.
#include "kernels/q8_0.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "kernels/vector_kernel.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define PICTOR_Q8_X86 1
// GCC 12 takes the deliberately undefined vectors inside its AVX-512 intrinsics (_mm512_undefined_ps) for
// uninitialized variables of ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif

namespace pictor::kernels {
namespace {

constexpr std::int64_t kBlock = kQ8BlockSize;

void checkShapes(const Q8Rows& weights, const Q16Rows& inputs, std::int64_t rowBegin, std::int64_t rowEnd)
{
    PICTOR_CHECK(weights.cols == inputs.cols && weights.cols % kBlock == 0, "q8MatMul: ", weights.cols,
        "-wide weights and ", inputs.cols, "-wide inputs (both must be the same multiple of ", kBlock, ")");
    PICTOR_CHECK(0 <= rowBegin && rowBegin <= rowEnd && rowEnd <= weights.rows, "q8MatMul: rows [", rowBegin,
        ", ", rowEnd, ") outside ", weights.rows);
}

// Scale = largest magnitude / `top`, values rounded to the nearest step.
template <typename Value>
void quantizeBlocks(
    const float* source, std::int64_t rows, std::int64_t cols, Value* values, float* scales, float top)
{
    PICTOR_CHECK(cols % kBlock == 0, "quantizing rows of ", cols, " values: not a multiple of ", kBlock);
    const std::int64_t blocks = rows * cols / kBlock;
    for (std::int64_t b = 0; b < blocks; ++b) {
        const float* block = source + b * kBlock;
        float largest = 0;
        for (std::int64_t i = 0; i < kBlock; ++i)
            largest = std::max(largest, std::fabs(block[i]));
        const float scale = largest / top;
        // A block of numbers so tiny that the scale's inverse overflows is a block of zeros.
        const float inverse = scale > 0 && std::isfinite(1.0f / scale) ? 1.0f / scale : 0.0f;
        scales[b] = inverse > 0 ? scale : 0.0f;
        for (std::int64_t i = 0; i < kBlock; ++i)
            values[b * kBlock + i] = static_cast<Value>(std::nearbyint(block[i] * inverse));
    }
}

// Block by block: an exact int32 dot product, then one multiply-add of its float value with the product
// of the two scales.
void matMulReference(
    const Q8Rows& w, const Q16Rows& x, float* out, std::int64_t rowBegin, std::int64_t rowEnd)
{
    const std::int64_t blocks = w.cols / kBlock;
    for (std::int64_t t = 0; t < x.rows; ++t) {
        const std::int16_t* xv = x.values + t * x.cols;
        const float* xs = x.scales + t * blocks;
        for (std::int64_t r = rowBegin; r < rowEnd; ++r) {
            const std::int8_t* wv = w.values + r * w.cols;
            const float* ws = w.scales + r * blocks;
            float sum = 0;
            for (std::int64_t b = 0; b < blocks; ++b) {
                std::int32_t dot = 0;
                for (std::int64_t i = 0; i < kBlock; ++i)
                    dot += std::int32_t(wv[b * kBlock + i]) * std::int32_t(xv[b * kBlock + i]);
                sum += float(dot) * (ws[b] * xs[b]);
            }
            out[t * w.rows + r] = sum;
        }
    }
}

#ifdef PICTOR_Q8_X86

#define PICTOR_AVX2 __attribute__((target("avx2,fma")))
#define PICTOR_VNNI __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))

// Both kernels: four weight rows against every input row (token), then the next four. The four rows stay
// in the first-level cache while the tokens pass, and each input block is loaded once for the four. Rows
// are read front to back, which the hardware prefetcher follows. The int32 lanes of a block hold sums of
// a few products (at most 2 * 127 * 32767 per lane and instruction), exact in float.

// Decoding streams the weights from memory once per token. The hardware prefetcher alone kept one core at
// 6.8 GB/s; asking for the line 4 KiB ahead of each row raised it to 10 (two cores: 13 to 19 GB/s,
// kernel_bench, Qwen2-0.5B's lm_head). A prefetch past the end of the matrix is harmless.
constexpr std::int64_t kPrefetchBytes = 4096;

inline void prefetchAhead(const std::int8_t* weights)
{
    _mm_prefetch(reinterpret_cast<const char*>(weights + kPrefetchBytes), _MM_HINT_T0);
}

PICTOR_AVX2 inline float horizontalSum(__m256 v)
{
    const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
    return _mm_cvtss_f32(_mm_add_ss(quarter, _mm_movehdup_ps(quarter)));
}

// Eight int32 lanes of one block's dot product: the 32 weights widened to int16, multiplied with the
// inputs and added in pairs (vpmaddwd), twice.
PICTOR_AVX2 inline __m256i blockDotAvx2(const std::int8_t* weights, __m256i inputLow, __m256i inputHigh)
{
    const __m256i low = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(weights)));
    const __m256i high
        = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(weights + 16)));
    return _mm256_add_epi32(_mm256_madd_epi16(low, inputLow), _mm256_madd_epi16(high, inputHigh));
}

// `Rows` weight rows from row r against every input row.
template <int Rows>
PICTOR_AVX2 inline void rowGroupAvx2(const Q8Rows& w, const Q16Rows& x, float* out, std::int64_t r)
{
    const std::int64_t blocks = w.cols / kBlock;
    const std::int8_t* wv = w.values + r * w.cols;
    const float* ws = w.scales + r * blocks;
    for (std::int64_t t = 0; t < x.rows; ++t) {
        const std::int16_t* xv = x.values + t * x.cols;
        const float* xs = x.scales + t * blocks;
        __m256 acc[Rows];
        for (int k = 0; k < Rows; ++k)
            acc[k] = _mm256_setzero_ps();
        for (std::int64_t b = 0; b < blocks; ++b) {
            const auto* input = reinterpret_cast<const __m256i*>(xv + b * kBlock);
            const __m256i inputLow = _mm256_loadu_si256(input), inputHigh = _mm256_loadu_si256(input + 1);
            const __m256 inputScale = _mm256_set1_ps(xs[b]);
            for (int k = 0; k < Rows; ++k)
                prefetchAhead(wv + k * w.cols + b * kBlock);
            for (int k = 0; k < Rows; ++k) {
                const __m256i dot = blockDotAvx2(wv + k * w.cols + b * kBlock, inputLow, inputHigh);
                const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(ws[k * blocks + b]), inputScale);
                acc[k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, acc[k]);
            }
        }
        for (int k = 0; k < Rows; ++k)
            out[t * w.rows + r + k] = horizontalSum(acc[k]);
    }
}

PICTOR_AVX2 void matMulAvx2(
    const Q8Rows& w, const Q16Rows& x, float* out, std::int64_t rowBegin, std::int64_t rowEnd)
{
    std::int64_t r = rowBegin;
    for (; r + 4 <= rowEnd; r += 4)
        rowGroupAvx2<4>(w, x, out, r);
    for (; r < rowEnd; ++r)
        rowGroupAvx2<1>(w, x, out, r);
}

// Sixteen int32 lanes of one block's dot product in one instruction: the 32 weights widened to int16,
// multiplied with the inputs and added in pairs into the lanes (vpdpwssd).
PICTOR_VNNI inline __m512i blockDotVnni(const std::int8_t* weights, __m512i input)
{
    const __m512i widened
        = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(weights)));
    return _mm512_dpwssd_epi32(_mm512_setzero_si512(), widened, input);
}

// `Rows` weight rows from row r against every input row.
template <int Rows>
PICTOR_VNNI inline void rowGroupVnni(const Q8Rows& w, const Q16Rows& x, float* out, std::int64_t r)
{
    const std::int64_t blocks = w.cols / kBlock;
    const std::int8_t* wv = w.values + r * w.cols;
    const float* ws = w.scales + r * blocks;
    for (std::int64_t t = 0; t < x.rows; ++t) {
        const std::int16_t* xv = x.values + t * x.cols;
        const float* xs = x.scales + t * blocks;
        __m512 acc[Rows];
        for (int k = 0; k < Rows; ++k)
            acc[k] = _mm512_setzero_ps();
        for (std::int64_t b = 0; b < blocks; ++b) {
            const __m512i input = _mm512_loadu_si512(xv + b * kBlock);
            const __m512 inputScale = _mm512_set1_ps(xs[b]);
            for (int k = 0; k < Rows; ++k)
                prefetchAhead(wv + k * w.cols + b * kBlock);
            for (int k = 0; k < Rows; ++k) {
                const __m512i dot = blockDotVnni(wv + k * w.cols + b * kBlock, input);
                const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(ws[k * blocks + b]), inputScale);
                acc[k] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, acc[k]);
            }
        }
        for (int k = 0; k < Rows; ++k)
            out[t * w.rows + r + k] = _mm512_reduce_add_ps(acc[k]);
    }
}

PICTOR_VNNI void matMulVnni(
    const Q8Rows& w, const Q16Rows& x, float* out, std::int64_t rowBegin, std::int64_t rowEnd)
{
    std::int64_t r = rowBegin;
    for (; r + 4 <= rowEnd; r += 4)
        rowGroupVnni<4>(w, x, out, r);
    for (; r < rowEnd; ++r)
        rowGroupVnni<1>(w, x, out, r);
}

#endif // PICTOR_Q8_X86

} // namespace

void quantizeQ8Rows(
    const float* source, std::int64_t rows, std::int64_t cols, std::int8_t* values, float* scales)
{
    quantizeBlocks(source, rows, cols, values, scales, 127.0f);
}

void quantizeQ16Rows(
    const float* source, std::int64_t rows, std::int64_t cols, std::int16_t* values, float* scales)
{
    quantizeBlocks(source, rows, cols, values, scales, 32767.0f);
}

void dequantizeQ8Rows(const Q8Rows& rows, float* destination)
{
    const std::int64_t blocks = rows.rows * rows.cols / kBlock;
    for (std::int64_t b = 0; b < blocks; ++b) { // block by block, so the compiler vectorizes the inner loop
        const float scale = rows.scales[b];
        const std::int8_t* values = rows.values + b * kBlock;
        float* numbers = destination + b * kBlock;
        for (std::int64_t i = 0; i < kBlock; ++i)
            numbers[i] = float(values[i]) * scale;
    }
}

bool q8KernelRunsHere(Q8Kernel kernel)
{
    switch (kernel) {
    case Q8Kernel::Reference:
        return true;
#ifdef PICTOR_Q8_X86
    case Q8Kernel::Avx2:
        return vectorKernelRunsHere(VectorKernel::Avx2);
    case Q8Kernel::Avx512Vnni:
        return vectorKernelRunsHere(VectorKernel::Avx512) && __builtin_cpu_supports("avx512vnni");
#else
    default:
        return false;
#endif
    }
    return false;
}

Q8Kernel bestQ8Kernel()
{
    static const Q8Kernel best = q8KernelRunsHere(Q8Kernel::Avx512Vnni) ? Q8Kernel::Avx512Vnni
        : q8KernelRunsHere(Q8Kernel::Avx2)                              ? Q8Kernel::Avx2
                                                                        : Q8Kernel::Reference;
    return best;
}

const char* q8KernelName(Q8Kernel kernel)
{
    switch (kernel) {
    case Q8Kernel::Reference:
        return "reference";
    case Q8Kernel::Avx2:
        return "avx2";
    case Q8Kernel::Avx512Vnni:
        return "avx512-vnni";
    }
    return "?";
}

void q8MatMul(const Q8Rows& weights, const Q16Rows& inputs, float* out, std::int64_t rowBegin,
    std::int64_t rowEnd, Q8Kernel kernel)
{
    checkShapes(weights, inputs, rowBegin, rowEnd);
    PICTOR_CHECK(
        q8KernelRunsHere(kernel), "q8MatMul: this CPU cannot run the ", q8KernelName(kernel), " kernel");
    switch (kernel) {
#ifdef PICTOR_Q8_X86
    case Q8Kernel::Avx2:
        return matMulAvx2(weights, inputs, out, rowBegin, rowEnd);
    case Q8Kernel::Avx512Vnni:
        return matMulVnni(weights, inputs, out, rowBegin, rowEnd);
#endif
    default:
        return matMulReference(weights, inputs, out, rowBegin, rowEnd);
    }
}

} // namespace pictor::kernels
