// Catalog: metadata filters and paged listings (full rows in date or name order, one query per page).
#include <string>

#include "core/error.h"
#include "indexer/catalog.h"
#include "indexer/catalog_impl.h"

namespace pictor {

using catalog_detail::asciiLower;
using catalog_detail::Blob;
using catalog_detail::kPhotoColumns;
using catalog_detail::Query;
using catalog_detail::readPhoto;

namespace {

constexpr const char* kDateTaken = "coalesce(taken_at, mtime_ns / 1000000000)";
// The file name: the text after the last '/' (rtrim drops every trailing character that is not a '/').
constexpr const char* kFileName = "substr(CAST(path AS TEXT), length(rtrim(CAST(path AS TEXT), "
                                  "replace(CAST(path AS TEXT), '/', ''))) + 1)";

// The WHERE clause of `filter` and its values, bound in order by bind().
class FilterClause {
public:
    explicit FilterClause(const PhotoFilter& filter) : filter_(filter)
    {
        sql_ = " WHERE 1";
        if (filter.folder) {
            std::string folder = std::filesystem::absolute(*filter.folder).lexically_normal().native();
            while (!folder.empty() && folder.back() == '/')
                folder.pop_back();
            // Paths below the folder sort between "<folder>/" and "<folder>0" ('0' follows '/').
            lowBound_ = folder + '/';
            highBound_ = folder + '0';
            sql_ += " AND path >= ? AND path < ?";
        }
        if (filter.takenFrom)
            sql_ += std::string(" AND ") + kDateTaken + " >= ?";
        if (filter.takenBefore)
            sql_ += std::string(" AND ") + kDateTaken + " < ?";
        if (filter.camera)
            sql_ += " AND instr(lower(camera_make || ' ' || camera_model), ?) > 0";
        if (!filter.fileTypes.empty()) {
            sql_ += " AND lower(file_type) IN (?";
            for (std::size_t i = 1; i < filter.fileTypes.size(); ++i)
                sql_ += ", ?";
            sql_ += ')';
        }
        for (std::size_t i = 0; i < filter.tags.size(); ++i)
            sql_ += " AND id IN (SELECT photo_id FROM tags WHERE tag = ? COLLATE NOCASE)";
        if (filter.generated)
            sql_ += *filter.generated
                ? " AND id IN (SELECT photo_id FROM generations WHERE photo_id IS NOT NULL)"
                : " AND id NOT IN (SELECT photo_id FROM generations WHERE photo_id IS NOT NULL)";
    }

    const std::string& sql() const { return sql_; }

    // Binds the values from parameter 1 on; returns the last index used.
    int bind(Query& query) const
    {
        int index = 0;
        if (filter_.folder) {
            query.bind(++index, Blob {lowBound_});
            query.bind(++index, Blob {highBound_});
        }
        if (filter_.takenFrom)
            query.bind(++index, *filter_.takenFrom);
        if (filter_.takenBefore)
            query.bind(++index, *filter_.takenBefore);
        if (filter_.camera)
            query.bind(++index, asciiLower(*filter_.camera));
        for (const auto& type : filter_.fileTypes)
            query.bind(++index, asciiLower(type));
        for (const auto& tag : filter_.tags)
            query.bind(++index, normalizeTag(tag));
        return index;
    }

private:
    const PhotoFilter& filter_;
    std::string sql_;
    std::string lowBound_, highBound_;
};

std::string orderBy(PhotoOrder order)
{
    switch (order) {
    case PhotoOrder::NewestFirst:
        return std::string(" ORDER BY ") + kDateTaken + " DESC, id DESC";
    case PhotoOrder::OldestFirst:
        return std::string(" ORDER BY ") + kDateTaken + " ASC, id ASC";
    case PhotoOrder::Name:
        return std::string(" ORDER BY ") + kFileName + ", id";
    }
    return " ORDER BY id";
}

} // namespace

std::vector<std::int64_t> Catalog::filterPhotos(const PhotoFilter& filter) const
{
    const FilterClause where(filter);
    auto query = impl_->db.prepareOnce("SELECT id FROM photos" + where.sql() + " ORDER BY id");
    where.bind(query);
    std::vector<std::int64_t> ids;
    while (query.step())
        ids.push_back(query.int64(0));
    return ids;
}

std::vector<PhotoRecord> Catalog::listPhotos(
    PhotoOrder order, std::int64_t offset, std::int64_t limit, const PhotoFilter& filter) const
{
    PICTOR_CHECK(offset >= 0 && limit >= 0, "listPhotos: offset and limit must not be negative");
    std::vector<PhotoRecord> out;
    if (limit == 0)
        return out;
    const FilterClause where(filter);
    auto query = impl_->db.prepareOnce(std::string("SELECT ") + kPhotoColumns + " FROM photos" + where.sql()
        + orderBy(order) + " LIMIT ? OFFSET ?");
    int index = where.bind(query);
    query.bind(++index, limit);
    query.bind(++index, offset);
    out.reserve(static_cast<std::size_t>(std::min<std::int64_t>(limit, 65536)));
    while (query.step())
        out.push_back(readPhoto(query));
    return out;
}

std::int64_t Catalog::countPhotos(const PhotoFilter& filter) const
{
    const FilterClause where(filter);
    auto query = impl_->db.prepareOnce("SELECT count(*) FROM photos" + where.sql());
    where.bind(query);
    return query.step() ? query.int64(0) : 0;
}

} // namespace pictor
