// HEIF/HEIC (and AVIF where libheif has a decoder) through libheif. Internal to pictor_imageio:
// decodeImageBytes() calls it for files whose header says HEIF.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/image.h"

namespace pictor::imageio_detail {

struct HeifImage {
    RgbImage image; // the primary image, upright: libheif applies the file's rotation and mirroring
    int storedWidth = 0; // before those transformations (like DecodedImage::fileWidth)
    int storedHeight = 0;
    std::vector<std::uint8_t> exif; // the EXIF block as a TIFF stream (empty when the file has none)
};

// Throws pictor::Error (without the file name; the caller adds it) for damaged or unsupported files and
// for images over `maxPixels`, which is checked from the container before any pixel is decoded.
HeifImage decodeHeif(std::span<const std::uint8_t> bytes, std::int64_t maxPixels);

} // namespace pictor::imageio_detail
