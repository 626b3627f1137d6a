// Format sniffing, declared image size and a structure check of an encoded file, without decoding pixels:
// lets the decoder refuse huge images before any allocation, detect truncated data that codecs would
// silently fill with grey (JPEG, BMP), and name the problem with corrupt PNGs instead of letting libpng
// print it to stderr.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace pictor {

enum class ImageFormat { Unknown, Jpeg, Png, WebP, Tiff, Bmp, Gif, Heif };

std::string_view imageFormatName(ImageFormat format);

// Formats decodeImageFile accepts (GIF is recognised only to name it in errors; HEIF/AVIF headers are
// parsed by libheif while decoding, so readImageHeader() gives them no size).
bool isDecodableFormat(ImageFormat format);

struct ImageHeader {
    ImageFormat format = ImageFormat::Unknown;
    std::int64_t width = 0; // as declared by the file (before EXIF orientation)
    std::int64_t height = 0;
    // JPEG: an end-of-image marker follows the scans. PNG: the chunks run to IEND. WebP: the file is as
    // long as its RIFF header says. Uncompressed BMP: the pixel array fits. TIFF: left to libtiff.
    bool complete = true;
    bool animated = false; // WebP with the VP8X animation flag (OpenCV cannot decode those)
};

// Throws pictor::Error with a short reason (without the file name) when a recognised format has a
// malformed header. Unknown formats return format == Unknown.
ImageHeader readImageHeader(std::span<const std::uint8_t> bytes);

} // namespace pictor
