#include "core/imageio/jpeg_decode.h"

#include <csetjmp>
#include <cstdio>
#include <memory>

#include <jpeglib.h>

#include "core/error.h"

namespace pictor::imageio_detail {
namespace {

// libjpeg reports fatal errors through error_exit, which must not return: it jumps back to decodeJpeg.
struct ErrorManager {
    jpeg_error_mgr base {};
    std::jmp_buf jump {};
    std::string fatal;
    std::vector<std::string> warnings;
};

std::string messageOf(j_common_ptr info)
{
    char text[JMSG_LENGTH_MAX] = {};
    (*info->err->format_message)(info, text);
    return text;
}

[[noreturn]] void onFatal(j_common_ptr info)
{
    auto* errors = reinterpret_cast<ErrorManager*>(info->err);
    errors->fatal = messageOf(info);
    std::longjmp(errors->jump, 1);
}

// Level -1 is a warning (corrupt data that was decoded anyway); the others are trace messages.
void onMessage(j_common_ptr info, int level)
{
    auto* errors = reinterpret_cast<ErrorManager*>(info->err);
    if (level < 0 && errors->warnings.size() < 8) // one corrupt file can warn once per scan
        errors->warnings.push_back(messageOf(info));
}

int mulDiv255(int a, int b)
{
    const int product = a * b + 128;
    return ((product >> 8) + product) >> 8;
}

// Everything after jpeg_create_decompress: no C++ object with a destructor may live here, because a
// libjpeg error longjmps out of it.
void decodeInto(jpeg_decompress_struct& info, ErrorManager& errors, std::span<const std::uint8_t> bytes,
    int scaleDenominator, std::int64_t maxPixels, JpegImage& out, std::vector<std::uint8_t>& cmykRow)
{
    jpeg_mem_src(&info, bytes.data(), static_cast<unsigned long>(bytes.size()));
    jpeg_read_header(&info, TRUE);
    const bool cmyk = info.num_components == 4;
    info.out_color_space = cmyk ? JCS_CMYK : JCS_RGB; // libjpeg converts YCCK to CMYK, grey to RGB
    info.scale_num = 1;
    info.scale_denom = static_cast<unsigned>(scaleDenominator);
    jpeg_calc_output_dimensions(&info);
    const std::int64_t pixels = std::int64_t {info.output_width} * info.output_height;
    if (pixels > maxPixels) {
        errors.fatal = "image too large: " + std::to_string(info.output_width) + "x"
            + std::to_string(info.output_height);
        return;
    }
    jpeg_start_decompress(&info);
    out.image = RgbImage(static_cast<int>(info.output_width), static_cast<int>(info.output_height));
    const std::size_t rowBytes = std::size_t {info.output_width} * 3;
    if (cmyk)
        cmykRow.resize(std::size_t {info.output_width} * 4);
    while (info.output_scanline < info.output_height) {
        std::uint8_t* target = out.image.pixels.data() + rowBytes * info.output_scanline;
        JSAMPROW row = cmyk ? cmykRow.data() : target;
        jpeg_read_scanlines(&info, &row, 1);
        if (cmyk)
            invertedCmykToRgb(cmykRow.data(), target, info.output_width);
    }
    jpeg_finish_decompress(&info);
}

} // namespace

void invertedCmykToRgb(const std::uint8_t* cmyk, std::uint8_t* rgb, std::size_t pixels)
{
    // PIL reads Adobe CMYK as "CMYK;I" (inverted: 255 = no ink), then cmyk2rgb: nk = 255 - k,
    // channel = nk - nk·c/255. On the raw values that is k - k·(255 - c)/255.
    for (std::size_t i = 0; i < pixels; ++i, cmyk += 4, rgb += 3) {
        const int k = cmyk[3];
        for (int channel = 0; channel < 3; ++channel)
            rgb[channel] = static_cast<std::uint8_t>(k - mulDiv255(255 - cmyk[channel], k));
    }
}

JpegImage decodeJpeg(std::span<const std::uint8_t> bytes, int scaleDenominator, std::int64_t maxPixels)
{
    JpegImage out;
    std::vector<std::uint8_t> cmykRow;
    ErrorManager errors;
    jpeg_decompress_struct info {};
    info.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = onFatal;
    errors.base.emit_message = onMessage;
    jpeg_create_decompress(&info);
    if (setjmp(errors.jump) == 0)
        decodeInto(info, errors, bytes, scaleDenominator, maxPixels, out, cmykRow);
    jpeg_destroy_decompress(&info);
    PICTOR_CHECK(errors.fatal.empty(),
        errors.fatal.starts_with("image too large") ? "" : "cannot decode JPEG: ", errors.fatal);
    out.warnings = std::move(errors.warnings);
    return out;
}

} // namespace pictor::imageio_detail
