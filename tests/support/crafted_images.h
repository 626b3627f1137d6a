// Image files tests craft byte by byte: headers that lie about their size, and colour models the
// encoders we use elsewhere cannot write (CMYK JPEG through libjpeg directly).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
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

} // namespace pictor::test
