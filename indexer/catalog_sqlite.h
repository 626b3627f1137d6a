// Internal to the catalog: a thin RAII layer over the SQLite C API (connection, cached prepared
// statements, typed binding) that turns every SQLite error into a pictor::Error naming the catalog file,
// what was being done and the statement.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace pictor::catalog_detail {

// Binds as a BLOB (paths, vectors); std::string_view binds as TEXT.
struct Blob {
    std::string_view bytes;
};
inline Blob pathBlob(const std::filesystem::path& path)
{
    return Blob {path.native()};
}

class Db;

// One use of a prepared statement: bind, step, read columns. Resets the statement when it goes out of
// scope, so a cached statement is ready for its next use.
class Query {
public:
    Query(Db& db, sqlite3_stmt* statement, bool owned);
    Query(Query&& other) noexcept;
    Query& operator=(Query&&) = delete;
    ~Query();

    Query& bind(int index, std::int64_t value);
    Query& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Query& bind(int index, double value);
    Query& bind(int index, std::string_view text);
    Query& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
    Query& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
    Query& bind(int index, Blob blob);
    Query& bindNull(int index);
    template <typename T> Query& bind(int index, const std::optional<T>& value)
    {
        return value ? bind(index, *value) : bindNull(index);
    }
    // Binds parameters 1..N in order.
    template <typename... Args> Query& bindAll(const Args&... args)
    {
        int index = 0;
        (bind(++index, args), ...);
        return *this;
    }

    bool step(); // true: a row is ready; false: done. Throws on errors.
    void run(); // steps to completion, ignoring rows
    std::int64_t int64(int column) const;
    double real(int column) const;
    bool isNull(int column) const;
    std::string text(int column) const;
    std::string blob(int column) const; // raw bytes
    std::span<const std::byte> blobView(int column) const; // valid until the next step
    std::filesystem::path path(int column) const { return std::filesystem::path(blob(column)); }
    std::optional<std::int64_t> optionalInt64(int column) const;
    std::optional<double> optionalReal(int column) const;

private:
    Db* db_;
    sqlite3_stmt* statement_;
    bool owned_;
};

class Db {
public:
    // flags: SQLITE_OPEN_* values.
    Db(std::filesystem::path file, int flags);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    const std::filesystem::path& file() const { return file_; }
    sqlite3* handle() const { return db_; }

    // A cached prepared statement; `sql` must outlive the Db (a string literal).
    Query query(std::string_view sql);
    // Prepared for this use only (generated SQL).
    Query prepareOnce(const std::string& sql);
    // Runs one or more statements without results.
    void exec(const char* sql);
    std::int64_t lastInsertId() const;
    int changes() const;
    bool inTransaction() const;

    // Throws "[catalog] <file>: <errmsg> (in: <sql>)" for the connection's current error.
    [[noreturn]] void fail(std::string_view sql) const;
    [[noreturn]] void failCode(int code, std::string_view sql) const;

private:
    std::filesystem::path file_;
    sqlite3* db_ = nullptr;
    std::unordered_map<std::string_view, sqlite3_stmt*> cache_;
};

// SAVEPOINT ... RELEASE: makes a multi-statement catalog method atomic inside or outside a
// transaction; rolls back to the savepoint when destroyed without release().
class Savepoint {
public:
    explicit Savepoint(Db& db);
    ~Savepoint();
    Savepoint(const Savepoint&) = delete;
    Savepoint& operator=(const Savepoint&) = delete;
    void release();

private:
    Db& db_;
    bool open_ = true;
};

std::int64_t unixNow();
// "  a \n  b " -> "a b": runs of spaces, tabs and line breaks become one space, none at either end.
std::string collapseSpaces(std::string_view text);
std::string catalogLabel(const std::filesystem::path& file); // "[catalog] <file>"

} // namespace pictor::catalog_detail
