// LibRaw (the thread-safe libraw_r) for camera RAW files. The embedded preview is the camera's own
// rendering (its white balance, tone curve and lens corrections) and costs a JPEG decode; the half-size
// demosaic (2x2 Bayer blocks become one pixel, no interpolation) is the fallback for files whose preview
// is missing or small, like digiKam's and Shotwell's "fast" RAW loading.
#include "core/imageio/raw_decode.h"

#include <algorithm>
#include <array>
#include <memory>

#include <libraw/libraw.h>

#include "core/error.h"
#include "core/imageio/decode.h"
#include "core/imageio/image_header.h"

namespace pictor {
namespace {

// Not ".raw": too many other programs' files are named so.
constexpr std::array<std::string_view, 12> kRawExtensions {
    "cr2", "cr3", "crw", "nef", "nrw", "arw", "raf", "orf", "rw2", "dng", "pef", "srw"};

} // namespace

bool isRawFileName(std::string_view name)
{
    const std::size_t dot = name.rfind('.');
    if (dot == std::string_view::npos || name.size() - dot - 1 > 4)
        return false;
    std::string extension(name.substr(dot + 1));
    for (char& c : extension)
        c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return std::find(kRawExtensions.begin(), kRawExtensions.end(), extension) != kRawExtensions.end();
}

std::span<const std::string_view> rawExtensions()
{
    return kRawExtensions;
}

namespace imageio_detail {
namespace {

void check(int code, const char* step)
{
    PICTOR_CHECK(
        code == LIBRAW_SUCCESS, "cannot decode camera RAW (", step, ": ", libraw_strerror(code), ")");
}

// LibRaw's flip (dcraw's) as an EXIF orientation: the inverse of its "50132467"[orientation] reading.
int exifOrientation(int flip)
{
    constexpr std::array<int, 8> kOrientation {1, 2, 4, 3, 5, 8, 6, 7};
    return flip >= 0 && flip < 8 ? kOrientation[static_cast<std::size_t>(flip)] : 1;
}

struct DataErrors {
    std::vector<std::string> warnings;
};

void onDataError(void* context, const char* /*file*/, const int offset)
{
    auto* errors = static_cast<DataErrors*>(context);
    if (errors->warnings.size() < 8) // a damaged file reports every bad block
        errors->warnings.push_back(offset < 0 ? "unexpected end of the RAW data"
                                              : "damaged RAW data at byte " + std::to_string(offset));
}

// The embedded preview when it is large enough: a JPEG stays encoded, an 8-bit RGB bitmap is copied.
bool takePreview(LibRaw& raw, int minShortEdge, std::int64_t maxPixels, RawImage& result)
{
    if (raw.imgdata.thumbnail.tlength == 0 || raw.unpack_thumb() != LIBRAW_SUCCESS)
        return false;
    const libraw_thumbnail_t& thumb = raw.imgdata.thumbnail;
    const auto* data = reinterpret_cast<const std::uint8_t*>(thumb.thumb);
    if (!data || thumb.tlength == 0)
        return false;
    if (thumb.tformat == LIBRAW_THUMBNAIL_JPEG) {
        const std::span<const std::uint8_t> jpeg(data, thumb.tlength);
        ImageHeader header;
        try {
            header = readImageHeader(jpeg);
        } catch (const Error&) {
            return false; // a damaged preview: demosaic instead
        }
        if (header.format != ImageFormat::Jpeg || !header.complete
            || std::min(header.width, header.height) < minShortEdge
            || header.width * header.height > maxPixels)
            return false;
        result.previewJpeg.assign(jpeg.begin(), jpeg.end());
        return true;
    }
    if (thumb.tformat == LIBRAW_THUMBNAIL_BITMAP && thumb.tcolors == 3
        && std::min<int>(thumb.twidth, thumb.theight) >= minShortEdge
        && std::size_t {thumb.twidth} * thumb.theight * 3 == thumb.tlength) {
        result.image = RgbImage(thumb.twidth, thumb.theight);
        std::copy(data, data + thumb.tlength, result.image.pixels.begin());
        return true;
    }
    return false;
}

void demosaicHalfSize(LibRaw& raw, RawImage& result)
{
    raw.imgdata.params.half_size = 1;
    raw.imgdata.params.use_camera_wb = 1; // the white balance the photographer saw
    raw.imgdata.params.user_flip = 0; // orientation is the caller's, as for every other format
    raw.imgdata.params.output_bps = 8;
    check(raw.unpack(), "unpacking the sensor data");
    check(raw.dcraw_process(), "demosaicing");
    int code = LIBRAW_SUCCESS;
    const std::unique_ptr<libraw_processed_image_t, void (*)(libraw_processed_image_t*)> processed(
        raw.dcraw_make_mem_image(&code), LibRaw::dcraw_clear_mem);
    check(processed ? code : LIBRAW_UNSPECIFIED_ERROR, "making the image");
    PICTOR_CHECK(processed->type == LIBRAW_IMAGE_BITMAP && processed->colors == 3 && processed->bits == 8,
        "cannot decode camera RAW (an unexpected pixel layout: ", processed->colors, " colours, ",
        processed->bits, " bits)");
    result.image = RgbImage(processed->width, processed->height);
    std::copy(processed->data, processed->data + result.image.pixels.size(), result.image.pixels.begin());
}

} // namespace

RawImage decodeRaw(std::span<const std::uint8_t> bytes, int minShortEdge, std::int64_t maxPixels)
{
    // LibRaw holds large tables inline: on the heap, not the decode thread's stack.
    const auto raw = std::make_unique<LibRaw>(LIBRAW_OPTIONS_NONE);
    DataErrors errors;
    raw->set_dataerror_handler(onDataError, &errors);
    check(raw->open_buffer(const_cast<std::uint8_t*>(bytes.data()), bytes.size()), "reading the file");

    RawImage result;
    // The image area (without the sensor's masked border), before orientation.
    result.sensorWidth = raw->imgdata.sizes.width;
    result.sensorHeight = raw->imgdata.sizes.height;
    const std::int64_t pixels
        = std::int64_t {raw->imgdata.sizes.raw_width} * raw->imgdata.sizes.raw_height; // what unpack holds
    PICTOR_CHECK(pixels > 0, "cannot decode camera RAW (no image in the file)");
    PICTOR_CHECK(pixels <= maxPixels, "image too large: ", result.sensorWidth, "x", result.sensorHeight,
        " = ", pixels, " pixels, over the limit of ", maxPixels);
    result.orientation = exifOrientation(raw->imgdata.sizes.flip);
    result.cameraMake = raw->imgdata.idata.make;
    result.cameraModel = raw->imgdata.idata.model;

    const int halfShortEdge = std::min(raw->imgdata.sizes.width, raw->imgdata.sizes.height) / 2;
    if (!takePreview(*raw, minShortEdge > 0 ? minShortEdge : halfShortEdge, maxPixels, result))
        demosaicHalfSize(*raw, result);
    result.warnings = std::move(errors.warnings);
    return result;
}

} // namespace imageio_detail
} // namespace pictor
