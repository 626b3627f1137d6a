#include "indexer/catalog_sqlite.h"

#include <chrono>

#include <sqlite3.h>

#include "core/error.h"

namespace pictor::catalog_detail {
namespace {

// Statements in messages are cut to this many characters (they are there to locate the failure).
constexpr std::size_t kSqlShown = 160;

std::string shortSql(std::string_view sql)
{
    std::string out = collapseSpaces(sql);
    if (out.size() > kSqlShown)
        out = out.substr(0, kSqlShown) + "...";
    return out;
}

} // namespace

std::string collapseSpaces(std::string_view text)
{
    std::string out;
    bool space = false;
    for (const char c : text) {
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (space)
            out += ' ';
        space = false;
        out += c;
    }
    return out;
}

std::int64_t unixNow()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string catalogLabel(const std::filesystem::path& file)
{
    return strCat("[catalog] ", file.string());
}

// --- Query

Query::Query(Db& db, sqlite3_stmt* statement, bool owned) : db_(&db), statement_(statement), owned_(owned) { }

Query::Query(Query&& other) noexcept : db_(other.db_), statement_(other.statement_), owned_(other.owned_)
{
    other.statement_ = nullptr;
}

Query::~Query()
{
    if (!statement_)
        return;
    if (owned_) {
        sqlite3_finalize(statement_);
    } else {
        sqlite3_reset(statement_);
        sqlite3_clear_bindings(statement_);
    }
}

Query& Query::bind(int index, std::int64_t value)
{
    if (int rc = sqlite3_bind_int64(statement_, index, value); rc != SQLITE_OK)
        db_->failCode(rc, sqlite3_sql(statement_));
    return *this;
}

Query& Query::bind(int index, double value)
{
    if (int rc = sqlite3_bind_double(statement_, index, value); rc != SQLITE_OK)
        db_->failCode(rc, sqlite3_sql(statement_));
    return *this;
}

Query& Query::bind(int index, std::string_view text)
{
    // Bytes go in unchanged (SQLite does not validate UTF-8); SQLITE_TRANSIENT copies them.
    if (int rc
        = sqlite3_bind_text64(statement_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        rc != SQLITE_OK)
        db_->failCode(rc, sqlite3_sql(statement_));
    return *this;
}

Query& Query::bind(int index, Blob blob)
{
    // A zero-length BLOB must not bind as NULL: give SQLite a non-null pointer.
    static const char empty = 0;
    const char* data = blob.bytes.empty() ? &empty : blob.bytes.data();
    if (int rc = sqlite3_bind_blob64(statement_, index, data, blob.bytes.size(), SQLITE_TRANSIENT);
        rc != SQLITE_OK)
        db_->failCode(rc, sqlite3_sql(statement_));
    return *this;
}

Query& Query::bindNull(int index)
{
    if (int rc = sqlite3_bind_null(statement_, index); rc != SQLITE_OK)
        db_->failCode(rc, sqlite3_sql(statement_));
    return *this;
}

bool Query::step()
{
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    db_->failCode(rc, sqlite3_sql(statement_));
}

void Query::run()
{
    while (step()) { }
}

std::int64_t Query::int64(int column) const
{
    return sqlite3_column_int64(statement_, column);
}

double Query::real(int column) const
{
    return sqlite3_column_double(statement_, column);
}

bool Query::isNull(int column) const
{
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

std::string Query::text(int column) const
{
    const auto* data = sqlite3_column_text(statement_, column);
    const int size = sqlite3_column_bytes(statement_, column);
    return data ? std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size))
                : std::string();
}

std::string Query::blob(int column) const
{
    const void* data = sqlite3_column_blob(statement_, column);
    const int size = sqlite3_column_bytes(statement_, column);
    return data ? std::string(static_cast<const char*>(data), static_cast<std::size_t>(size)) : std::string();
}

std::span<const std::byte> Query::blobView(int column) const
{
    const void* data = sqlite3_column_blob(statement_, column);
    const int size = sqlite3_column_bytes(statement_, column);
    if (!data)
        return {};
    return {static_cast<const std::byte*>(data), static_cast<std::size_t>(size)};
}

std::optional<std::int64_t> Query::optionalInt64(int column) const
{
    if (isNull(column))
        return std::nullopt;
    return int64(column);
}

std::optional<double> Query::optionalReal(int column) const
{
    if (isNull(column))
        return std::nullopt;
    return real(column);
}

// --- Db

Db::Db(std::filesystem::path file, int flags) : file_(std::move(file))
{
    const int rc = sqlite3_open_v2(file_.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close_v2(db_);
        db_ = nullptr;
        PICTOR_FAIL(catalogLabel(file_), ": cannot open: ", message);
    }
    sqlite3_extended_result_codes(db_, 1);
}

Db::~Db()
{
    for (auto& [sql, statement] : cache_)
        sqlite3_finalize(statement);
    sqlite3_close_v2(db_);
}

Query Db::query(std::string_view sql)
{
    auto found = cache_.find(sql);
    if (found == cache_.end()) {
        sqlite3_stmt* statement = nullptr;
        const int rc = sqlite3_prepare_v3(
            db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
        if (rc != SQLITE_OK)
            fail(sql);
        found = cache_.emplace(sql, statement).first;
    }
    return Query(*this, found->second, false);
}

Query Db::prepareOnce(const std::string& sql)
{
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &statement, nullptr) != SQLITE_OK)
        fail(sql);
    return Query(*this, statement, true);
}

namespace {

// What a person can do about a write that failed for a reason outside the catalog: another program holding
// its write lock past the busy timeout, a full or failing disk.
std::string errorHint(int code)
{
    switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ": another program is using the catalog (a sqlite3 shell, a backup tool, a second Pictor); "
               "what "
               "was saved is kept: try again when it is done";
    case SQLITE_FULL:
        return ": the disk is full; what was saved is kept: free some space and run again";
    case SQLITE_IOERR:
        return ": the disk may be full or failing; what was saved is kept: check it and run again";
    default:
        return {};
    }
}

} // namespace

void Db::exec(const char* sql)
{
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
        const std::string text = message ? message : sqlite3_errstr(rc);
        sqlite3_free(message);
        PICTOR_FAIL(catalogLabel(file_), ": ", text, " (in: ", shortSql(sql), ")", errorHint(rc));
    }
}

std::int64_t Db::lastInsertId() const
{
    return sqlite3_last_insert_rowid(db_);
}

int Db::changes() const
{
    return sqlite3_changes(db_);
}

bool Db::inTransaction() const
{
    return sqlite3_get_autocommit(db_) == 0;
}

void Db::fail(std::string_view sql) const
{
    PICTOR_FAIL(catalogLabel(file_), ": ", sqlite3_errmsg(db_), " (in: ", shortSql(sql), ")",
        errorHint(sqlite3_errcode(db_)));
}

void Db::failCode(int code, std::string_view sql) const
{
    // sqlite3_errmsg describes the last failed API call, which is this one.
    const bool current = (sqlite3_extended_errcode(db_) & 0xff) == (code & 0xff);
    const std::string message = current ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
    PICTOR_FAIL(catalogLabel(file_), ": ", message, " (in: ", shortSql(sql), ")", errorHint(code));
}

// --- Savepoint

Savepoint::Savepoint(Db& db) : db_(db)
{
    db_.query("SAVEPOINT pictor_op").run();
}

Savepoint::~Savepoint()
{
    if (!open_)
        return;
    try {
        db_.query("ROLLBACK TO pictor_op").run();
        db_.query("RELEASE pictor_op").run();
    } catch (const Error&) {
        // Nothing more can be done while unwinding; the enclosing transaction rolls back in turn.
    }
}

void Savepoint::release()
{
    db_.query("RELEASE pictor_op").run();
    open_ = false;
}

} // namespace pictor::catalog_detail
