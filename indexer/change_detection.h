// Change detection: compares a scan with the catalog's files and says what the indexer must do. A pure
// function of its inputs apart from the hash function it is given (which reads files).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "indexer/scanner.h"

namespace pictor {

// A photo the catalog knows.
struct KnownFile {
    std::int64_t id = 0;
    std::filesystem::path path;
    std::int64_t size = 0;
    std::int64_t mtimeNs = 0;
    std::optional<std::uint64_t> contentHash; // nullopt: never computed (indexing was interrupted)
};

// A file to index. contentHash is set when change detection had to compute it; otherwise the indexing
// pipeline computes it while it reads the file anyway.
struct NewFile {
    ScannedFile file;
    std::optional<std::uint64_t> contentHash;
};

// A known path whose size or mtime changed. Modified: other content, decode again. Touched: same content
// (copied over, `touch`ed, metadata edited and restored): update size and mtime only, no decode.
struct ChangedFile {
    std::int64_t id = 0;
    ScannedFile file;
    std::uint64_t contentHash = 0;
};

struct UnchangedFile {
    std::int64_t id = 0;
    std::filesystem::path path;
};

// A known photo found at another path with the same content: keep the row (its id, embeddings,
// captions, tags) and change its path, size and mtime.
struct MovedFile {
    std::int64_t id = 0;
    std::filesystem::path from;
    ScannedFile file;
    std::uint64_t contentHash = 0;
};

// Apply in this order: deleted, moved, modified + touched, added. (A photo moved onto a known path
// deletes that path's row first: `mv a.jpg b.jpg` over an existing b.jpg keeps a.jpg's row.)
struct ChangePlan {
    std::vector<NewFile> added;
    std::vector<ChangedFile> modified;
    std::vector<ChangedFile> touched;
    std::vector<UnchangedFile> unchanged;
    std::vector<KnownFile> deleted;
    std::vector<MovedFile> moved;
    // Not found, but below a root or folder that could not be read this time (or the scan was
    // cancelled): kept as they are.
    std::vector<KnownFile> unreachable;
    std::vector<ScanProblem> problems; // files that could not be hashed
};

using HashFunction = std::function<std::uint64_t(const std::filesystem::path&)>;

// Plans the changes between `scan` and `known`. `known` may hold the whole catalog: files outside the
// scanned roots are left out of the plan entirely.
//
// Hashing rule (hashing reads the whole file, so it is done only where it decides something):
//  - a known path with the same size and mtime is unchanged: never hashed, never decoded;
//  - a known path whose size or mtime changed is hashed: modified or only touched;
//  - a new path is hashed only when some known file that disappeared has the same size (a move keeps
//    the size); otherwise it cannot be a move and the pipeline hashes it while indexing it.
// A file the hash function fails on (it throws) goes to `problems` and is otherwise left alone.
//
// Moves: each disappeared known file (with a stored hash) is taken at most once, by the first new path
// in path order with the same size and hash, preferring one with the same file name. A copy (the old
// path still exists) is therefore new, and of two new copies of one moved photo one is the move and
// the other is new. When a changed known path now holds the content of a disappeared file, the
// disappeared file moved onto it (its row wins; the old row of that path is deleted).
ChangePlan planChanges(const ScanResult& scan, const std::vector<KnownFile>& known, const HashFunction& hash);

} // namespace pictor
