// The library catalog: one SQLite file (catalog.sqlite3, WAL) in the library folder, the source of truth
// for roots, photos, embeddings, captions, tags, generations, per-file failures and job state. The FAISS
// index is derived from it. No SQLite types leak out of this header.
//
// Storage choices (see also catalog_schema.cpp):
// - Paths are stored as BLOBs of their raw bytes (std::filesystem::path::native()), so non-UTF-8 file
//   names round-trip exactly and "under this folder" is a byte-range scan of the path index.
// - Content hash: XXH3-64 of the file's bytes, kept as std::uint64_t here and stored bit-cast into a
//   signed INTEGER column (indexed).
// - Embeddings are stored as little-endian IEEE float16 (round to nearest even); the API takes and
//   returns float32.
// - Photo ids never get reused (AUTOINCREMENT): a FAISS index built earlier cannot map an old id onto a
//   new photo.
// - Full-text search: an FTS5 table with rowid = photo id over (file name, folder names, captions, tags).
//   The catalog writes its rows explicitly whenever a photo is added or moved or gains a caption or tag
//   (file and folder names are decoded from raw path bytes in C++); one trigger removes the row when the
//   photo is deleted, whichever way (deletePhotos, removeRoot's cascade).
//
// A Catalog is one connection: use it from one thread at a time. Readers in other processes may open
// the same library read-only while one writer (holding the LibraryLock) writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pictor {

struct RootRecord {
    std::int64_t id = 0;
    std::filesystem::path path;
    std::int64_t addedAt = 0; // unix seconds
    std::optional<std::int64_t> deviceId; // the st_dev it was last indexed on (none before schema 5)
};

struct PhotoRecord {
    std::int64_t id = 0; // 0 until stored
    std::int64_t rootId = 0;
    std::filesystem::path path; // absolute; raw bytes kept exactly
    std::int64_t size = 0;
    std::int64_t mtimeNs = 0; // modification time, nanoseconds since the epoch
    std::uint64_t contentHash = 0; // XXH3-64 of the file
    int width = 0; // as stored in the file, before orientation
    int height = 0;
    int orientation = 1; // EXIF 1..8
    std::optional<std::int64_t> takenAt; // unix seconds (EXIF date taken)
    std::string cameraMake;
    std::string cameraModel;
    std::optional<double> gpsLat;
    std::optional<double> gpsLon;
    std::string fileType; // "jpeg", "png", ...
    std::int64_t indexedAt = 0; // unix seconds; upsertPhoto fills in "now" when 0
};

// What change detection needs of a stored photo.
struct PhotoFileState {
    std::int64_t id = 0;
    std::filesystem::path path;
    std::int64_t size = 0;
    std::int64_t mtimeNs = 0;
    std::uint64_t contentHash = 0;
};

struct CaptionRecord {
    std::int64_t id = 0;
    std::int64_t photoId = 0;
    std::string text;
    std::string modelId;
    std::string prompt;
    std::int64_t createdAt = 0;
};

// The source of the tags a person gives (zero-shot tags have "auto:<model id>").
inline constexpr const char* kUserTagSource = "user";

struct TagRecord {
    std::int64_t photoId = 0;
    std::string tag;
    std::string source; // "user", or "auto:<model id>" for a zero-shot tag
    std::int64_t createdAt = 0;
    std::optional<double> score; // zero-shot tags: the photo's score and the threshold it passed
    std::optional<double> threshold;
};

// A zero-shot tag as defined: its prompts, the model and threshold of its last run. New photos that model
// embeds get the tag when they score at or above the threshold.
struct AutoTagRule {
    std::string tag;
    std::vector<std::string> prompts;
    std::string modelId;
    double threshold = 0;
    std::int64_t createdAt = 0;
};

// How a generated picture in the library was made (the "pictor" PNG chunk it carries, read when indexed).
struct GenerationRow {
    std::int64_t id = 0; // 0 until stored
    std::optional<std::int64_t> photoId; // the picture; empty once it left the library
    std::optional<std::int64_t> sourcePhotoId; // the photo it was made from, if any
    std::filesystem::path sourcePath; // that photo's file: linked to its id once it is catalogued
    std::string prompt;
    std::string modelId;
    std::string query; // the search it came from, if any
    std::string paramsJson; // everything (seed, steps, guidance, ...) as the PNG chunk has it
    std::int64_t createdAt = 0; // unix seconds; addGeneration fills in "now" when 0
};

struct FailureRecord {
    std::filesystem::path path;
    std::string reason;
    std::string jobKind;
    std::int64_t at = 0;
};

// A resumable job's saved state; `progressJson` is the job's own resume data.
struct JobRecord {
    std::int64_t id = 0; // 0: saveJob creates a new row
    std::string kind;
    std::string state; // "running", "cancelled", "done", ...
    std::string progressJson = "{}";
    std::int64_t updatedAt = 0;
};

// One batch of forEachEmbedding: ids ascending, vectors row-major (ids.size() x dim).
struct EmbeddingBatch {
    std::span<const std::int64_t> ids;
    std::span<const float> vectors;
    int dim = 0;
};

enum class TextField { FileName, FolderName, Caption, Tag };
std::string_view textFieldName(TextField field); // "file name", "folder", "caption", "tag"

struct TextMatch {
    std::int64_t photoId = 0;
    double score = 0; // -bm25: higher is better
    TextField field = TextField::FileName; // the first matching field in enum order
    std::string snippet; // text of that field around the match, matched terms in [brackets]
};

struct PhotoFilter {
    std::optional<std::filesystem::path> folder; // photos at any depth below this folder
    std::optional<std::int64_t> takenFrom; // unix seconds, inclusive: date taken, else file mtime
    std::optional<std::int64_t> takenBefore; // unix seconds, exclusive
    std::optional<std::string> camera; // ASCII case-insensitive substring of "make model"
    std::vector<std::string> fileTypes; // any of these (ASCII case-insensitive); empty: all
    std::optional<bool> generated; // true: only generated pictures; false: only the others
    std::vector<std::string> tags; // photos with every one of these tags (letter case ignored)
};

// "  beach   sunset " -> "beach sunset"; the form tags are stored and compared in.
std::string normalizeTag(std::string_view tag);

// Orders of a paged listing. Dates are the date taken, else the file's modification time; ties go by id.
enum class PhotoOrder {
    NewestFirst,
    OldestFirst,
    Name, // file name (bytes), then id
};

struct CatalogCounts {
    std::int64_t roots = 0;
    std::int64_t photos = 0;
    std::int64_t captions = 0;
    std::int64_t tags = 0;
    std::int64_t generations = 0;
    std::int64_t failures = 0;
    std::vector<std::pair<std::string, std::int64_t>> embeddingsPerModel; // sorted by model id
};

class Catalog {
public:
    enum class OpenMode { ReadWrite, ReadOnly };
    static constexpr const char* kFileName = "catalog.sqlite3";
    static int currentSchemaVersion();

    // ReadWrite creates the folder and the catalog when missing and applies pending migrations;
    // ReadOnly needs an existing, up-to-date catalog and refuses every write. Throws for a file that is
    // not a SQLite database (without touching it), a SQLite file that is not a Pictor catalog, and a
    // catalog written by a newer Pictor.
    static Catalog open(const std::filesystem::path& libraryDir, OpenMode mode = OpenMode::ReadWrite);

    Catalog(Catalog&&) noexcept;
    Catalog& operator=(Catalog&&) noexcept;
    ~Catalog();

    const std::filesystem::path& file() const;
    bool readOnly() const;
    int schemaVersion() const;
    // A random id made when the catalog was created (or first opened by a version that knew of it): a
    // vector index records it, so an index beside a replaced catalog is rebuilt, never trusted.
    const std::string& identity() const;

    // BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed without commit(). Not nestable. Batch
    // writes in one transaction: each statement outside one is its own fsync-less WAL commit.
    class Transaction {
    public:
        explicit Transaction(Catalog& catalog);
        ~Transaction();
        Transaction(const Transaction&) = delete;
        Transaction& operator=(const Transaction&) = delete;
        void commit();
        void rollback();

    private:
        Catalog* catalog_;
        bool open_ = true;
    };

    // --- roots
    std::int64_t addRoot(const std::filesystem::path& folder); // the existing id when already there
    std::vector<RootRecord> roots() const; // by id
    std::optional<RootRecord> findRoot(const std::filesystem::path& folder) const;
    void removeRoot(std::int64_t rootId); // deletes its photos and everything attached to them
    void setRootDevice(std::int64_t rootId, std::int64_t deviceId);

    // --- photos
    // Inserts or updates the row with this path; returns its id. When an existing row's content hash
    // changes, its embeddings are dropped (they describe the old pixels); captions and tags stay.
    std::int64_t upsertPhoto(const PhotoRecord& photo);
    std::optional<PhotoRecord> photo(std::int64_t id) const;
    std::optional<PhotoRecord> findByPath(const std::filesystem::path& path) const;
    std::vector<PhotoRecord> findByHash(std::uint64_t contentHash) const; // by id
    // The photos that share their content (the same bytes in several files), a list of ids per content.
    std::vector<std::vector<std::int64_t>> sameContentGroups() const;
    std::vector<PhotoFileState> listPhotosUnder(std::int64_t rootId) const; // by path bytes
    // A move or rename: the row keeps its id, captions, tags and embeddings. rootId 0 keeps the root.
    void movePhoto(std::int64_t id, const std::filesystem::path& newPath, std::int64_t rootId = 0);
    void deletePhotos(std::span<const std::int64_t> ids); // cascades to embeddings, captions, tags
    std::vector<std::int64_t> filterPhotos(const PhotoFilter& filter) const; // ascending ids
    // One page of the photos that pass `filter`, full rows in `order`, in one query: rows
    // [offset, offset + limit) of the ordered listing (fewer at the end).
    std::vector<PhotoRecord> listPhotos(
        PhotoOrder order, std::int64_t offset, std::int64_t limit, const PhotoFilter& filter = {}) const;
    std::int64_t countPhotos(const PhotoFilter& filter = {}) const;

    // --- embeddings (float32 in and out, float16 stored)
    void putEmbedding(std::int64_t photoId, std::string_view modelId, std::span<const float> vector);
    std::optional<std::vector<float>> embedding(std::int64_t photoId, std::string_view modelId) const;
    // Every embedding of a model in ascending photo id order, `batchSize` at a time, from one snapshot.
    void forEachEmbedding(std::string_view modelId, const std::function<void(const EmbeddingBatch&)>& visit,
        std::size_t batchSize = 4096) const;
    std::int64_t countEmbeddings(std::string_view modelId) const;
    std::vector<std::int64_t> embeddingIds(std::string_view modelId) const; // ascending
    std::vector<std::int64_t> photosWithoutEmbedding(std::string_view modelId) const; // ascending
    // Every putEmbedding of a model takes the next revision of that model (1, 2, ...; never reused, not
    // even after deletions). 0: the model has no embeddings written since schema version 2.
    std::int64_t embeddingRevision(std::string_view modelId) const;
    // Photos whose embedding of the model was written after `revision` (ascending ids): with the
    // deleted ids, what a vector index saved at that revision is missing.
    std::vector<std::int64_t> embeddingsChangedSince(std::string_view modelId, std::int64_t revision) const;

    // --- captions, tags, generations (with provenance)
    std::int64_t addCaption(
        std::int64_t photoId, std::string_view text, std::string_view modelId, std::string_view prompt);
    std::vector<CaptionRecord> captions(std::int64_t photoId) const;
    // A tag as typed, its spaces trimmed and collapsed; a tag that differs from one in the catalog only by
    // letter case takes that one's spelling. Idempotent. Empty tags are an error.
    void addTag(std::int64_t photoId, std::string_view tag, std::string_view source);
    // A zero-shot tag: `source` is "auto:<model id>"; replaces that source's earlier score for the photo.
    // False when the photo is no longer in the catalog.
    bool addAutoTag(
        std::int64_t photoId, std::string_view tag, std::string_view source, double score, double threshold);
    // Removes `tag` given by `source` from every photo (before a zero-shot tag is applied again); returns how
    // many photos lost it.
    std::int64_t removeTagFromAll(std::string_view tag, std::string_view source);
    // Removes the tag (any letter case, any source) from the photo; false when it had none. Taking a
    // zero-shot tag away is remembered: the model does not give it back (autoTagExclusions).
    bool removeTag(std::int64_t photoId, std::string_view tag);
    // The photos a zero-shot run must leave alone for `tag`: those a person took it from, and those a
    // person gave it (a user tag, e.g. a confirmed zero-shot tag: addTag with the user source replaces the
    // model's row).
    std::vector<std::int64_t> autoTagExclusions(std::string_view tag) const;
    // Zero-shot tag rules, one per tag (a new one replaces the tag's earlier rule).
    void saveAutoTagRule(const AutoTagRule& rule);
    std::vector<AutoTagRule> autoTagRules() const; // by tag
    bool removeAutoTagRule(std::string_view tag); // false when there was none
    std::vector<TagRecord> tags(std::int64_t photoId) const;
    // Every tag in the library with the number of photos that have it, by tag (case-insensitive).
    std::vector<std::pair<std::string, std::int64_t>> tagCounts() const;
    // Records a generation; one row per picture: an earlier row of the same photo is replaced.
    std::int64_t addGeneration(const GenerationRow& generation);
    std::optional<GenerationRow> generationOf(std::int64_t photoId) const;
    std::vector<GenerationRow> generationsFrom(std::int64_t sourcePhotoId) const; // oldest first
    // Links generations to their source photos catalogued since (an index run calls it after each batch).
    void linkGenerationSources();

    // --- full text: every word of `query` must match (file name, folders, captions or tags); words are
    // quoted, so no user text is FTS5 syntax; a trailing * makes a word a prefix. Best first.
    std::vector<TextMatch> matchText(std::string_view query, std::size_t limit) const;

    // --- per-file errors of the last run of a job kind
    void recordFailure(const std::filesystem::path& path, std::string_view reason, std::string_view jobKind);
    std::vector<FailureRecord> failures(std::optional<std::string_view> jobKind = std::nullopt) const;
    std::optional<FailureRecord> failureOf(
        const std::filesystem::path& path) const; // the latest for the file
    void clearFailures(std::string_view jobKind);

    // --- resumable job state
    std::int64_t saveJob(const JobRecord& job); // inserts when job.id == 0; returns the id
    std::optional<JobRecord> job(std::int64_t id) const;
    std::optional<JobRecord> latestJob(std::string_view kind) const;

    CatalogCounts counts() const;
    // PRAGMA integrity_check, foreign_key_check and the catalog's own invariants (full-text rows match
    // photos, embedding blob sizes). Empty when all is well.
    std::vector<std::string> integrityCheck() const;

private:
    struct Impl;
    explicit Catalog(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Turns user text into an FTS5 query that cannot be a syntax error: each whitespace-separated word
// becomes a quoted phrase (inner quotes doubled, control characters dropped, invalid UTF-8 replaced),
// a trailing * a prefix search. Empty when nothing searchable is left.
std::string quoteFtsQuery(std::string_view userText);

} // namespace pictor
