#include "tests/support/crafted_images.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>

#include <jpeglib.h>
#include <webp/encode.h>
#include <webp/mux.h>

namespace pictor::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

// PNG chunk CRC (ISO 3309), computed independently of the decoder's.
std::uint32_t crc32(const std::uint8_t* data, std::size_t size)
{
    std::uint32_t crc = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < size; ++i) {
        crc ^= data[i];
        for (int k = 0; k < 8; ++k)
            crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
    return crc ^ 0xFFFFFFFFu;
}

void appendBigEndian(Bytes& out, std::uint32_t value)
{
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(value >> shift));
}

void appendPngChunk(Bytes& out, const std::string& type, const Bytes& data)
{
    appendBigEndian(out, static_cast<std::uint32_t>(data.size()));
    Bytes typed(type.begin(), type.end());
    typed.insert(typed.end(), data.begin(), data.end());
    out.insert(out.end(), typed.begin(), typed.end());
    appendBigEndian(out, crc32(typed.data(), typed.size()));
}

} // namespace

std::vector<std::uint8_t> pngChunk(const std::string& type, const std::vector<std::uint8_t>& data)
{
    Bytes chunk;
    appendPngChunk(chunk, type, data);
    return chunk;
}

std::vector<std::uint8_t> pngDeclaring(std::uint32_t width, std::uint32_t height)
{
    Bytes png {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    Bytes header;
    appendBigEndian(header, width);
    appendBigEndian(header, height);
    header.insert(header.end(), {8, 2, 0, 0, 0}); // 8-bit RGB, deflate, no filter set, not interlaced
    appendPngChunk(png, "IHDR", header);
    appendPngChunk(png, "IDAT", {0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
    appendPngChunk(png, "IEND", {});
    return png;
}

namespace {

void writeCmyk(const std::filesystem::path& file, int width, int height, int quality,
    const std::function<std::array<std::uint8_t, 4>(int x, int y)>& colour)
{
    std::FILE* out = std::fopen(file.c_str(), "wb");
    if (!out)
        throw std::runtime_error("writeCmykJpeg: cannot create " + file.string());
    jpeg_compress_struct compress {};
    jpeg_error_mgr errors {};
    compress.err = jpeg_std_error(&errors);
    jpeg_create_compress(&compress);
    jpeg_stdio_dest(&compress, out);
    compress.image_width = static_cast<JDIMENSION>(width);
    compress.image_height = static_cast<JDIMENSION>(height);
    compress.input_components = 4;
    compress.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&compress);
    jpeg_set_quality(&compress, quality, TRUE);
    jpeg_start_compress(&compress, TRUE);
    std::vector<JSAMPLE> row(static_cast<std::size_t>(width) * 4);
    while (compress.next_scanline < compress.image_height) {
        const int y = static_cast<int>(compress.next_scanline);
        for (int x = 0; x < width; ++x) {
            const auto value = colour(x, y);
            std::copy(value.begin(), value.end(), row.begin() + 4 * x);
        }
        JSAMPROW rows[] = {row.data()};
        jpeg_write_scanlines(&compress, rows, 1);
    }
    jpeg_finish_compress(&compress);
    jpeg_destroy_compress(&compress);
    std::fclose(out);
}

} // namespace

void writeCmykJpeg(const std::filesystem::path& file, int width, int height)
{
    writeCmyk(file, width, height, 90, [&](int x, int y) {
        return std::array<std::uint8_t, 4> {static_cast<std::uint8_t>(255 * x / width), // cyan
            static_cast<std::uint8_t>(255 * y / height), 60, 20}; // magenta, yellow, black
    });
}

void writeFlatCmykJpeg(
    const std::filesystem::path& file, int width, int height, std::array<std::uint8_t, 4> cmyk)
{
    writeCmyk(file, width, height, 100, [&](int, int) { return cmyk; });
}

std::vector<std::uint8_t> animatedWebp(
    int width, int height, const std::vector<std::array<std::uint8_t, 3>>& frames)
{
    WebPAnimEncoderOptions options;
    WebPAnimEncoderOptionsInit(&options);
    WebPAnimEncoder* encoder = WebPAnimEncoderNew(width, height, &options);
    WebPConfig config;
    WebPConfigInit(&config);
    config.lossless = 1;
    int timestamp = 0;
    for (const auto& colour : frames) {
        WebPPicture picture;
        WebPPictureInit(&picture);
        picture.use_argb = 1;
        picture.width = width;
        picture.height = height;
        WebPPictureAlloc(&picture);
        const std::uint32_t argb
            = 0xFF000000u | std::uint32_t {colour[0]} << 16 | std::uint32_t {colour[1]} << 8 | colour[2];
        for (int i = 0; i < width * height; ++i)
            picture.argb[i] = argb;
        if (!WebPAnimEncoderAdd(encoder, &picture, timestamp, &config))
            throw std::runtime_error("animatedWebp: cannot add a frame");
        WebPPictureFree(&picture);
        timestamp += 100;
    }
    WebPAnimEncoderAdd(encoder, nullptr, timestamp, nullptr);
    WebPData data;
    WebPDataInit(&data);
    WebPAnimEncoderAssemble(encoder, &data);
    std::vector<std::uint8_t> bytes(data.bytes, data.bytes + data.size);
    WebPDataClear(&data);
    WebPAnimEncoderDelete(encoder);
    return bytes;
}

} // namespace pictor::test
