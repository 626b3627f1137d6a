// Internal to the catalog: the state behind Catalog and helpers shared by its source files.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "indexer/catalog.h"
#include "indexer/catalog_sqlite.h"

namespace pictor {

struct Catalog::Impl {
    catalog_detail::Db db;
    bool readOnly = false;
    int schemaVersion = 0;
    std::string identity;

    Impl(const std::filesystem::path& file, int flags) : db(file, flags) { }

    // Rewrites the photo's full-text row from its path, root, captions and tags. `isNew`: the photo was
    // just inserted, so it has no row yet (ids are never reused) and no captions or tags.
    void refreshSearchText(std::int64_t photoId, bool isNew = false);
    void checkWritable() const;
};

namespace catalog_detail {

// The photos table's columns in the order readPhoto() reads them.
inline constexpr const char* kPhotoColumns
    = "id, root_id, path, size, mtime_ns, content_hash, width, height, orientation, taken_at, camera_make, "
      "camera_model, gps_lat, gps_lon, file_type, indexed_at";
// One row selected with kPhotoColumns.
PhotoRecord readPhoto(const Query& query);

// Valid UTF-8 copy of arbitrary bytes: each invalid sequence becomes U+FFFD.
std::string lossyUtf8(std::string_view bytes);
std::string asciiLower(std::string_view text);

} // namespace catalog_detail
} // namespace pictor
