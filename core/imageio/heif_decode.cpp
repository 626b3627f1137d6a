#include "core/imageio/heif_decode.h"

#include <cstring>
#include <memory>
#include <string>

#include <libheif/heif.h>

#include "core/error.h"

namespace pictor::imageio_detail {
namespace {

template <class T, void (*Release)(T*)> struct Releaser {
    void operator()(T* p) const { Release(p); }
};
using Context = std::unique_ptr<heif_context, Releaser<heif_context, heif_context_free>>;
using Handle
    = std::unique_ptr<heif_image_handle, Releaser<const heif_image_handle, heif_image_handle_release>>;
using Image = std::unique_ptr<heif_image, Releaser<const heif_image, heif_image_release>>;

void check(const heif_error& error, const char* what)
{
    PICTOR_CHECK(error.code == heif_error_Ok, "cannot decode HEIF (", what, ": ",
        error.message ? error.message : "unknown error", ")");
}

// libheif's EXIF block starts with a 4-byte big-endian offset to the TIFF header (ISO/IEC 23008-12
// annex A); what follows the offset may still carry the "Exif\0\0" of a JPEG APP1 segment.
std::vector<std::uint8_t> exifBlock(const heif_image_handle* handle)
{
    heif_item_id id = 0;
    if (heif_image_handle_get_list_of_metadata_block_IDs(handle, "Exif", &id, 1) != 1)
        return {};
    const std::size_t size = heif_image_handle_get_metadata_size(handle, id);
    if (size < 4 || size > (64u << 20))
        return {};
    std::vector<std::uint8_t> block(size);
    if (heif_image_handle_get_metadata(handle, id, block.data()).code != heif_error_Ok)
        return {};
    const std::uint32_t offset = (std::uint32_t {block[0]} << 24) | (std::uint32_t {block[1]} << 16)
        | (std::uint32_t {block[2]} << 8) | block[3];
    if (offset > size - 4)
        return {};
    return std::vector<std::uint8_t>(block.begin() + 4 + offset, block.end());
}

} // namespace

HeifImage decodeHeif(std::span<const std::uint8_t> bytes, std::int64_t maxPixels)
{
    Context context(heif_context_alloc());
    PICTOR_CHECK(context, "cannot decode HEIF (out of memory)");
    check(heif_context_read_from_memory_without_copy(context.get(), bytes.data(), bytes.size(), nullptr),
        "container");
    heif_image_handle* rawHandle = nullptr;
    check(heif_context_get_primary_image_handle(context.get(), &rawHandle), "primary image");
    Handle handle(rawHandle);

    HeifImage out;
    // The size after the file's own transformations; a 90-degree rotation swaps the stored size.
    const int width = heif_image_handle_get_width(handle.get());
    const int height = heif_image_handle_get_height(handle.get());
    PICTOR_CHECK(width > 0 && height > 0, "cannot decode HEIF (no image size)");
    const std::int64_t pixels = std::int64_t {width} * height;
    PICTOR_CHECK(pixels <= maxPixels, "image too large: ", width, "x", height, " = ", pixels,
        " pixels, over the limit of ", maxPixels);
    out.storedWidth = heif_image_handle_get_ispe_width(handle.get());
    out.storedHeight = heif_image_handle_get_ispe_height(handle.get());
    if (out.storedWidth <= 0 || out.storedHeight <= 0) {
        out.storedWidth = width;
        out.storedHeight = height;
    }
    out.exif = exifBlock(handle.get());

    heif_image* rawImage = nullptr;
    check(
        heif_decode_image(handle.get(), &rawImage, heif_colorspace_RGB, heif_chroma_interleaved_RGB, nullptr),
        "pixels");
    Image image(rawImage);
    int stride = 0;
    const std::uint8_t* plane = heif_image_get_plane_readonly(image.get(), heif_channel_interleaved, &stride);
    const int decodedWidth = heif_image_get_width(image.get(), heif_channel_interleaved);
    const int decodedHeight = heif_image_get_height(image.get(), heif_channel_interleaved);
    PICTOR_CHECK(plane && decodedWidth > 0 && decodedHeight > 0 && stride >= 3 * decodedWidth,
        "cannot decode HEIF (no RGB plane)");
    out.image = RgbImage(decodedWidth, decodedHeight);
    for (int y = 0; y < decodedHeight; ++y)
        std::memcpy(out.image.row(y), plane + static_cast<std::size_t>(y) * stride,
            3 * static_cast<std::size_t>(decodedWidth));
    return out;
}

} // namespace pictor::imageio_detail
