// PIL-exact resampling and the HF preprocessing steps on synthetic images (no decoder involved).
// The expected resize values were derived by hand from Pillow's algorithm (Resample.c): see the
// comments next to each case.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/json_file.h"
#include "core/preprocess.h"
#include "tests/support/error_text.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

RgbImage constantImage(int width, int height, std::uint8_t r, std::uint8_t g, std::uint8_t b)
{
    RgbImage image(width, height);
    for (std::size_t i = 0; i < image.pixels.size(); i += 3) {
        image.pixels[i] = r;
        image.pixels[i + 1] = g;
        image.pixels[i + 2] = b;
    }
    return image;
}

RgbImage randomImage(int width, int height, unsigned seed)
{
    RgbImage image(width, height);
    std::mt19937 random(seed);
    for (auto& value : image.pixels)
        value = static_cast<std::uint8_t>(random() & 0xFF);
    return image;
}

// A width x 1 (or 1 x height when `vertical`) image whose red channel is `values`, green 255 - values and
// blue a constant 77.
RgbImage lineImage(const std::vector<std::uint8_t>& values, bool vertical)
{
    const int n = static_cast<int>(values.size());
    RgbImage image(vertical ? 1 : n, vertical ? n : 1);
    for (int i = 0; i < n; ++i) {
        image.pixels[3 * i] = values[i];
        image.pixels[3 * i + 1] = static_cast<std::uint8_t>(255 - values[i]);
        image.pixels[3 * i + 2] = 77;
    }
    return image;
}

std::vector<std::uint8_t> channel(const RgbImage& image, int c)
{
    std::vector<std::uint8_t> out;
    for (std::size_t i = c; i < image.pixels.size(); i += 3)
        out.push_back(image.pixels[i]);
    return out;
}

using Bytes = std::vector<std::uint8_t>;

void writeFile(const std::filesystem::path& path, const std::string& text)
{
    std::ofstream out(path, std::ios::binary);
    out << text;
}

using test::errorOf;

// ---------------------------------------------------------------------------------------------------
// Resampling

TEST(ResizePil, ConstantImageStaysConstant)
{
    const RgbImage image = constantImage(37, 23, 0, 128, 255);
    for (auto [w, h] : {std::pair {10, 7}, {100, 61}, {37, 50}, {5, 23}, {1, 1}, {299, 224}}) {
        for (int filter : {1, 2, 3, 4, 5}) {
            const RgbImage out = resizePil(image, w, h, filter);
            ASSERT_EQ(out.width, w);
            ASSERT_EQ(out.height, h);
            EXPECT_EQ(out.pixels, constantImage(w, h, 0, 128, 255).pixels)
                << w << "x" << h << " filter " << filter;
        }
    }
}

TEST(ResizePil, SameSizeReturnsSamePixels)
{
    const RgbImage image = randomImage(31, 17, 1);
    const RgbImage out = resizeBicubicPil(image, 31, 17);
    EXPECT_EQ(out.width, 31);
    EXPECT_EQ(out.height, 17);
    EXPECT_EQ(out.pixels, image.pixels);
}

// 4 -> 2, bicubic: scale 2, support 2 * 2 = 4. Output 0: center 1.0, inputs 0..3 at distances
// (x - 1 + 0.5) / 2 = -0.25, 0.25, 0.75, 1.25 -> weights 0.8671875, 0.8671875, 0.2265625, -0.0703125
// (sum 1.890625). Output 1 is the mirror image. On (10, 50, 200, 100):
//   (10 * 0.8671875 + 50 * 0.8671875 + 200 * 0.2265625 - 100 * 0.0703125) / 1.890625 = 47.77 -> 48
//   (-10 * 0.0703125 + 50 * 0.2265625 + 200 * 0.8671875 + 100 * 0.8671875) / 1.890625 = 143.22 -> 143
// Green is 255 - red (weights sum to one): 207, 112. Blue is constant: 77.
TEST(ResizePil, KnownDownscaleValues)
{
    const Bytes values {10, 50, 200, 100};
    for (bool vertical : {false, true}) {
        const RgbImage out = vertical ? resizeBicubicPil(lineImage(values, true), 1, 2)
                                      : resizeBicubicPil(lineImage(values, false), 2, 1);
        EXPECT_EQ(channel(out, 0), (Bytes {48, 143})) << (vertical ? "vertical" : "horizontal");
        EXPECT_EQ(channel(out, 1), (Bytes {207, 112}));
        EXPECT_EQ(channel(out, 2), (Bytes {77, 77}));
    }
}

// 2 -> 4, bicubic: scale 0.5, support 2. Centers 0.25, 0.75, 1.25, 1.75; both inputs are used with
// weights (0.8671875, -0.0703125) / 0.796875 = (1.0882, -0.0882) and (0.8671875, 0.2265625) / 1.09375
// = (0.7929, 0.2071), then mirrored. On (100, 200): 91.18 -> 91, 120.71 -> 121, 179.29 -> 179,
// 208.82 -> 209. On (0, 255) the overshoots clip: -22.5 -> 0, 52.8 -> 53, 202.2 -> 202, 277.5 -> 255.
TEST(ResizePil, KnownUpscaleValues)
{
    for (bool vertical : {false, true}) {
        const auto up = [&](const Bytes& values) {
            return vertical ? resizeBicubicPil(lineImage(values, true), 1, 4)
                            : resizeBicubicPil(lineImage(values, false), 4, 1);
        };
        EXPECT_EQ(channel(up({100, 200}), 0), (Bytes {91, 121, 179, 209}));
        EXPECT_EQ(channel(up({0, 255}), 0), (Bytes {0, 53, 202, 255}));
        EXPECT_EQ(channel(up({0, 255}), 1), (Bytes {255, 202, 53, 0}));
    }
}

// Both passes: a 4x4 image constant down its columns behaves like the 4 -> 2 line in every row, and its
// transpose like the vertical line.
TEST(ResizePil, TwoPassesCombine)
{
    const Bytes values {10, 50, 200, 100};
    RgbImage columns(4, 4), rows(4, 4);
    for (int y = 0; y < 4; ++y) {
        for (int x = 0; x < 4; ++x) {
            std::fill_n(columns.row(y) + 3 * x, 3, values[x]);
            std::fill_n(rows.row(y) + 3 * x, 3, values[y]);
        }
    }
    EXPECT_EQ(resizeBicubicPil(columns, 2, 2).pixels,
        (Bytes {48, 48, 48, 143, 143, 143, 48, 48, 48, 143, 143, 143}));
    EXPECT_EQ(
        resizeBicubicPil(rows, 2, 2).pixels, (Bytes {48, 48, 48, 48, 48, 48, 143, 143, 143, 143, 143, 143}));
}

// The vectorised horizontal pass reads whole blocks; image widths around the block size and spans that
// touch the last row must agree with the transposed (vertical, plain loop) result.
TEST(ResizePil, HorizontalPassMatchesVerticalPassOnTransposedImage)
{
    for (auto [inSize, outSize] : {std::pair {9, 4}, {17, 3}, {100, 7}, {7, 19}, {250, 31}}) {
        const RgbImage line = randomImage(inSize, 1, static_cast<unsigned>(inSize));
        RgbImage column(1, inSize);
        column.pixels = line.pixels;
        const RgbImage horizontal = resizeBicubicPil(line, outSize, 1);
        const RgbImage vertical = resizeBicubicPil(column, 1, outSize);
        EXPECT_EQ(horizontal.pixels, vertical.pixels) << inSize << " -> " << outSize;
    }
}

// A literal, unoptimised transcription of Pillow's ImagingResample for 8-bit RGB (Resample.c): both
// passes over whole images, coefficients per output pixel, 22-bit fixed point, clip after each pass.
namespace reference {

double bicubic(double x)
{
    x = std::abs(x);
    return x < 1.0 ? ((-0.5 + 2.0) * x - (-0.5 + 3.0)) * x * x + 1
        : x < 2.0  ? (((x - 5) * x + 8) * x - 4) * -0.5
                   : 0.0;
}
double bilinear(double x)
{
    return std::abs(x) < 1.0 ? 1.0 - std::abs(x) : 0.0;
}
double box(double x)
{
    return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
}
double sinc(double x)
{
    return x == 0.0 ? 1.0 : std::sin(x * M_PI) / (x * M_PI);
}
double lanczos(double x)
{
    return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0;
}
double hamming(double x)
{
    x = std::abs(x);
    if (x == 0.0)
        return 1.0;
    if (x >= 1.0)
        return 0.0;
    x = x * M_PI;
    return std::sin(x) / x * (0.54f + 0.46f * std::cos(x));
}

struct Coefficients {
    std::vector<int> xmin, xmax;
    std::vector<std::vector<int>> k;
};

Coefficients coefficients(int inSize, int outSize, int filterId)
{
    double (*filter)(double) = filterId == 1 ? lanczos
        : filterId == 2                      ? bilinear
        : filterId == 3                      ? bicubic
        : filterId == 4                      ? box
                                             : hamming;
    const double filterSupport = filterId == 1 ? 3.0 : filterId == 3 ? 2.0 : filterId == 4 ? 0.5 : 1.0;
    const double scale = static_cast<double>(inSize) / outSize;
    const double filterscale = scale < 1.0 ? 1.0 : scale;
    const double support = filterSupport * filterscale;
    Coefficients c;
    for (int xx = 0; xx < outSize; ++xx) {
        const double center = (xx + 0.5) * scale;
        int xmin = static_cast<int>(center - support + 0.5);
        xmin = xmin < 0 ? 0 : xmin;
        int xmax = static_cast<int>(center + support + 0.5);
        xmax = (xmax > inSize ? inSize : xmax) - xmin;
        std::vector<double> w(xmax);
        double ww = 0.0;
        for (int x = 0; x < xmax; ++x) {
            w[x] = filter((x + xmin - center + 0.5) * (1.0 / filterscale));
            ww += w[x];
        }
        std::vector<int> fixed(xmax);
        for (int x = 0; x < xmax; ++x) {
            const double v = ww != 0.0 ? w[x] / ww : w[x];
            fixed[x] = v < 0 ? static_cast<int>(-0.5 + v * (1 << 22)) : static_cast<int>(0.5 + v * (1 << 22));
        }
        c.xmin.push_back(xmin);
        c.xmax.push_back(xmax);
        c.k.push_back(fixed);
    }
    return c;
}

std::uint8_t clip8(int in)
{
    return in >= (255 << 22) ? 255 : in <= 0 ? 0 : static_cast<std::uint8_t>(in >> 22);
}

RgbImage resize(const RgbImage& in, int width, int height, int filterId)
{
    RgbImage current = in;
    if (width != in.width) {
        const Coefficients c = coefficients(in.width, width, filterId);
        RgbImage out(width, in.height);
        for (int y = 0; y < in.height; ++y)
            for (int x = 0; x < width; ++x)
                for (int ch = 0; ch < 3; ++ch) {
                    int ss = 1 << 21;
                    for (int t = 0; t < c.xmax[x]; ++t)
                        ss += current.row(y)[3 * (c.xmin[x] + t) + ch] * c.k[x][t];
                    out.row(y)[3 * x + ch] = clip8(ss);
                }
        current = out;
    }
    if (height != in.height) {
        const Coefficients c = coefficients(in.height, height, filterId);
        RgbImage out(current.width, height);
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < current.width * 3; ++x) {
                int ss = 1 << 21;
                for (int t = 0; t < c.xmax[y]; ++t)
                    ss += current.row(c.xmin[y] + t)[x] * c.k[y][t];
                out.row(y)[x] = clip8(ss);
            }
        current = out;
    }
    return current;
}

} // namespace reference

// Random sizes and filters against the transcription, with the AVX2 path and with the portable one.
TEST(ResizePil, MatchesPlainTranscriptionOfPillow)
{
    std::mt19937 random(42);
    const auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(random); };
    for (const char* disableAvx2 : {"0", "1"}) {
        ::setenv("PICTOR_DISABLE_AVX2", disableAvx2, 1);
        for (int trial = 0; trial < 150; ++trial) {
            const int inWidth = uniform(1, 90), inHeight = uniform(1, 60);
            const int outWidth = uniform(1, 120), outHeight = uniform(1, 80), filter = uniform(1, 5);
            const RgbImage image = randomImage(inWidth, inHeight, static_cast<unsigned>(trial));
            ASSERT_EQ(resizePil(image, outWidth, outHeight, filter).pixels,
                reference::resize(image, outWidth, outHeight, filter).pixels)
                << inWidth << "x" << inHeight << " -> " << outWidth << "x" << outHeight << " filter "
                << filter << " PICTOR_DISABLE_AVX2=" << disableAvx2;
        }
        // Spans of many blocks (strong reductions) on both paths.
        const RgbImage wide = randomImage(1500, 3, 7);
        EXPECT_EQ(resizeBicubicPil(wide, 37, 2).pixels, reference::resize(wide, 37, 2, 3).pixels);
    }
    ::unsetenv("PICTOR_DISABLE_AVX2");
}

TEST(ResizePil, RejectsUnsupportedFiltersAndSizes)
{
    const RgbImage image = constantImage(4, 4, 1, 2, 3);
    EXPECT_THROW(resizePil(image, 2, 2, 0), Error);
    EXPECT_THROW(resizePil(image, 2, 2, 6), Error);
    EXPECT_THROW(resizeBicubicPil(image, 0, 2), Error);
    EXPECT_THROW(resizeBicubicPil(RgbImage {}, 2, 2), Error);
}

TEST(ResizePil, LargeDownscaleIsFast)
{
    const RgbImage image = randomImage(4000, 3000, 7);
    RgbImage out = resizeBicubicPil(image, 299, 224); // warm-up (page faults, dispatch)
    const auto start = std::chrono::steady_clock::now();
    constexpr int kRepeats = 5;
    for (int i = 0; i < kRepeats; ++i)
        out = resizeBicubicPil(image, 299, 224);
    const double ms
        = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ timing ] resizeBicubicPil 4000x3000 -> 299x224: %.1f ms\n", ms / kRepeats);
    EXPECT_EQ(out.width, 299);
    EXPECT_LT(ms / kRepeats, 2000.0); // generous: sanitizer and debug builds run here too
}

// ---------------------------------------------------------------------------------------------------
// Crop and normalise

TEST(CropNormalize, NormalisesPerChannelIntoChw)
{
    // 2x1 image: pixel 0 = (0, 128, 255), pixel 1 = (10, 20, 30).
    const Bytes rgb {0, 128, 255, 10, 20, 30};
    const std::array<float, 3> mean {0.48145466f, 0.4578275f, 0.40821073f};
    const std::array<float, 3> std {0.26862954f, 0.26130258f, 0.27577711f};
    std::vector<float> chw(6);
    cropNormalizeToChw(rgb.data(), 2, 1, 0, 0, 1, 2, 1.0f / 255.0f, mean, std, chw.data());
    for (int c = 0; c < 3; ++c) {
        for (int x = 0; x < 2; ++x) {
            const double expected = (rgb[3 * x + c] / 255.0 - mean[c]) / std[c];
            EXPECT_NEAR(chw[c * 2 + x], expected, 1e-6) << "c " << c << " x " << x;
        }
    }
}

TEST(CropNormalize, OutsideTheImageIsZeroBeforeNormalisation)
{
    const Bytes rgb(3 * 2 * 2, 200);
    std::vector<float> chw(3 * 3 * 3);
    cropNormalizeToChw(rgb.data(), 2, 2, -1, 0, 3, 3, 1.0f, {1, 2, 3}, {1, 1, 2}, chw.data());
    // Row 0 is above the image, column 2 right of it.
    for (int c = 0; c < 3; ++c) {
        const float zero = (0.0f - static_cast<float>(c + 1)) / (c == 2 ? 2.0f : 1.0f);
        const float inside = (200.0f - static_cast<float>(c + 1)) / (c == 2 ? 2.0f : 1.0f);
        for (int y = 0; y < 3; ++y)
            for (int x = 0; x < 3; ++x)
                EXPECT_EQ(chw[c * 9 + y * 3 + x], (y == 0 || x == 2) ? zero : inside)
                    << c << "," << y << "," << x;
    }
}

// HF center_crop: top = (h - ch) // 2 and left = (w - cw) // 2, floor (torchvision rounds instead).
TEST(Preprocess, CenterCropUsesFloorOffsets)
{
    ImagePreprocessConfig config;
    config.doResize = false;
    config.doRescale = false;
    config.doNormalize = false;
    config.cropHeight = 2;
    config.cropWidth = 3;
    RgbImage image(6, 5); // margins: 5 - 2 = 3 rows -> top 1; 6 - 3 = 3 columns -> left 1
    for (int y = 0; y < 5; ++y)
        for (int x = 0; x < 6; ++x)
            std::fill_n(image.row(y) + 3 * x, 3, static_cast<std::uint8_t>(10 * y + x + 1));
    const std::vector<float> out = preprocessImage(image, config);
    ASSERT_EQ(out.size(), 3u * 2 * 3);
    EXPECT_EQ(out[0], 12.0f); // (top 1, left 1)
    EXPECT_EQ(out[2], 14.0f);
    EXPECT_EQ(out[3], 22.0f);

    // Smaller than the crop: margins -1 -> floor(-1 / 2) = -1, padding one row/column before.
    config.cropHeight = 6;
    config.cropWidth = 7;
    const std::vector<float> padded = preprocessImage(image, config);
    EXPECT_EQ(padded[0], 0.0f);
    EXPECT_EQ(padded[7 + 1], 1.0f); // row 1 (image row 0), column 1 (image column 0)
    EXPECT_EQ(padded[7 * 2 + 2], 12.0f);
}

// preprocessImage resizes only the window the crop keeps; that must equal resizing fully, then cropping.
std::vector<float> fullResizeThenCrop(const RgbImage& image, const ImagePreprocessConfig& config)
{
    const auto [width, height] = config.shortestEdge > 0
        ? shortestEdgeSize(image.width, image.height, config.shortestEdge)
        : std::array<int, 2> {config.resizeWidth, config.resizeHeight};
    const RgbImage resized = resizePil(image, width, height, config.resample);
    const int top = static_cast<int>(std::floor((height - config.cropHeight) / 2.0));
    const int left = static_cast<int>(std::floor((width - config.cropWidth) / 2.0));
    std::vector<float> out(static_cast<std::size_t>(3) * config.cropHeight * config.cropWidth);
    cropNormalizeToChw(resized.pixels.data(), width, height, top, left, config.cropHeight, config.cropWidth,
        static_cast<float>(config.rescaleFactor), config.mean, config.std, out.data());
    return out;
}

TEST(Preprocess, CroppedResizeEqualsFullResizeThenCrop)
{
    struct Case {
        int width, height;
        int shortestEdge, resizeWidth, resizeHeight, crop, resample;
    };
    const std::vector<Case> cases {
        {64, 48, 224, 0, 0, 224, 3}, // landscape: 298x224, left 37
        {48, 64, 224, 0, 0, 224, 3}, // portrait
        {640, 41, 224, 0, 0, 224, 3}, // panorama: 3496x224, only 224 columns computed
        {41, 640, 224, 0, 0, 224, 2}, // tall, bilinear
        {100, 60, 224, 0, 0, 224, 3}, // upscale, 373x224 (odd margin)
        {224, 224, 224, 0, 0, 224, 3}, // no resize at all
        {224, 300, 0, 224, 150, 120, 3}, // height only changes: no horizontal pass
        {300, 224, 0, 150, 224, 120, 1}, // width only changes: no vertical pass, lanczos
        {90, 70, 0, 100, 80, 224, 3}, // crop larger than the resized image: zero padding
        {333, 222, 0, 101, 77, 50, 5}, // odd sizes, hamming
    };
    for (const Case& c : cases) {
        ImagePreprocessConfig config;
        config.shortestEdge = c.shortestEdge;
        config.resizeWidth = c.resizeWidth;
        config.resizeHeight = c.resizeHeight;
        config.cropHeight = config.cropWidth = c.crop;
        config.resample = c.resample;
        const RgbImage image
            = randomImage(c.width, c.height, static_cast<unsigned>(c.width * 1000 + c.height));
        EXPECT_EQ(preprocessImage(image, config), fullResizeThenCrop(image, config))
            << c.width << "x" << c.height << " resample " << c.resample;
    }
}

TEST(Preprocess, PipelineMatchesItsSteps)
{
    const ImagePreprocessConfig config; // CLIP defaults
    const RgbImage image = randomImage(64, 48, 3);
    const std::vector<float> out = preprocessImage(image, config);
    ASSERT_EQ(out.size(), 3u * 224 * 224);
    const RgbImage resized = resizeBicubicPil(image, 298, 224);
    std::vector<float> expected(out.size());
    cropNormalizeToChw(resized.pixels.data(), 298, 224, 0, 37, 224, 224, static_cast<float>(1.0 / 255.0),
        config.mean, config.std, expected.data());
    EXPECT_EQ(out, expected);
}

TEST(Preprocess, FixedSizeResizeWithoutCrop)
{
    ImagePreprocessConfig config;
    config.shortestEdge = 0;
    config.resizeHeight = 32;
    config.resizeWidth = 40;
    config.doCenterCrop = false;
    config.mean = {0.5f, 0.5f, 0.5f};
    config.std = {0.5f, 0.5f, 0.5f};
    EXPECT_EQ(config.outputHeight(), 32);
    EXPECT_EQ(config.outputWidth(), 40);
    const RgbImage image = randomImage(100, 70, 4);
    const std::vector<float> out = preprocessImage(image, config);
    const RgbImage resized = resizeBicubicPil(image, 40, 32);
    ASSERT_EQ(out.size(), 3u * 32 * 40);
    EXPECT_NEAR(out[0], (resized.pixels[0] / 255.0 - 0.5) / 0.5, 1e-6);
    EXPECT_NEAR(out[32 * 40 + 1], (resized.pixels[4] / 255.0 - 0.5) / 0.5, 1e-6);
}

// ---------------------------------------------------------------------------------------------------
// Sizes and configuration files

TEST(ShortestEdgeSize, MatchesHuggingFaceOnTheFixtureImages)
{
    const auto cases = readJsonFile(test::fixtureDir("clip-tiny-a") / "cases" / "images.json");
    int checked = 0;
    for (const auto& image : cases.at("images")) {
        const auto size = shortestEdgeSize(image.at("width").get<int>(), image.at("height").get<int>(), 224);
        EXPECT_EQ(size[0], image.at("resized_wh")[0].get<int>()) << image.at("file");
        EXPECT_EQ(size[1], image.at("resized_wh")[1].get<int>()) << image.at("file");
        ++checked;
    }
    EXPECT_EQ(checked, 10);
}

TEST(ShortestEdgeSize, TruncatesTheLongSide)
{
    EXPECT_EQ(shortestEdgeSize(640, 480, 224), (std::array<int, 2> {298, 224})); // 298.67
    EXPECT_EQ(shortestEdgeSize(480, 640, 224), (std::array<int, 2> {224, 298}));
    EXPECT_EQ(shortestEdgeSize(100, 60, 224), (std::array<int, 2> {373, 224})); // 373.33
    EXPECT_EQ(shortestEdgeSize(2000, 150, 224), (std::array<int, 2> {2986, 224})); // 2986.67
    EXPECT_EQ(shortestEdgeSize(333, 222, 224), (std::array<int, 2> {336, 224})); // exactly 336
    EXPECT_EQ(shortestEdgeSize(224, 224, 224), (std::array<int, 2> {224, 224}));
    EXPECT_EQ(shortestEdgeSize(1, 100000, 224), (std::array<int, 2> {224, 22400000}));
    EXPECT_THROW(shortestEdgeSize(0, 10, 224), Error);
}

TEST(PreprocessConfig, ReadsTheFixture)
{
    const auto config = loadPreprocessConfig(test::fixtureDir("clip-tiny-a") / "preprocessor_config.json");
    EXPECT_TRUE(config.doResize);
    EXPECT_EQ(config.shortestEdge, 224);
    EXPECT_EQ(config.resample, 3);
    EXPECT_TRUE(config.doCenterCrop);
    EXPECT_EQ(config.cropHeight, 224);
    EXPECT_EQ(config.cropWidth, 224);
    EXPECT_DOUBLE_EQ(config.rescaleFactor, 0.00392156862745098);
    EXPECT_FLOAT_EQ(config.mean[1], 0.4578275f);
    EXPECT_FLOAT_EQ(config.std[2], 0.27577711f);
    EXPECT_EQ(config.outputHeight(), 224);
    EXPECT_EQ(config.outputWidth(), 224);
}

TEST(PreprocessConfig, ReadsASiglipStyleConfig)
{
    const auto file = test::scratchDir("preprocess") / "preprocessor_config.json";
    writeFile(
        file, R"({"do_normalize": true, "do_rescale": true, "do_resize": true, "image_mean": [0.5, 0.5, 0.5],
        "image_processor_type": "SiglipImageProcessor", "image_std": [0.5, 0.5, 0.5], "resample": 2,
        "rescale_factor": 0.00392156862745098, "size": {"height": 384, "width": 384}})");
    const auto config = loadPreprocessConfig(file);
    EXPECT_FALSE(config.doCenterCrop);
    EXPECT_EQ(config.resample, 2);
    EXPECT_EQ(config.outputHeight(), 384);
    EXPECT_EQ(config.outputWidth(), 384);
    EXPECT_FLOAT_EQ(config.mean[0], 0.5f);
}

TEST(PreprocessConfig, ErrorsNameTheFile)
{
    const auto dir = test::scratchDir("preprocess-bad");
    const std::vector<std::pair<std::string, std::string>> cases {
        {"syntax.json", R"({"size": {"shortest_edge": 224)"},
        {"resample.json", R"({"size": {"shortest_edge": 224}, "crop_size": 224, "resample": 0})"},
        {"mean.json", R"({"size": 224, "crop_size": 224, "image_mean": [0.5, 0.5]})"},
        {"type.json", R"({"size": {"shortest_edge": "big"}, "crop_size": 224})"},
        {"nosize.json", R"({"size": {"longest_edge": 224}, "crop_size": 224})"},
        {"nocrop.json", R"({"size": {"shortest_edge": 224}, "do_center_crop": false})"},
        {"std.json", R"({"size": 224, "crop_size": 224, "image_std": [0.5, 0, 0.5]})"},
        {"array.json", R"([1, 2, 3])"},
    };
    for (const auto& [fileName, text] : cases) {
        const std::string name = fileName; // clang 14 lambdas cannot capture structured bindings
        writeFile(dir / name, text);
        const std::string message = errorOf([&] { loadPreprocessConfig(dir / name); });
        EXPECT_NE(message.find(name), std::string::npos) << message;
    }
    EXPECT_NE(
        errorOf([&] { loadPreprocessConfig(dir / "resample.json"); }).find("resample"), std::string::npos);
    EXPECT_NE(
        errorOf([&] { loadPreprocessConfig(dir / "missing.json"); }).find("missing.json"), std::string::npos);
}

} // namespace
} // namespace pictor
