// A library catalog of N synthetic photos, written in seconds without any image file: camera-like rows
// (dated one minute apart, folders by year and month) and, when a model id is given, one random unit
// embedding per photo for that model, so SearchService and the desktop window search them as if indexed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "indexer/catalog.h"

namespace pictor::bench {

struct SyntheticCatalogOptions {
    std::filesystem::path root; // the photos' folder (need not exist)
    std::int64_t photos = 10000;
    std::string modelId; // empty: no embeddings
    int dimension = 512;
    std::uint64_t seed = 0;
    std::int64_t perTransaction = 1000;
    // Also create each photo as a sparse file of its recorded size and mtime under `root` (which must then
    // be a real folder), so that a scan finds the library unchanged.
    bool createFiles = false;
    // Called after each committed transaction with the photos written so far.
    std::function<void(std::int64_t)> onCommit;
};

// Adds the root and the photos (paths <root>/<year>/<month>/IMG_<n>.jpg); returns the root's id.
std::int64_t fillSyntheticCatalog(Catalog& catalog, const SyntheticCatalogOptions& options);

// The content hash fillSyntheticCatalog gives photo `index` (so thumbnails can be placed for it).
std::uint64_t syntheticContentHash(std::uint64_t seed, std::int64_t index);

} // namespace pictor::bench
