#include "tests/support/crafted_images.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <tiffio.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include "core/error.h"

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
    PICTOR_CHECK(out, "writeCmykJpeg: cannot create ", file.string());
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
    PICTOR_CHECK(std::fclose(out) == 0, "writeCmykJpeg: cannot finish ", file.string());
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
    PICTOR_CHECK(encoder, "animatedWebp: no encoder for ", width, "x", height);
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
        PICTOR_CHECK(WebPPictureAlloc(&picture), "animatedWebp: no memory for a frame");
        const std::uint32_t argb
            = 0xFF000000u | std::uint32_t {colour[0]} << 16 | std::uint32_t {colour[1]} << 8 | colour[2];
        for (int i = 0; i < width * height; ++i)
            picture.argb[i] = argb;
        PICTOR_CHECK(
            WebPAnimEncoderAdd(encoder, &picture, timestamp, &config), "animatedWebp: cannot add a frame");
        WebPPictureFree(&picture);
        timestamp += 100;
    }
    PICTOR_CHECK(
        WebPAnimEncoderAdd(encoder, nullptr, timestamp, nullptr), "animatedWebp: cannot end the frames");
    WebPData data;
    WebPDataInit(&data);
    PICTOR_CHECK(WebPAnimEncoderAssemble(encoder, &data), "animatedWebp: cannot assemble the file");
    std::vector<std::uint8_t> bytes(data.bytes, data.bytes + data.size);
    WebPDataClear(&data);
    WebPAnimEncoderDelete(encoder);
    return bytes;
}

namespace {

void setCameraTags(TIFF* tiff, int orientation)
{
    static const std::uint8_t kVersion[4] = {1, 4, 0, 0};
    static const float kColorMatrix[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    static const float kNeutral[3] = {1, 1, 1};
    TIFFSetField(tiff, TIFFTAG_MAKE, "Pictor");
    TIFFSetField(tiff, TIFFTAG_MODEL, "Test Camera");
    TIFFSetField(tiff, TIFFTAG_ORIENTATION, orientation);
    TIFFSetField(tiff, TIFFTAG_DATETIME, "2021:06:01 12:30:00");
    TIFFSetField(tiff, TIFFTAG_DNGVERSION, kVersion);
    TIFFSetField(tiff, TIFFTAG_DNGBACKWARDVERSION, kVersion);
    TIFFSetField(tiff, TIFFTAG_UNIQUECAMERAMODEL, "Pictor Test Camera");
    TIFFSetField(tiff, TIFFTAG_COLORMATRIX1, 9, kColorMatrix);
    TIFFSetField(tiff, TIFFTAG_ASSHOTNEUTRAL, 3, kNeutral);
    TIFFSetField(tiff, TIFFTAG_CALIBRATIONILLUMINANT1, 21); // D65
}

void setImageTags(TIFF* tiff, int width, int height, bool preview, bool jpeg = false)
{
    TIFFSetField(tiff, TIFFTAG_SUBFILETYPE, preview ? FILETYPE_REDUCEDIMAGE : 0);
    TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, width);
    TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, height);
    TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, preview ? 8 : 16);
    TIFFSetField(tiff, TIFFTAG_COMPRESSION, jpeg ? COMPRESSION_JPEG : COMPRESSION_NONE);
    TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC,
        jpeg          ? PHOTOMETRIC_YCBCR
            : preview ? PHOTOMETRIC_RGB
                      : PHOTOMETRIC_CFA);
    TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, preview ? 3 : 1);
    TIFFSetField(tiff, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tiff, TIFFTAG_ROWSPERSTRIP, height);
    if (preview)
        return;
    static const std::uint16_t kRepeat[2] = {2, 2};
    static const std::uint8_t kRggb[4] = {0, 1, 1, 2};
    static const std::uint32_t kWhite = 4095;
    TIFFSetField(tiff, TIFFTAG_CFAREPEATPATTERNDIM, kRepeat);
    TIFFSetField(tiff, TIFFTAG_CFAPATTERN, 4, kRggb);
    TIFFSetField(tiff, TIFFTAG_WHITELEVEL, 1, &kWhite);
}

void writeMosaic(TIFF* tiff, const DngContent& content)
{
    std::vector<std::uint16_t> row(static_cast<std::size_t>(content.width));
    for (int y = 0; y < content.height; ++y) {
        for (int x = 0; x < content.width; ++x) {
            const bool red = y % 2 == 0 && x % 2 == 0;
            const bool blue = y % 2 == 1 && x % 2 == 1;
            row[static_cast<std::size_t>(x)] = content.mosaicRgb[red ? 0 : blue ? 2 : 1];
        }
        PICTOR_CHECK(TIFFWriteScanline(tiff, row.data(), static_cast<std::uint32_t>(y), 0) >= 0,
            "libtiff could not write the mosaic");
    }
}

void writePreview(TIFF* tiff, const DngContent& content)
{
    if (!content.previewJpeg.empty()) { // the whole JPEG stream as the strip, not libtiff's codec
        std::vector<std::uint8_t> jpeg = content.previewJpeg;
        PICTOR_CHECK(TIFFWriteRawStrip(tiff, 0, jpeg.data(), static_cast<tmsize_t>(jpeg.size())) >= 0,
            "libtiff could not write the preview");
        return;
    }
    std::vector<std::uint8_t> row;
    for (int x = 0; x < content.previewWidth; ++x)
        row.insert(row.end(), content.previewRgb->begin(), content.previewRgb->end());
    for (int y = 0; y < content.previewHeight; ++y)
        PICTOR_CHECK(TIFFWriteScanline(tiff, row.data(), static_cast<std::uint32_t>(y), 0) >= 0,
            "libtiff could not write the preview");
}

} // namespace

void writeDng(const std::filesystem::path& file, const DngContent& content)
{
    const std::unique_ptr<TIFF, void (*)(TIFF*)> tiff(TIFFOpen(file.c_str(), "w"), TIFFClose);
    PICTOR_CHECK(tiff, "libtiff could not create ", file.string());
    if (content.previewRgb || !content.previewJpeg.empty()) {
        // IFD 0: the preview, pointing at one SubIFD that libtiff writes next: the raw data.
        setImageTags(
            tiff.get(), content.previewWidth, content.previewHeight, true, !content.previewJpeg.empty());
        setCameraTags(tiff.get(), content.orientation);
        std::uint64_t subIfd[1] = {0};
        TIFFSetField(tiff.get(), TIFFTAG_SUBIFD, 1, subIfd);
        writePreview(tiff.get(), content);
        PICTOR_CHECK(TIFFWriteDirectory(tiff.get()), "libtiff could not write the preview's directory");
        setImageTags(tiff.get(), content.width, content.height, false);
    } else {
        setImageTags(tiff.get(), content.width, content.height, false);
        setCameraTags(tiff.get(), content.orientation);
    }
    writeMosaic(tiff.get(), content);
    PICTOR_CHECK(TIFFWriteDirectory(tiff.get()), "libtiff could not finish ", file.string());
}

} // namespace pictor::test
