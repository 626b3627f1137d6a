// Small DNG files made at test time (a DNG is a TIFF with DNG tags; libtiff writes them, LibRaw and
// exiv2 read them): a Bayer mosaic of one colour, optionally with a preview (8-bit RGB or JPEG) in IFD 0 and
// the raw data in a SubIFD, as cameras and Adobe's converter lay them out.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

namespace pictor::test {

struct DngContent {
    int width = 64; // the sensor's, even
    int height = 48;
    int orientation = 1; // TIFF/EXIF 1..8
    std::array<std::uint16_t, 3> mosaicRgb {3500, 900, 300}; // 12-bit values of the RGGB sites
    std::optional<std::array<std::uint8_t, 3>> previewRgb; // a flat preview of this colour when set
    std::vector<std::uint8_t> previewJpeg; // or, when not empty, this JPEG as the preview (as cameras do)
    int previewWidth = 40; // the preview's, as its IFD declares it

    int previewHeight = 30;
};

// Make "Pictor", model "Test Camera", DateTime 2021:06:01 12:30:00.
void writeDng(const std::filesystem::path& file, const DngContent& content = {});

} // namespace pictor::test
