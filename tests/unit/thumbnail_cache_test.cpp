// The thumbnail cache: content-hash keyed paths, down-scaling that keeps the aspect ratio, on-demand
// creation from a file (EXIF orientation applied), and clear errors.
#include <csignal>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "core/error.h"
#include "core/imageio/decode.h"
#include "core/imageio/encode.h"
#include "indexer/thumbnail_cache.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

RgbImage gradient(int width, int height)
{
    RgbImage image(width, height);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            auto* p = image.row(y) + 3 * x;
            p[0] = static_cast<std::uint8_t>(255 * x / width);
            p[1] = static_cast<std::uint8_t>(255 * y / height);
            p[2] = 128;
        }
    return image;
}

TEST(ThumbnailCache, PathsAreKeyedByContentHash)
{
    const ThumbnailCache cache("/cache", 320);
    EXPECT_EQ(cache.pathFor(0x0123456789abcdefull), std::filesystem::path("/cache/01/0123456789abcdef.jpg"));
    EXPECT_EQ(cache.pathFor(0xffull), std::filesystem::path("/cache/00/00000000000000ff.jpg"));
    EXPECT_THROW(ThumbnailCache("/cache", 4), Error);
}

TEST(ThumbnailCache, StoreScalesDownKeepsAspectAndNeverEnlarges)
{
    const ThumbnailCache cache(test::scratchDir("thumbs-store") / "t", 320);
    EXPECT_FALSE(cache.contains(1));
    cache.store(1, gradient(1600, 900));
    ASSERT_TRUE(cache.contains(1));
    auto thumbnail = decodeImageFile(cache.pathFor(1)).image;
    EXPECT_EQ(thumbnail.width, 320);
    EXPECT_EQ(thumbnail.height, 180);
    cache.store(2, gradient(90, 200)); // already small
    thumbnail = decodeImageFile(cache.pathFor(2)).image;
    EXPECT_EQ(thumbnail.width, 90);
    EXPECT_EQ(thumbnail.height, 200);
    // No temporary files are left behind.
    for (const auto& entry : std::filesystem::recursive_directory_iterator(cache.dir())) {
        if (entry.is_regular_file()) {
            EXPECT_EQ(entry.path().extension(), ".jpg") << entry.path();
        }
    }
}

TEST(ThumbnailCache, EnsureDecodesOnceAndAppliesExifOrientation)
{
    const auto dir = test::scratchDir("thumbs-ensure");
    const auto file = dir / "wide.jpg";
    const auto bytes = encodeImage(gradient(2000, 1000), ImageFormat::Jpeg, 90);
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    const ThumbnailCache cache(dir / "cache", 256);
    const auto path = cache.ensure(file, 77);
    EXPECT_EQ(path, cache.pathFor(77));
    const auto thumbnail = decodeImageFile(path).image;
    EXPECT_EQ(thumbnail.width, 256);
    EXPECT_EQ(thumbnail.height, 128);
    // A second call finds it: the file is not read again (removing it proves it).
    std::filesystem::remove(file);
    EXPECT_EQ(cache.ensure(file, 77), path);
    EXPECT_THROW(cache.ensure(file, 78), Error); // no thumbnail and no file: a clear error

    // A real EXIF-rotated photo (orientation 6): the thumbnail stands upright like the decoded photo.
    const auto rotated = test::realInputsDir() / "exif-orientation" / "Landscape_6.jpg";
    ASSERT_TRUE(std::filesystem::exists(rotated)) << rotated;
    const auto small = decodeImageFile(cache.ensure(rotated, 99)).image;
    EXPECT_GT(small.width, small.height); // stored as portrait pixels, shown as a landscape
    EXPECT_EQ(small.width, 256);
}

TEST(ThumbnailCache, AnUnwritableFolderIsAClearError)
{
    const auto dir = test::scratchDir("thumbs-unwritable");
    std::ofstream(dir / "file") << "not a folder";
    const ThumbnailCache cache(dir / "file" / "cache", 64);
    try {
        cache.store(5, gradient(100, 100));
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("thumbnail"), std::string::npos) << e.what();
    }
}

// A failed write says why (here the file size limit stands in for a full disk: the write fails with EFBIG
// as it would with ENOSPC), and leaves no partial file behind.
TEST(ThumbnailCache, AFailedWriteSaysWhyAndLeavesNothing)
{
    const auto dir = test::scratchDir("thumbs-full");
    const ThumbnailCache cache(dir, 256);
    rlimit saved {};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
    const auto savedHandler = signal(SIGXFSZ, SIG_IGN);
    const rlimit small {512, saved.rlim_max};
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    std::string message;
    try {
        cache.store(6, gradient(400, 300));
    } catch (const Error& e) {
        message = e.what();
    }
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, savedHandler);
    EXPECT_NE(
        message.find("cannot write " + cache.pathFor(6).string() + ": File too large"), std::string::npos)
        << message;
    EXPECT_FALSE(cache.contains(6));
    EXPECT_TRUE(std::filesystem::is_empty(cache.pathFor(6).parent_path()));
}

} // namespace
} // namespace pictor
