// Writes HEIC test inputs with libheif's HEVC encoder (x265), so tests need no binary image files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/image.h"

namespace pictor::test {

// `exifTiff`: an EXIF block as a TIFF stream (e.g. from Exiv2::ExifParser::encode); empty for none.
void writeHeic(const std::filesystem::path& file, const RgbImage& image, int quality = 90,
    const std::vector<std::uint8_t>& exifTiff = {});

} // namespace pictor::test
