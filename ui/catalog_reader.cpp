#include "ui/catalog_reader.h"

#include <algorithm>
#include <unordered_set>

namespace pictor::ui {

bool CatalogReader::hasCatalog(const std::filesystem::path& libraryDir)
{
    std::error_code error;
    return std::filesystem::is_regular_file(libraryDir / Catalog::kFileName, error);
}

LibraryListing CatalogReader::list(const std::filesystem::path& libraryDir, const ScanOptions& scan,
    bool scanDisk, const std::atomic<bool>* cancel)
{
    LibraryListing listing;
    if (!hasCatalog(libraryDir))
        return listing;
    listing.hasCatalog = true;
    const Catalog catalog = Catalog::open(libraryDir, Catalog::OpenMode::ReadOnly);
    std::unordered_set<std::string> known;
    std::vector<std::filesystem::path> rootPaths;
    for (const auto& root : catalog.roots()) {
        RootState state;
        state.id = root.id;
        state.path = root.path;
        for (const auto& file : catalog.listPhotosUnder(root.id)) {
            if (cancel && *cancel)
                return listing;
            GalleryEntry entry;
            entry.id = file.id;
            entry.file = file.path;
            entry.contentHash = file.contentHash;
            entry.size = file.size;
            entry.date = file.mtimeNs / 1'000'000'000;
            // The date taken needs the full row; the statement is cached, so this is a primary-key lookup.
            if (const auto record = catalog.photo(file.id); record && record->takenAt)
                entry.date = *record->takenAt;
            if (scanDisk)
                known.insert(file.path.native());
            listing.entries.push_back(std::move(entry));
            ++state.cataloged;
        }
        std::error_code error;
        state.missing = !std::filesystem::is_directory(root.path, error);
        rootPaths.push_back(root.path);
        listing.roots.push_back(std::move(state));
    }
    std::sort(listing.entries.begin(), listing.entries.end(),
        [](const GalleryEntry& a, const GalleryEntry& b) { return a.id < b.id; });
    if (!scanDisk || rootPaths.empty())
        return listing;

    ScanOptions options = scan;
    options.cancel = cancel;
    const ScanResult found = scanRoots(rootPaths, options);
    for (const auto& file : found.files) {
        if (known.contains(file.path.native()))
            continue;
        GalleryEntry entry;
        entry.file = file.path;
        entry.size = file.size;
        entry.date = file.mtimeNs / 1'000'000'000;
        for (auto& root : listing.roots)
            if (isUnder(file.path, root.path)) {
                ++root.waiting;
                break;
            }
        listing.entries.push_back(std::move(entry));
    }
    return listing;
}

std::optional<PhotoDetails> CatalogReader::details(const std::filesystem::path& libraryDir, std::int64_t id)
{
    if (id <= 0 || !hasCatalog(libraryDir))
        return std::nullopt;
    const Catalog catalog = Catalog::open(libraryDir, Catalog::OpenMode::ReadOnly);
    auto photo = catalog.photo(id);
    if (!photo)
        return std::nullopt;
    return PhotoDetails {std::move(*photo), catalog.captions(id), catalog.tags(id)};
}

} // namespace pictor::ui
