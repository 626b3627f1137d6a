// Attention over stacked q/k/v rows: one loop nest, compiled plain (with std::exp: the reference) and for
// AVX2 and AVX-512 with target attributes (with the polynomial exp), chosen at run time.
#include "kernels/stacked_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
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

// Query rows taken together: each key and value loaded from the cache serves all of them, and their
// sums stay in registers (kRows vectors). A vector type of the target's width (16 floats for AVX-512, 8
// for AVX2) says which dimension is the vector's: left to itself the compiler vectorized across the rows,
// and a 16-float type on AVX2 was split badly.
constexpr std::int64_t kRows = 4;
template <int kWidth> struct VectorOf {
    typedef float type __attribute__((vector_size(kWidth * sizeof(float))));
};
template <int kWidth> using Lanes = typename VectorOf<kWidth>::type;
// The attribute on an alias template itself is dropped without a word (a plain float): hence VectorOf.
static_assert(sizeof(Lanes<16>) == 16 * sizeof(float) && sizeof(Lanes<4>) == 4 * sizeof(float));

// By reference, not returned: a vector's calling convention differs between instruction sets.
template <int kWidth> [[gnu::always_inline]] inline void loadLanes(Lanes<kWidth>& lanes, const float* source)
{
    std::memcpy(&lanes, source, sizeof lanes);
}

std::int64_t roundedUp(std::int64_t count, std::int64_t multiple)
{
    return (count + multiple - 1) / multiple * multiple;
}

// Always inlined, so each target below compiles it for its own instruction set.
template <typename ExpFunction, int kWidth>
[[gnu::always_inline]] inline void attendPairs(const std::uint16_t* __restrict qkv,
    std::uint16_t* __restrict out, const StackedQkvShape& shape, float scale, std::int64_t pairBegin,
    std::int64_t pairEnd)
{
    const std::int64_t tokens = shape.tokens, headDim = shape.headDim;
    const std::int64_t hidden = shape.heads * headDim, rowWidth = 3 * hidden;
    const std::int64_t paddedTokens = roundedUp(tokens, kLanes), paddedDim = roundedUp(headDim, kLanes);
    // Keys transposed ([headDim, paddedTokens]: scores are sums of key rows scaled by a query's numbers),
    // values [tokens, paddedDim], zeros in the padding; kRows queries, their scores and output.
    std::vector<float> keys(static_cast<std::size_t>(headDim * paddedTokens), 0.0f);
    std::vector<float> values(static_cast<std::size_t>(tokens * paddedDim), 0.0f);
    std::vector<float> queries(static_cast<std::size_t>(kRows * headDim));
    std::vector<float> scores(static_cast<std::size_t>(kRows * paddedTokens));
    float* __restrict k = keys.data();
    float* __restrict v = values.data();
    float* __restrict q = queries.data();
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
                v[t * paddedDim + d] = widenBf16(valueRow[d]);
            }
        }
        for (std::int64_t first = 0; first < tokens; first += kRows) {
            const std::int64_t count = std::min(kRows, tokens - first); // the rest of q: zeros, not written
            std::fill_n(q, kRows * headDim, 0.0f);
            for (std::int64_t r = 0; r < count; ++r) {
                const std::uint16_t* queryRow = rows + (first + r) * rowWidth + head * headDim;
                for (std::int64_t d = 0; d < headDim; ++d)
                    q[r * headDim + d] = widenBf16(queryRow[d]) * scale;
            }
            for (std::int64_t t0 = 0; t0 < paddedTokens; t0 += kWidth) {
                Lanes<kWidth> sums[kRows] = {};
                for (std::int64_t d = 0; d < headDim; ++d) {
                    Lanes<kWidth> keyLanes;
                    loadLanes<kWidth>(keyLanes, k + d * paddedTokens + t0);
                    for (std::int64_t r = 0; r < kRows; ++r)
                        sums[r] += q[r * headDim + d] * keyLanes;
                }
                for (std::int64_t r = 0; r < kRows; ++r)
                    std::memcpy(s + r * paddedTokens + t0, &sums[r], sizeof sums[r]);
            }
            float inverse[kRows];
            for (std::int64_t r = 0; r < kRows; ++r) {
                float* row = s + r * paddedTokens;
                std::fill(row + tokens, row + paddedTokens, kNoWeight); // the padding's weights become 0
                float lanes[kLanes];
                std::copy_n(row, kLanes, lanes);
                for (std::int64_t t = kLanes; t < paddedTokens; t += kLanes)
                    for (std::int64_t l = 0; l < kLanes; ++l)
                        lanes[l] = std::max(lanes[l], row[t + l]);
                const float largest = *std::max_element(lanes, lanes + kLanes);
                for (std::int64_t t = 0; t < paddedTokens; ++t)
                    row[t] = exp(row[t] - largest);
                std::fill_n(lanes, kLanes, 0.0f);
                for (std::int64_t t = 0; t < paddedTokens; t += kLanes)
                    for (std::int64_t l = 0; l < kLanes; ++l)
                        lanes[l] += row[t + l];
                float total = 0.0f;
                for (const float lane : lanes)
                    total += lane;
                inverse[r] = 1.0f / total;
            }
            for (std::int64_t d0 = 0; d0 < paddedDim; d0 += kWidth) {
                Lanes<kWidth> sums[kRows] = {};
                for (std::int64_t t = 0; t < tokens; ++t) {
                    Lanes<kWidth> valueLanes;
                    loadLanes<kWidth>(valueLanes, v + t * paddedDim + d0);
                    for (std::int64_t r = 0; r < kRows; ++r)
                        sums[r] += s[r * paddedTokens + t] * valueLanes;
                }
                const std::int64_t width = std::min<std::int64_t>(kWidth, headDim - d0);
                for (std::int64_t r = 0; r < count; ++r) {
                    float lanes[kWidth];
                    std::memcpy(lanes, &sums[r], sizeof lanes);
                    for (std::int64_t l = 0; l < width; ++l)
                        outRows[(first + r) * hidden + d0 + l] = narrowToBf16(lanes[l] * inverse[r]);
                }
            }
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void avx2Pairs(const std::uint16_t* qkv, std::uint16_t* out,
    const StackedQkvShape& shape, float scale, std::int64_t pairBegin, std::int64_t pairEnd)
{
    attendPairs<PolynomialExp, 8>(qkv, out, shape, scale, pairBegin, pairEnd);
}

__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) void avx512Pairs(const std::uint16_t* qkv,
    std::uint16_t* out, const StackedQkvShape& shape, float scale, std::int64_t pairBegin,
    std::int64_t pairEnd)
{
    attendPairs<PolynomialExp, 16>(qkv, out, shape, scale, pairBegin, pairEnd);
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
        attendPairs<Exp, 4>(qkv, out, shape, scale, pairBegin, pairEnd);
        return;
    }
}

} // namespace pictor::kernels
