// The decoder on real third-party files (PngSuite, EXIF orientation examples) and on hostile files made
// here: every failure is a pictor::Error naming the file and the reason, never a crash.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include <exiv2/exiv2.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/imageio/decode.h"
#include "core/imageio/encode.h"
#include "core/imageio/image_header.h"
#include "core/imageio/jpeg_decode.h"
#include "core/log.h"
#include "tests/support/crafted_images.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::filesystem::path fixtureImage(const std::string& name)
{
    return test::fixtureDir("clip-tiny-a") / "cases" / name;
}

Bytes readBytes(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

void writeBytes(const std::filesystem::path& file, const Bytes& bytes)
{
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// The error message of decoding `file`, or "" when it decodes.
std::string decodeError(const std::filesystem::path& file, const DecodeOptions& options = {})
{
    try {
        decodeImageFile(file, options);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// Mean absolute difference per channel value of two images of the same size.
double meanAbsDiff(const RgbImage& a, const RgbImage& b)
{
    double total = 0;
    for (std::size_t i = 0; i < a.pixels.size(); ++i)
        total += std::abs(static_cast<int>(a.pixels[i]) - static_cast<int>(b.pixels[i]));
    return total / static_cast<double>(a.pixels.size());
}

RgbImage gradientImage(int width, int height)
{
    RgbImage image(width, height);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            std::uint8_t* p = image.row(y) + 3 * x;
            p[0] = static_cast<std::uint8_t>(x * 255 / std::max(width - 1, 1));
            p[1] = static_cast<std::uint8_t>(y * 255 / std::max(height - 1, 1));
            p[2] = static_cast<std::uint8_t>((x * 7 + y * 3) & 0xFF);
        }
    }
    return image;
}

void appendPngChunk(Bytes& out, const std::string& type, const Bytes& data)
{
    const auto chunk = test::pngChunk(type, data);
    out.insert(out.end(), chunk.begin(), chunk.end());
}

Bytes pngDeclaring(std::uint32_t width, std::uint32_t height)
{
    const auto bytes = test::pngDeclaring(width, height);
    return Bytes(bytes.begin(), bytes.end());
}

// ---------------------------------------------------------------------------------------------------
// PngSuite

std::vector<std::filesystem::path> pngSuiteFiles(bool corrupt)
{
    std::vector<std::filesystem::path> files;
    for (const auto& entry :
        std::filesystem::directory_iterator(test::realInputsDir() / "pngsuite" / "png")) {
        const std::string name = entry.path().filename().string();
        if (entry.path().extension() == ".png" && (name[0] == 'x') == corrupt)
            files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

TEST(PngSuite, AllValidFilesDecode)
{
    const auto files = pngSuiteFiles(false);
    ASSERT_EQ(files.size(), 161u);
    for (const auto& file : files) {
        SCOPED_TRACE(file.filename().string());
        DecodedImage decoded;
        ASSERT_NO_THROW(decoded = decodeImageFile(file));
        EXPECT_EQ(decoded.image.width, decoded.fileWidth);
        EXPECT_EQ(decoded.image.height, decoded.fileHeight);
        EXPECT_GE(decoded.image.width, 1);
        EXPECT_LE(decoded.image.width, 64);
        EXPECT_GE(decoded.image.height, 1);
        EXPECT_LE(decoded.image.height, 64);
        EXPECT_EQ(decoded.image.pixels.size(), 3u * decoded.image.width * decoded.image.height);
        EXPECT_EQ(decoded.scaleDenominator, 1);
    }
}

TEST(PngSuite, SizesAndColourTypes)
{
    const auto png = [](const std::string& name) {
        return decodeImageFile(test::realInputsDir() / "pngsuite" / "png" / name).image;
    };
    EXPECT_EQ(png("s01n3p01.png").width, 1);
    EXPECT_EQ(png("s39i3p04.png").height, 39);
    // Grayscale (8 and 16 bit) expands to equal channels.
    for (const char* name : {"basn0g08.png", "basn0g16.png", "basn4a08.png"}) {
        const RgbImage image = png(name);
        for (std::size_t i = 0; i < image.pixels.size(); i += 3) {
            ASSERT_EQ(image.pixels[i], image.pixels[i + 1]) << name;
            ASSERT_EQ(image.pixels[i], image.pixels[i + 2]) << name;
        }
    }
    // Interlaced and non-interlaced versions of the same image decode identically.
    EXPECT_EQ(png("basi2c08.png").pixels, png("basn2c08.png").pixels);
    EXPECT_EQ(png("basi6a16.png").pixels, png("basn6a16.png").pixels);
}

TEST(PngSuite, CorruptFilesFailWithAReason)
{
    const auto files = pngSuiteFiles(true);
    ASSERT_EQ(files.size(), 14u);
    for (const auto& file : files) {
        const std::string message = decodeError(file);
        std::printf("[ x-png  ] %s -> %s\n", file.filename().c_str(),
            message.empty() ? "decoded (accepted)" : message.substr(file.string().size() + 2).c_str());
        if (file.filename() == "xcsn0g01.png" && message.empty())
            continue; // a bad IDAT CRC: lenient decoders accept it
        EXPECT_TRUE(contains(message, file.string())) << message;
        EXPECT_GT(message.size(), file.string().size() + 10) << message; // a reason follows the name
    }
}

// ---------------------------------------------------------------------------------------------------
// EXIF orientation

class ExifOrientation : public testing::TestWithParam<std::string> {
protected:
    std::filesystem::path file(int k) const
    {
        return test::realInputsDir() / "exif-orientation" / (GetParam() + "_" + std::to_string(k) + ".jpg");
    }
};

TEST_P(ExifOrientation, EveryOrientationMatchesTheUprightImage)
{
    const DecodedImage upright = decodeImageFile(file(0));
    EXPECT_EQ(upright.exifOrientation, 1);
    for (int k = 1; k <= 8; ++k) {
        SCOPED_TRACE(file(k).filename().string());
        const DecodedImage decoded = decodeImageFile(file(k));
        EXPECT_EQ(decoded.exifOrientation, k);
        ASSERT_EQ(decoded.image.width, upright.image.width);
        ASSERT_EQ(decoded.image.height, upright.image.height);
        const double diff = meanAbsDiff(decoded.image, upright.image);
        std::printf("[ exif   ] %s: mean abs diff to _0 %.2f levels\n", file(k).filename().c_str(), diff);
        EXPECT_LT(diff, 8.0);
    }
}

TEST_P(ExifOrientation, WithoutOrientationTheStoredPixelsComeBack)
{
    DecodeOptions raw;
    raw.applyExifOrientation = false;
    const DecodedImage upright = decodeImageFile(file(0), raw);
    for (int k = 2; k <= 8; ++k) {
        SCOPED_TRACE(file(k).filename().string());
        const DecodedImage decoded = decodeImageFile(file(k), raw);
        EXPECT_EQ(decoded.exifOrientation, k); // still reported
        EXPECT_EQ(decoded.image.width, decoded.fileWidth);
        EXPECT_EQ(decoded.image.height, decoded.fileHeight);
        const bool swapped = k >= 5;
        EXPECT_EQ(decoded.image.width, swapped ? upright.image.height : upright.image.width);
        EXPECT_EQ(decoded.image.height, swapped ? upright.image.width : upright.image.height);
        if (!swapped) {
            EXPECT_GT(meanAbsDiff(decoded.image, upright.image), 20.0);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(RealInputs, ExifOrientation, testing::Values("Landscape", "Portrait"));

// ---------------------------------------------------------------------------------------------------
// EXIF orientation in PNG (eXIf chunk), WebP (EXIF chunk) and TIFF (its own Orientation tag), on files
// built here: a 40x30 image with a red 10x10 block in its stored top-left corner.

constexpr int kStoredWidth = 40, kStoredHeight = 30;

RgbImage markedImage()
{
    RgbImage image(kStoredWidth, kStoredHeight);
    for (int y = 0; y < 10; ++y)
        for (int x = 0; x < 10; ++x)
            image.row(y)[3 * x] = 255;
    return image;
}

// A big-endian TIFF structure holding only IFD0 with the Orientation tag (what eXIf/EXIF chunks carry).
Bytes exifWithOrientation(int orientation)
{
    return {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0,
        static_cast<std::uint8_t>(orientation), 0, 0, 0, 0, 0, 0};
}

void appendLittleEndian(Bytes& out, std::uint32_t value, int bytes = 4)
{
    for (int i = 0; i < bytes; ++i)
        out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

Bytes pngWithOrientation(int orientation)
{
    Bytes png = encodeImage(markedImage(), ImageFormat::Png);
    Bytes chunk;
    appendPngChunk(chunk, "eXIf", exifWithOrientation(orientation));
    constexpr std::ptrdiff_t kAfterHeader = 8 + 25; // signature + IHDR chunk
    png.insert(png.begin() + kAfterHeader, chunk.begin(), chunk.end());
    return png;
}

// Extended WebP: VP8X (flags: EXIF) + the lossless VP8L chunk OpenCV wrote + an EXIF chunk.
Bytes webpWithOrientation(int orientation)
{
    const Bytes simple = encodeImage(markedImage(), ImageFormat::WebP, 100);
    Bytes out {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X'};
    appendLittleEndian(out, 10);
    appendLittleEndian(out, 0x08); // EXIF present
    appendLittleEndian(out, kStoredWidth - 1, 3);
    appendLittleEndian(out, kStoredHeight - 1, 3);
    out.insert(out.end(), simple.begin() + 12, simple.end());
    if (out.size() % 2)
        out.push_back(0);
    const Bytes exif = exifWithOrientation(orientation);
    out.insert(out.end(), {'E', 'X', 'I', 'F'});
    appendLittleEndian(out, static_cast<std::uint32_t>(exif.size()));
    out.insert(out.end(), exif.begin(), exif.end());
    const auto riffSize = static_cast<std::uint32_t>(out.size() - 8);
    for (int i = 0; i < 4; ++i)
        out[4 + i] = static_cast<std::uint8_t>(riffSize >> (8 * i));
    return out;
}

// A baseline little-endian TIFF: 8-bit RGB, one uncompressed strip, with an Orientation tag.
Bytes tiffWithOrientation(int orientation)
{
    const RgbImage image = markedImage();
    struct Entry {
        std::uint16_t tag, type;
        std::uint32_t count, value;
    };
    constexpr std::uint32_t kShort = 3, kLong = 4, kEntries = 11;
    constexpr std::uint32_t kBitsOffset = 8 + 2 + kEntries * 12 + 4, kPixelsOffset = kBitsOffset + 6;
    const std::vector<Entry> entries {{256, kLong, 1, kStoredWidth}, {257, kLong, 1, kStoredHeight},
        {258, kShort, 3, kBitsOffset}, {259, kShort, 1, 1}, {262, kShort, 1, 2},
        {273, kLong, 1, kPixelsOffset}, {274, kShort, 1, static_cast<std::uint32_t>(orientation)},
        {277, kShort, 1, 3}, {278, kLong, 1, kStoredHeight},
        {279, kLong, 1, static_cast<std::uint32_t>(image.pixels.size())}, {284, kShort, 1, 1}};
    Bytes out {'I', 'I', 42, 0};
    appendLittleEndian(out, 8);
    appendLittleEndian(out, kEntries, 2);
    for (const Entry& e : entries) {
        appendLittleEndian(out, e.tag, 2);
        appendLittleEndian(out, e.type, 2);
        appendLittleEndian(out, e.count);
        appendLittleEndian(out, e.value, e.type == kShort && e.count == 1 ? 2 : 4);
        if (e.type == kShort && e.count == 1)
            appendLittleEndian(out, 0, 2);
    }
    appendLittleEndian(out, 0); // no next IFD
    for (int i = 0; i < 3; ++i)
        appendLittleEndian(out, 8, 2);
    out.insert(out.end(), image.pixels.begin(), image.pixels.end());
    return out;
}

// Where the stored pixel (x, y) lands once the image is upright (EXIF orientation semantics).
std::pair<int, int> uprightPosition(int orientation, int x, int y)
{
    const int w = kStoredWidth, h = kStoredHeight;
    switch (orientation) {
    case 2:
        return {w - 1 - x, y};
    case 3:
        return {w - 1 - x, h - 1 - y};
    case 4:
        return {x, h - 1 - y};
    case 5:
        return {y, x};
    case 6:
        return {h - 1 - y, x};
    case 7:
        return {h - 1 - y, w - 1 - x};
    case 8:
        return {y, w - 1 - x};
    default:
        return {x, y};
    }
}

bool isRed(const RgbImage& image, int x, int y)
{
    const std::uint8_t* p = image.row(y) + 3 * x;
    return p[0] > 200 && p[1] < 50 && p[2] < 50;
}

TEST(ExifOrientationFormats, PngWebpAndTiffAreOrientedLikeJpeg)
{
    const auto dir = test::scratchDir("imageio-orientation");
    const std::vector<std::pair<std::string, std::function<Bytes(int)>>> makers {
        {"png", pngWithOrientation}, {"webp", webpWithOrientation}, {"tiff", tiffWithOrientation}};
    for (const auto& [extension, make] : makers) {
        for (int k = 1; k <= 8; ++k) {
            SCOPED_TRACE(extension + " orientation " + std::to_string(k));
            const auto file = dir / ("o" + std::to_string(k) + "." + extension);
            writeBytes(file, make(k));
            const DecodedImage upright = decodeImageFile(file);
            EXPECT_EQ(upright.exifOrientation, k);
            EXPECT_EQ(upright.fileWidth, kStoredWidth);
            ASSERT_EQ(upright.image.width, k >= 5 ? kStoredHeight : kStoredWidth);
            const auto [x, y] = uprightPosition(k, 5, 5);
            EXPECT_TRUE(isRed(upright.image, x, y));
            EXPECT_EQ(isRed(upright.image, 5, 5), x < 10 && y < 10);

            DecodeOptions asStored;
            asStored.applyExifOrientation = false;
            const DecodedImage stored = decodeImageFile(file, asStored);
            ASSERT_EQ(stored.image.width, kStoredWidth);
            EXPECT_EQ(stored.image.pixels, markedImage().pixels);
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Reduced-size JPEG decoding

TEST(ReducedDecode, PicksTheLargestFactorKeepingTheShortEdge)
{
    DecodeOptions options;
    options.targetShortEdge = 224;
    const DecodedImage large = decodeImageFile(fixtureImage("a04_large_3000x2000.jpg"), options);
    EXPECT_EQ(large.scaleDenominator, 8); // 2000 / 8 = 250 >= 224
    EXPECT_EQ(large.image.width, 375);
    EXPECT_EQ(large.image.height, 250);
    EXPECT_EQ(large.fileWidth, 3000);

    const DecodedImage photo = decodeImageFile(fixtureImage("a03_photo_1600x1200.jpg"), options);
    EXPECT_EQ(photo.scaleDenominator, 4); // 1200 / 8 = 150 < 224 <= 1200 / 4
    EXPECT_EQ(photo.image.width, 400);
    EXPECT_EQ(photo.image.height, 300);

    const DecodedImage panorama = decodeImageFile(fixtureImage("a08_panorama_2000x150.jpg"), options);
    EXPECT_EQ(panorama.scaleDenominator, 1); // short edge 150 < 2 * 224
    EXPECT_EQ(panorama.image.width, 2000);

    const DecodedImage png = decodeImageFile(fixtureImage("a02_portrait_480x640.png"), options);
    EXPECT_EQ(png.scaleDenominator, 1); // only JPEG has DCT scaling

    options.targetShortEdge = 0;
    EXPECT_EQ(decodeImageFile(fixtureImage("a04_large_3000x2000.jpg"), options).scaleDenominator, 1);
}

TEST(ReducedDecode, OddSizesRoundUp)
{
    const auto file = test::scratchDir("imageio-odd") / "odd.jpg";
    writeBytes(file, encodeImage(gradientImage(1001, 999), ImageFormat::Jpeg, 90));
    DecodeOptions options;
    options.targetShortEdge = 224;
    const DecodedImage decoded = decodeImageFile(file, options);
    EXPECT_EQ(decoded.scaleDenominator, 4);
    EXPECT_EQ(decoded.image.width, 251); // ceil(1001 / 4)
    EXPECT_EQ(decoded.image.height, 250); // ceil(999 / 4)
}

TEST(ReducedDecode, WorksWithOrientation)
{
    DecodeOptions options;
    options.targetShortEdge = 224;
    const auto file = test::realInputsDir() / "exif-orientation" / "Landscape_6.jpg"; // stored 1200x1800
    const DecodedImage decoded = decodeImageFile(file, options);
    EXPECT_EQ(decoded.scaleDenominator, 4);
    EXPECT_EQ(decoded.image.width, 450);
    EXPECT_EQ(decoded.image.height, 300);
}

// ---------------------------------------------------------------------------------------------------
// Formats

TEST(Formats, EncodedImagesRoundTrip)
{
    const auto dir = test::scratchDir("imageio-formats");
    const RgbImage image = gradientImage(67, 45);
    for (ImageFormat format :
        {ImageFormat::Png, ImageFormat::Bmp, ImageFormat::Tiff, ImageFormat::WebP, ImageFormat::Jpeg}) {
        const std::string name = std::string(imageFormatName(format));
        SCOPED_TRACE(name);
        const bool lossless = format != ImageFormat::Jpeg;
        const Bytes bytes = encodeImage(image, format, lossless ? 100 : 95);
        EXPECT_EQ(readImageHeader(bytes).format, format);
        EXPECT_EQ(readImageHeader(bytes).width, 67);
        EXPECT_EQ(readImageHeader(bytes).height, 45);
        const auto file = dir / ("image." + name);
        writeBytes(file, bytes);
        const DecodedImage decoded = decodeImageFile(file);
        ASSERT_EQ(decoded.image.width, 67);
        ASSERT_EQ(decoded.image.height, 45);
        if (lossless) {
            EXPECT_EQ(decoded.image.pixels, image.pixels); // also proves the BGR -> RGB order
        } else {
            EXPECT_LT(meanAbsDiff(decoded.image, image), 3.0);
        }
    }
}

// PIL reads Adobe CMYK inverted and converts with its cmyk2rgb; OpenCV's formula (k - (255 - c)·k >> 8)
// comes out one level off on these values.
TEST(CmykJpeg, ConvertedAsPilConvertsThem)
{
    const std::uint8_t cmyk[] = {255, 0, 128, 200, 0, 255, 255, 255, 37, 90, 255, 0};
    std::uint8_t rgb[9] = {};
    imageio_detail::invertedCmykToRgb(cmyk, rgb, 3);
    EXPECT_EQ(std::vector<int>(rgb, rgb + 3), (std::vector<int> {200, 0, 100}));
    EXPECT_EQ(std::vector<int>(rgb + 3, rgb + 6), (std::vector<int> {0, 255, 255}));
    EXPECT_EQ(std::vector<int>(rgb + 6, rgb + 9), (std::vector<int> {0, 0, 0}));

    const auto file = test::scratchDir("imageio-cmyk") / "flat-cmyk.jpg";
    test::writeFlatCmykJpeg(file, 32, 24, {255, 0, 128, 200});
    const DecodedImage decoded = decodeImageFile(file);
    ASSERT_EQ(decoded.image.width, 32);
    ASSERT_EQ(decoded.image.height, 24);
    const std::uint8_t* centre = decoded.image.pixels.data() + 3 * (12 * 32 + 16);
    EXPECT_NEAR(centre[0], 200, 1);
    EXPECT_NEAR(centre[1], 0, 1);
    EXPECT_NEAR(centre[2], 100, 1);
}

// A JPEG with stray bytes between two markers decodes, and libjpeg's warning is logged with the file's
// name instead of reaching stderr bare.
TEST(Formats, JpegWarningsNameTheFile)
{
    Bytes bytes = encodeImage(gradientImage(40, 30), ImageFormat::Jpeg, 90);
    ASSERT_EQ(bytes[3], 0xE0); // APP0 (JFIF) after SOI; the stray bytes go after it
    const std::size_t afterApp0 = 4 + (std::size_t {bytes[4]} << 8 | bytes[5]);
    const int nextMarker = bytes[afterApp0 + 1];
    bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(afterApp0), {0x00, 0x11, 0x22});
    char expected[80];
    std::snprintf(
        expected, sizeof expected, "Corrupt JPEG data: 3 extraneous bytes before marker 0x%02x", nextMarker);
    const auto file = test::scratchDir("imageio-warnings") / "stray-bytes.jpg";
    writeBytes(file, bytes);
    std::vector<std::string> logged;
    setLogSink([&](LogLevel level, std::string_view message) {
        if (level == LogLevel::Warning)
            logged.emplace_back(message);
    });
    const DecodedImage decoded = decodeImageFile(file);
    setLogSink({});
    EXPECT_EQ(decoded.image.width, 40);
    ASSERT_EQ(decoded.warnings.size(), 1u);
    EXPECT_EQ(decoded.warnings[0], expected);
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_EQ(logged[0], file.string() + ": " + expected + " (decoded anyway)");
}

// OpenCV refuses animated WebP; the first frame is the photo, as in a file browser's thumbnail.
TEST(Formats, AnimatedWebpGivesItsFirstFrame)
{
    const Bytes bytes = test::animatedWebp(24, 16, {{200, 30, 40}, {10, 20, 250}});
    const ImageHeader header = readImageHeader(bytes);
    EXPECT_TRUE(header.animated);
    EXPECT_EQ(header.width, 24);
    const auto file = test::scratchDir("imageio-animated") / "animated.webp";
    writeBytes(file, bytes);
    const DecodedImage decoded = decodeImageFile(file);
    ASSERT_EQ(decoded.image.width, 24);
    ASSERT_EQ(decoded.image.height, 16);
    for (std::size_t i = 0; i < decoded.image.pixels.size(); i += 3)
        ASSERT_EQ(std::vector<int>(decoded.image.pixels.begin() + static_cast<std::ptrdiff_t>(i),
                      decoded.image.pixels.begin() + static_cast<std::ptrdiff_t>(i) + 3),
            (std::vector<int> {200, 30, 40}))
            << "pixel " << i / 3;
    EXPECT_FALSE(readImageHeader(encodeImage(gradientImage(8, 8), ImageFormat::WebP, 100)).animated);
}

TEST(Formats, TruncatedFilesOfEveryFormatFail)
{
    const auto dir = test::scratchDir("imageio-truncated");
    const RgbImage image = gradientImage(120, 80);
    for (ImageFormat format :
        {ImageFormat::Png, ImageFormat::Bmp, ImageFormat::Tiff, ImageFormat::WebP, ImageFormat::Jpeg}) {
        Bytes bytes = encodeImage(image, format, 90);
        bytes.resize(bytes.size() / 2);
        const auto file = dir / ("half." + std::string(imageFormatName(format)));
        writeBytes(file, bytes);
        const std::string message = decodeError(file);
        std::printf("[ cut    ] %s -> %s\n", file.filename().c_str(), message.c_str());
        EXPECT_TRUE(contains(message, file.string())) << imageFormatName(format) << ": " << message;
    }
}

// ---------------------------------------------------------------------------------------------------
// Hostile and broken files

TEST(BadFiles, EmptyFile)
{
    const auto file = test::scratchDir("imageio-bad") / "empty.jpg";
    writeBytes(file, {});
    const std::string message = decodeError(file);
    EXPECT_TRUE(contains(message, file.string())) << message;
    EXPECT_TRUE(contains(message, "empty")) << message;
}

TEST(BadFiles, TruncatedJpegIsNotFilledWithGrey)
{
    const Bytes jpeg = readBytes(fixtureImage("a01_landscape_640x480.jpg"));
    const auto dir = test::scratchDir("imageio-bad");
    for (std::size_t keep : {jpeg.size() / 2, jpeg.size() - 2, std::size_t {400}, std::size_t {3}}) {
        const auto file = dir / ("cut" + std::to_string(keep) + ".jpg");
        writeBytes(file, Bytes(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(keep)));
        const std::string message = decodeError(file);
        EXPECT_TRUE(contains(message, file.string())) << message;
        EXPECT_TRUE(contains(message, "truncated")) << message;
    }
    // Bytes after the end-of-image marker (common in camera files) are fine.
    Bytes trailing = jpeg;
    trailing.insert(trailing.end(), 100, 0x55);
    writeBytes(dir / "trailing.jpg", trailing);
    EXPECT_EQ(decodeError(dir / "trailing.jpg"), "");
}

TEST(BadFiles, TruncatedPng)
{
    const Bytes png = readBytes(fixtureImage("a02_portrait_480x640.png"));
    const auto file = test::scratchDir("imageio-bad") / "cut.png";
    writeBytes(file, Bytes(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(png.size() / 2)));
    const std::string message = decodeError(file);
    EXPECT_TRUE(contains(message, file.string())) << message;
    EXPECT_TRUE(contains(message, "truncated")) << message;
}

TEST(BadFiles, TextAndUnknownFormats)
{
    const auto dir = test::scratchDir("imageio-bad");
    const std::string text = "this is not a picture\n";
    writeBytes(dir / "text.jpg", Bytes(text.begin(), text.end()));
    const std::string textMessage = decodeError(dir / "text.jpg");
    EXPECT_TRUE(contains(textMessage, (dir / "text.jpg").string())) << textMessage;
    EXPECT_TRUE(contains(textMessage, "not an image")) << textMessage;

    writeBytes(dir / "anim.gif", {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0});
    const std::string gifMessage = decodeError(dir / "anim.gif");
    EXPECT_TRUE(contains(gifMessage, "unsupported image format (GIF)")) << gifMessage;

    Bytes noise(4096);
    for (std::size_t i = 0; i < noise.size(); ++i)
        noise[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
    writeBytes(dir / "noise.bin", noise);
    EXPECT_TRUE(contains(decodeError(dir / "noise.bin"), "not an image"));
}

TEST(BadFiles, HugeDeclaredSizeIsRefusedBeforeDecoding)
{
    const auto file = test::scratchDir("imageio-bad") / "huge.png";
    writeBytes(file, pngDeclaring(50000, 50000));
    const auto start = std::chrono::steady_clock::now();
    const std::string message = decodeError(file);
    const double ms
        = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(contains(message, file.string())) << message;
    EXPECT_TRUE(contains(message, "too large")) << message;
    EXPECT_TRUE(contains(message, "50000x50000")) << message;
    EXPECT_LT(ms, 100.0); // nothing was allocated or decoded

    DecodeOptions small;
    small.maxPixels = 1000;
    const std::string jpegMessage = decodeError(fixtureImage("a01_landscape_640x480.jpg"), small);
    EXPECT_TRUE(contains(jpegMessage, "too large")) << jpegMessage;
}

TEST(BadFiles, MissingUnreadableAndDirectory)
{
    const auto dir = test::scratchDir("imageio-bad");
    const std::string missing = decodeError(dir / "missing.jpg");
    EXPECT_TRUE(contains(missing, (dir / "missing.jpg").string())) << missing;
    EXPECT_TRUE(contains(missing, "cannot open: No such file or directory")) << missing;

    const std::string directory = decodeError(dir);
    EXPECT_TRUE(contains(directory, "is a directory")) << directory;

    const auto locked = dir / "locked.png";
    writeBytes(locked, readBytes(fixtureImage("a05_small_100x60.png")));
    std::filesystem::permissions(locked, std::filesystem::perms::none);
    const std::string message = decodeError(locked);
    if (::geteuid() == 0) {
        EXPECT_EQ(message, "") << "root reads any file";
    } else {
        EXPECT_TRUE(contains(message, locked.string())) << message;
        EXPECT_TRUE(contains(message, "Permission denied")) << message;
    }
    std::filesystem::permissions(locked, std::filesystem::perms::owner_all);
}

TEST(BadFiles, NonUtf8FileNames)
{
    const auto dir = test::scratchDir("imageio-bad");
    const auto good = dir / std::filesystem::path("caf\xE9-\xFF.png"); // Latin-1 bytes, invalid UTF-8
    writeBytes(good, readBytes(fixtureImage("a05_small_100x60.png")));
    EXPECT_EQ(decodeImageFile(good).image.width, 100);

    const auto bad = dir / std::filesystem::path("bad-\xFE.jpg");
    writeBytes(bad, {});
    EXPECT_TRUE(contains(decodeError(bad), bad.string()));
}

} // namespace
} // namespace pictor

namespace pictor {
namespace {

// A JPEG carrying the EXIF fields a camera writes, added with exiv2 as a camera's software would.
std::filesystem::path jpegWithCameraExif()
{
    RgbImage image(64, 48);
    std::fill(image.pixels.begin(), image.pixels.end(), std::uint8_t {120});
    const auto file = test::scratchDir("exif") / "camera.jpg";
    const auto bytes = encodeImage(image, ImageFormat::Jpeg);
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    auto edited = Exiv2::ImageFactory::open(file.string());
    edited->readMetadata();
    Exiv2::ExifData& exif = edited->exifData();
    exif["Exif.Photo.DateTimeOriginal"] = "2021:07:04 15:30:00";
    exif["Exif.Image.Make"] = "Canon";
    exif["Exif.Image.Model"] = "Canon EOS R5";
    exif["Exif.GPSInfo.GPSLatitudeRef"] = "S";
    exif["Exif.GPSInfo.GPSLatitude"] = "33/1 51/1 3600/100";
    exif["Exif.GPSInfo.GPSLongitudeRef"] = "E";
    exif["Exif.GPSInfo.GPSLongitude"] = "151/1 12/1 5400/100";
    edited->writeMetadata();
    return file;
}

TEST(ExifMetadata, DateCameraAndGpsAreRead)
{
    const DecodedImage decoded = decodeImageFile(jpegWithCameraExif());
    ASSERT_TRUE(decoded.takenAt.has_value());
    EXPECT_EQ(*decoded.takenAt, 1625412600); // 2021-07-04 15:30:00 as UTC
    EXPECT_EQ(decoded.cameraMake, "Canon");
    EXPECT_EQ(decoded.cameraModel, "Canon EOS R5");
    ASSERT_TRUE(decoded.gpsLatitude && decoded.gpsLongitude);
    EXPECT_NEAR(*decoded.gpsLatitude, -(33 + 51 / 60.0 + 36 / 3600.0), 1e-9);
    EXPECT_NEAR(*decoded.gpsLongitude, 151 + 12 / 60.0 + 54 / 3600.0, 1e-9);
}

TEST(ExifMetadata, AbsentMetadataStaysEmpty)
{
    const DecodedImage decoded
        = decodeImageFile(test::fixtureDir("clip-tiny-a") / "cases" / "a01_landscape_640x480.jpg");
    EXPECT_FALSE(decoded.takenAt.has_value());
    EXPECT_TRUE(decoded.cameraMake.empty());
    EXPECT_FALSE(decoded.gpsLatitude.has_value());
}

} // namespace
} // namespace pictor

namespace pictor {
namespace {

bool dominatedBy(const RgbImage& image, int channel)
{
    long sums[3] = {0, 0, 0};
    for (std::size_t i = 0; i < image.pixels.size(); ++i)
        sums[i % 3] += image.pixels[i];
    return sums[channel] > 2 * sums[(channel + 1) % 3] && sums[channel] > 2 * sums[(channel + 2) % 3];
}

TEST(CameraRaw, WithoutAPreviewTheMosaicIsDemosaicedAtHalfSizeAndTurnedUpright)
{
    const auto file = test::scratchDir("raw") / "IMG_0001.DNG";
    test::DngContent turnedRight; // a red scene, 64x48
    turnedRight.orientation = 6;
    test::writeDng(file, turnedRight);
    const DecodedImage decoded = decodeImageFile(file);
    EXPECT_EQ(decoded.fileWidth, 64);
    EXPECT_EQ(decoded.fileHeight, 48);
    EXPECT_EQ(decoded.exifOrientation, 6);
    EXPECT_EQ(decoded.image.width, 24); // half of 48, upright
    EXPECT_EQ(decoded.image.height, 32);
    EXPECT_TRUE(dominatedBy(decoded.image, 0));
    EXPECT_EQ(decoded.cameraMake, "Pictor");
    EXPECT_EQ(decoded.cameraModel, "Test Camera");
    ASSERT_TRUE(decoded.takenAt.has_value());
    EXPECT_EQ(*decoded.takenAt, 1622550600); // 2021-06-01 12:30:00 as UTC

    DecodeOptions asStored;
    asStored.applyExifOrientation = false;
    EXPECT_EQ(decodeImageFile(file, asStored).image.width, 32);
}

TEST(CameraRaw, ALargeEnoughEmbeddedPreviewIsUsedInsteadOfTheMosaic)
{
    const auto dir = test::scratchDir("raw");
    const auto bitmap = dir / "bitmap_preview.dng";
    test::DngContent withBitmap;
    withBitmap.orientation = 6;
    withBitmap.previewRgb = std::array<std::uint8_t, 3> {20, 40, 220};
    test::writeDng(bitmap, withBitmap);
    const DecodedImage fromBitmap = decodeImageFile(bitmap);
    EXPECT_EQ(fromBitmap.image.width, 30); // the 40x30 preview, upright
    EXPECT_EQ(fromBitmap.image.height, 40);
    EXPECT_TRUE(dominatedBy(fromBitmap.image, 2)) << "the blue preview, not the red mosaic";

    // Cameras embed a JPEG: it is decoded at the reduced scale the caller allows.
    RgbImage green(640, 480);
    for (std::size_t i = 0; i < green.pixels.size(); ++i)
        green.pixels[i] = i % 3 == 1 ? 200 : 30;
    const auto jpegPreview = dir / "jpeg_preview.NEF";
    test::DngContent withJpeg;
    withJpeg.previewJpeg = encodeImage(green, ImageFormat::Jpeg);
    withJpeg.previewWidth = 640;
    withJpeg.previewHeight = 480;
    test::writeDng(jpegPreview, withJpeg);
    DecodeOptions reduced;
    reduced.targetShortEdge = 224;
    const DecodedImage fromJpeg = decodeImageFile(jpegPreview, reduced);
    EXPECT_EQ(fromJpeg.image.width, 320);
    EXPECT_EQ(fromJpeg.image.height, 240);
    EXPECT_EQ(fromJpeg.scaleDenominator, 2);
    EXPECT_TRUE(dominatedBy(fromJpeg.image, 1));

    // A preview smaller than the caller needs gives way to the mosaic.
    DecodeOptions large;
    large.targetShortEdge = 100;
    EXPECT_TRUE(dominatedBy(decodeImageFile(bitmap, large).image, 0));
}

TEST(CameraRaw, DamagedAndForeignFilesSayWhy)
{
    const auto dir = test::scratchDir("raw");
    Bytes noise(4096);
    for (std::size_t i = 0; i < noise.size(); ++i)
        noise[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
    writeBytes(dir / "noise.CR2", noise);
    const std::string message = decodeError(dir / "noise.CR2");
    EXPECT_TRUE(contains(message, (dir / "noise.CR2").string())) << message;
    EXPECT_TRUE(contains(message, "cannot decode camera RAW")) << message;

    writeBytes(dir / "empty.nef", {});
    EXPECT_TRUE(contains(decodeError(dir / "empty.nef"), "empty file"));

    const auto whole = dir / "whole.dng";
    test::DngContent larger;
    larger.width = 256;
    larger.height = 192;
    test::writeDng(whole, larger);
    Bytes truncated = readBytes(whole);
    truncated.resize(truncated.size() / 2);
    writeBytes(dir / "truncated.dng", truncated);
    const std::string cut = decodeError(dir / "truncated.dng"); // refused or decoded past, never a crash
    EXPECT_TRUE(cut.empty() || contains(cut, "truncated.dng")) << cut;

    DecodeOptions tiny;
    tiny.maxPixels = 1000;
    EXPECT_TRUE(contains(decodeError(whole, tiny), "too large"));
    EXPECT_TRUE(isRawFileName("IMG_0001.CR2"));
    EXPECT_TRUE(isRawFileName("a.arw"));
    EXPECT_FALSE(isRawFileName("a.raw.jpg"));
    EXPECT_FALSE(isRawFileName("cr2"));
}

} // namespace
} // namespace pictor
