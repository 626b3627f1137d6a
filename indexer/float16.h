// IEEE 754 binary16 <-> binary32 conversions, exact and portable (no F16C needed): round to nearest
// even, overflow to infinity, subnormals both ways, NaN stays NaN (quiet, payload's top bits kept).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace pictor {

std::uint16_t floatToHalf(float value);
float halfToFloat(std::uint16_t half);

// Bulk forms; `out` must be as long as `in`.
void floatsToHalves(std::span<const float> in, std::span<std::uint16_t> out);
void halvesToFloats(std::span<const std::uint16_t> in, std::span<float> out);

} // namespace pictor
