// The catalog schema. Never edit a released step: add a new one at the end of kMigrations.
//
// Notes on migration 1:
// - photos.path, roots.path and failures.path are BLOBs of the raw path bytes (exact round trip of
//   non-UTF-8 names; BLOB comparison is memcmp, so a folder is a range of the path index).
// - photos.content_hash is XXH3-64 bit-cast to a signed INTEGER.
// - photos and roots use AUTOINCREMENT: ids are never reused, because the FAISS index keys vectors
//   by photo id and must never map a deleted photo's vector onto a new photo.
// - embeddings.vector is dim little-endian float16 values.
// - photo_fts (FTS5, rowid = photo id) is written by the catalog code (file and folder names are
//   decoded from path bytes in C++); the trigger removes a photo's row on any deletion path. Its captions
//   column holds the captions and, since migration 3, a generated picture's prompt.
//
// Migration 2: embedding revisions. Every write of a model's embedding takes the next value of that
// model's counter (embedding_revisions.last, never decreasing, not even when rows are deleted), so a
// vector index saved at revision R catches up with the catalog by re-reading the rows whose revision
// is above R and dropping the ids the catalog no longer has. Rows from before the migration keep 0.
#include "indexer/catalog_schema.h"

#include <string>

#include "core/error.h"
#include "indexer/catalog_sqlite.h"

namespace pictor::catalog_detail {
namespace {

constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE roots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path BLOB NOT NULL UNIQUE,
    added_at INTEGER NOT NULL
);
CREATE TABLE photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
    path BLOB NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash INTEGER NOT NULL,
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    orientation INTEGER NOT NULL DEFAULT 1,
    taken_at INTEGER,
    camera_make TEXT NOT NULL DEFAULT '',
    camera_model TEXT NOT NULL DEFAULT '',
    gps_lat REAL,
    gps_lon REAL,
    file_type TEXT NOT NULL DEFAULT '',
    indexed_at INTEGER NOT NULL
);
CREATE INDEX photos_by_root ON photos(root_id);
CREATE INDEX photos_by_hash ON photos(content_hash);
CREATE TABLE embeddings (
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    model_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (photo_id, model_id)
);
CREATE INDEX embeddings_by_model ON embeddings(model_id, photo_id);
CREATE TABLE captions (
    id INTEGER PRIMARY KEY,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    model_id TEXT NOT NULL,
    prompt TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX captions_by_photo ON captions(photo_id);
CREATE TABLE tags (
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (photo_id, tag, source)
);
CREATE TABLE generations (
    id INTEGER PRIMARY KEY,
    prompt TEXT NOT NULL,
    params_json TEXT NOT NULL DEFAULT '{}',
    photo_id INTEGER REFERENCES photos(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX generations_by_photo ON generations(photo_id);
CREATE TABLE failures (
    id INTEGER PRIMARY KEY,
    path BLOB NOT NULL,
    reason TEXT NOT NULL,
    job_kind TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX failures_by_kind ON failures(job_kind);
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    progress_json TEXT NOT NULL DEFAULT '{}',
    updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_by_kind ON jobs(kind, id);
CREATE VIRTUAL TABLE photo_fts USING fts5(
    file_name, folder_name, captions, tags, tokenize = 'unicode61 remove_diacritics 2');
-- rank = bm25 with file names and tags weighted above folders and captions (persistent FTS5 setting).
INSERT INTO photo_fts(photo_fts, rank) VALUES ('rank', 'bm25(2.0, 1.0, 1.0, 2.0)');
CREATE TRIGGER photos_delete_fts AFTER DELETE ON photos BEGIN
    DELETE FROM photo_fts WHERE rowid = OLD.id;
END;
)sql"},
    {2, R"sql(
CREATE TABLE embedding_revisions (
    model_id TEXT PRIMARY KEY,
    last INTEGER NOT NULL
) WITHOUT ROWID;
ALTER TABLE embeddings ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE INDEX embeddings_by_revision ON embeddings(model_id, revision);
)sql"},
    // A generated picture's row: photo_id is the picture, source_photo_id the library photo it was made
    // from (variations, a photo changed by words), query the search it came from.
    {3, R"sql(
ALTER TABLE generations ADD COLUMN source_photo_id INTEGER REFERENCES photos(id) ON DELETE SET NULL;
ALTER TABLE generations ADD COLUMN model_id TEXT NOT NULL DEFAULT '';
ALTER TABLE generations ADD COLUMN query TEXT NOT NULL DEFAULT '';
ALTER TABLE generations ADD COLUMN source_path BLOB;
CREATE INDEX generations_by_source ON generations(source_photo_id);
)sql"},
    // The catalog's identity, random, made once: a vector index records the catalog it was built from, so
    // an index left beside a replaced or recreated catalog (whose ids restart at 1) is never trusted.
    {4, R"sql(
CREATE TABLE catalog_identity (id TEXT NOT NULL);
INSERT INTO catalog_identity(id) VALUES (lower(hex(randomblob(16))));
)sql"},
    // The file system (st_dev) a root was last indexed on: another drive mounted at the same folder holds
    // other photos, and the missing ones must be kept as offline, not deleted.
    {5, R"sql(
ALTER TABLE roots ADD COLUMN device_id INTEGER;
)sql"},
    // Zero-shot tags (source "auto:<model id>") keep the score that gave them and the threshold it passed.
    {6, R"sql(
ALTER TABLE tags ADD COLUMN score REAL;
ALTER TABLE tags ADD COLUMN threshold REAL;
)sql"},
    // Zero-shot tag rules, kept so that new photos get the tag as they are indexed, and the photos a
    // person took a zero-shot tag from (the model must not give it back).
    {7, R"sql(
CREATE TABLE auto_tag_rules (
    tag TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    prompts TEXT NOT NULL,
    model_id TEXT NOT NULL,
    threshold REAL NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE auto_tag_rejections (
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    tag TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (photo_id, tag)
);
)sql"},
};

int userVersion(Db& db)
{
    auto query = db.query("PRAGMA user_version");
    query.step();
    return static_cast<int>(query.int64(0));
}

} // namespace

std::span<const Migration> catalogMigrations()
{
    return kMigrations;
}

int latestSchemaVersion()
{
    return catalogMigrations().back().version;
}

void applyMigrations(Db& db, std::span<const Migration> migrations)
{
    for (std::size_t i = 0; i < migrations.size(); ++i)
        PICTOR_CHECK(migrations[i].version == static_cast<int>(i) + 1, "catalog migrations out of order");
    if (!migrations.empty() && userVersion(db) >= migrations.back().version)
        return;
    for (const Migration& step : migrations) {
        db.exec("BEGIN IMMEDIATE");
        try {
            if (userVersion(db) < step.version) {
                db.exec(step.sql);
                // PRAGMA values cannot be bound parameters.
                db.exec(strCat("PRAGMA user_version = ", step.version).c_str());
                if (step.version == 1)
                    db.exec(strCat("PRAGMA application_id = ", kApplicationId).c_str());
            }
            db.exec("COMMIT");
        } catch (const Error& error) {
            if (db.inTransaction())
                db.exec("ROLLBACK");
            PICTOR_FAIL(catalogLabel(db.file()), ": migration to schema version ", step.version,
                " failed: ", error.what());
        }
    }
}

} // namespace pictor::catalog_detail
