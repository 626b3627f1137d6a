// Gated activations over bfloat16: a plain C++ reference with std::exp, and one loop with a polynomial
// exp that the compiler vectorizes for AVX2 and for AVX-512 (target attributes, chosen at run time).
#include "kernels/gated_activation.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "kernels/cpu/vector_math.h"

namespace pictor::kernels {
namespace {

using detail::narrowToBf16;
using detail::widenBf16;

// With no cubic term, x * linear alone: 0 * x^3 would make an infinite x NaN. A template argument, not a
// test in the loop: AVX2 has no masks, and a branch in the loop keeps the compiler from vectorizing it.
template <bool kCubic> float gateOf(float v, SigmoidGate gate)
{
    return kCubic ? v * (gate.linear + gate.cubic * v * v) : v * gate.linear;
}

template <bool kCubic>
void referenceLoop(const std::uint16_t* x, std::uint16_t* y, std::int64_t count, SigmoidGate gate)
{
    for (std::int64_t i = 0; i < count; ++i) {
        const float v = widenBf16(x[i]);
        const float z = gateOf<kCubic>(v, gate);
        y[i] = narrowToBf16(v * (1.0f / (1.0f + std::exp(-z))));
    }
}

// sigmoid(z) from e = exp(-|z|): 1 / (1 + e) for z >= 0, e / (1 + e) below; beyond |z| = 88, e is 0 and
// the sigmoid exactly 0 or 1, as in LibTorch (x * 0 keeps x's sign; an infinite x gives NaN or x, as
// there). The sign picks the numerator arithmetically: no float comparison in the loop (see expOfMinusAbs).
inline float sigmoidOf(float z)
{
    const float e = detail::expOfMinusAbs(z);
    const float negative = static_cast<float>(std::bit_cast<std::uint32_t>(z) >> 31);
    return (e * negative + (1.0f - negative)) / (1.0f + e); // exact: e * 1 + 0, or e * 0 + 1
}

// Always inlined into each target below and vectorized there: no branches, no library calls.
template <bool kCubic>
[[gnu::always_inline]] inline void polynomialLoop(
    const std::uint16_t* __restrict x, std::uint16_t* __restrict y, std::int64_t count, SigmoidGate gate)
{
    for (std::int64_t i = 0; i < count; ++i) {
        const float v = widenBf16(x[i]);
        y[i] = narrowToBf16(v * sigmoidOf(gateOf<kCubic>(v, gate)));
    }
}

// The loop with or without the cubic term, as the gate has it.
[[gnu::always_inline]] inline void polynomialLoopFor(
    const std::uint16_t* x, std::uint16_t* y, std::int64_t count, SigmoidGate gate)
{
    if (gate.cubic == 0.0f)
        polynomialLoop<false>(x, y, count, gate);
    else
        polynomialLoop<true>(x, y, count, gate);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void avx2Loop(
    const std::uint16_t* x, std::uint16_t* y, std::int64_t count, SigmoidGate gate)
{
    polynomialLoopFor(x, y, count, gate);
}

__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) void avx512Loop(
    const std::uint16_t* x, std::uint16_t* y, std::int64_t count, SigmoidGate gate)
{
    polynomialLoopFor(x, y, count, gate);
}
#endif

} // namespace

void gatedActivationBf16(
    const std::uint16_t* x, std::uint16_t* y, std::int64_t count, SigmoidGate gate, VectorKernel kernel)
{
    switch (kernel) {
#if defined(__x86_64__)
    case VectorKernel::Avx2:
        avx2Loop(x, y, count, gate);
        return;
    case VectorKernel::Avx512:
        avx512Loop(x, y, count, gate);
        return;
#endif
    default:
        if (gate.cubic == 0.0f)
            referenceLoop<false>(x, y, count, gate);
        else
            referenceLoop<true>(x, y, count, gate);
        return;
    }
}

} // namespace pictor::kernels
