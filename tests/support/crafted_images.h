// Image files tests craft byte by byte: headers that lie about their size, colour models the encoders we
// use elsewhere cannot write (CMYK JPEG through libjpeg directly), and camera RAW files (DNG through
// libtiff).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pictor::test {

// One PNG chunk: length, type, data, CRC.
std::vector<std::uint8_t> pngChunk(const std::string& type, const std::vector<std::uint8_t>& data);

// A structurally valid PNG declaring width x height 8-bit RGB pixels, with a token IDAT.
std::vector<std::uint8_t> pngDeclaring(std::uint32_t width, std::uint32_t height);

// A width x height CMYK JPEG (Adobe marker, as Photoshop writes them) of a smooth colour ramp.
void writeCmykJpeg(const std::filesystem::path& file, int width, int height);
// One colour (the values libjpeg stores, Adobe-inverted as Photoshop writes them), at quality 100.
void writeFlatCmykJpeg(
    const std::filesystem::path& file, int width, int height, std::array<std::uint8_t, 4> cmyk);

// An animated WebP (lossless) of flat frames of these RGB colours, 100 ms each.
std::vector<std::uint8_t> animatedWebp(
    int width, int height, const std::vector<std::array<std::uint8_t, 3>>& frames);

// A small DNG (a TIFF with DNG tags; libtiff writes it, LibRaw and exiv2 read it): a Bayer mosaic of one
// colour, optionally with a preview (8-bit RGB or JPEG) in IFD 0 and the raw data in a SubIFD, as cameras
// and Adobe's converter lay them out.
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
