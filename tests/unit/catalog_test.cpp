// The SQLite catalog, float16 storage and the single-writer library lock.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "indexer/auto_tags.h"
#include "indexer/catalog.h"
#include "indexer/catalog_schema.h"
#include "indexer/catalog_sqlite.h"
#include "indexer/float16.h"
#include "indexer/library_lock.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

namespace fs = std::filesystem;
using Transaction = Catalog::Transaction;

// --- helpers

std::string readBytes(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeBytes(const fs::path& file, std::string_view bytes)
{
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Runs SQL on the catalog file through a separate raw connection (to set up states the API refuses).
void rawExec(const fs::path& file, const std::string& sql)
{
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
}

std::string rawScalar(const fs::path& file, const std::string& sql)
{
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK
        && sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0))
        out = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return out;
}

template <typename F> std::string errorOf(F&& action)
{
    try {
        action();
    } catch (const Error& error) {
        return error.what();
    }
    return "<no error>";
}

PhotoRecord makePhoto(std::int64_t rootId, const fs::path& path, std::uint64_t hash = 1)
{
    PhotoRecord photo;
    photo.rootId = rootId;
    photo.path = path;
    photo.size = 1000;
    photo.mtimeNs = 1'600'000'000'000'000'000;
    photo.contentHash = hash;
    photo.width = 640;
    photo.height = 480;
    photo.fileType = "jpeg";
    return photo;
}

std::vector<float> makeVector(int dim, int seed)
{
    std::mt19937 rng(static_cast<unsigned>(seed));
    std::normal_distribution<float> normal(0.0f, 0.1f);
    std::vector<float> v(static_cast<std::size_t>(dim));
    for (auto& x : v)
        x = normal(rng);
    return v;
}

struct Library {
    fs::path dir;
    Catalog catalog;
    std::int64_t root;
    explicit Library(const std::string& tag)
        : dir(test::scratchDir(tag)),
          catalog(Catalog::open(dir / "library")),
          root(catalog.addRoot(dir / "photos"))
    {
    }
    fs::path photos() const { return dir / "photos"; }
};

// --- float16

TEST(Float16, EveryHalfRoundTripsExactly)
{
    for (std::uint32_t bits = 0; bits <= 0xffff; ++bits) {
        const auto half = static_cast<std::uint16_t>(bits);
        const float value = halfToFloat(half);
        if ((half & 0x7c00) == 0x7c00 && (half & 0x3ff)) {
            ASSERT_TRUE(std::isnan(value)) << std::hex << bits;
            ASSERT_TRUE(std::isnan(halfToFloat(floatToHalf(value)))) << std::hex << bits;
            continue;
        }
        ASSERT_EQ(floatToHalf(value), half) << std::hex << bits;
    }
    EXPECT_EQ(halfToFloat(0x3c00), 1.0f);
    EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
    EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24));
    EXPECT_EQ(halfToFloat(0x0400), std::ldexp(1.0f, -14));
    EXPECT_EQ(halfToFloat(0xc000), -2.0f);
}

TEST(Float16, RoundsToNearestEvenBetweenEveryPair)
{
    // The float midpoint of two neighbouring halves is exact in float32: ties go to the even half,
    // anything off the midpoint to the nearer one. Covers subnormals and the normal range.
    for (std::uint16_t h = 0; h < 0x7bff; ++h) {
        const float low = halfToFloat(h), high = halfToFloat(static_cast<std::uint16_t>(h + 1));
        const float mid = low + (high - low) / 2;
        ASSERT_GT(mid, low);
        ASSERT_LT(mid, high);
        const auto even = (h & 1) ? static_cast<std::uint16_t>(h + 1) : h;
        ASSERT_EQ(floatToHalf(mid), even) << std::hex << h;
        ASSERT_EQ(floatToHalf(std::nextafter(mid, 0.0f)), h) << std::hex << h;
        ASSERT_EQ(floatToHalf(std::nextafter(mid, 1e9f)), h + 1) << std::hex << h;
        ASSERT_EQ(floatToHalf(-mid), even | 0x8000) << std::hex << h;
    }
}

TEST(Float16, SpecialValues)
{
    const float inf = std::numeric_limits<float>::infinity();
    EXPECT_EQ(floatToHalf(0.0f), 0x0000);
    EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
    EXPECT_EQ(floatToHalf(inf), 0x7c00);
    EXPECT_EQ(floatToHalf(-inf), 0xfc00);
    EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
    EXPECT_EQ(floatToHalf(65519.996f), 0x7bff);
    EXPECT_EQ(floatToHalf(65520.0f), 0x7c00); // the tie above the largest half goes to infinity
    EXPECT_EQ(floatToHalf(1e20f), 0x7c00);
    EXPECT_EQ(floatToHalf(std::numeric_limits<float>::max()), 0x7c00);
    EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(std::numeric_limits<float>::quiet_NaN()))));
    EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(-std::numeric_limits<float>::quiet_NaN()))));
    // A NaN whose payload lives only in bits float16 drops must stay NaN.
    EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(std::bit_cast<float>(0x7f800001u)))));
    EXPECT_TRUE(std::isinf(halfToFloat(0x7c00)));
    // Subnormal halves: units of 2^-24; 2^-25 ties to 0 (even), 1.5 units tie to 2.
    EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -24)), 0x0001);
    EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -25)), 0x0000);
    EXPECT_EQ(floatToHalf(std::ldexp(1.0001f, -25)), 0x0001);
    EXPECT_EQ(floatToHalf(std::ldexp(1.5f, -24)), 0x0002);
    EXPECT_EQ(floatToHalf(std::ldexp(2.5f, -24)), 0x0002);
    EXPECT_EQ(floatToHalf(std::numeric_limits<float>::denorm_min()), 0x0000);
    EXPECT_EQ(floatToHalf(-std::numeric_limits<float>::min()), 0x8000);
    // Largest subnormal rounding up into the smallest normal.
    EXPECT_EQ(floatToHalf(std::ldexp(1023.75f, -24)), 0x0400);
}

TEST(Float16, RandomValuesWithinHalfAnUlp)
{
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> exponent(-14.0f, 15.9f);
    for (int i = 0; i < 200000; ++i) {
        const float value = std::exp2(exponent(rng)) * ((i & 1) ? -1.0f : 1.0f);
        const float back = halfToFloat(floatToHalf(value));
        ASSERT_LE(std::fabs(back - value), std::fabs(value) * std::ldexp(1.0f, -11)) << value;
    }
    std::vector<float> in = {0.5f, -1.25f, 3.0f};
    std::vector<std::uint16_t> halves(3);
    std::vector<float> out(3);
    floatsToHalves(in, halves);
    halvesToFloats(halves, out);
    EXPECT_EQ(in, out);
    EXPECT_THROW(floatsToHalves(in, std::span<std::uint16_t>(halves).first(2)), Error);
}

// --- opening, migrations, refusals

TEST(CatalogOpen, CreatesFolderAndCatalogInWalMode)
{
    const auto dir = test::scratchDir("catalog-open") / "nested" / "library";
    {
        auto catalog = Catalog::open(dir);
        EXPECT_EQ(catalog.schemaVersion(), Catalog::currentSchemaVersion());
        EXPECT_EQ(catalog.file(), dir / "catalog.sqlite3");
        EXPECT_FALSE(catalog.readOnly());
        EXPECT_TRUE(catalog.integrityCheck().empty());
    }
    const auto file = dir / Catalog::kFileName;
    ASSERT_TRUE(fs::exists(file));
    EXPECT_EQ(rawScalar(file, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(rawScalar(file, "PRAGMA user_version"), std::to_string(Catalog::currentSchemaVersion()));
    for (const char* table :
        {"roots", "photos", "embeddings", "captions", "tags", "generations", "failures", "jobs", "photo_fts"})
        EXPECT_EQ(
            rawScalar(file, strCat("SELECT count(*) FROM sqlite_schema WHERE name = '", table, "'")), "1")
            << table;
}

TEST(CatalogOpen, ReopenIsIdempotentAndKeepsData)
{
    const auto dir = test::scratchDir("catalog-reopen");
    std::int64_t id = 0;
    {
        auto catalog = Catalog::open(dir);
        id = catalog.upsertPhoto(makePhoto(catalog.addRoot(dir / "p"), dir / "p" / "a.jpg"));
    }
    const auto schema
        = rawScalar(dir / Catalog::kFileName, "SELECT group_concat(sql, ';') FROM sqlite_schema");
    for (int i = 0; i < 3; ++i) {
        auto catalog = Catalog::open(dir);
        EXPECT_EQ(catalog.schemaVersion(), Catalog::currentSchemaVersion());
        ASSERT_TRUE(catalog.photo(id));
        EXPECT_EQ(catalog.counts().photos, 1);
    }
    EXPECT_EQ(
        rawScalar(dir / Catalog::kFileName, "SELECT group_concat(sql, ';') FROM sqlite_schema"), schema);
}

TEST(CatalogOpen, MigratesAnEmptyFile)
{
    const auto dir = test::scratchDir("catalog-empty");
    writeBytes(dir / Catalog::kFileName, "");
    auto catalog = Catalog::open(dir);
    EXPECT_EQ(catalog.schemaVersion(), Catalog::currentSchemaVersion());
    EXPECT_EQ(catalog.counts().photos, 0);
    EXPECT_GT(catalog.addRoot(dir / "p"), 0);
}

TEST(CatalogOpen, RefusesANewerCatalog)
{
    const auto dir = test::scratchDir("catalog-newer");
    Catalog::open(dir);
    rawExec(dir / Catalog::kFileName, "PRAGMA user_version = 99");
    const auto expected
        = strCat("catalog version 99 is newer than this Pictor (", Catalog::currentSchemaVersion(), ")");
    for (auto mode : {Catalog::OpenMode::ReadWrite, Catalog::OpenMode::ReadOnly}) {
        const auto message = errorOf([&] { Catalog::open(dir, mode); });
        EXPECT_NE(message.find(expected), std::string::npos) << message;
        EXPECT_NE(message.find((dir / Catalog::kFileName).string()), std::string::npos) << message;
    }
    EXPECT_EQ(rawScalar(dir / Catalog::kFileName, "PRAGMA user_version"), "99");
}

TEST(CatalogOpen, RefusesAFileThatIsNotADatabaseWithoutTouchingIt)
{
    const auto dir = test::scratchDir("catalog-notdb");
    const auto file = dir / Catalog::kFileName;
    for (std::string content : {std::string("this is a text file, not a database at all\n"),
             std::string("abc"), std::string("SQLite format 3") /* the magic without its NUL, truncated */}) {
        writeBytes(file, content);
        for (auto mode : {Catalog::OpenMode::ReadWrite, Catalog::OpenMode::ReadOnly}) {
            const auto message = errorOf([&] { Catalog::open(dir, mode); });
            EXPECT_NE(message.find(file.string()), std::string::npos) << message;
            EXPECT_NE(message.find("not a SQLite database"), std::string::npos) << message;
        }
        EXPECT_EQ(readBytes(file), content);
        EXPECT_FALSE(fs::exists(dir / "catalog.sqlite3-wal"));
        EXPECT_FALSE(fs::exists(dir / "catalog.sqlite3-shm"));
    }
}

TEST(CatalogOpen, RefusesACorruptDatabaseBehindAValidHeader)
{
    const auto dir = test::scratchDir("catalog-corrupt");
    const auto file = dir / Catalog::kFileName;
    std::string content("SQLite format 3", 16);
    content += std::string(4096, '\xAB');
    writeBytes(file, content);
    const auto message = errorOf([&] { Catalog::open(dir); });
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find("not a database"), std::string::npos) << message;
    EXPECT_EQ(readBytes(file), content);
}

TEST(CatalogOpen, RefusesAnotherApplicationsDatabase)
{
    const auto dir = test::scratchDir("catalog-foreign");
    const auto file = dir / Catalog::kFileName;
    rawExec(file, "CREATE TABLE contacts(name TEXT); INSERT INTO contacts VALUES ('x')");
    const auto before = readBytes(file);
    const auto message = errorOf([&] { Catalog::open(dir); });
    EXPECT_NE(message.find("not a Pictor catalog"), std::string::npos) << message;
    EXPECT_EQ(readBytes(file), before);
}

TEST(CatalogOpen, ReadOnlyReadsButCannotWrite)
{
    const auto dir = test::scratchDir("catalog-ro");
    EXPECT_NE(errorOf([&] { Catalog::open(dir, Catalog::OpenMode::ReadOnly); }).find("no catalog"),
        std::string::npos);
    EXPECT_FALSE(fs::exists(dir / Catalog::kFileName));
    std::int64_t id = 0;
    {
        auto writer = Catalog::open(dir);
        id = writer.upsertPhoto(makePhoto(writer.addRoot(dir / "p"), dir / "p" / "sunset.jpg"));
        writer.putEmbedding(id, "m", std::vector<float> {0.5f, -0.25f});
    }
    auto reader = Catalog::open(dir, Catalog::OpenMode::ReadOnly);
    EXPECT_TRUE(reader.readOnly());
    ASSERT_TRUE(reader.photo(id));
    EXPECT_EQ(reader.matchText("sunset", 10).size(), 1u);
    EXPECT_TRUE(reader.integrityCheck().empty());
    std::vector<float> seen;
    reader.forEachEmbedding(
        "m", [&](const EmbeddingBatch& batch) { seen.assign(batch.vectors.begin(), batch.vectors.end()); });
    EXPECT_EQ(seen, (std::vector<float> {0.5f, -0.25f}));
    const auto message = errorOf([&] { reader.addRoot(dir / "q"); });
    EXPECT_NE(message.find("read-only"), std::string::npos) << message;
    EXPECT_THROW(reader.upsertPhoto(makePhoto(1, dir / "p" / "b.jpg")), Error);
    EXPECT_THROW(reader.deletePhotos(std::vector<std::int64_t> {id}), Error);
    EXPECT_THROW(reader.putEmbedding(id, "m", std::vector<float> {1.0f}), Error);
    EXPECT_THROW(Transaction transaction(reader), Error);
    EXPECT_EQ(reader.counts().roots, 1);
    EXPECT_EQ(reader.counts().photos, 1);
}

TEST(CatalogOpen, ReaderSeesCommittedWritesOfAConcurrentWriter)
{
    const auto dir = test::scratchDir("catalog-concurrent");
    auto writer = Catalog::open(dir);
    const auto root = writer.addRoot(dir / "p");
    auto reader = Catalog::open(dir, Catalog::OpenMode::ReadOnly);
    Transaction transaction(writer);
    writer.upsertPhoto(makePhoto(root, dir / "p" / "a.jpg"));
    EXPECT_EQ(reader.counts().photos, 0); // not committed yet; the reader is not blocked
    transaction.commit();
    EXPECT_EQ(reader.counts().photos, 1);
}

TEST(CatalogOpen, SqliteErrorsNameTheFileAndTheStatement)
{
    Library library("catalog-errors");
    const auto message
        = errorOf([&] { library.catalog.upsertPhoto(makePhoto(12345, library.photos() / "a.jpg")); });
    EXPECT_NE(message.find(library.catalog.file().string()), std::string::npos) << message;
    EXPECT_NE(message.find("FOREIGN KEY constraint failed"), std::string::npos) << message;
    EXPECT_NE(message.find("INSERT INTO photos"), std::string::npos) << message;
    EXPECT_EQ(library.catalog.counts().photos, 0);
}

TEST(CatalogMigrations, StepsApplyInOrderEachInItsOwnTransaction)
{
    using catalog_detail::Migration;
    const auto file = test::scratchDir("catalog-migrate") / "m.sqlite3";
    const Migration v1[] = {{1, "CREATE TABLE a(x INTEGER);"}};
    const Migration v3[] = {{1, "CREATE TABLE a(x INTEGER);"}, {2, "ALTER TABLE a ADD COLUMN y TEXT;"},
        {3, "CREATE TABLE b(z); INSERT INTO nowhere VALUES (1);"}};
    const Migration gap[] = {{1, "SELECT 1;"}, {3, "SELECT 1;"}};
    {
        catalog_detail::Db db(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        catalog_detail::applyMigrations(db, v1);
        catalog_detail::applyMigrations(db, v1); // idempotent
        db.exec("INSERT INTO a(x) VALUES (7)");
        // Step 2 commits, step 3 fails and leaves nothing behind.
        const auto message = errorOf([&] { catalog_detail::applyMigrations(db, v3); });
        EXPECT_NE(message.find("migration to schema version 3 failed"), std::string::npos) << message;
        EXPECT_NE(message.find("no such table: nowhere"), std::string::npos) << message;
        EXPECT_FALSE(db.inTransaction());
        EXPECT_NE(errorOf([&] { catalog_detail::applyMigrations(db, gap); }).find("out of order"),
            std::string::npos);
    }
    EXPECT_EQ(rawScalar(file, "PRAGMA user_version"), "2");
    EXPECT_EQ(rawScalar(file, "SELECT x || coalesce(y, '-') FROM a"), "7-");
    EXPECT_EQ(rawScalar(file, "SELECT count(*) FROM sqlite_schema WHERE name = 'b'"), "0");
    EXPECT_EQ(rawScalar(file, "PRAGMA application_id"), std::to_string(catalog_detail::kApplicationId));
}

// --- transactions

TEST(CatalogTransaction, RollsBackUnlessCommitted)
{
    Library library("catalog-tx");
    auto& catalog = library.catalog;
    {
        Transaction transaction(catalog);
        catalog.upsertPhoto(makePhoto(library.root, library.photos() / "a.jpg"));
        EXPECT_THROW(Transaction nested(catalog), Error);
    }
    EXPECT_EQ(catalog.counts().photos, 0);
    {
        Transaction transaction(catalog);
        catalog.upsertPhoto(makePhoto(library.root, library.photos() / "b.jpg"));
        transaction.commit();
        EXPECT_THROW(transaction.commit(), Error);
    }
    EXPECT_EQ(catalog.counts().photos, 1);
    {
        Transaction transaction(catalog);
        catalog.upsertPhoto(makePhoto(library.root, library.photos() / "c.jpg"));
        transaction.rollback();
    }
    EXPECT_EQ(catalog.counts().photos, 1);
}

TEST(CatalogTransaction, AFailedCallInsideATransactionLeavesNoPartialWrite)
{
    Library library("catalog-atomic");
    auto& catalog = library.catalog;
    const auto a = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "a.jpg"));
    const auto b = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "b.jpg"));
    Transaction transaction(catalog);
    EXPECT_THROW(catalog.movePhoto(a, library.photos() / "b.jpg"), Error);
    EXPECT_THROW(catalog.addCaption(999, "x", "m", ""), Error);
    transaction.commit();
    EXPECT_EQ(catalog.photo(a)->path, library.photos() / "a.jpg");
    EXPECT_EQ(catalog.photo(b)->path, library.photos() / "b.jpg");
    EXPECT_TRUE(catalog.integrityCheck().empty());
}

// --- roots and photos

TEST(CatalogRoots, AddListFindRemove)
{
    const auto dir = test::scratchDir("catalog-roots");
    auto catalog = Catalog::open(dir / "lib");
    const auto a = catalog.addRoot(dir / "a");
    EXPECT_EQ(catalog.addRoot(dir / "a"), a);
    EXPECT_EQ(catalog.addRoot((dir / "a").string() + "/"), a);
    EXPECT_EQ(catalog.addRoot(dir / "x" / ".." / "a"), a);
    const auto b = catalog.addRoot(dir / "b");
    EXPECT_NE(a, b);
    const auto roots = catalog.roots();
    ASSERT_EQ(roots.size(), 2u);
    EXPECT_EQ(roots[0].path, dir / "a");
    EXPECT_EQ(roots[1].path, dir / "b");
    EXPECT_GT(roots[0].addedAt, 0);
    ASSERT_TRUE(catalog.findRoot(dir / "b"));
    EXPECT_EQ(catalog.findRoot(dir / "b")->id, b);
    EXPECT_FALSE(catalog.findRoot(dir / "c"));

    const auto photo = catalog.upsertPhoto(makePhoto(a, dir / "a" / "beach.jpg"));
    catalog.putEmbedding(photo, "m", makeVector(8, 1));
    catalog.addCaption(photo, "a dog", "m", "describe");
    catalog.addTag(photo, "dog", "user");
    catalog.upsertPhoto(makePhoto(b, dir / "b" / "keep.jpg"));
    catalog.removeRoot(a);
    EXPECT_EQ(catalog.roots().size(), 1u);
    EXPECT_FALSE(catalog.photo(photo));
    const auto counts = catalog.counts();
    EXPECT_EQ(counts.photos, 1);
    EXPECT_EQ(counts.captions, 0);
    EXPECT_EQ(counts.tags, 0);
    EXPECT_TRUE(counts.embeddingsPerModel.empty());
    EXPECT_TRUE(catalog.matchText("beach", 10).empty());
    EXPECT_EQ(catalog.matchText("keep", 10).size(), 1u);
    EXPECT_TRUE(catalog.integrityCheck().empty());
}

TEST(CatalogPhotos, UpsertFindAndUpdate)
{
    Library library("catalog-photos");
    auto& catalog = library.catalog;
    PhotoRecord photo
        = makePhoto(library.root, library.photos() / "2020" / "IMG_0001.JPG", 0xfedcba9876543210ull);
    photo.size = 123456789012;
    photo.mtimeNs = 1'700'000'000'123'456'789;
    photo.width = 4000;
    photo.height = 3000;
    photo.orientation = 6;
    photo.takenAt = 1'650'000'000;
    photo.cameraMake = "Canon";
    photo.cameraModel = "EOS 5D";
    photo.gpsLat = 48.8566;
    photo.gpsLon = -2.3522;
    photo.fileType = "jpeg";
    photo.indexedAt = 1'700'000'100;
    const auto id = catalog.upsertPhoto(photo);
    ASSERT_GT(id, 0);

    for (const auto& stored : {catalog.photo(id), catalog.findByPath(photo.path)}) {
        ASSERT_TRUE(stored);
        EXPECT_EQ(stored->id, id);
        EXPECT_EQ(stored->rootId, library.root);
        EXPECT_EQ(stored->path, photo.path);
        EXPECT_EQ(stored->size, photo.size);
        EXPECT_EQ(stored->mtimeNs, photo.mtimeNs);
        EXPECT_EQ(stored->contentHash, photo.contentHash);
        EXPECT_EQ(stored->width, 4000);
        EXPECT_EQ(stored->height, 3000);
        EXPECT_EQ(stored->orientation, 6);
        EXPECT_EQ(stored->takenAt, photo.takenAt);
        EXPECT_EQ(stored->cameraMake, "Canon");
        EXPECT_EQ(stored->cameraModel, "EOS 5D");
        EXPECT_EQ(stored->gpsLat, photo.gpsLat);
        EXPECT_EQ(stored->gpsLon, photo.gpsLon);
        EXPECT_EQ(stored->fileType, "jpeg");
        EXPECT_EQ(stored->indexedAt, photo.indexedAt);
    }
    EXPECT_FALSE(catalog.photo(id + 1000));
    EXPECT_FALSE(catalog.findByPath(library.photos() / "nope.jpg"));

    // Nullable fields stay null; indexedAt defaults to now.
    auto plain = makePhoto(library.root, library.photos() / "plain.png", 0xfedcba9876543210ull);
    const auto plainId = catalog.upsertPhoto(plain);
    const auto storedPlain = catalog.photo(plainId);
    EXPECT_FALSE(storedPlain->takenAt);
    EXPECT_FALSE(storedPlain->gpsLat);
    EXPECT_GT(storedPlain->indexedAt, 1'600'000'000);

    const auto sameHash = catalog.findByHash(0xfedcba9876543210ull);
    ASSERT_EQ(sameHash.size(), 2u);
    EXPECT_EQ(sameHash[0].id, id);
    EXPECT_EQ(sameHash[1].id, plainId);
    EXPECT_TRUE(catalog.findByHash(42).empty());

    // Same path again: same row, new values; a new hash drops embeddings but keeps captions and tags.
    catalog.putEmbedding(id, "m", makeVector(4, 2));
    catalog.addCaption(id, "old caption", "m", "");
    photo.size = 5;
    photo.takenAt.reset();
    EXPECT_EQ(catalog.upsertPhoto(photo), id);
    EXPECT_EQ(catalog.photo(id)->size, 5);
    EXPECT_FALSE(catalog.photo(id)->takenAt);
    EXPECT_TRUE(catalog.embedding(id, "m")); // same hash: embedding kept
    photo.contentHash = 77;
    EXPECT_EQ(catalog.upsertPhoto(photo), id);
    EXPECT_FALSE(catalog.embedding(id, "m"));
    EXPECT_EQ(catalog.captions(id).size(), 1u);
    EXPECT_EQ(catalog.counts().photos, 2);

    const auto listed = catalog.listPhotosUnder(library.root);
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].path, photo.path); // "2020/..." sorts before "plain.png"
    EXPECT_EQ(listed[0].id, id);
    EXPECT_EQ(listed[0].size, 5);
    EXPECT_EQ(listed[0].mtimeNs, photo.mtimeNs);
    EXPECT_EQ(listed[0].contentHash, 77u);
    EXPECT_EQ(listed[1].id, plainId);
    EXPECT_TRUE(catalog.listPhotosUnder(library.root + 1).empty());
}

TEST(CatalogPhotos, IdsAreNeverReused)
{
    Library library("catalog-ids");
    auto& catalog = library.catalog;
    const auto a = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "a.jpg"));
    const auto b = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "b.jpg"));
    catalog.deletePhotos(std::vector<std::int64_t> {b});
    const auto c = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "c.jpg"));
    EXPECT_GT(c, b);
    EXPECT_GT(b, a);
}

TEST(CatalogPhotos, NonUtf8PathsRoundTripExactly)
{
    Library library("catalog-bytes");
    auto& catalog = library.catalog;
    const std::string rawName = "caf\xe9 \xff\xfe photo \xc3\x28.jpg"; // Latin-1 é, stray bytes, bad sequence
    const fs::path path = library.photos() / "d\xe9j\xe0" / rawName;
    const auto id = catalog.upsertPhoto(makePhoto(library.root, path));
    ASSERT_TRUE(catalog.findByPath(path));
    EXPECT_EQ(catalog.findByPath(path)->path.native(), path.native());
    EXPECT_EQ(catalog.photo(id)->path.native(), path.native());
    EXPECT_EQ(catalog.listPhotosUnder(library.root).at(0).path.native(), path.native());
    // Another byte sequence that decodes to the same lossy text is a different photo.
    EXPECT_FALSE(catalog.findByPath(library.photos() / "d\xe9j\xe0" / "caf\xe8 \xff\xfe photo \xc3\x28.jpg"));
    EXPECT_EQ(catalog.matchText("photo", 10).size(), 1u);
    catalog.recordFailure(path, "truncated", "index");
    EXPECT_EQ(catalog.failures().at(0).path.native(), path.native());
    // Moves to a non-UTF-8 name keep the bytes too.
    const fs::path moved = library.photos() / "\x80\x81.jpg";
    catalog.movePhoto(id, moved);
    EXPECT_EQ(catalog.photo(id)->path.native(), moved.native());
    EXPECT_TRUE(catalog.integrityCheck().empty());
}

TEST(CatalogPhotos, MoveKeepsIdCaptionsTagsAndEmbeddings)
{
    Library library("catalog-move");
    auto& catalog = library.catalog;
    const auto other = catalog.addRoot(library.dir / "elsewhere");
    const auto id
        = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "holiday" / "IMG_0042.jpg"));
    const auto vector = makeVector(16, 3);
    catalog.putEmbedding(id, "clip-a", vector);
    catalog.addCaption(id, "a red kayak on a lake", "captioner", "describe the photo");
    catalog.addTag(id, "kayak", "user");
    const auto before = catalog.embedding(id, "clip-a");

    catalog.movePhoto(id, library.dir / "elsewhere" / "renamed" / "lake_trip.jpg", other);
    const auto moved = catalog.photo(id);
    ASSERT_TRUE(moved);
    EXPECT_EQ(moved->path, library.dir / "elsewhere" / "renamed" / "lake_trip.jpg");
    EXPECT_EQ(moved->rootId, other);
    EXPECT_FALSE(catalog.findByPath(library.photos() / "holiday" / "IMG_0042.jpg"));
    EXPECT_EQ(catalog.embedding(id, "clip-a"), before);
    ASSERT_EQ(catalog.captions(id).size(), 1u);
    EXPECT_EQ(catalog.captions(id)[0].text, "a red kayak on a lake");
    EXPECT_EQ(catalog.captions(id)[0].prompt, "describe the photo");
    ASSERT_EQ(catalog.tags(id).size(), 1u);
    EXPECT_EQ(catalog.tags(id)[0].tag, "kayak");

    // The full-text row follows the new name and folders.
    EXPECT_TRUE(catalog.matchText("IMG_0042", 10).empty());
    EXPECT_TRUE(catalog.matchText("holiday", 10).empty());
    ASSERT_EQ(catalog.matchText("lake_trip", 10).size(), 1u);
    EXPECT_EQ(catalog.matchText("renamed", 10).at(0).field, TextField::FolderName);
    EXPECT_EQ(catalog.matchText("kayak", 10).size(), 1u);

    // Same path again is a no-op; the root stays when not given.
    catalog.movePhoto(id, library.dir / "elsewhere" / "renamed" / "lake_trip.jpg");
    catalog.movePhoto(id, library.dir / "elsewhere" / "lake.jpg");
    EXPECT_EQ(catalog.photo(id)->rootId, other);

    const auto blocker = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "taken.jpg"));
    auto message = errorOf([&] { catalog.movePhoto(id, library.photos() / "taken.jpg"); });
    EXPECT_NE(message.find(strCat("photo ", blocker, " has that path")), std::string::npos) << message;
    message = errorOf([&] { catalog.movePhoto(9999, library.photos() / "x.jpg"); });
    EXPECT_NE(message.find("no such photo"), std::string::npos) << message;
    EXPECT_TRUE(catalog.integrityCheck().empty());
}

// A generated picture keeps how it was made and the photo it came from; a source lists what was made from
// it; indexing the picture again replaces its row; a deleted source leaves the picture's row without it.
TEST(CatalogGenerations, ProvenanceBothWays)
{
    Library library("catalog-generations");
    auto& catalog = library.catalog;
    const auto source = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "source.jpg"));
    const auto first = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "variation-1.png"));
    const auto second = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "variation-2.png"));
    const auto fox = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "fox.png"));
    const auto add = [&](std::int64_t picture, std::optional<std::int64_t> from, const std::string& prompt,
                         const std::string& query, const std::string& params) {
        GenerationRow row;
        row.photoId = picture;
        row.sourcePhotoId = from;
        row.prompt = prompt;
        row.modelId = "unclip-1";
        row.query = query;
        row.paramsJson = params;
        catalog.addGeneration(row);
    };
    for (const auto picture : {first, second})
        add(picture, source, "", "this one, but in snow", R"({"seed": 7})");
    add(fox, std::nullopt, "a fox", "", "{}");
    add(fox, std::nullopt, "a red fox", "", "{}");

    const auto made = catalog.generationsFrom(source);
    ASSERT_EQ(made.size(), 2u);
    EXPECT_EQ(made[0].photoId, first);
    EXPECT_EQ(made[1].photoId, second);
    const auto variation = catalog.generationOf(first);
    ASSERT_TRUE(variation);
    EXPECT_EQ(variation->sourcePhotoId, source);
    EXPECT_EQ(variation->query, "this one, but in snow");
    EXPECT_EQ(variation->paramsJson, R"({"seed": 7})");
    EXPECT_GT(variation->createdAt, 0);
    const auto again = catalog.generationOf(fox);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->prompt, "a red fox") << "the later row replaces the earlier";
    EXPECT_FALSE(again->sourcePhotoId);
    EXPECT_EQ(catalog.counts().generations, 3);
    EXPECT_FALSE(catalog.generationOf(source)) << "a photo is not a generated picture";
    PhotoFilter generated;
    generated.generated = true;
    EXPECT_EQ(catalog.filterPhotos(generated), (std::vector<std::int64_t> {first, second, fox}));
    generated.generated = false;
    EXPECT_EQ(catalog.filterPhotos(generated), (std::vector<std::int64_t> {source}));
    const auto byPrompt = catalog.matchText("red fox", 10);
    ASSERT_EQ(byPrompt.size(), 1u) << "the prompt is found like a caption";
    EXPECT_EQ(byPrompt[0].photoId, fox);

    // A source known by its path only (the picture indexed before it): linked once it is catalogued.
    const auto early = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "early.png"));
    GenerationRow byPath;
    byPath.photoId = early;
    byPath.sourcePath = library.photos() / "later.jpg";
    byPath.prompt = "later";
    catalog.addGeneration(byPath);
    EXPECT_FALSE(catalog.generationOf(early)->sourcePhotoId);
    const auto later = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "later.jpg"));
    catalog.linkGenerationSources();
    EXPECT_EQ(catalog.generationOf(early)->sourcePhotoId, later);
    EXPECT_EQ(catalog.generationOf(early)->sourcePath, library.photos() / "later.jpg");

    catalog.deletePhotos(std::vector<std::int64_t> {source});
    const auto orphan = catalog.generationOf(first);
    ASSERT_TRUE(orphan);
    EXPECT_FALSE(orphan->sourcePhotoId) << "the picture stays, without its deleted source";
    EXPECT_TRUE(catalog.integrityCheck().empty());
}

TEST(CatalogPhotos, DeleteCascades)
{
    Library library("catalog-delete");
    auto& catalog = library.catalog;
    const auto a = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "alpha.jpg"));
    const auto b = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "beta.jpg"));
    for (auto id : {a, b}) {
        catalog.putEmbedding(id, "m1", makeVector(8, static_cast<int>(id)));
        catalog.putEmbedding(id, "m2", makeVector(4, static_cast<int>(id)));
        catalog.addCaption(id, "shared words", "m", "");
        catalog.addTag(id, "common", "user");
    }
    GenerationRow row;
    row.photoId = a;
    row.prompt = "a prompt";
    row.paramsJson = R"({"steps": 20})";
    const auto generation = catalog.addGeneration(row);
    catalog.deletePhotos(std::vector<std::int64_t> {a});
    EXPECT_FALSE(catalog.photo(a));
    EXPECT_FALSE(catalog.embedding(a, "m1"));
    EXPECT_TRUE(catalog.captions(a).empty());
    EXPECT_TRUE(catalog.tags(a).empty());
    EXPECT_EQ(catalog.countEmbeddings("m1"), 1);
    EXPECT_EQ(catalog.countEmbeddings("m2"), 1);
    const auto hits = catalog.matchText("common", 10);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].photoId, b);
    const auto counts = catalog.counts();
    EXPECT_EQ(counts.captions, 1);
    EXPECT_EQ(counts.tags, 1);
    EXPECT_EQ(counts.generations, 1); // generations outlive their photo (photo_id becomes NULL)
    EXPECT_EQ(
        rawScalar(catalog.file(), strCat("SELECT quote(photo_id) FROM generations WHERE id = ", generation)),
        "NULL");
    catalog.deletePhotos(std::vector<std::int64_t> {b, 12345});
    EXPECT_EQ(catalog.counts().photos, 0);
    EXPECT_TRUE(catalog.integrityCheck().empty());
}

// --- embeddings

TEST(CatalogEmbeddings, StoredAsFloat16)
{
    Library library("catalog-emb");
    auto& catalog = library.catalog;
    const auto id = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "a.jpg"));
    auto vector = makeVector(512, 5);
    vector[0] = 0.0f;
    vector[1] = 1e-6f; // a float16 subnormal
    vector[2] = -3.5f;
    catalog.putEmbedding(id, "clip-x", vector);
    const auto back = catalog.embedding(id, "clip-x");
    ASSERT_TRUE(back);
    ASSERT_EQ(back->size(), 512u);
    for (std::size_t i = 0; i < vector.size(); ++i) {
        EXPECT_EQ((*back)[i], halfToFloat(floatToHalf(vector[i]))) << i;
        EXPECT_LE(std::fabs((*back)[i] - vector[i]), std::max(std::fabs(vector[i]) * 0x1p-11f, 0x1p-25f))
            << i;
    }
    EXPECT_EQ(rawScalar(catalog.file(), "SELECT length(vector) FROM embeddings"), "1024");
    EXPECT_FALSE(catalog.embedding(id, "other"));

    // Replacing keeps one row per (photo, model).
    catalog.putEmbedding(id, "clip-x", std::vector<float> {1.0f, 2.0f});
    EXPECT_EQ(catalog.embedding(id, "clip-x"), (std::vector<float> {1.0f, 2.0f}));
    EXPECT_EQ(catalog.countEmbeddings("clip-x"), 1);

    auto message = errorOf([&] { catalog.putEmbedding(id, "clip-x", std::vector<float> {1.0f, 1e6f}); });
    EXPECT_NE(message.find("not representable as float16"), std::string::npos) << message;
    EXPECT_NE(message.find("index 1"), std::string::npos) << message;
    EXPECT_THROW(catalog.putEmbedding(id, "clip-x", std::vector<float> {std::nanf("")}), Error);
    EXPECT_THROW(catalog.putEmbedding(id, "clip-x", std::vector<float> {}), Error);
    EXPECT_THROW(catalog.putEmbedding(id, "", std::vector<float> {1.0f}), Error);
    EXPECT_THROW(catalog.putEmbedding(9999, "clip-x", std::vector<float> {1.0f}), Error); // foreign key

    rawExec(catalog.file(), "UPDATE embeddings SET dim = 7");
    message = errorOf([&] { catalog.embedding(id, "clip-x"); });
    EXPECT_NE(message.find("corrupt embedding of photo"), std::string::npos) << message;
    EXPECT_FALSE(catalog.integrityCheck().empty());
}

TEST(CatalogEmbeddings, RevisionsNeverGoBackSoAnIndexCanCatchUp)
{
    Library library("catalog-revisions");
    auto& catalog = library.catalog;
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 4; ++i)
        ids.push_back(
            catalog.upsertPhoto(makePhoto(library.root, library.photos() / strCat("r", i, ".jpg"))));
    EXPECT_EQ(catalog.embeddingRevision("m"), 0);
    for (int i = 0; i < 3; ++i)
        catalog.putEmbedding(ids[i], "m", makeVector(4, i));
    catalog.putEmbedding(ids[3], "other", makeVector(4, 3));
    EXPECT_EQ(catalog.embeddingRevision("m"), 3); // per model
    EXPECT_EQ(catalog.embeddingRevision("other"), 1);
    const std::int64_t saved = catalog.embeddingRevision("m");
    EXPECT_TRUE(catalog.embeddingsChangedSince("m", saved).empty());
    EXPECT_EQ(catalog.embeddingsChangedSince("m", 0), (std::vector<std::int64_t> {ids[0], ids[1], ids[2]}));

    // Deleting the newest row does not lower the counter: the next write is still seen as new.
    catalog.deletePhotos(std::vector<std::int64_t> {ids[2]});
    EXPECT_EQ(catalog.embeddingRevision("m"), saved);
    catalog.putEmbedding(ids[0], "m", makeVector(4, 9)); // a re-embedded photo keeps its id
    EXPECT_EQ(catalog.embeddingRevision("m"), saved + 1);
    EXPECT_EQ(catalog.embeddingsChangedSince("m", saved), std::vector<std::int64_t> {ids[0]});

    // A write that fails (no such photo) takes no revision.
    EXPECT_THROW(catalog.putEmbedding(9999, "m", makeVector(4, 1)), Error);
    EXPECT_EQ(catalog.embeddingRevision("m"), saved + 1);
}

TEST(CatalogMigrations, VersionOneCatalogGainsRevisionsAndKeepsItsEmbeddings)
{
    const auto dir = test::scratchDir("catalog-v1");
    {
        catalog_detail::Db db(dir / Catalog::kFileName, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        catalog_detail::applyMigrations(db, catalog_detail::catalogMigrations().first(1));
        db.exec("INSERT INTO roots(path, added_at) VALUES (x'2f70', 0)");
        db.exec("INSERT INTO photos(root_id, path, size, mtime_ns, content_hash, indexed_at) "
                "VALUES (1, x'2f702f612e6a7067', 1, 1, 1, 0)");
        db.exec("INSERT INTO embeddings(photo_id, model_id, dim, vector, created_at) VALUES (1, 'm', 1, "
                "x'003c', 0)");
    }
    auto catalog = Catalog::open(dir);
    EXPECT_EQ(catalog.schemaVersion(), Catalog::currentSchemaVersion());
    EXPECT_EQ(catalog.embedding(1, "m"), std::vector<float> {1.0f});
    EXPECT_EQ(catalog.embeddingRevision("m"), 0);
    EXPECT_TRUE(catalog.embeddingsChangedSince("m", 0).empty()); // old rows carry revision 0
    catalog.putEmbedding(1, "m", std::vector<float> {2.0f});
    EXPECT_EQ(catalog.embeddingsChangedSince("m", 0), std::vector<std::int64_t> {1});
}

TEST(CatalogEmbeddings, IterateInIdOrderInBatches)
{
    Library library("catalog-iterate");
    auto& catalog = library.catalog;
    std::vector<std::int64_t> ids;
    {
        Transaction transaction(catalog);
        for (int i = 0; i < 10; ++i)
            ids.push_back(
                catalog.upsertPhoto(makePhoto(library.root, library.photos() / strCat("p", i, ".jpg"))));
        // Inserted out of order, and one photo has no embedding of this model.
        for (int i = 9; i >= 0; --i)
            if (i != 4)
                catalog.putEmbedding(ids[i], "m", makeVector(6, i));
        catalog.putEmbedding(ids[4], "other", makeVector(3, 4));
        transaction.commit();
    }
    EXPECT_EQ(catalog.countEmbeddings("m"), 9);
    EXPECT_EQ(catalog.countEmbeddings("other"), 1);
    EXPECT_EQ(catalog.countEmbeddings("none"), 0);
    EXPECT_EQ(catalog.photosWithoutEmbedding("m"), std::vector<std::int64_t> {ids[4]});
    EXPECT_EQ(catalog.photosWithoutEmbedding("none"), ids);

    for (std::size_t batchSize : {1u, 3u, 4u, 9u, 100u}) {
        std::vector<std::int64_t> seen;
        std::size_t batches = 0;
        catalog.forEachEmbedding(
            "m",
            [&](const EmbeddingBatch& batch) {
                ++batches;
                EXPECT_EQ(batch.dim, 6);
                EXPECT_LE(batch.ids.size(), batchSize);
                ASSERT_EQ(batch.vectors.size(), batch.ids.size() * 6);
                for (std::size_t r = 0; r < batch.ids.size(); ++r) {
                    const auto expected = catalog.embedding(batch.ids[r], "m");
                    EXPECT_TRUE(
                        std::equal(expected->begin(), expected->end(), batch.vectors.begin() + r * 6));
                    seen.push_back(batch.ids[r]);
                }
            },
            batchSize);
        EXPECT_EQ(batches, (9 + batchSize - 1) / batchSize) << batchSize;
        EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
        EXPECT_EQ(seen.size(), 9u);
        EXPECT_EQ(seen, catalog.embeddingIds("m"));
    }
    std::size_t calls = 0;
    catalog.forEachEmbedding("none", [&](const EmbeddingBatch&) { ++calls; });
    EXPECT_EQ(calls, 0u);

    // Mixed dimensions within one model are an error naming the photo.
    catalog.putEmbedding(ids[4], "m", makeVector(5, 4));
    const auto message = errorOf([&] { catalog.forEachEmbedding("m", [](const EmbeddingBatch&) {}); });
    EXPECT_NE(message.find("different dimensions"), std::string::npos) << message;
    EXPECT_NE(message.find(strCat("photo ", ids[4])), std::string::npos) << message;
    // The walk's own read transaction is closed again.
    Transaction transaction(catalog);
    transaction.commit();

    const auto counts = catalog.counts();
    ASSERT_EQ(counts.embeddingsPerModel.size(), 2u);
    EXPECT_EQ(counts.embeddingsPerModel[0], (std::pair<std::string, std::int64_t> {"m", 10}));
    EXPECT_EQ(counts.embeddingsPerModel[1], (std::pair<std::string, std::int64_t> {"other", 1}));
}

// --- full text

class CatalogText : public ::testing::Test {
protected:
    CatalogText() : library("catalog-fts")
    {
        auto& catalog = library.catalog;
        beach = catalog.upsertPhoto(
            makePhoto(library.root, library.photos() / "Summer 2019" / "beach_sunset.jpg"));
        dog = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "misc" / "IMG_1234.jpg"));
        cafe = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "Café Paris" / "DSC0001.jpg"));
        catalog.addCaption(dog, "a golden retriever running through tall grass", "captioner-1", "describe");
        catalog.addCaption(dog, "a happy dog outdoors", "captioner-2", "short");
        catalog.addTag(dog, "pets", "user");
        catalog.addTag(cafe, "croissant", "tagger-1");
        catalog.addTag(cafe, "croissant", "tagger-1"); // idempotent
    }
    Library library;
    std::int64_t beach = 0, dog = 0, cafe = 0;
};

TEST_F(CatalogText, FindsFileNamesCaptionsTagsAndFolders)
{
    auto& catalog = library.catalog;
    auto hits = catalog.matchText("sunset", 10);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].photoId, beach);
    EXPECT_EQ(hits[0].field, TextField::FileName);
    EXPECT_EQ(hits[0].snippet, "beach_[sunset].jpg");
    EXPECT_GT(hits[0].score, 0);

    hits = catalog.matchText("retriever", 10);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].photoId, dog);
    EXPECT_EQ(hits[0].field, TextField::Caption);
    EXPECT_NE(hits[0].snippet.find("[retriever]"), std::string::npos) << hits[0].snippet;

    hits = catalog.matchText("pets", 10);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].field, TextField::Tag);
    EXPECT_EQ(hits[0].snippet, "[pets]");
    EXPECT_EQ(catalog.tags(cafe).size(), 1u);
    EXPECT_EQ(catalog.tags(cafe)[0].source, "tagger-1");

    hits = catalog.matchText("summer", 10);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].field, TextField::FolderName);
    EXPECT_EQ(hits[0].photoId, beach);
    // The root folder's own name is searchable, so every photo matches it.
    EXPECT_EQ(catalog.matchText("photos", 10).size(), 3u);

    // Case and diacritics do not matter; every word must match (AND); a trailing * is a prefix.
    EXPECT_EQ(catalog.matchText("CAFE paris", 10).size(), 1u);
    EXPECT_EQ(catalog.matchText("dog retriever", 10).size(), 1u);
    EXPECT_TRUE(catalog.matchText("dog sunset", 10).empty());
    EXPECT_EQ(catalog.matchText("retr*", 10).size(), 1u);
    EXPECT_TRUE(catalog.matchText("retr", 10).empty());
    EXPECT_EQ(catalog.matchText("img_1234", 10).at(0).photoId, dog);
    EXPECT_EQ(catalog.matchText("IMG_1234.jpg", 10).at(0).photoId, dog);
    EXPECT_EQ(catalog.matchText("jpg", 2).size(), 2u);
    EXPECT_TRUE(catalog.matchText("jpg", 0).empty());
    EXPECT_EQ(catalog.captions(dog).size(), 2u);
    EXPECT_EQ(catalog.captions(dog)[1].modelId, "captioner-2");
}

TEST_F(CatalogText, RanksFileNameMatchesAboveCaptionMatches)
{
    auto& catalog = library.catalog;
    const auto named = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "misc" / "grass.jpg"));
    const auto hits = catalog.matchText("grass", 10);
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0].photoId, named);
    EXPECT_EQ(hits[1].photoId, dog);
    EXPECT_GE(hits[0].score, hits[1].score);
}

TEST_F(CatalogText, HostileInputNeverThrows)
{
    auto& catalog = library.catalog;
    const std::vector<std::string> inputs = {"\"", "\"\"", "\"dog", "NEAR(", "NEAR(dog sunset, 2)", "*", "**",
        "dog*", "*dog", "AND OR", "AND", "OR NOT", "dog OR", "NOT dog", "(", ")", "(dog", "-dog", "+", "^dog",
        "file_name:dog", "{file_name}: dog", ":", "a:b", "'", "''", "\\", "dog\"; DROP TABLE photos; --",
        "\x01\x02", std::string("dog\0cat", 7), "\xff\xfe", "\xc3", "…", "   ", "", "dog -",
        "col:", "rank MATCH", std::string(10000, 'x'), std::string(2000, '"'), std::string(500, '(')};
    for (const auto& input : inputs) {
        EXPECT_NO_THROW(catalog.matchText(input, 10)) << input;
        EXPECT_NO_THROW(catalog.matchText("dog " + input, 10)) << input;
    }
    EXPECT_EQ(catalog.matchText("retriever(", 10).size(), 1u); // punctuation inside a word is no syntax
    EXPECT_TRUE(catalog.matchText("NEAR(dog", 10).empty()); // the phrase "near dog"
    EXPECT_EQ(catalog.matchText("\"dog\"", 10).size(), 1u);
    EXPECT_EQ(catalog.matchText("dog AND OR", 10).size(), 0u); // "and"/"or" are plain words here
    EXPECT_EQ(catalog.counts().photos, 3);
    EXPECT_TRUE(catalog.integrityCheck().empty());
}

TEST(CatalogTextQuery, QuotesEveryWord)
{
    EXPECT_EQ(quoteFtsQuery("dog on a beach"), "\"dog\" \"on\" \"a\" \"beach\"");
    EXPECT_EQ(quoteFtsQuery("say \"hi\""), "\"say\" \"\"\"hi\"\"\"");
    EXPECT_EQ(quoteFtsQuery("NEAR(a b)"), "\"NEAR(a\" \"b)\"");
    EXPECT_EQ(quoteFtsQuery("retr* **"), "\"retr\"*");
    EXPECT_EQ(quoteFtsQuery("  \t\n "), "");
    EXPECT_EQ(quoteFtsQuery(std::string("a\0b", 3)), "\"a\" \"b\"");
    EXPECT_EQ(quoteFtsQuery("caf\xe9"), "\"caf\xEF\xBF\xBD\"");
}

// --- filters

TEST(CatalogListing, OrdersPagesAndFilters)
{
    Library library("catalog-listing");
    auto& catalog = library.catalog;
    const auto root = library.photos();
    // Dates (taken, else mtime): e=500 (taken), a=1000, c=3000 and b=3000 (a tie, broken by id), d=4000.
    auto add = [&](const fs::path& path, std::optional<std::int64_t> takenAt, std::int64_t mtimeSeconds,
                   const std::string& type) {
        auto photo = makePhoto(library.root, path);
        photo.takenAt = takenAt;
        photo.mtimeNs = mtimeSeconds * 1'000'000'000;
        photo.fileType = type;
        photo.cameraMake = "Canon";
        return catalog.upsertPhoto(photo);
    };
    const auto a = add(root / "z" / "a.jpg", std::nullopt, 1000, "jpeg");
    const auto c = add(root / "c.jpg", 3000, 9, "jpeg");
    const auto b = add(root / "y" / "b.png", std::nullopt, 3000, "png");
    const auto d = add(root / "z" / "d.jpg", 4000, 1, "jpeg");
    const auto e = add(root / "e.jpg", 500, 99999, "jpeg");
    using Ids = std::vector<std::int64_t>;
    auto ids = [](const std::vector<PhotoRecord>& rows) {
        Ids out;
        for (const auto& row : rows)
            out.push_back(row.id);
        return out;
    };

    EXPECT_EQ(catalog.countPhotos(), 5);
    EXPECT_EQ(ids(catalog.listPhotos(PhotoOrder::NewestFirst, 0, 100)), (Ids {d, b, c, a, e}));
    EXPECT_EQ(ids(catalog.listPhotos(PhotoOrder::OldestFirst, 0, 100)), (Ids {e, a, c, b, d}));
    EXPECT_EQ(ids(catalog.listPhotos(PhotoOrder::Name, 0, 100)), (Ids {a, b, c, d, e})); // by file name
    // Full rows, as photo(id) reads them.
    const auto rows = catalog.listPhotos(PhotoOrder::NewestFirst, 0, 1);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].path, root / "z" / "d.jpg");
    EXPECT_EQ(rows[0].takenAt, std::optional<std::int64_t>(4000));
    EXPECT_EQ(rows[0].contentHash, catalog.photo(d)->contentHash);
    EXPECT_EQ(rows[0].cameraMake, "Canon");

    // Pages: the concatenation is the whole listing, the last page is short, past the end is empty.
    Ids paged;
    for (std::int64_t offset = 0; offset < 5; offset += 2)
        for (auto id : ids(catalog.listPhotos(PhotoOrder::NewestFirst, offset, 2)))
            paged.push_back(id);
    EXPECT_EQ(paged, (Ids {d, b, c, a, e}));
    EXPECT_EQ(ids(catalog.listPhotos(PhotoOrder::NewestFirst, 4, 2)), (Ids {e}));
    EXPECT_TRUE(catalog.listPhotos(PhotoOrder::NewestFirst, 5, 2).empty());
    EXPECT_TRUE(catalog.listPhotos(PhotoOrder::NewestFirst, 0, 0).empty());
    EXPECT_THROW(catalog.listPhotos(PhotoOrder::NewestFirst, -1, 2), Error);

    // Filters: the same clauses as filterPhotos.
    PhotoFilter folder;
    folder.folder = root / "z";
    EXPECT_EQ(catalog.countPhotos(folder), 2);
    EXPECT_EQ(ids(catalog.listPhotos(PhotoOrder::NewestFirst, 0, 100, folder)), (Ids {d, a}));
    EXPECT_EQ(ids(catalog.listPhotos(PhotoOrder::NewestFirst, 1, 100, folder)), (Ids {a}));
    PhotoFilter types;
    types.fileTypes = {"PNG"};
    EXPECT_EQ(catalog.countPhotos(types), 1);
    EXPECT_EQ(ids(catalog.listPhotos(PhotoOrder::Name, 0, 100, types)), (Ids {b}));
    PhotoFilter dates;
    dates.takenFrom = 1000;
    dates.takenBefore = 4000;
    EXPECT_EQ(ids(catalog.listPhotos(PhotoOrder::OldestFirst, 0, 100, dates)), (Ids {a, c, b}));
    EXPECT_EQ(catalog.filterPhotos(dates), (Ids {a, c, b}));
}

TEST(CatalogFilters, FolderDatesCameraFileType)
{
    Library library("catalog-filter");
    auto& catalog = library.catalog;
    const auto root = library.photos();
    auto add = [&](const fs::path& path, std::optional<std::int64_t> takenAt, std::int64_t mtimeSeconds,
                   const std::string& make, const std::string& model, const std::string& type) {
        auto photo = makePhoto(library.root, path);
        photo.takenAt = takenAt;
        photo.mtimeNs = mtimeSeconds * 1'000'000'000;
        photo.cameraMake = make;
        photo.cameraModel = model;
        photo.fileType = type;
        return catalog.upsertPhoto(photo);
    };
    const auto a = add(root / "trip" / "a.jpg", 1000, 9000, "Canon", "EOS R5", "jpeg");
    const auto b = add(root / "trip" / "sub" / "b.png", std::nullopt, 2000, "", "", "png");
    const auto c = add(root / "trip2" / "c.jpg", 3000, 100, "NIKON CORPORATION", "NIKON D750", "jpeg");
    const auto d = add(root / "d.heic", std::nullopt, 4000, "Apple", "iPhone 12", "heic");
    using Ids = std::vector<std::int64_t>;

    EXPECT_EQ(catalog.filterPhotos({}), (Ids {a, b, c, d}));
    PhotoFilter folder;
    folder.folder = root / "trip";
    EXPECT_EQ(catalog.filterPhotos(folder), (Ids {a, b})); // not trip2
    folder.folder = fs::path((root / "trip").string() + "/");
    EXPECT_EQ(catalog.filterPhotos(folder), (Ids {a, b}));
    folder.folder = root / "trip" / "sub";
    EXPECT_EQ(catalog.filterPhotos(folder), (Ids {b}));
    folder.folder = root / "nothing";
    EXPECT_TRUE(catalog.filterPhotos(folder).empty());

    PhotoFilter dates; // date taken, else mtime: a=1000, b=2000, c=3000, d=4000
    dates.takenFrom = 2000;
    EXPECT_EQ(catalog.filterPhotos(dates), (Ids {b, c, d}));
    dates.takenBefore = 4000;
    EXPECT_EQ(catalog.filterPhotos(dates), (Ids {b, c}));
    dates.takenFrom.reset();
    EXPECT_EQ(catalog.filterPhotos(dates), (Ids {a, b, c}));

    PhotoFilter camera;
    camera.camera = "nikon";
    EXPECT_EQ(catalog.filterPhotos(camera), (Ids {c}));
    camera.camera = "iphone";
    EXPECT_EQ(catalog.filterPhotos(camera), (Ids {d}));
    camera.camera = "canon eos";
    EXPECT_EQ(catalog.filterPhotos(camera), (Ids {a}));

    PhotoFilter types;
    types.fileTypes = {"JPEG", "heic"};
    EXPECT_EQ(catalog.filterPhotos(types), (Ids {a, c, d}));

    PhotoFilter combined;
    combined.folder = root;
    combined.fileTypes = {"jpeg"};
    combined.takenFrom = 2500;
    EXPECT_EQ(catalog.filterPhotos(combined), (Ids {c}));
}

// Tags: trimmed, one spelling per tag whatever the letter case, removed in any case, counted, filtered
// (every tag asked for), and found by full text.
TEST(CatalogTags, AddRemoveCountAndFilter)
{
    Library library("catalog-tags");
    auto& catalog = library.catalog;
    const auto a = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "a.jpg"));
    const auto b = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "b.jpg"));
    const auto c = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "c.jpg"));
    EXPECT_EQ(normalizeTag("  Beach   day \t"), "Beach day");
    catalog.addTag(a, "  Beach ", "user");
    catalog.addTag(b, "beach", "user"); // the existing spelling
    catalog.addTag(b, "sunset", "user");
    catalog.addTag(c, "sunset", "clip-0123");
    EXPECT_THROW(catalog.addTag(c, "   ", "user"), Error);
    ASSERT_EQ(catalog.tags(b).size(), 2u);
    EXPECT_EQ(catalog.tags(b)[0].tag, "Beach");
    using Counts = std::vector<std::pair<std::string, std::int64_t>>;
    EXPECT_EQ(catalog.tagCounts(), (Counts {{"Beach", 2}, {"sunset", 2}}));

    using Ids = std::vector<std::int64_t>;
    PhotoFilter filter;
    filter.tags = {"BEACH"};
    EXPECT_EQ(catalog.filterPhotos(filter), (Ids {a, b}));
    filter.tags = {"beach", "sunset"};
    EXPECT_EQ(catalog.filterPhotos(filter), (Ids {b}));
    EXPECT_EQ(catalog.countPhotos(filter), 1);
    EXPECT_EQ(catalog.matchText("sunset", 10).size(), 2u);

    EXPECT_TRUE(catalog.removeTag(b, "BEACH"));
    EXPECT_FALSE(catalog.removeTag(b, "beach"));
    EXPECT_EQ(catalog.tagCounts(), (Counts {{"Beach", 1}, {"sunset", 2}}));
    EXPECT_TRUE(catalog.removeTag(a, "beach"));
    EXPECT_EQ(catalog.tagCounts(), (Counts {{"sunset", 2}}));
    EXPECT_TRUE(catalog.matchText("beach", 10).empty()) << "the full text follows a removal";
}

TEST(CatalogTags, ThePersonsWordOverZeroShotTagsAndTheRulesKept)
{
    Library library("catalog-auto-tags");
    auto& catalog = library.catalog;
    const auto a = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "a.jpg"));
    const auto b = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "b.jpg"));
    const auto c = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "c.jpg"));
    for (const auto id : {a, b, c})
        catalog.addAutoTag(id, "sky", "auto:clip-1", 0.3, 0.25);
    EXPECT_TRUE(catalog.autoTagExclusions("sky").empty());

    EXPECT_TRUE(catalog.removeTag(a, "SKY")); // taken away: remembered
    catalog.addTag(b, "sky", kUserTagSource); // confirmed: the person's, the model's row gone
    ASSERT_EQ(catalog.tags(b).size(), 1u);
    EXPECT_EQ(catalog.tags(b)[0].source, kUserTagSource);
    EXPECT_EQ(catalog.autoTagExclusions("Sky"), (std::vector<std::int64_t> {a, b}));
    catalog.addTag(a, "sky", kUserTagSource); // given back by the person: theirs, no longer a rejection
    EXPECT_EQ(catalog.autoTagExclusions("sky"), (std::vector<std::int64_t> {a, b}));
    EXPECT_TRUE(catalog.removeTag(a, "sky")); // a person's tag taken away is not a rejection of the model
    EXPECT_EQ(catalog.autoTagExclusions("sky"), (std::vector<std::int64_t> {b}));

    catalog.saveAutoTagRule({"sky", {"a photo of the sky", "a  blue\tsky"}, "clip-1", 0.25, 0});
    catalog.saveAutoTagRule({"Beach", {"a beach"}, "clip-1", 0.2, 0});
    catalog.saveAutoTagRule({"SKY", {"the sky"}, "clip-1", 0.3, 0}); // replaces the tag's rule
    const auto rules = catalog.autoTagRules();
    ASSERT_EQ(rules.size(), 2u);
    EXPECT_EQ(rules[0].tag, "Beach");
    EXPECT_EQ(rules[1].tag, "SKY");
    EXPECT_EQ(rules[1].prompts, (std::vector<std::string> {"the sky"}));
    EXPECT_DOUBLE_EQ(rules[1].threshold, 0.3);
    EXPECT_GT(rules[1].createdAt, 0);
    EXPECT_TRUE(catalog.removeAutoTagRule("sky"));
    EXPECT_FALSE(catalog.removeAutoTagRule("sky"));
    ASSERT_EQ(catalog.autoTagRules().size(), 1u);
    catalog.deletePhotos(std::vector<std::int64_t> {a, b});
    EXPECT_TRUE(catalog.autoTagExclusions("sky").empty()) << "rejections go with their photo";
}

// The rules that tag new photos while they are indexed: a rule whose prompts cannot be embedded (or that
// has another dimension) is left out of the run instead of stopping it; a photo gone since it was scored
// is skipped, not an error.
TEST(CatalogTags, RulesForNewPhotosNeverStopTheIndexing)
{
    Library library("catalog-auto-tag-rules");
    auto& catalog = library.catalog;
    const auto photo = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "a.jpg"));
    catalog.saveAutoTagRule({"sky", {"a photo of the sky"}, "clip-1", 0.1, 0});
    catalog.saveAutoTagRule({"broken", {"no text model"}, "clip-1", 0.1, 0});
    catalog.saveAutoTagRule({"other model", {"a dog"}, "clip-2", 0.1, 0});
    int embedded = 0;
    NewPhotoAutoTagger tagger(catalog, "clip-1", [&](const TagDefinition& definition) {
        ++embedded;
        if (definition.tag == "broken")
            throw Error("the text tower failed");
        return std::vector<float> {1, 0, 0};
    });
    EXPECT_FALSE(tagger.empty());
    tagger.prepare(3);
    tagger.prepare(3); // embedded once
    EXPECT_EQ(embedded, 2) << "the other model's rule is not this run's";
    const std::vector<float> unit {0.6F, 0.8F, 0};
    EXPECT_EQ(tagger.tag(catalog, photo, unit), 1);
    ASSERT_EQ(catalog.tags(photo).size(), 1u);
    EXPECT_EQ(catalog.tags(photo)[0].source, "auto:clip-1");
    EXPECT_NEAR(*catalog.tags(photo)[0].score, 0.6, 1e-6);
    EXPECT_FALSE(catalog.addAutoTag(photo + 100, "sky", "auto:clip-1", 0.5, 0.1)) << "no such photo";
}

// --- failures, jobs, counts, integrity

TEST(CatalogFailures, RecordListClear)
{
    Library library("catalog-failures");
    auto& catalog = library.catalog;
    catalog.recordFailure(library.photos() / "bad.jpg", "truncated JPEG", "index");
    catalog.recordFailure(library.photos() / "huge.png", "50000x50000 is above the pixel cap", "index");
    catalog.recordFailure(library.photos() / "x.jpg", "no model", "caption");
    const auto all = catalog.failures();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].path, library.photos() / "bad.jpg");
    EXPECT_EQ(all[0].reason, "truncated JPEG");
    EXPECT_EQ(all[0].jobKind, "index");
    EXPECT_GT(all[0].at, 0);
    EXPECT_EQ(catalog.failures("index").size(), 2u);
    EXPECT_EQ(catalog.failures("caption").size(), 1u);
    EXPECT_EQ(catalog.counts().failures, 3);
    catalog.clearFailures("index");
    ASSERT_EQ(catalog.failures().size(), 1u);
    EXPECT_EQ(catalog.failures()[0].jobKind, "caption");
}

TEST(CatalogJobs, SaveUpdateLatest)
{
    Library library("catalog-jobs");
    auto& catalog = library.catalog;
    EXPECT_FALSE(catalog.latestJob("index"));
    JobRecord job {0, "index", "running", R"({"done": 10, "total": 100})", 0};
    const auto id = catalog.saveJob(job);
    job.id = id;
    job.state = "cancelled";
    job.progressJson = R"({"done": 50, "total": 100})";
    EXPECT_EQ(catalog.saveJob(job), id);
    const auto stored = catalog.job(id);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->state, "cancelled");
    EXPECT_EQ(stored->progressJson, R"({"done": 50, "total": 100})");
    EXPECT_GT(stored->updatedAt, 0);
    const auto second = catalog.saveJob({0, "index", "running", "{}", 0});
    catalog.saveJob({0, "caption", "done", "{}", 0});
    EXPECT_EQ(catalog.latestJob("index")->id, second);
    EXPECT_FALSE(catalog.job(9999));
    job.id = 9999;
    EXPECT_THROW(catalog.saveJob(job), Error);
}

TEST(CatalogIntegrity, ReportsBrokenInvariants)
{
    Library library("catalog-integrity");
    auto& catalog = library.catalog;
    const auto id = catalog.upsertPhoto(makePhoto(library.root, library.photos() / "a.jpg"));
    EXPECT_TRUE(catalog.integrityCheck().empty());
    rawExec(catalog.file(), strCat("DELETE FROM photo_fts WHERE rowid = ", id));
    const auto problems = catalog.integrityCheck();
    ASSERT_FALSE(problems.empty());
    EXPECT_NE(problems[0].find("photos without a row"), std::string::npos) << problems[0];
    rawExec(catalog.file(),
        strCat("PRAGMA foreign_keys = OFF; INSERT INTO captions(photo_id, text, model_id, "
               "created_at) VALUES (777, 'orphan', 'm', 0)"));
    bool foreignKey = false;
    for (const auto& problem : catalog.integrityCheck())
        foreignKey = foreignKey || problem.find("foreign key: captions") != std::string::npos;
    EXPECT_TRUE(foreignKey);
}

TEST(CatalogBulk, OneTransactionOfManyPhotosIsFast)
{
    Library library("catalog-bulk");
    auto& catalog = library.catalog;
    constexpr int kPhotos = 20000;
    const auto vector = makeVector(512, 9);
    const auto start = std::chrono::steady_clock::now();
    {
        Transaction transaction(catalog);
        for (int i = 0; i < kPhotos; ++i) {
            auto photo = makePhoto(library.root,
                library.photos() / strCat("folder", i / 500) / strCat("IMG_", i, ".jpg"),
                static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull);
            catalog.putEmbedding(catalog.upsertPhoto(photo), "clip", vector);
        }
        transaction.commit();
    }
    const double insertSeconds
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto scanStart = std::chrono::steady_clock::now();
    const auto listed = catalog.listPhotosUnder(library.root);
    std::size_t seen = 0;
    catalog.forEachEmbedding("clip", [&](const EmbeddingBatch& batch) { seen += batch.ids.size(); });
    const double scanSeconds
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - scanStart).count();
    std::printf(
        "[ bulk     ] %d photos + 512-d embeddings: insert %.2f s (%.0f photos/s); list + iterate %.2f s\n",
        kPhotos, insertSeconds, kPhotos / insertSeconds, scanSeconds);
    EXPECT_EQ(listed.size(), static_cast<std::size_t>(kPhotos));
    EXPECT_EQ(seen, static_cast<std::size_t>(kPhotos));
    EXPECT_EQ(catalog.matchText("IMG_12345", 5).size(), 1u);
    EXPECT_LT(insertSeconds, 30.0); // generous: the point is one transaction, not per-row fsyncs
}

// --- crash safety

std::vector<std::string> catalogFiles()
{
    return {Catalog::kFileName, std::string(Catalog::kFileName) + "-wal"};
}

TEST(CatalogCrash, KilledWriterLeavesCommittedDataIntactAndNothingElse)
{
    const auto base = test::scratchDir("catalog-crash");
    const auto live = base / "live";
    const auto copy = base / "copy";
    fs::create_directories(copy);
    {
        auto catalog = Catalog::open(live);
        const auto root = catalog.addRoot(base / "photos");
        Transaction transaction(catalog);
        for (int i = 0; i < 100; ++i)
            catalog.upsertPhoto(makePhoto(root, base / "photos" / strCat("committed-", i, ".jpg")));
        transaction.commit();
    } // closed: no SQLite connection crosses the fork

    int ready[2];
    int resume[2];
    ASSERT_EQ(pipe(ready), 0);
    ASSERT_EQ(pipe(resume), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        close(ready[0]);
        close(resume[1]);
        // Tells the parent whether we are mid-transaction (0) or failed, then waits to be killed.
        auto signalAndWait = [&](char status) {
            [[maybe_unused]] auto written = write(ready[1], &status, 1);
            char ignored;
            [[maybe_unused]] auto got = read(resume[0], &ignored, 1);
            _exit(status);
        };
        try {
            auto catalog = Catalog::open(live);
            const auto root = catalog.roots().at(0).id;
            {
                Transaction transaction(catalog);
                for (int i = 0; i < 100; ++i) {
                    const auto id = catalog.upsertPhoto(
                        makePhoto(root, base / "photos" / strCat("child-committed-", i, ".jpg")));
                    catalog.putEmbedding(id, "clip", makeVector(512, i));
                }
                transaction.commit();
            }
            Transaction transaction(catalog);
            // Big enough to spill uncommitted pages into the WAL before the crash.
            for (int i = 0; i < 4000; ++i) {
                const auto id = catalog.upsertPhoto(
                    makePhoto(root, base / "photos" / strCat("uncommitted-", i, ".jpg")));
                catalog.putEmbedding(id, "clip", makeVector(512, i));
                catalog.addCaption(id, "never committed", "m", "");
            }
            signalAndWait(0); // connection open, transaction open
        } catch (...) {
            signalAndWait(3);
        }
    }
    close(ready[1]);
    close(resume[0]);
    char byte = 1;
    ASSERT_EQ(read(ready[0], &byte, 1), 1);
    ASSERT_EQ(byte, 0) << "the child failed to write";
    // A file copy taken now is what a crash leaves on disk: the WAL holds uncommitted frames.
    const auto walSize = fs::file_size(live / (std::string(Catalog::kFileName) + "-wal"));
    EXPECT_GT(walSize, 2u << 20) << "expected uncommitted pages spilled into the WAL";
    for (const auto& name : catalogFiles())
        fs::copy_file(live / name, copy / name);
    kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status));
    close(ready[0]);
    close(resume[1]);

    for (const auto& dir : {live, copy}) {
        SCOPED_TRACE(dir.string());
        // Readers first (they must cope with the WAL left behind), then a writer.
        for (auto mode : {Catalog::OpenMode::ReadOnly, Catalog::OpenMode::ReadWrite}) {
            auto catalog = Catalog::open(dir, mode);
            EXPECT_TRUE(catalog.integrityCheck().empty());
            const auto counts = catalog.counts();
            EXPECT_EQ(counts.photos, 200);
            EXPECT_EQ(counts.captions, 0);
            EXPECT_EQ(catalog.countEmbeddings("clip"), 100);
            EXPECT_TRUE(catalog.findByPath(base / "photos" / "committed-99.jpg"));
            EXPECT_TRUE(catalog.findByPath(base / "photos" / "child-committed-42.jpg"));
            EXPECT_FALSE(catalog.findByPath(base / "photos" / "uncommitted-0.jpg"));
            EXPECT_TRUE(catalog.matchText("uncommitted", 10).empty());
            EXPECT_EQ(catalog.matchText("committed", 1000).size(), 200u);
        }
        // And the writer can carry on.
        auto catalog = Catalog::open(dir);
        catalog.upsertPhoto(makePhoto(catalog.roots().at(0).id, base / "photos" / "after.jpg"));
        EXPECT_EQ(catalog.counts().photos, 201);
        EXPECT_TRUE(catalog.integrityCheck().empty());
    }
}

// --- library lock

// Forks a child that tries to take the lock; returns its exit code (0: got it, 1: refused, 2: other).
int childTriesLock(const fs::path& library)
{
    const pid_t child = fork();
    if (child == 0) {
        try {
            LibraryLock lock(library);
            _exit(0);
        } catch (const Error& error) {
            const std::string message = error.what();
            _exit(message.find(strCat("is in use by PID ", getppid())) != std::string::npos ? 1 : 2);
        } catch (...) {
            _exit(2);
        }
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(LibraryLock, OneWriterAtATime)
{
    const auto library = test::scratchDir("lock") / "library";
    EXPECT_FALSE(LibraryLock::holder(library));
    {
        LibraryLock lock(library);
        EXPECT_TRUE(lock.held());
        EXPECT_EQ(readBytes(library / "lock"), strCat(getpid(), "\n"));
        EXPECT_EQ(LibraryLock::holder(library), getpid());
        // Another process is refused with our PID in the message.
        EXPECT_EQ(childTriesLock(library), 1);
        // So is a second lock inside this process (flock is per open file description).
        const auto message = errorOf([&] { LibraryLock second(library); });
        EXPECT_EQ(message, strCat("library ", library.string(), " is in use by PID ", getpid()));
        // Moving keeps it held.
        LibraryLock moved(std::move(lock));
        EXPECT_TRUE(moved.held());
        EXPECT_FALSE(lock.held());
        EXPECT_EQ(childTriesLock(library), 1);
    }
    EXPECT_FALSE(LibraryLock::holder(library));
    EXPECT_EQ(childTriesLock(library), 0);
    LibraryLock again(library);
    again.release();
    EXPECT_FALSE(again.held());
    EXPECT_EQ(childTriesLock(library), 0);
}

TEST(LibraryLock, KilledHolderLeavesNoStaleLock)
{
    const auto library = test::scratchDir("lock-kill");
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        close(ready[0]);
        try {
            LibraryLock lock(library);
            [[maybe_unused]] auto written = write(ready[1], "x", 1);
            for (;;)
                pause();
        } catch (...) {
            _exit(3);
        }
    }
    close(ready[1]);
    char byte = 0;
    ASSERT_EQ(read(ready[0], &byte, 1), 1);
    close(ready[0]);
    const auto message = errorOf([&] { LibraryLock lock(library); });
    EXPECT_EQ(message, strCat("library ", library.string(), " is in use by PID ", child));
    EXPECT_EQ(LibraryLock::holder(library), child);

    kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    // The dead PID is still written in the file, but the lock went with the process.
    EXPECT_EQ(readBytes(library / "lock"), strCat(child, "\n"));
    EXPECT_FALSE(LibraryLock::holder(library));
    LibraryLock lock(library);
    EXPECT_EQ(readBytes(library / "lock"), strCat(getpid(), "\n"));
}

} // namespace
} // namespace pictor
