#include "indexer/thumbnail_cache.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <unistd.h>

#include "core/error.h"
#include "core/imageio/decode.h"
#include "core/imageio/encode.h"

namespace pictor {
namespace {

constexpr int kJpegQuality = 85;

std::string hex16(std::uint64_t value)
{
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
}

// Unique per process and call, so concurrent writers of the same thumbnail never share a temporary file.
std::filesystem::path temporaryNameFor(const std::filesystem::path& target)
{
    static std::atomic<std::uint64_t> counter {0};
    return target.string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

} // namespace

std::filesystem::path ThumbnailCache::defaultDir()
{
    if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache == '/')
        return std::filesystem::path(cache) / "pictor" / "thumbnails";
    const char* home = std::getenv("HOME");
    PICTOR_CHECK(home && *home, "cannot find the thumbnail cache folder: HOME is not set");
    return std::filesystem::path(home) / ".cache" / "pictor" / "thumbnails";
}

ThumbnailCache::ThumbnailCache(std::filesystem::path dir, int size) : dir_(std::move(dir)), size_(size)
{
    PICTOR_CHECK(size_ >= 16 && size_ <= 4096, "thumbnail size must be 16..4096 pixels, not ", size_);
}

std::filesystem::path ThumbnailCache::pathFor(std::uint64_t contentHash) const
{
    const std::string name = hex16(contentHash);
    return dir_ / name.substr(0, 2) / (name + ".jpg");
}

bool ThumbnailCache::contains(std::uint64_t contentHash) const
{
    std::error_code error;
    return std::filesystem::is_regular_file(pathFor(contentHash), error);
}

void ThumbnailCache::store(std::uint64_t contentHash, const RgbImage& image) const
{
    const std::vector<std::uint8_t> jpeg
        = encodeImage(scaleToFit(image, size_), ImageFormat::Jpeg, kJpegQuality);
    const std::filesystem::path target = pathFor(contentHash);
    std::error_code error;
    std::filesystem::create_directories(target.parent_path(), error);
    PICTOR_CHECK(
        !error, "cannot create the thumbnail folder ", target.parent_path().string(), ": ", error.message());
    const std::filesystem::path temporary = temporaryNameFor(target);
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(jpeg.data()), static_cast<std::streamsize>(jpeg.size()));
        out.close();
        if (!out) {
            std::filesystem::remove(temporary, error);
            PICTOR_FAIL("cannot write the thumbnail ", target.string());
        }
    }
    std::filesystem::rename(temporary, target, error);
    if (error) {
        std::filesystem::remove(temporary, error);
        PICTOR_FAIL("cannot write the thumbnail ", target.string(), ": ", error.message());
    }
}

std::filesystem::path ThumbnailCache::ensure(
    const std::filesystem::path& file, std::uint64_t contentHash) const
{
    if (contains(contentHash))
        return pathFor(contentHash);
    DecodeOptions options;
    options.targetShortEdge = size_; // a short edge >= size keeps the long edge >= size too
    store(contentHash, decodeImageFile(file, options).image);
    return pathFor(contentHash);
}

} // namespace pictor
