// Image files tests craft byte by byte: headers that lie about their size, and colour models the
// encoders we use elsewhere cannot write (CMYK JPEG through libjpeg directly).
#pragma once

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

} // namespace pictor::test
