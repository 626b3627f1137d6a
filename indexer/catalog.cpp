// Catalog: opening (file checks, pragmas, migrations), transactions, roots, photos, failures, jobs,
// counts and the integrity check. Full text, filters, captions and tags are in catalog_search.cpp,
// embeddings in catalog_embeddings.cpp, the schema in catalog_schema.cpp.
#include "indexer/catalog.h"

#include <array>
#include <cstring>
#include <fstream>
#include <system_error>

#include <sqlite3.h>

#include "core/error.h"
#include "indexer/catalog_impl.h"
#include "indexer/catalog_schema.h"

namespace pictor {

using catalog_detail::Blob;
using catalog_detail::catalogLabel;
using catalog_detail::kPhotoColumns;
using catalog_detail::pathBlob;
using catalog_detail::Query;
using catalog_detail::readPhoto;
using catalog_detail::Savepoint;
using catalog_detail::unixNow;

namespace {

constexpr int kBusyTimeoutMs = 10000;

std::int64_t hashToColumn(std::uint64_t hash)
{
    return static_cast<std::int64_t>(hash); // two's complement bit pattern, kept exactly
}

std::uint64_t hashFromColumn(std::int64_t value)
{
    return static_cast<std::uint64_t>(value);
}

// Refuses, without opening it through SQLite, a file that is not a SQLite database: SQLite would
// report it only at the first read, and a write-mode open must never risk touching such a file.
void checkSqliteHeader(const std::filesystem::path& file)
{
    const std::string label = catalogLabel(file);
    std::error_code error;
    PICTOR_CHECK(std::filesystem::is_regular_file(file, error), label, ": not a regular file");
    const auto size = std::filesystem::file_size(file, error);
    PICTOR_CHECK(!error, label, ": cannot read its size: ", error.message());
    if (size == 0)
        return; // an empty file is an empty database: the migrations create the catalog in it
    std::ifstream in(file, std::ios::binary);
    PICTOR_CHECK(in, label, ": cannot be read (", std::strerror(errno), ")");
    std::array<char, 16> header {};
    in.read(header.data(), header.size());
    static constexpr char kMagic[16] = "SQLite format 3"; // with its terminating NUL: 16 bytes
    PICTOR_CHECK(in.gcount() == 16 && std::memcmp(header.data(), kMagic, 16) == 0, label,
        ": not a SQLite database, so not a Pictor catalog (the file was left untouched; move it away or "
        "choose another library folder)");
}

// The single integer a PRAGMA or count(*) returns.
std::int64_t scalarInt(catalog_detail::Db& db, std::string_view sql)
{
    auto query = db.query(sql);
    PICTOR_CHECK(query.step(), catalogLabel(db.file()), ": ", sql, " returned nothing");
    return query.int64(0);
}

} // namespace

PhotoRecord catalog_detail::readPhoto(const Query& query)
{
    PhotoRecord photo;
    photo.id = query.int64(0);
    photo.rootId = query.int64(1);
    photo.path = query.path(2);
    photo.size = query.int64(3);
    photo.mtimeNs = query.int64(4);
    photo.contentHash = hashFromColumn(query.int64(5));
    photo.width = static_cast<int>(query.int64(6));
    photo.height = static_cast<int>(query.int64(7));
    photo.orientation = static_cast<int>(query.int64(8));
    photo.takenAt = query.optionalInt64(9);
    photo.cameraMake = query.text(10);
    photo.cameraModel = query.text(11);
    photo.gpsLat = query.optionalReal(12);
    photo.gpsLon = query.optionalReal(13);
    photo.fileType = query.text(14);
    photo.indexedAt = query.int64(15);
    return photo;
}

void Catalog::Impl::checkWritable() const
{
    PICTOR_CHECK(!readOnly, catalogLabel(db.file()), ": the catalog was opened read-only");
}

int Catalog::currentSchemaVersion()
{
    return catalog_detail::latestSchemaVersion();
}

Catalog Catalog::open(const std::filesystem::path& libraryDir, OpenMode mode)
{
    const bool readOnly = mode == OpenMode::ReadOnly;
    const std::filesystem::path file = libraryDir / kFileName;
    const std::string label = catalogLabel(file);
    std::error_code error;
    if (!readOnly) {
        std::filesystem::create_directories(libraryDir, error);
        PICTOR_CHECK(!error, label, ": cannot create the library folder: ", error.message());
    }
    if (std::filesystem::exists(file, error))
        checkSqliteHeader(file);
    else
        PICTOR_CHECK(!readOnly, label, ": no catalog in this library yet (index a folder first)");

    const int flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        | SQLITE_OPEN_NOMUTEX;
    auto impl = std::make_unique<Impl>(file, flags);
    impl->readOnly = readOnly;
    catalog_detail::Db& db = impl->db;
    sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs);

    // Identify the file before changing anything in it.
    const auto version = scalarInt(db, "PRAGMA user_version");
    const auto applicationId = scalarInt(db, "PRAGMA application_id");
    const auto objects = scalarInt(db, "SELECT count(*) FROM sqlite_schema");
    const int latest = currentSchemaVersion();
    PICTOR_CHECK(applicationId == 0 || applicationId == catalog_detail::kApplicationId, label,
        ": a SQLite database of another application (application_id ", applicationId,
        "), not a Pictor catalog");
    PICTOR_CHECK(!(version == 0 && objects > 0), label, ": a SQLite database that is not a Pictor catalog");
    PICTOR_CHECK(version <= latest, label, ": catalog version ", version, " is newer than this Pictor (",
        latest, "); use a newer Pictor");

    if (readOnly) {
        PICTOR_CHECK(version == latest, label, ": catalog version ", version, " is older than this Pictor (",
            latest, "); open the library for writing once (e.g. pictor index) to upgrade it");
        db.exec("PRAGMA query_only = ON; PRAGMA foreign_keys = ON;");
    } else {
        {
            auto query = db.query("PRAGMA journal_mode = WAL");
            PICTOR_CHECK(query.step() && query.text(0) == "wal", label, ": cannot switch to WAL mode");
        }
        db.exec(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = 67108864;");
        catalog_detail::applyMigrations(db, catalog_detail::catalogMigrations());
    }
    impl->schemaVersion = static_cast<int>(scalarInt(db, "PRAGMA user_version"));
    if (impl->schemaVersion >= 4) {
        auto query = db.query("SELECT id FROM catalog_identity LIMIT 1");
        if (query.step())
            impl->identity = query.text(0);
    }
    return Catalog(std::move(impl));
}

Catalog::Catalog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { }

Catalog::Catalog(Catalog&&) noexcept = default;
Catalog& Catalog::operator=(Catalog&&) noexcept = default;
Catalog::~Catalog() = default;

const std::filesystem::path& Catalog::file() const
{
    return impl_->db.file();
}

bool Catalog::readOnly() const
{
    return impl_->readOnly;
}

const std::string& Catalog::identity() const
{
    return impl_->identity;
}

int Catalog::schemaVersion() const
{
    return impl_->schemaVersion;
}

// --- Transaction

Catalog::Transaction::Transaction(Catalog& catalog) : catalog_(&catalog)
{
    Impl& impl = *catalog.impl_;
    impl.checkWritable();
    PICTOR_CHECK(!impl.db.inTransaction(), catalogLabel(impl.db.file()), ": a transaction is already open");
    impl.db.query("BEGIN IMMEDIATE").run();
}

Catalog::Transaction::~Transaction()
{
    if (!open_)
        return;
    try {
        rollback();
    } catch (const Error&) {
        // Closing the connection rolls back whatever is left.
    }
}

void Catalog::Transaction::commit()
{
    PICTOR_CHECK(open_, "catalog transaction already finished");
    catalog_->impl_->db.query("COMMIT").run();
    open_ = false;
}

void Catalog::Transaction::rollback()
{
    PICTOR_CHECK(open_, "catalog transaction already finished");
    open_ = false;
    // A failed statement may already have rolled the transaction back (e.g. SQLITE_FULL).
    if (catalog_->impl_->db.inTransaction())
        catalog_->impl_->db.query("ROLLBACK").run();
}

// --- roots

namespace {

std::filesystem::path normalFolder(const std::filesystem::path& folder)
{
    auto normal = std::filesystem::absolute(folder).lexically_normal();
    if (normal.has_filename() || normal == normal.root_path())
        return normal;
    return normal.parent_path(); // drops the trailing separator of "/a/b/"
}

// A row of SELECT id, path, added_at, device_id FROM roots.
RootRecord rootFrom(const Query& query)
{
    RootRecord root {query.int64(0), query.path(1), query.int64(2), std::nullopt};
    if (!query.isNull(3))
        root.deviceId = query.int64(3);
    return root;
}

} // namespace

std::int64_t Catalog::addRoot(const std::filesystem::path& folder)
{
    impl_->checkWritable();
    const auto path = normalFolder(folder);
    impl_->db.query("INSERT INTO roots(path, added_at) VALUES (?, ?) ON CONFLICT(path) DO NOTHING")
        .bindAll(pathBlob(path), unixNow())
        .run();
    auto query = impl_->db.query("SELECT id FROM roots WHERE path = ?");
    query.bindAll(pathBlob(path));
    PICTOR_CHECK(query.step(), catalogLabel(file()), ": root ", path, " vanished after insertion");
    return query.int64(0);
}

std::vector<RootRecord> Catalog::roots() const
{
    std::vector<RootRecord> out;
    auto query = impl_->db.query("SELECT id, path, added_at, device_id FROM roots ORDER BY id");
    while (query.step())
        out.push_back(rootFrom(query));
    return out;
}

std::optional<RootRecord> Catalog::findRoot(const std::filesystem::path& folder) const
{
    auto query = impl_->db.query("SELECT id, path, added_at, device_id FROM roots WHERE path = ?");
    query.bindAll(pathBlob(normalFolder(folder)));
    if (!query.step())
        return std::nullopt;
    return rootFrom(query);
}

void Catalog::setRootDevice(std::int64_t rootId, std::int64_t deviceId)
{
    impl_->checkWritable();
    impl_->db.query("UPDATE roots SET device_id = ? WHERE id = ?").bindAll(deviceId, rootId).run();
}

void Catalog::removeRoot(std::int64_t rootId)
{
    impl_->checkWritable();
    // Foreign keys cascade to photos and from them to embeddings, captions and tags; the photos
    // trigger removes the full-text rows.
    impl_->db.query("DELETE FROM roots WHERE id = ?").bindAll(rootId).run();
}

// --- photos

std::int64_t Catalog::upsertPhoto(const PhotoRecord& photo)
{
    impl_->checkWritable();
    auto& db = impl_->db;
    PICTOR_CHECK(!photo.path.empty(), catalogLabel(file()), ": a photo needs a path");
    const std::int64_t indexedAt = photo.indexedAt ? photo.indexedAt : unixNow();
    Savepoint savepoint(db);

    std::optional<std::int64_t> existing;
    std::uint64_t oldHash = 0;
    std::int64_t oldRoot = 0;
    {
        auto query = db.query("SELECT id, content_hash, root_id FROM photos WHERE path = ?");
        query.bindAll(pathBlob(photo.path));
        if (query.step()) {
            existing = query.int64(0);
            oldHash = hashFromColumn(query.int64(1));
            oldRoot = query.int64(2);
        }
    }

    std::int64_t id = 0;
    if (existing) {
        id = *existing;
        db.query("UPDATE photos SET root_id = ?, size = ?, mtime_ns = ?, content_hash = ?, width = ?, "
                 "height = ?, orientation = ?, taken_at = ?, camera_make = ?, camera_model = ?, gps_lat = ?, "
                 "gps_lon = ?, file_type = ?, indexed_at = ? WHERE id = ?")
            .bindAll(photo.rootId, photo.size, photo.mtimeNs, hashToColumn(photo.contentHash), photo.width,
                photo.height, photo.orientation, photo.takenAt, photo.cameraMake, photo.cameraModel,
                photo.gpsLat, photo.gpsLon, photo.fileType, indexedAt, id)
            .run();
        if (oldHash != photo.contentHash)
            db.query("DELETE FROM embeddings WHERE photo_id = ?").bindAll(id).run();
        if (oldRoot != photo.rootId)
            impl_->refreshSearchText(id);
    } else {
        db.query(
              "INSERT INTO photos(root_id, path, size, mtime_ns, content_hash, width, height, orientation, "
              "taken_at, camera_make, camera_model, gps_lat, gps_lon, file_type, indexed_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bindAll(photo.rootId, pathBlob(photo.path), photo.size, photo.mtimeNs,
                hashToColumn(photo.contentHash), photo.width, photo.height, photo.orientation, photo.takenAt,
                photo.cameraMake, photo.cameraModel, photo.gpsLat, photo.gpsLon, photo.fileType, indexedAt)
            .run();
        id = db.lastInsertId();
        impl_->refreshSearchText(id, true);
    }
    savepoint.release();
    return id;
}

std::optional<PhotoRecord> Catalog::photo(std::int64_t id) const
{
    static const std::string sql = strCat("SELECT ", kPhotoColumns, " FROM photos WHERE id = ?");
    auto query = impl_->db.query(sql);
    query.bindAll(id);
    if (!query.step())
        return std::nullopt;
    return readPhoto(query);
}

std::optional<PhotoRecord> Catalog::findByPath(const std::filesystem::path& path) const
{
    static const std::string sql = strCat("SELECT ", kPhotoColumns, " FROM photos WHERE path = ?");
    auto query = impl_->db.query(sql);
    query.bindAll(pathBlob(path));
    if (!query.step())
        return std::nullopt;
    return readPhoto(query);
}

std::vector<PhotoRecord> Catalog::findByHash(std::uint64_t contentHash) const
{
    static const std::string sql
        = strCat("SELECT ", kPhotoColumns, " FROM photos WHERE content_hash = ? ORDER BY id");
    std::vector<PhotoRecord> out;
    auto query = impl_->db.query(sql);
    query.bindAll(hashToColumn(contentHash));
    while (query.step())
        out.push_back(readPhoto(query));
    return out;
}

std::vector<std::vector<std::int64_t>> Catalog::sameContentGroups() const
{
    std::vector<std::vector<std::int64_t>> groups;
    auto query
        = impl_->db.query("SELECT id, content_hash FROM photos WHERE content_hash IN (SELECT content_hash "
                          "FROM photos WHERE content_hash != 0 GROUP BY content_hash HAVING count(*) > 1) "
                          "ORDER BY content_hash, id");
    std::optional<std::int64_t> current;
    while (query.step()) {
        if (query.int64(1) != current) {
            groups.emplace_back();
            current = query.int64(1);
        }
        groups.back().push_back(query.int64(0));
    }
    return groups;
}

std::vector<PhotoFileState> Catalog::listPhotosUnder(std::int64_t rootId) const
{
    std::vector<PhotoFileState> out;
    auto query = impl_->db.query(
        "SELECT id, path, size, mtime_ns, content_hash FROM photos WHERE root_id = ? ORDER BY path");
    query.bindAll(rootId);
    while (query.step())
        out.push_back(
            {query.int64(0), query.path(1), query.int64(2), query.int64(3), hashFromColumn(query.int64(4))});
    return out;
}

void Catalog::movePhoto(std::int64_t id, const std::filesystem::path& newPath, std::int64_t rootId)
{
    impl_->checkWritable();
    auto& db = impl_->db;
    const std::string label = catalogLabel(file());
    PICTOR_CHECK(!newPath.empty(), label, ": cannot move photo ", id, " to an empty path");
    Savepoint savepoint(db);
    {
        auto query = db.query("SELECT id FROM photos WHERE path = ?");
        query.bindAll(pathBlob(newPath));
        if (query.step()) {
            const auto other = query.int64(0);
            if (other == id)
                return; // already there (the savepoint rolls back nothing)
            PICTOR_FAIL(
                label, ": cannot move photo ", id, " to ", newPath, ": photo ", other, " has that path");
        }
    }
    db.query("UPDATE photos SET path = ?1, root_id = coalesce(?2, root_id) WHERE id = ?3")
        .bindAll(pathBlob(newPath), rootId ? std::optional<std::int64_t>(rootId) : std::nullopt, id)
        .run();
    PICTOR_CHECK(db.changes() == 1, label, ": cannot move photo ", id, ": no such photo");
    impl_->refreshSearchText(id);
    savepoint.release();
}

void Catalog::deletePhotos(std::span<const std::int64_t> ids)
{
    impl_->checkWritable();
    Savepoint savepoint(impl_->db);
    for (const auto id : ids)
        impl_->db.query("DELETE FROM photos WHERE id = ?").bindAll(id).run();
    savepoint.release();
}

// --- failures

void Catalog::recordFailure(
    const std::filesystem::path& path, std::string_view reason, std::string_view jobKind)
{
    impl_->checkWritable();
    impl_->db.query("INSERT INTO failures(path, reason, job_kind, at) VALUES (?, ?, ?, ?)")
        .bindAll(pathBlob(path), reason, jobKind, unixNow())
        .run();
}

std::vector<FailureRecord> Catalog::failures(std::optional<std::string_view> jobKind) const
{
    std::vector<FailureRecord> out;
    auto query = impl_->db.query(
        "SELECT path, reason, job_kind, at FROM failures WHERE ?1 IS NULL OR job_kind = ?1 ORDER BY id");
    query.bindAll(jobKind);
    while (query.step())
        out.push_back({query.path(0), query.text(1), query.text(2), query.int64(3)});
    return out;
}

std::optional<FailureRecord> Catalog::failureOf(const std::filesystem::path& path) const
{
    auto query = impl_->db.query(
        "SELECT path, reason, job_kind, at FROM failures WHERE path = ? ORDER BY id DESC LIMIT 1");
    query.bindAll(pathBlob(path));
    if (!query.step())
        return std::nullopt;
    return FailureRecord {query.path(0), query.text(1), query.text(2), query.int64(3)};
}

void Catalog::clearFailures(std::string_view jobKind)
{
    impl_->checkWritable();
    impl_->db.query("DELETE FROM failures WHERE job_kind = ?").bindAll(jobKind).run();
}

// --- jobs

namespace {

JobRecord readJob(const Query& query)
{
    return {query.int64(0), query.text(1), query.text(2), query.text(3), query.int64(4)};
}

} // namespace

std::int64_t Catalog::saveJob(const JobRecord& job)
{
    impl_->checkWritable();
    auto& db = impl_->db;
    const auto now = unixNow();
    if (job.id == 0) {
        db.query("INSERT INTO jobs(kind, state, progress_json, updated_at) VALUES (?, ?, ?, ?)")
            .bindAll(job.kind, job.state, job.progressJson, now)
            .run();
        return db.lastInsertId();
    }
    db.query("UPDATE jobs SET kind = ?, state = ?, progress_json = ?, updated_at = ? WHERE id = ?")
        .bindAll(job.kind, job.state, job.progressJson, now, job.id)
        .run();
    PICTOR_CHECK(db.changes() == 1, catalogLabel(file()), ": no job with id ", job.id);
    return job.id;
}

std::optional<JobRecord> Catalog::job(std::int64_t id) const
{
    auto query = impl_->db.query("SELECT id, kind, state, progress_json, updated_at FROM jobs WHERE id = ?");
    query.bindAll(id);
    if (!query.step())
        return std::nullopt;
    return readJob(query);
}

std::optional<JobRecord> Catalog::latestJob(std::string_view kind) const
{
    auto query = impl_->db.query("SELECT id, kind, state, progress_json, updated_at FROM jobs WHERE kind = ? "
                                 "ORDER BY id DESC LIMIT 1");
    query.bindAll(kind);
    if (!query.step())
        return std::nullopt;
    return readJob(query);
}

// --- status and checks

CatalogCounts Catalog::counts() const
{
    auto& db = impl_->db;
    CatalogCounts counts;
    counts.roots = scalarInt(db, "SELECT count(*) FROM roots");
    counts.photos = scalarInt(db, "SELECT count(*) FROM photos");
    counts.captions = scalarInt(db, "SELECT count(*) FROM captions");
    counts.tags = scalarInt(db, "SELECT count(*) FROM tags");
    counts.generations = scalarInt(db, "SELECT count(*) FROM generations");
    counts.failures = scalarInt(db, "SELECT count(*) FROM failures");
    auto query = db.query("SELECT model_id, count(*) FROM embeddings GROUP BY model_id ORDER BY model_id");
    while (query.step())
        counts.embeddingsPerModel.emplace_back(query.text(0), query.int64(1));
    return counts;
}

std::vector<std::string> Catalog::integrityCheck() const
{
    auto& db = impl_->db;
    std::vector<std::string> problems;
    {
        auto query = db.query("PRAGMA integrity_check");
        while (query.step()) {
            auto line = query.text(0);
            if (line != "ok")
                problems.push_back("integrity_check: " + line);
        }
    }
    {
        auto query = db.query("PRAGMA foreign_key_check");
        while (query.step())
            problems.push_back(strCat("foreign key: ", query.text(0), " row ", query.int64(1),
                " refers to a missing ", query.text(2), " row"));
    }
    if (const auto stray
        = scalarInt(db, "SELECT count(*) FROM photo_fts WHERE rowid NOT IN (SELECT id FROM photos)"))
        problems.push_back(strCat("full text: ", stray, " rows of deleted photos"));
    if (const auto missing
        = scalarInt(db, "SELECT count(*) FROM photos WHERE id NOT IN (SELECT rowid FROM photo_fts)"))
        problems.push_back(strCat("full text: ", missing, " photos without a row"));
    {
        auto query = db.query(
            "SELECT photo_id, model_id, dim, length(vector) FROM embeddings WHERE length(vector) != 2 * dim "
            "OR dim <= 0 LIMIT 100");
        while (query.step())
            problems.push_back(strCat("embedding of photo ", query.int64(0), " (", query.text(1),
                "): ", query.int64(3), " bytes for dimension ", query.int64(2)));
    }
    if (!impl_->readOnly) {
        // FTS5's own check compares the index with the stored text; it is an INSERT, so writers only.
        try {
            db.query("INSERT INTO photo_fts(photo_fts, rank) VALUES ('integrity-check', 1)").run();
        } catch (const Error& error) {
            problems.push_back(strCat("full text index: ", error.what()));
        }
    }
    return problems;
}

} // namespace pictor
