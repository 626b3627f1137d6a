// The residual add and layer norm: one loop nest, compiled plain (the reference: sums in order) and for
// AVX2 and AVX-512 with target attributes (sums in 16 lanes), chosen at run time.
#include "kernels/residual_layer_norm.h"

#include <cmath>

#include "kernels/cpu/vector_math.h"

namespace pictor::kernels {
namespace {

using detail::narrowToBf16;
using detail::widenBf16;

constexpr std::int64_t kLanes = 16;

// Sum of f(i) over [0, width): in order, or in 16 partial sums the compiler keeps in one vector register.
template <bool kInLanes, typename Term>
[[gnu::always_inline]] inline float sumOf(std::int64_t width, Term term)
{
    if constexpr (!kInLanes) {
        float total = 0.0f;
        for (std::int64_t i = 0; i < width; ++i)
            total += term(i);
        return total;
    } else {
        float lanes[kLanes] = {};
        const std::int64_t whole = width / kLanes * kLanes;
        for (std::int64_t i = 0; i < whole; i += kLanes)
            for (std::int64_t l = 0; l < kLanes; ++l)
                lanes[l] += term(i + l);
        float total = 0.0f;
        for (std::int64_t i = whole; i < width; ++i)
            total += term(i);
        for (const float lane : lanes)
            total += lane;
        return total;
    }
}

// Always inlined, so each target below compiles it for its own instruction set.
template <bool kInLanes>
[[gnu::always_inline]] inline void addAndNormalize(float* __restrict stream,
    const std::uint16_t* __restrict update, const float* __restrict gamma, const float* __restrict beta,
    float epsilon, std::uint16_t* __restrict normalized, std::int64_t rows, std::int64_t width)
{
    for (std::int64_t r = 0; r < rows; ++r) {
        float* __restrict x = stream + r * width;
        if (update != nullptr) {
            const std::uint16_t* __restrict u = update + r * width;
            for (std::int64_t i = 0; i < width; ++i)
                x[i] += widenBf16(u[i]);
        }
        const float mean = sumOf<kInLanes>(width, [&](std::int64_t i) { return x[i]; }) / width;
        const float variance = sumOf<kInLanes>(width, [&](std::int64_t i) {
            const float centred = x[i] - mean;
            return centred * centred;
        }) / width;
        const float inverse = 1.0f / std::sqrt(variance + epsilon);
        std::uint16_t* __restrict out = normalized + r * width;
        for (std::int64_t i = 0; i < width; ++i)
            out[i] = narrowToBf16((x[i] - mean) * inverse * gamma[i] + beta[i]);
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void avx2Rows(float* stream, const std::uint16_t* update,
    const float* gamma, const float* beta, float epsilon, std::uint16_t* normalized, std::int64_t rows,
    std::int64_t width)
{
    addAndNormalize<true>(stream, update, gamma, beta, epsilon, normalized, rows, width);
}

__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) void avx512Rows(float* stream,
    const std::uint16_t* update, const float* gamma, const float* beta, float epsilon,
    std::uint16_t* normalized, std::int64_t rows, std::int64_t width)
{
    addAndNormalize<true>(stream, update, gamma, beta, epsilon, normalized, rows, width);
}
#endif

} // namespace

void addAndLayerNormBf16(float* stream, const std::uint16_t* update, const float* gamma, const float* beta,
    float epsilon, std::uint16_t* normalized, std::int64_t rows, std::int64_t width, VectorKernel kernel)
{
    switch (kernel) {
#if defined(__x86_64__)
    case VectorKernel::Avx2:
        avx2Rows(stream, update, gamma, beta, epsilon, normalized, rows, width);
        return;
    case VectorKernel::Avx512:
        avx512Rows(stream, update, gamma, beta, epsilon, normalized, rows, width);
        return;
#endif
    default:
        addAndNormalize<false>(stream, update, gamma, beta, epsilon, normalized, rows, width);
        return;
    }
}

} // namespace pictor::kernels
