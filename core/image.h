// Decoded pixels as plain data: 8-bit RGB, interleaved, rows packed (stride = 3 * width).
#pragma once

#include <cstdint>
#include <vector>

namespace pictor {

struct RgbImage {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> pixels; // size 3 * width * height

    RgbImage() = default;
    RgbImage(int w, int h) : width(w), height(h), pixels(static_cast<std::size_t>(w) * h * 3) { }

    bool empty() const { return width <= 0 || height <= 0; }
    std::uint8_t* row(int y) { return pixels.data() + static_cast<std::size_t>(y) * width * 3; }
    const std::uint8_t* row(int y) const { return pixels.data() + static_cast<std::size_t>(y) * width * 3; }
};

} // namespace pictor
