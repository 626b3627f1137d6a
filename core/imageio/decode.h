// Decoding image files to RGB buffers (OpenCV), with EXIF orientation applied, a pixel cap checked from
// the header before any pixel is decoded, and reduced-size JPEG decoding for speed.
#pragma once

#include <cstdint>
#include <filesystem>

#include "core/image.h"

namespace pictor {

struct DecodeOptions {
    // Refuse images whose header declares more pixels than this (before decoding anything).
    std::int64_t maxPixels = 100'000'000;
    // When > 0 and the file is a JPEG at least twice as large as needed, decode at 1/2, 1/4 or 1/8 scale
    // (libjpeg DCT scaling) keeping the short edge >= targetShortEdge. 0 = always full size.
    int targetShortEdge = 0;
    bool applyExifOrientation = true;
};

struct DecodedImage {
    RgbImage image; // after orientation and any reduction
    int fileWidth = 0; // as stored in the file, before orientation
    int fileHeight = 0;
    int scaleDenominator = 1; // 1, 2, 4 or 8
    int exifOrientation = 1; // 1..8 as read from the file (1 when absent)
};

// Throws pictor::Error whose message names the file and the reason (cannot open, empty, truncated,
// unknown format, too large, ...). Never crashes on hostile input.
DecodedImage decodeImageFile(const std::filesystem::path& file, const DecodeOptions& options = {});

} // namespace pictor
