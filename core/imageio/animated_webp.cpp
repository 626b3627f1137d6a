#include "core/imageio/animated_webp.h"

#include <memory>

#include <webp/demux.h>

#include "core/error.h"

namespace pictor::imageio_detail {

RgbImage decodeFirstWebpFrame(std::span<const std::uint8_t> bytes, std::int64_t maxPixels)
{
    const WebPData data {bytes.data(), bytes.size()};
    WebPAnimDecoderOptions options;
    PICTOR_CHECK(WebPAnimDecoderOptionsInit(&options), "internal error: libwebp version mismatch");
    options.color_mode = MODE_RGBA; // the animation decoder offers no RGB; alpha is dropped below
    options.use_threads = 0;
    const std::unique_ptr<WebPAnimDecoder, decltype(&WebPAnimDecoderDelete)> decoder(
        WebPAnimDecoderNew(&data, &options), &WebPAnimDecoderDelete);
    PICTOR_CHECK(decoder, "cannot decode: corrupt animated WebP");
    WebPAnimInfo info {};
    PICTOR_CHECK(WebPAnimDecoderGetInfo(decoder.get(), &info), "cannot decode: corrupt animated WebP");
    PICTOR_CHECK(std::int64_t {info.canvas_width} * info.canvas_height <= maxPixels,
        "image too large: ", info.canvas_width, "x", info.canvas_height);
    std::uint8_t* rgba = nullptr;
    int timestamp = 0;
    PICTOR_CHECK(WebPAnimDecoderGetNext(decoder.get(), &rgba, &timestamp) && rgba,
        "cannot decode: corrupt animated WebP (its first frame)");
    RgbImage image(static_cast<int>(info.canvas_width), static_cast<int>(info.canvas_height));
    const std::size_t pixels = std::size_t {info.canvas_width} * info.canvas_height;
    for (std::size_t i = 0; i < pixels; ++i)
        for (int channel = 0; channel < 3; ++channel)
            image.pixels[3 * i + channel] = rgba[4 * i + channel];
    return image;
}

} // namespace pictor::imageio_detail
