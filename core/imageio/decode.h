// Decoding image files to RGB buffers (OpenCV), with EXIF orientation applied, a pixel cap checked from
// the header before any pixel is decoded, and reduced-size JPEG decoding for speed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
    // EXIF metadata (absent fields stay empty). The date taken is the camera's local wall-clock time,
    // stored as if it were UTC (EXIF 2.2 has no time zone), so it displays as the camera showed it.
    std::optional<std::int64_t> takenAt;
    std::string cameraMake;
    std::string cameraModel;
    std::optional<double> gpsLatitude; // degrees, south negative
    std::optional<double> gpsLongitude; // degrees, west negative
    // Damage the decoder worked around ("Corrupt JPEG data: 12 extraneous bytes before marker 0xd9");
    // decodeImageBytes also logs each with the file's name.
    std::vector<std::string> warnings;
};

// Throws pictor::Error whose message names the file and the reason (cannot open, empty, truncated,
// unknown format, too large, ...). Never crashes on hostile input.
DecodedImage decodeImageFile(const std::filesystem::path& file, const DecodeOptions& options = {});

// The two halves of decodeImageFile, for callers that also hash the bytes they read (the indexer):
// reading (errors say why: permission denied, not a regular file, too big) and decoding from memory.
std::vector<std::uint8_t> readImageFileBytes(const std::filesystem::path& file);
DecodedImage decodeImageBytes(std::span<const std::uint8_t> bytes, const std::filesystem::path& file,
    const DecodeOptions& options = {});

// About how many bytes decoding these file bytes allocates at its peak (the pixels, at the reduced size
// the options allow, and the decoder's copies), from the header alone; 0 when the header cannot be read
// (the decode then fails at once). For callers that bound the memory of parallel decodes.
// `file` names the file, for camera RAW files (recognised by their extension).
std::int64_t estimateDecodeBytes(std::span<const std::uint8_t> bytes, const DecodeOptions& options = {},
    const std::filesystem::path& file = {});

// Camera RAW files by their extension (case-insensitive): CR2, CR3, CRW, NEF, NRW, ARW, RAF, ORF, RW2,
// DNG, PEF, SRW. decodeImageBytes() decodes them through LibRaw.
bool isRawFileName(std::string_view name);
std::span<const std::string_view> rawExtensions(); // lower case, for the scanner and its messages

} // namespace pictor
