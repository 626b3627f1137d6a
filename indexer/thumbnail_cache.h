// Thumbnails: JPEG files keyed by the photo's content hash, so a moved or renamed photo keeps its
// thumbnail and a modified one gets a new one. The indexer writes them from the pixels it already decoded
// for the model; the gallery asks for one and gets a file path (made on demand when missing).
//
// Layout: <dir>/<first two hex digits>/<16 hex digits>.jpg, longest edge `size` pixels (never enlarged),
// EXIF orientation already applied, JPEG quality 85, written to a temporary file then renamed.
#pragma once

#include <cstdint>
#include <filesystem>

#include "core/image.h"

namespace pictor {

class ThumbnailCache {
public:
    static constexpr int kDefaultSize = 320;

    // $XDG_CACHE_HOME/pictor/thumbnails, else ~/.cache/pictor/thumbnails.
    static std::filesystem::path defaultDir();

    explicit ThumbnailCache(std::filesystem::path dir = defaultDir(), int size = kDefaultSize);

    const std::filesystem::path& dir() const { return dir_; }
    int size() const { return size_; }

    std::filesystem::path pathFor(std::uint64_t contentHash) const;
    bool contains(std::uint64_t contentHash) const;

    // Scales `image` (already oriented) down to the cache's size and writes it. Throws pictor::Error on
    // a write failure (the caller decides whether that matters).
    void store(std::uint64_t contentHash, const RgbImage& image) const;

    // The thumbnail of `file`, decoding the file (reduced-size) when the cache has none yet. Throws
    // pictor::Error when the file cannot be decoded. Safe to call from several threads.
    std::filesystem::path ensure(const std::filesystem::path& file, std::uint64_t contentHash) const;

private:
    std::filesystem::path dir_;
    int size_;
};

} // namespace pictor
