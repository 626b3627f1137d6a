#include "tests/support/heic_writer.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include <libheif/heif.h>

namespace pictor::test {
namespace {

void check(const heif_error& error, const char* what)
{
    if (error.code != heif_error_Ok)
        throw std::runtime_error(
            std::string("writeHeic: ") + what + ": " + (error.message ? error.message : "?"));
}

} // namespace

void writeHeic(const std::filesystem::path& file, const RgbImage& image, int quality,
    const std::vector<std::uint8_t>& exifTiff)
{
    heif_context* context = heif_context_alloc();
    heif_encoder* encoder = nullptr;
    heif_image* picture = nullptr;
    heif_image_handle* handle = nullptr;
    try {
        check(
            heif_context_get_encoder_for_format(context, heif_compression_HEVC, &encoder), "no HEVC encoder");
        heif_encoder_set_lossy_quality(encoder, quality);
        check(heif_image_create(
                  image.width, image.height, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &picture),
            "image");
        check(heif_image_add_plane(picture, heif_channel_interleaved, image.width, image.height, 8), "plane");
        int stride = 0;
        std::uint8_t* plane = heif_image_get_plane(picture, heif_channel_interleaved, &stride);
        for (int y = 0; y < image.height; ++y)
            std::memcpy(plane + static_cast<std::size_t>(y) * stride, image.row(y),
                3 * static_cast<std::size_t>(image.width));
        check(heif_context_encode_image(context, picture, encoder, nullptr, &handle), "encode");
        if (!exifTiff.empty())
            check(heif_context_add_exif_metadata(
                      context, handle, exifTiff.data(), static_cast<int>(exifTiff.size())),
                "EXIF");
        check(heif_context_write_to_file(context, file.c_str()), "write");
    } catch (...) {
        heif_image_handle_release(handle);
        heif_image_release(picture);
        heif_encoder_release(encoder);
        heif_context_free(context);
        throw;
    }
    heif_image_handle_release(handle);
    heif_image_release(picture);
    heif_encoder_release(encoder);
    heif_context_free(context);
}

} // namespace pictor::test
