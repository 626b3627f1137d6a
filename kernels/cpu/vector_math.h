// Scalar helpers for the CPU kernels' loops, written so the compiler vectorizes the loops that inline
// them (no branches, no library calls): bfloat16 widening and rounding, and exp over float32's range.
#pragma once

#include <bit>
#include <cstdint>

namespace pictor::kernels::detail {

inline float widenBf16(std::uint16_t bfloat16)
{
    return std::bit_cast<float>(static_cast<std::uint32_t>(bfloat16) << 16);
}

// Round to nearest, ties to even, as LibTorch (c10::BFloat16) rounds; NaN becomes the canonical quiet NaN.
inline std::uint16_t narrowToBf16(float value)
{
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
    const std::uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
    return value != value ? std::uint16_t {0x7FC0} : static_cast<std::uint16_t>(rounded);
}

// exp(t) for t in [-88, 88]: t = n ln2 + r with n whole and |r| <= ln2 / 2, exp(r) by its Taylor series to
// r^6 (relative error under 2e-7, below float32's rounding), 2^n built in the exponent bits. Whole
// numbers come from adding and subtracting 1.5 * 2^23, which rounds to nearest like the instruction.
inline float expInRange(float t)
{
    constexpr float kRound = 12582912.0f;
    const float n = (t * 1.44269504088896341f + kRound) - kRound;
    const float r = (t - n * 0.693145751953125f) - n * 1.428606765330187e-6f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const std::int32_t exponent = static_cast<std::int32_t>(n) + 127; // 0 (t = -88: 2^-127 as 0) to 254
    return p * std::bit_cast<float>(static_cast<std::uint32_t>(exponent) << 23);
}

// exp(-|t|), which never overflows: 0 where |t| > 88 (as float32's exp rounds there, near enough). -|t| is
// held at -88 by an unsigned minimum of its bits (more negative floats have larger patterns): a float
// comparison with a constant lets the compiler branch on it, which keeps the loop from being vectorized
// on AVX2 (it has no masks).
inline float expOfMinusAbs(float t)
{
    constexpr std::uint32_t kMinus88 = 0xC2B00000u;
    const std::uint32_t negative = std::bit_cast<std::uint32_t>(t) | 0x80000000u;
    return expInRange(std::bit_cast<float>(negative < kMinus88 ? negative : kMinus88));
}

} // namespace pictor::kernels::detail
