// HEIF/HEIC photos (libheif): pixels, size, EXIF date/camera/GPS from the HEIF metadata block, the pixel
// cap before decoding, and damaged files.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <exiv2/exiv2.hpp>
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/imageio/decode.h"
#include "core/imageio/image_header.h"
#include "tests/support/heic_writer.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

RgbImage gradient(int width, int height)
{
    RgbImage image(width, height);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            auto* p = image.row(y) + 3 * x;
            p[0] = static_cast<std::uint8_t>(40 + 160 * x / width);
            p[1] = static_cast<std::uint8_t>(40 + 160 * y / height);
            p[2] = 90;
        }
    return image;
}

std::vector<std::uint8_t> cameraExif()
{
    Exiv2::ExifData exif;
    exif["Exif.Photo.DateTimeOriginal"] = "2023:12:24 18:05:00";
    exif["Exif.Image.Make"] = "Apple";
    exif["Exif.Image.Model"] = "iPhone 15";
    exif["Exif.GPSInfo.GPSLatitudeRef"] = "N";
    exif["Exif.GPSInfo.GPSLatitude"] = "48/1 51/1 0/1";
    exif["Exif.GPSInfo.GPSLongitudeRef"] = "E";
    exif["Exif.GPSInfo.GPSLongitude"] = "2/1 21/1 0/1";
    Exiv2::Blob blob;
    Exiv2::ExifParser::encode(blob, Exiv2::littleEndian, exif);
    return {blob.begin(), blob.end()};
}

std::vector<std::uint8_t> readAll(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

TEST(Heif, DecodesPixelsSizeAndCameraExif)
{
    const auto file = test::scratchDir("heif") / "IMG_0001.HEIC";
    const RgbImage original = gradient(96, 64);
    test::writeHeic(file, original, 95, cameraExif());
    EXPECT_EQ(readImageHeader(readAll(file)).format, ImageFormat::Heif);

    const DecodedImage decoded = decodeImageFile(file);
    ASSERT_EQ(decoded.image.width, 96);
    ASSERT_EQ(decoded.image.height, 64);
    EXPECT_EQ(decoded.fileWidth, 96);
    EXPECT_EQ(decoded.fileHeight, 64);
    double difference = 0;
    for (std::size_t i = 0; i < original.pixels.size(); ++i)
        difference += std::abs(int {original.pixels[i]} - int {decoded.image.pixels[i]});
    EXPECT_LT(difference / static_cast<double>(original.pixels.size()), 6.0); // lossy HEVC, smooth input
    ASSERT_TRUE(decoded.takenAt.has_value());
    EXPECT_EQ(*decoded.takenAt, 1703441100); // 2023-12-24 18:05:00 as UTC
    EXPECT_EQ(decoded.cameraMake, "Apple");
    EXPECT_EQ(decoded.cameraModel, "iPhone 15");
    ASSERT_TRUE(decoded.gpsLatitude && decoded.gpsLongitude);
    EXPECT_NEAR(*decoded.gpsLatitude, 48 + 51 / 60.0, 1e-9);
    EXPECT_NEAR(*decoded.gpsLongitude, 2 + 21 / 60.0, 1e-9);
}

TEST(Heif, WithoutExifTheFieldsStayEmpty)
{
    const auto file = test::scratchDir("heif-plain") / "plain.heic";
    test::writeHeic(file, gradient(32, 48));
    const DecodedImage decoded = decodeImageFile(file);
    EXPECT_EQ(decoded.image.width, 32);
    EXPECT_EQ(decoded.image.height, 48);
    EXPECT_FALSE(decoded.takenAt.has_value());
    EXPECT_TRUE(decoded.cameraMake.empty());
}

TEST(Heif, PixelCapIsCheckedBeforeDecoding)
{
    const auto file = test::scratchDir("heif-cap") / "big.heic";
    test::writeHeic(file, gradient(128, 96));
    DecodeOptions options;
    options.maxPixels = 128 * 96 - 1;
    try {
        decodeImageFile(file, options);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("image too large: 128x96"), std::string::npos) << e.what();
    }
}

TEST(Heif, DamagedFilesFailWithAReasonNamingTheFile)
{
    const auto dir = test::scratchDir("heif-bad");
    test::writeHeic(dir / "good.heic", gradient(64, 64));
    const auto bytes = readAll(dir / "good.heic");
    for (const std::size_t keep : {std::size_t {12}, std::size_t {40}, bytes.size() / 2, bytes.size() - 10}) {
        const auto file = dir / ("cut-" + std::to_string(keep) + ".heic");
        std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), keep);
        try {
            decodeImageFile(file);
            ADD_FAILURE() << "a HEIC cut to " << keep << " bytes decoded";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("HEIF"), std::string::npos) << e.what();
        }
    }
}

} // namespace
} // namespace pictor
