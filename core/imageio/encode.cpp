#include "core/imageio/encode.h"

#include <algorithm>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace pictor {
namespace {

const char* extensionFor(ImageFormat format)
{
    switch (format) {
    case ImageFormat::Jpeg:
        return ".jpg";
    case ImageFormat::Png:
        return ".png";
    case ImageFormat::WebP:
        return ".webp";
    case ImageFormat::Tiff:
        return ".tiff";
    case ImageFormat::Bmp:
        return ".bmp";
    default:
        PICTOR_FAIL("cannot encode ", imageFormatName(format), " images");
    }
}

} // namespace

std::vector<std::uint8_t> encodeImage(const RgbImage& image, ImageFormat format, int quality)
{
    PICTOR_CHECK(!image.empty(), "cannot encode an empty image");
    PICTOR_CHECK(quality >= 1 && quality <= 100, "encode quality must be 1..100, not ", quality);
    const char* extension = extensionFor(format);
    // OpenCV takes BGR; the const_cast only wraps the pixels for the conversion, which reads them.
    const cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.data()));
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    std::vector<int> params;
    if (format == ImageFormat::Jpeg)
        params = {cv::IMWRITE_JPEG_QUALITY, quality};
    if (format == ImageFormat::WebP) // OpenCV writes lossless WebP for a quality above 100
        params = {cv::IMWRITE_WEBP_QUALITY, quality == 100 ? 101 : quality};
    std::vector<std::uint8_t> bytes;
    try {
        PICTOR_CHECK(cv::imencode(extension, bgr, bytes, params), "cannot encode ", imageFormatName(format));
    } catch (const cv::Exception& e) {
        PICTOR_FAIL("cannot encode ", imageFormatName(format), " (OpenCV: ", e.msg, ")");
    }
    return bytes;
}

RgbImage scaleToFit(const RgbImage& image, int maxEdge)
{
    PICTOR_CHECK(maxEdge > 0, "scaleToFit: the longest edge must be positive, not ", maxEdge);
    const int longest = std::max(image.width, image.height);
    if (image.empty() || longest <= maxEdge)
        return image;
    const double scale = static_cast<double>(maxEdge) / longest;
    RgbImage out(std::max(1, static_cast<int>(image.width * scale + 0.5)),
        std::max(1, static_cast<int>(image.height * scale + 0.5)));
    const cv::Mat in(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.data()));
    cv::Mat target(out.height, out.width, CV_8UC3, out.pixels.data());
    cv::resize(in, target, target.size(), 0, 0, cv::INTER_AREA); // writes into out.pixels
    return out;
}

} // namespace pictor
