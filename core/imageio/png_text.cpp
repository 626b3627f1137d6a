#include "core/imageio/png_text.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>

#include <png.h>

#include "core/error.h"

namespace pictor {
namespace {

bool isAscii(const std::string& text)
{
    for (unsigned char c : text)
        if (c >= 0x80)
            return false;
    return true;
}

struct ReadBuffer {
    std::span<const std::uint8_t> bytes;
    std::size_t offset = 0;
};

[[noreturn]] void pngError(png_structp png, png_const_charp message)
{
    auto* error = static_cast<std::string*>(png_get_error_ptr(png));
    *error = message ? message : "unknown libpng error";
    png_longjmp(png, 1);
}

void pngWarning(png_structp, png_const_charp) { }

void appendBytes(png_structp png, png_bytep data, png_size_t length)
{
    auto* bytes = static_cast<std::vector<std::uint8_t>*>(png_get_io_ptr(png));
    bytes->insert(bytes->end(), data, data + length);
}

void readBytes(png_structp png, png_bytep data, png_size_t length)
{
    auto* buffer = static_cast<ReadBuffer*>(png_get_io_ptr(png));
    if (buffer->offset + length > buffer->bytes.size())
        png_error(png, "file is truncated");
    std::copy_n(buffer->bytes.data() + buffer->offset, length, data);
    buffer->offset += length;
}

// The libpng calls, in a frame of plain pointers only: a libpng error longjmps back into it.
struct PngWrite {
    const RgbImage* image;
    png_text* chunks;
    int chunkCount;
    std::vector<std::uint8_t>* out;
    std::string* error;
};

bool runPngWrite(const PngWrite& job)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, job.error, pngError, pngWarning);
    if (!png)
        return false;
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    png_set_write_fn(png, job.out, appendBytes, nullptr);
    png_set_IHDR(png, info, static_cast<png_uint_32>(job.image->width),
        static_cast<png_uint_32>(job.image->height), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
        PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (job.chunkCount > 0)
        png_set_text(png, info, job.chunks, job.chunkCount);
    png_write_info(png, info);
    for (int y = 0; y < job.image->height; ++y)
        png_write_row(png, const_cast<png_bytep>(job.image->row(y)));
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    return true;
}

struct PngReadText {
    ReadBuffer* buffer;
    std::map<std::string, std::string>* texts;
    std::string* error;
};

bool runPngReadText(const PngReadText& job)
{
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, job.error, pngError, pngWarning);
    if (!png)
        return false;
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, nullptr);
        return false;
    }
    png_set_read_fn(png, job.buffer, readBytes);
    png_read_info(png, info);
    // Only the chunks before the image data (where Pictor writes its text) are read.
    png_textp chunks = nullptr;
    const int count = png_get_text(png, info, &chunks, nullptr);
    for (int i = 0; i < count; ++i) {
        const bool international = chunks[i].compression >= PNG_ITXT_COMPRESSION_NONE;
        (*job.texts)[chunks[i].key]
            = std::string(chunks[i].text, international ? chunks[i].itxt_length : chunks[i].text_length);
    }
    png_destroy_read_struct(&png, &info, nullptr);
    return true;
}

} // namespace

std::vector<std::uint8_t> encodePngWithText(
    const RgbImage& image, const std::vector<std::pair<std::string, std::string>>& texts)
{
    PICTOR_CHECK(!image.empty() && image.pixels.size() == 3ull * image.width * image.height,
        "cannot write an empty image as PNG");
    std::vector<png_text> chunks(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const auto& [keyword, text] = texts[i];
        PICTOR_CHECK(!keyword.empty() && keyword.size() <= 79 && isAscii(keyword), "PNG text keyword '",
            keyword, "' must be 1-79 ASCII characters");
        png_text& chunk = chunks[i];
        chunk = {};
        const bool ascii = isAscii(text);
        chunk.compression = ascii ? PNG_TEXT_COMPRESSION_NONE : PNG_ITXT_COMPRESSION_NONE;
        chunk.key = const_cast<char*>(keyword.c_str());
        chunk.text = const_cast<char*>(text.c_str());
        (ascii ? chunk.text_length : chunk.itxt_length) = text.size();
    }
    std::string error;
    std::vector<std::uint8_t> out;
    if (!runPngWrite({&image, chunks.data(), static_cast<int>(chunks.size()), &out, &error}))
        PICTOR_FAIL("cannot encode PNG (libpng: ", error.empty() ? "out of memory" : error, ")");
    return out;
}

void writePngWithText(const std::filesystem::path& file, const RgbImage& image,
    const std::vector<std::pair<std::string, std::string>>& texts)
{
    const std::vector<std::uint8_t> bytes = encodePngWithText(image, texts);
    std::filesystem::path partial = file;
    partial += ".part";
    {
        std::ofstream out(partial, std::ios::binary | std::ios::trunc);
        PICTOR_CHECK(out, file.string(), ": cannot write (", std::strerror(errno), ")");
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        out.close();
        if (!out) {
            std::error_code ignored;
            std::filesystem::remove(partial, ignored);
            PICTOR_FAIL(file.string(), ": cannot write (disk full?)");
        }
    }
    std::error_code renameError;
    std::filesystem::rename(partial, file, renameError);
    if (renameError) {
        std::error_code ignored;
        std::filesystem::remove(partial, ignored);
        PICTOR_FAIL(file.string(), ": cannot write (", renameError.message(), ")");
    }
}

std::map<std::string, std::string> readPngText(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    PICTOR_CHECK(in, file.string(), ": cannot open");
    const std::vector<std::uint8_t> bytes(
        (std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return readPngText(bytes, file);
}

std::map<std::string, std::string> readPngText(
    std::span<const std::uint8_t> bytes, const std::filesystem::path& file)
{
    PICTOR_CHECK(
        bytes.size() >= 8 && png_sig_cmp(bytes.data(), 0, 8) == 0, file.string(), ": not a PNG file");
    ReadBuffer buffer {bytes, 0};
    std::map<std::string, std::string> texts;
    std::string error;
    if (!runPngReadText({&buffer, &texts, &error}))
        PICTOR_FAIL(file.string(), ": broken PNG (libpng: ", error.empty() ? "out of memory" : error, ")");
    return texts;
}

} // namespace pictor
