#include "indexer/thumbnail_cache.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file_descriptor.h"
#include "core/imageio/decode.h"
#include "core/imageio/encode.h"
#include "indexer/atomic_file.h"

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
    try { // no fsync: a thumbnail lost in a crash is made again; a full disk must say so, though
        FileDescriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        PICTOR_CHECK(
            fd.get() >= 0, "cannot write the thumbnail ", target.string(), ": ", std::strerror(errno));
        writeAll(fd.get(), std::string(jpeg.begin(), jpeg.end()), target);
        PICTOR_CHECK(::close(fd.release()) == 0, "cannot write the thumbnail ", target.string(), ": ",
            std::strerror(errno));
    } catch (const Error&) {
        std::filesystem::remove(temporary, error);
        throw;
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
