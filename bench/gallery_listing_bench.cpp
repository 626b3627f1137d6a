// The gallery's library listing on a synthetic catalog (--photos rows, default 100,000; no image files):
// the paged listing (Catalog::listPhotos, pages of 8192 full rows) in date and name order, the first and
// the last page, every row in one query, the count, and the listing the gallery used before
// (listPhotosUnder + one photo(id) per row). Prints one JSON line.
//
//   gallery_listing_bench [--photos 100000] [--work DIR]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "core/error.h"
#include "indexer/catalog.h"

namespace fs = std::filesystem;
using pictor::Catalog;
using pictor::PhotoOrder;

namespace {

constexpr std::int64_t kPage = 8192;

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void fill(Catalog& catalog, const fs::path& root, std::int64_t photos)
{
    std::mt19937_64 rng(7);
    const std::int64_t rootId = catalog.addRoot(root);
    Catalog::Transaction transaction(catalog);
    for (std::int64_t i = 0; i < photos; ++i) {
        pictor::PhotoRecord photo;
        photo.rootId = rootId;
        photo.path = root / ("folder_" + std::to_string(i / 500))
            / ("IMG_" + std::to_string(rng() % 1000000) + "_" + std::to_string(i) + ".jpg");
        photo.size = 2'000'000 + static_cast<std::int64_t>(rng() % 4'000'000);
        photo.mtimeNs = (1'400'000'000 + static_cast<std::int64_t>(rng() % 300'000'000)) * 1'000'000'000LL;
        if (i % 3 != 0)
            photo.takenAt = 1'400'000'000 + static_cast<std::int64_t>(rng() % 300'000'000);
        photo.contentHash = rng();
        photo.width = 4000;
        photo.height = 3000;
        photo.fileType = "jpeg";
        catalog.upsertPhoto(photo);
    }
    transaction.commit();
}

double pagedListing(const Catalog& catalog, PhotoOrder order, std::int64_t expected)
{
    const auto start = std::chrono::steady_clock::now();
    std::int64_t rows = 0;
    for (std::int64_t offset = 0;; offset += kPage) {
        const auto page = catalog.listPhotos(order, offset, kPage);
        rows += static_cast<std::int64_t>(page.size());
        if (static_cast<std::int64_t>(page.size()) < kPage)
            break;
    }
    PICTOR_CHECK(rows == expected, "listed ", rows, " rows of ", expected);
    return secondsSince(start);
}

} // namespace

int main(int argc, char** argv)
{
    std::int64_t photos = 100000;
    fs::path work = fs::temp_directory_path() / "pictor-gallery-listing-bench";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i];
        if (arg == "--photos")
            photos = std::stoll(argv[i + 1]);
        else if (arg == "--work")
            work = argv[i + 1];
    }
    try {
        fs::remove_all(work);
        const fs::path libraryDir = work / "library";
        auto start = std::chrono::steady_clock::now();
        {
            Catalog writer = Catalog::open(libraryDir);
            fill(writer, work / "photos", photos);
        }
        const double insert = secondsSince(start);
        const Catalog catalog = Catalog::open(libraryDir, Catalog::OpenMode::ReadOnly);

        start = std::chrono::steady_clock::now();
        const std::int64_t count = catalog.countPhotos();
        const double countSeconds = secondsSince(start);
        const double newest = pagedListing(catalog, PhotoOrder::NewestFirst, photos);
        const double byName = pagedListing(catalog, PhotoOrder::Name, photos);
        start = std::chrono::steady_clock::now();
        const auto deep = catalog.listPhotos(PhotoOrder::NewestFirst, photos - kPage, kPage);
        const double deepPage = secondsSince(start);
        start = std::chrono::steady_clock::now();
        const auto first = catalog.listPhotos(PhotoOrder::NewestFirst, 0, kPage);
        const double firstPage = secondsSince(start);

        start = std::chrono::steady_clock::now();
        const auto all = catalog.listPhotos(PhotoOrder::NewestFirst, 0, count);
        const double oneQuery = secondsSince(start);
        start = std::chrono::steady_clock::now();
        const auto allByName = catalog.listPhotos(PhotoOrder::Name, 0, count);
        const double oneQueryByName = secondsSince(start);
        PICTOR_CHECK(static_cast<std::int64_t>(all.size()) == photos && allByName.size() == all.size(),
            "one query listed ", all.size(), " rows");

        // Before: the rows of each root, then the full row of each photo for its date taken.
        start = std::chrono::steady_clock::now();
        std::int64_t dated = 0;
        for (const auto& root : catalog.roots())
            for (const auto& file : catalog.listPhotosUnder(root.id))
                if (const auto record = catalog.photo(file.id); record && record->takenAt)
                    ++dated;
        const double perRow = secondsSince(start);

        std::printf(
            "{\"event\":\"gallery_listing\",\"photos\":%lld,\"seconds_insert\":%.3f,\"seconds_count\":%.4f,"
            "\"seconds_list_newest_first\":%.3f,\"seconds_list_by_name\":%.3f,"
            "\"seconds_first_page\":%.4f,\"seconds_last_page\":%.4f,\"page_rows\":%lld,"
            "\"seconds_per_row_lookups_before\":%.3f,\"rows_last_page\":%zu,\"rows_first_page\":%zu,"
            "\"dated\":%lld,\"seconds_all_rows_one_query\":%.3f,\"seconds_all_rows_one_query_by_name\":%.3f}"
            "\n",
            static_cast<long long>(count), insert, countSeconds, newest, byName, firstPage, deepPage,
            static_cast<long long>(kPage), perRow, deep.size(), first.size(), static_cast<long long>(dated),
            oneQuery, oneQueryByName);
        fs::remove_all(work);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gallery_listing_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
