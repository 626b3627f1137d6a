// The first frame of an animated WebP (OpenCV's decoder refuses them), composited on its canvas by
// libwebp's animation decoder. Internal to pictor_imageio.
#pragma once

#include <cstdint>
#include <span>

#include "core/image.h"

namespace pictor::imageio_detail {

// Throws pictor::Error (without the file name) for a file libwebp cannot decode; the canvas size is
// checked against maxPixels before any frame is decoded.
RgbImage decodeFirstWebpFrame(std::span<const std::uint8_t> bytes, std::int64_t maxPixels);

} // namespace pictor::imageio_detail
