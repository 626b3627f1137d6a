#include "indexer/float16.h"

#include <bit>

#include "core/error.h"

namespace pictor {

std::uint16_t floatToHalf(float value)
{
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
    const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
    const std::uint32_t magnitude = bits & 0x7fffffffu;
    if (magnitude >= 0x7f800000u) { // infinity or NaN
        if (magnitude == 0x7f800000u)
            return sign | 0x7c00u;
        return static_cast<std::uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
    }
    // 65520 (halfway between 65504, the largest half, and 2^16) and above round to infinity.
    if (magnitude >= 0x477ff000u)
        return sign | 0x7c00u;
    if (magnitude >= 0x38800000u) { // normal half (>= 2^-14): rebias, round the 13 dropped bits
        const std::uint32_t rebiased = magnitude - ((127u - 15u) << 23);
        std::uint32_t half = rebiased >> 13;
        const std::uint32_t dropped = rebiased & 0x1fffu;
        if (dropped > 0x1000u || (dropped == 0x1000u && (half & 1u)))
            ++half; // a carry into the exponent is the correct next value (up to 0x7c00)
        return static_cast<std::uint16_t>(sign | half);
    }
    // Subnormal half: units of 2^-24. Values at or below 2^-25 round to zero (ties to even).
    const std::uint32_t exponent = magnitude >> 23;
    if (exponent < 102)
        return sign;
    const std::uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126 - exponent; // 14..24
    std::uint32_t half = mantissa >> shift;
    const std::uint32_t dropped = mantissa & ((1u << shift) - 1);
    const std::uint32_t midpoint = 1u << (shift - 1);
    if (dropped > midpoint || (dropped == midpoint && (half & 1u)))
        ++half; // may become 0x400, the smallest normal: also correct
    return static_cast<std::uint16_t>(sign | half);
}

float halfToFloat(std::uint16_t half)
{
    const std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
    const std::uint32_t exponent = (half >> 10) & 0x1fu;
    const std::uint32_t mantissa = half & 0x3ffu;
    if (exponent == 0) {
        // Zero or subnormal: mantissa x 2^-24 is exact in float32.
        const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
        return std::bit_cast<float>(sign | std::bit_cast<std::uint32_t>(magnitude));
    }
    if (exponent == 31)
        return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
    return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

void floatsToHalves(std::span<const float> in, std::span<std::uint16_t> out)
{
    PICTOR_CHECK(in.size() == out.size(), "floatsToHalves: ", in.size(), " values into ", out.size());
    for (std::size_t i = 0; i < in.size(); ++i)
        out[i] = floatToHalf(in[i]);
}

void halvesToFloats(std::span<const std::uint16_t> in, std::span<float> out)
{
    PICTOR_CHECK(in.size() == out.size(), "halvesToFloats: ", in.size(), " values into ", out.size());
    for (std::size_t i = 0; i < in.size(); ++i)
        out[i] = halfToFloat(in[i]);
}

} // namespace pictor
