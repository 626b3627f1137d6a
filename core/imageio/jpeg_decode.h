// JPEG through libjpeg(-turbo) directly rather than through OpenCV, for three things OpenCV hides: its
// warnings ("Corrupt JPEG data: …") come back to the caller, who names the file, instead of going to
// stderr; CMYK and YCCK files are converted to RGB exactly as PIL's convert("RGB") does; and RGB lands in
// the result's buffer with no channel swap. Internal to pictor_imageio.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/image.h"

namespace pictor::imageio_detail {

struct JpegImage {
    RgbImage image; // as stored (EXIF orientation is the caller's), at 1/scaleDenominator
    std::vector<std::string> warnings; // libjpeg's, for data it decoded anyway
};

// scaleDenominator: 1, 2, 4 or 8 (libjpeg's DCT scaling). Throws pictor::Error (without the file name)
// for a file libjpeg cannot decode and for an output over maxPixels.
JpegImage decodeJpeg(std::span<const std::uint8_t> bytes, int scaleDenominator, std::int64_t maxPixels);

// PIL's CMYK -> RGB for Adobe (inverted) CMYK as libjpeg returns it: r = k - k·(255 - c)/255, rounded as
// PIL's MULDIV255. Exposed for its test.
void invertedCmykToRgb(const std::uint8_t* cmyk, std::uint8_t* rgb, std::size_t pixels);

} // namespace pictor::imageio_detail
