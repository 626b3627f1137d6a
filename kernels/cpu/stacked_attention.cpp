// Attention over stacked q/k/v rows: one loop nest, compiled plain (with std::exp: the reference) and for
// AVX2 and AVX-512 with target attributes (with the polynomial exp), chosen at run time.
#include "kernels/stacked_attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/vector_math.h"

namespace pictor::kernels {
namespace {

using detail::narrowToBf16;
using detail::widenBf16;

// 16 partial results side by side, so the compiler vectorizes the reductions over a row of scores.
constexpr std::int64_t kLanes = 16;
// The score of a padding column: far below any real one, yet finite after subtracting the largest.
constexpr float kNoWeight = -1e30f;

struct Exp {
    float operator()(float t) const { return std::exp(t); }
};
struct PolynomialExp {
    // Scores minus their maximum are <= 0; below -88 the weight is 0 in float32 anyway.
    float operator()(float t) const { return detail::expOfMinusAbs(t); }
};

// Always inlined, so each target below compiles it for its own instruction set.
template <typename ExpFunction>
[[gnu::always_inline]] inline void attendPairs(const std::uint16_t* __restrict qkv,
    std::uint16_t* __restrict out, const StackedQkvShape& shape, float scale, std::int64_t pairBegin,
    std::int64_t pairEnd)
{
    const std::int64_t tokens = shape.tokens, headDim = shape.headDim;
    const std::int64_t hidden = shape.heads * headDim, rowWidth = 3 * hidden;
    const std::int64_t paddedTokens = (tokens + kLanes - 1) / kLanes * kLanes;
    // keys transposed ([headDim, paddedTokens]: a query's scores are sums of rows scaled by its numbers),
    // values [tokens, headDim], one query, its scores, its output.
    std::vector<float> keys(static_cast<std::size_t>(headDim * paddedTokens), 0.0f);
    std::vector<float> values(static_cast<std::size_t>(tokens * headDim));
    std::vector<float> query(static_cast<std::size_t>(headDim)), output(query.size());
    std::vector<float> scores(static_cast<std::size_t>(paddedTokens));
    float* __restrict k = keys.data();
    float* __restrict v = values.data();
    float* __restrict q = query.data();
    float* __restrict o = output.data();
    float* __restrict s = scores.data();
    const ExpFunction exp;

    for (std::int64_t pair = pairBegin; pair < pairEnd; ++pair) {
        const std::int64_t head = pair % shape.heads;
        const std::uint16_t* rows = qkv + (pair / shape.heads) * tokens * rowWidth;
        std::uint16_t* outRows = out + (pair / shape.heads) * tokens * hidden + head * headDim;
        for (std::int64_t t = 0; t < tokens; ++t) {
            const std::uint16_t* keyRow = rows + t * rowWidth + hidden + head * headDim;
            const std::uint16_t* valueRow = keyRow + hidden;
            for (std::int64_t d = 0; d < headDim; ++d) {
                k[d * paddedTokens + t] = widenBf16(keyRow[d]);
                v[t * headDim + d] = widenBf16(valueRow[d]);
            }
        }
        for (std::int64_t i = 0; i < tokens; ++i) {
            const std::uint16_t* queryRow = rows + i * rowWidth + head * headDim;
            for (std::int64_t d = 0; d < headDim; ++d)
                q[d] = widenBf16(queryRow[d]) * scale;
            std::fill_n(s, paddedTokens, 0.0f);
            for (std::int64_t d = 0; d < headDim; ++d) {
                const float qd = q[d];
                const float* keyColumn = k + d * paddedTokens;
                for (std::int64_t t = 0; t < paddedTokens; ++t)
                    s[t] += qd * keyColumn[t];
            }
            std::fill(s + tokens, s + paddedTokens, kNoWeight); // the padding's weights become 0
            float lanes[kLanes];
            std::copy_n(s, kLanes, lanes);
            for (std::int64_t t = kLanes; t < paddedTokens; t += kLanes)
                for (std::int64_t l = 0; l < kLanes; ++l)
                    lanes[l] = std::max(lanes[l], s[t + l]);
            const float largest = *std::max_element(lanes, lanes + kLanes);
            for (std::int64_t t = 0; t < paddedTokens; ++t)
                s[t] = exp(s[t] - largest);
            std::fill_n(lanes, kLanes, 0.0f);
            for (std::int64_t t = 0; t < paddedTokens; t += kLanes)
                for (std::int64_t l = 0; l < kLanes; ++l)
                    lanes[l] += s[t + l];
            float total = 0.0f;
            for (const float lane : lanes)
                total += lane;
            std::fill_n(o, headDim, 0.0f);
            for (std::int64_t t = 0; t < tokens; ++t) {
                const float weight = s[t];
                const float* valueRow = v + t * headDim;
                for (std::int64_t d = 0; d < headDim; ++d)
                    o[d] += weight * valueRow[d];
            }
            const float inverse = 1.0f / total;
            std::uint16_t* outRow = outRows + i * hidden;
            for (std::int64_t d = 0; d < headDim; ++d)
                outRow[d] = narrowToBf16(o[d] * inverse);
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void avx2Pairs(const std::uint16_t* qkv, std::uint16_t* out,
    const StackedQkvShape& shape, float scale, std::int64_t pairBegin, std::int64_t pairEnd)
{
    attendPairs<PolynomialExp>(qkv, out, shape, scale, pairBegin, pairEnd);
}

__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) void avx512Pairs(const std::uint16_t* qkv,
    std::uint16_t* out, const StackedQkvShape& shape, float scale, std::int64_t pairBegin,
    std::int64_t pairEnd)
{
    attendPairs<PolynomialExp>(qkv, out, shape, scale, pairBegin, pairEnd);
}
#endif

} // namespace

void attendStackedBf16(const std::uint16_t* qkv, std::uint16_t* out, const StackedQkvShape& shape,
    float scale, std::int64_t pairBegin, std::int64_t pairEnd, VectorKernel kernel)
{
    switch (kernel) {
#if defined(__x86_64__)
    case VectorKernel::Avx2:
        avx2Pairs(qkv, out, shape, scale, pairBegin, pairEnd);
        return;
    case VectorKernel::Avx512:
        avx512Pairs(qkv, out, shape, scale, pairBegin, pairEnd);
        return;
#endif
    default:
        attendPairs<Exp>(qkv, out, shape, scale, pairBegin, pairEnd);
        return;
    }
}

} // namespace pictor::kernels
