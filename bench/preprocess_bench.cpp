// Preprocessing cost per photo: decode a 12-megapixel JPEG (full vs reduced-size DCT decoding), resize
// and crop to the model's input. Prints JSON lines. Usage: preprocess_bench [JPEG...] (default: a
// synthetic 4000x3000 camera-like JPEG written to the temp folder).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/imageio/decode.h"
#include "core/preprocess.h"

namespace {

std::filesystem::path syntheticPhoto()
{
    // Gradients, shapes and sensor-like noise, q90: decodes like a real 12 MP camera file.
    cv::Mat image(3000, 4000, CV_8UC3);
    for (int y = 0; y < image.rows; ++y)
        for (int x = 0; x < image.cols; ++x)
            image.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(x * 255 / image.cols),
                static_cast<uchar>(y * 255 / image.rows), static_cast<uchar>((x + y) % 256));
    cv::circle(image, {2000, 1500}, 800, {30, 160, 220}, -1);
    cv::rectangle(image, {300, 300}, {1500, 1100}, {200, 40, 90}, -1);
    cv::Mat noise(image.size(), image.type());
    cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(12));
    image += noise;
    const auto file = std::filesystem::temp_directory_path() / "pictor-bench-12mp.jpg";
    cv::imwrite(file.string(), image, {cv::IMWRITE_JPEG_QUALITY, 90});
    return file;
}

template <typename Step> double millisecondsPerCall(Step step, int repeats)
{
    step();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < repeats; ++i)
        step();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count()
        / repeats;
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<std::filesystem::path> files;
    for (int i = 1; i < argc; ++i)
        files.emplace_back(argv[i]);
    if (files.empty())
        files.push_back(syntheticPhoto());
    const pictor::ImagePreprocessConfig config; // CLIP ViT-B/32: shortest edge 224, crop 224
    for (const auto& file : files) {
        for (bool reduced : {false, true}) {
            pictor::DecodeOptions options;
            options.targetShortEdge = reduced ? config.shortestEdge : 0;
            pictor::DecodedImage decoded;
            const double decodeMs
                = millisecondsPerCall([&] { decoded = pictor::decodeImageFile(file, options); }, 5);
            const double preprocessMs
                = millisecondsPerCall([&] { pictor::preprocessImage(decoded.image, config); }, 5);
            std::printf("{\"bench\":\"preprocess\",\"file\":\"%s\",\"size\":\"%dx%d\",\"decode\":\"%s\","
                        "\"decoded\":\"%dx%d\",\"decode_ms\":%.1f,\"resize_crop_normalize_ms\":%.1f,\"total_"
                        "ms\":%.1f}\n",
                file.filename().c_str(), decoded.fileWidth, decoded.fileHeight, reduced ? "reduced" : "full",
                decoded.image.width, decoded.image.height, decodeMs, preprocessMs, decodeMs + preprocessMs);
        }
    }
    return 0;
}
