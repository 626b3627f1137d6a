#include "ui/catalog_reader.h"

#include <unordered_map>
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
    std::unordered_map<std::int64_t, std::size_t> rootIndex;
    for (const auto& root : catalog.roots()) {
        RootState state;
        state.id = root.id;
        state.path = root.path;
        std::error_code error;
        state.missing = !std::filesystem::is_directory(root.path, error);
        rootPaths.push_back(root.path);
        rootIndex.emplace(root.id, listing.roots.size());
        listing.roots.push_back(std::move(state));
    }
    listing.tags = catalog.tagCounts();
    // Full rows (date taken included) in one query, newest first: one sort of the table (OFFSET pages
    // would sort it again for every page).
    const std::int64_t total = catalog.countPhotos();
    listing.entries.reserve(static_cast<std::size_t>(total));
    for (const auto& photo : catalog.listPhotos(PhotoOrder::NewestFirst, 0, total)) {
        if (cancel && *cancel)
            return listing;
        GalleryEntry entry;
        entry.id = photo.id;
        entry.file = photo.path;
        entry.contentHash = photo.contentHash;
        entry.size = photo.size;
        entry.date = photo.takenAt.value_or(photo.mtimeNs / 1'000'000'000);
        if (scanDisk)
            known.insert(photo.path.native());
        if (const auto found = rootIndex.find(photo.rootId); found != rootIndex.end())
            ++listing.roots[found->second].cataloged;
        listing.entries.push_back(std::move(entry));
    }
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

std::optional<std::string> CatalogReader::failureOf(
    const std::filesystem::path& libraryDir, const std::filesystem::path& file)
{
    if (!hasCatalog(libraryDir))
        return std::nullopt;
    const auto failure = Catalog::open(libraryDir, Catalog::OpenMode::ReadOnly).failureOf(file);
    return failure ? std::optional<std::string>(failure->reason) : std::nullopt;
}

std::optional<PhotoDetails> CatalogReader::details(const std::filesystem::path& libraryDir, std::int64_t id)
{
    if (id <= 0 || !hasCatalog(libraryDir))
        return std::nullopt;
    const Catalog catalog = Catalog::open(libraryDir, Catalog::OpenMode::ReadOnly);
    auto photo = catalog.photo(id);
    if (!photo)
        return std::nullopt;
    PhotoDetails details {
        std::move(*photo), catalog.captions(id), catalog.tags(id), catalog.generationOf(id), {}, {}};
    if (details.generation && details.generation->sourcePhotoId)
        details.source = catalog.photo(*details.generation->sourcePhotoId);
    for (const GenerationRow& made : catalog.generationsFrom(id))
        if (made.photoId)
            if (auto picture = catalog.photo(*made.photoId))
                details.madeFromIt.push_back(std::move(*picture));
    return details;
}

} // namespace pictor::ui
