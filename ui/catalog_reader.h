// Read-only questions to the library, asked from worker threads (QThreadPool): each call opens its own
// read-only connection (a Catalog is one connection for one thread), so nothing here touches the GUI
// thread or the writer. Nothing here is Qt-specific beyond value types.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "indexer/catalog.h"
#include "indexer/scanner.h"

namespace pictor::ui {

// One photo of the gallery: a catalog row, or a file on disk the catalog does not hold yet (id 0).
struct GalleryEntry {
    std::int64_t id = 0;
    std::filesystem::path file;
    std::uint64_t contentHash = 0; // valid when id != 0
    std::int64_t date = 0; // date taken, else modification time (unix seconds)
    std::int64_t size = 0;
};

struct RootState {
    std::int64_t id = 0;
    std::filesystem::path path;
    std::int64_t cataloged = 0; // photos in the catalog below the root
    std::int64_t waiting = 0; // photo files on disk the catalog does not hold yet
    bool missing = false; // the folder cannot be read now
};

struct LibraryListing {
    bool hasCatalog = false;
    std::string problem; // why the library cannot be read (a damaged or newer catalog); empty when it can
    std::vector<GalleryEntry> entries; // catalog rows newest first, then files not yet indexed by path
    std::vector<RootState> roots;
    std::vector<std::pair<std::string, std::int64_t>> tags; // every tag and its photo count
};

struct PhotoDetails {
    PhotoRecord photo;
    std::vector<CaptionRecord> captions;
    std::vector<TagRecord> tags;
    std::optional<GenerationRow> generation; // a generated picture: how it was made
    std::optional<PhotoRecord> source; // ... and the library photo it was made from
    std::vector<PhotoRecord> madeFromIt; // a photo: the generated pictures made from it
};

class CatalogReader {
public:
    // Every photo below the library's roots: the catalog's rows, and (when `scanDisk`) the photo files
    // found on disk that the catalog does not hold yet, so a folder shows before it is indexed.
    static LibraryListing list(const std::filesystem::path& libraryDir, const ScanOptions& scan,
        bool scanDisk, const std::atomic<bool>* cancel = nullptr);
    static std::optional<PhotoDetails> details(const std::filesystem::path& libraryDir, std::int64_t id);
    // Why a file shown but not in the catalog could not be indexed (nullopt: it was not tried yet).
    static std::optional<std::string> failureOf(
        const std::filesystem::path& libraryDir, const std::filesystem::path& file);
    static bool hasCatalog(const std::filesystem::path& libraryDir);
};

} // namespace pictor::ui
