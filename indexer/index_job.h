// Indexing a library's folders: scan -> change detection -> decode pool (CPU threads) -> bounded queue
// -> embedding batches (on the compute worker when given, else the calling thread) -> one catalog
// transaction per batch -> vector index catch-up. Thumbnails come from the same decoded pixels.
// Resumable: what a cancelled or crashed run did not commit is simply found again the next time.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/embedder.h"
#include "indexer/catalog.h"
#include "indexer/compute_worker.h"
#include "indexer/library.h"
#include "indexer/scanner.h"
#include "indexer/thumbnail_cache.h"

namespace pictor {

struct IndexProgress {
    enum class Phase { Scanning, Indexing, Finishing };
    Phase phase = Phase::Scanning;
    std::int64_t done = 0; // photos embedded (or failed) so far
    std::int64_t total = 0; // photos to embed in this run
    std::int64_t failed = 0;
    double imagesPerSecond = 0;
    double etaSeconds = 0;
};

struct IndexOptions;

// How an index run shares the CPU between decoding photos and the image model. A model in bfloat16 on the
// CPU costs about what decoding costs per photo (ViT-B/32: ~31 core-ms, a 12 MP JPEG at 1/8 scale ~30),
// so each gets half of the cores: with every core each, the model's idle OpenMP threads spin on the cores
// the decoders need (index_bench, 2 cores, four alternating runs: 22.7 images/s on average shared, 25.5
// split). A float32 model (three times decoding's cost) or one on the GPU keeps every core for both, as
// do decode threads the caller names. modelThreads 0: no cap.
struct CoreSplit {
    int decodeThreads = 1;
    int modelThreads = 0;
};
CoreSplit splitCores(const IndexOptions& options, const std::string& deviceDescription);

struct IndexOptions {
    ScanOptions scan;
    int decodeThreads = 0; // 0: one per core
    // The most bytes the decode threads hold at once (file bytes and pixels, estimated from each file's
    // header): a file that does not fit waits for the others, one larger than all of it is decoded alone.
    std::int64_t decodeMemoryBytes = std::int64_t {512} << 20;
    bool reducedDecode = true; // decode large JPEGs at 1/2..1/8 scale (see docs/ARCHITECTURE.md)
    std::int64_t maxPixels = 100'000'000;
    // Runs the model batches as JobPriority::Bulk jobs, so interactive work (a query's embedding) waits
    // at most one batch. nullptr: the calling thread runs them.
    ComputeWorker* worker = nullptr;
    // Thumbnails made from the pixels decoded for the model (nullptr: none). A thumbnail that cannot be
    // written is logged, never a failure of the photo.
    const ThumbnailCache* thumbnails = nullptr;
    // The folder of the embedder's model, remembered as the library's search model (library.json) once a
    // run leaves every photo (but the failed ones) with its embedding: a run with a new model that is
    // cancelled or still going, or that could not reach some photos (an unplugged drive), leaves the old
    // model and its index in use. A library that remembers no model yet takes it at once. Empty: remember
    // nothing.
    std::filesystem::path modelDir;
    std::function<void(const IndexProgress&)> progress;
    const std::atomic<bool>* cancel = nullptr;
    // When more than half of a folder's photos (and at least kMassDeleteMinimum) vanish in one run, or any
    // vanish from a folder now on another drive, they are kept unless this is set: a drive half copied
    // back, a mistaken move, another drive mounted in its place. The user confirms first.
    bool allowMassDelete = false;
};

inline constexpr std::int64_t kMassDeleteMinimum = 10;

struct IndexSummary {
    std::int64_t indexed = 0; // embedded in this run (new, modified or resumed)
    std::int64_t unchanged = 0; // neither hashed nor decoded
    std::int64_t touched = 0; // size/mtime changed, same content: metadata only
    std::int64_t moved = 0;
    std::int64_t deleted = 0;
    std::int64_t kept = 0; // below a folder that could not be read, or offline: kept as they were
    // Library folders that read as empty while the catalog has photos under them: what an unmounted
    // drive's mount point looks like. Their photos are kept (and still found); only an explicit removal
    // of the folder forgets them.
    std::vector<std::filesystem::path> offlineRoots;
    // Photos gone from a folder that lost more than half of them at once: kept, not deleted, unless
    // IndexOptions::allowMassDelete.
    std::int64_t deletionsHeld = 0;
    std::vector<std::filesystem::path> massDeletionRoots; // the folders those photos vanished from
    // Library folders now on another drive than when they were indexed (another file system mounted at
    // the folder) where some of their photos are missing: offline, nothing under them added or deleted,
    // until the drive is back or a run allows the change (allowMassDelete).
    std::vector<std::filesystem::path> otherDriveRoots;
    std::vector<FailureRecord> failures;
    std::int64_t autoTagged
        = 0; // zero-shot tags the run's new photos got (their rules, Catalog::autoTagRules)
    // RAW files indexed as the second file of the photo of the same name beside them (see ScanResult).
    std::int64_t rawCompanions = 0;
    bool cancelled = false;
    double seconds = 0;
    double imagesPerSecond = 0; // embedded photos per second of the indexing phase
    std::string vectorIndex; // what happened to the vector index ("up to date", "rebuilt: ...")
};

inline constexpr const char* kIndexJobKind = "index";

// Adds `roots` to the library (none: re-index the library's roots) and brings catalog and vector index
// up to date for `embedder`'s model. Per-file problems are recorded as failures, never thrown.
IndexSummary indexLibrary(Library& library, ImageTextEmbedder& embedder,
    const std::vector<std::filesystem::path>& roots, const IndexOptions& options = {});

} // namespace pictor
