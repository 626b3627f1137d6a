// The vector index of one embedding model: a thin layer over FAISS (IndexIDMap2 around a flat or HNSW
// inner-product index) whose ids are catalog photo ids. It is derived data: the catalog holds the
// embeddings, and the index is rebuilt from them when it is missing, stale (model id, count or id
// checksum differ from the catalog's; see readInfo) or corrupt (load() throws).
//
// Vectors: float32, `dimension` values each, L2-normalised by the caller (scores are then cosine
// similarities; debug builds check the norm). Ids: non-negative int64 (FAISS uses -1 for "no result").
//
// Speed: Debian's FAISS 1.7.3 is built without AVX2 and computes inner products at scalar speed, so
// FAISS keeps the storage, the HNSW graph and the file format, while the distances are ours (16
// accumulators, cloned for x86-64-v3): exact search is our scan of the stored rows (2 threads: ~3 ms
// at 100k x 512 on a quiet machine, 10x FAISS's), and HNSW adds and searches through a FAISS distance
// computer we supply (~3x faster, same results).
//
// Thread safety: const members (search, contains, save, ...) may run concurrently with each other;
// add, remove, compact and setEfSearch take an exclusive lock and wait for running searches.
//
// Threads: FAISS and the exact scan use setThreadCount() threads (0: OpenMP's default, all cores).
// OpenMP's spin-waiting makes FAISS's batched searches slow when the cores are shared (TOOLCHAIN.md;
// search_bench, 100k flat, 200 queries, load ~3: 120 queries/s, 810 with OMP_WAIT_POLICY=PASSIVE).
// libgomp reads the variable when it is loaded, before main(), so setenv() in main() is too late
// (checked): set it in the launcher or .desktop file, or re-exec once when openMpWaitPolicyIsPassive()
// is false. Single-query search does not use OpenMP.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace pictor {

struct VectorHit {
    std::int64_t id = -1;
    float score = 0; // inner product (cosine similarity for normalised vectors)
    bool operator==(const VectorHit&) const = default;
};

// Order-independent checksum of a set of ids, so the catalog can compare its photo ids with an
// index without sorting: XXH3-64 of {sum of XXH3-64(id) mod 2^64, count} (both as little-endian
// 64-bit words). Adding and removing are O(1); the catalog feeds it the ids it holds for the model.
class IdChecksum {
public:
    void add(std::int64_t id);
    void remove(std::int64_t id);
    std::int64_t count() const { return count_; }
    std::uint64_t value() const;
    static std::uint64_t of(std::span<const std::int64_t> ids);

private:
    std::uint64_t sum_ = 0;
    std::int64_t count_ = 0;
};

struct VectorIndexConfig {
    std::string modelId; // e.g. "clip-0123456789abcdef"; stored in the sidecar, checked by the catalog
    int dimension = 0;
    // FAISS factory string. Supported: "IDMap2,Flat" (exact) and "IDMap2,HNSW<M>" (approximate).
    std::string factory = "IDMap2,Flat";
    // HNSW: candidate list size at search time (recall vs latency). 128: recall@10 0.97 on 20k random
    // 64-d vectors (64: 0.87), 0.99 on 100k x 512 low-rank data (64: 0.94) at ~1.7 ms a query.
    int efSearch = 128;
    int efConstruction = 40; // HNSW: candidate list size while adding (FAISS's default)
    // HNSW: a filter passing at most max(this, size / 16) vectors is answered by an exact scan of those
    // vectors (~5 ms for 64k x 512 on 2 cores) instead of the graph, which would have to visit about
    // efSearch / selectivity nodes.
    std::int64_t exactFilterLimit = 65536;
};

// What the sidecar of a saved index says (readable without loading the index).
struct VectorIndexInfo {
    VectorIndexConfig config;
    std::int64_t count = 0; // live vectors
    std::uint64_t idChecksum = 0; // IdChecksum of the live ids
    std::int64_t removedRows = 0; // HNSW tombstones (compact() drops them)
    // The catalog's embedding revision (Catalog::embeddingRevision) this index reflects; -1: unknown
    // (a new index, or a sidecar written before revisions existed).
    std::int64_t catalogRevision = -1;
    std::string catalogId; // Catalog::identity() of the catalog it reflects; empty: unknown
};

class VectorIndex {
public:
    static constexpr const char* kExactFactory = "IDMap2,Flat";
    static constexpr const char* kHnswFactory = "IDMap2,HNSW32";
    // Above this many stored floats (count x dimension > 256 Mi, i.e. 1 GiB of vectors: 512k vectors at
    // d=512) defaultFactoryFor() picks HNSW. The exact scan is memory-bound: search_bench on 2 shared
    // cores measured p50 3-9 ms at 100k x 512 and 38-69 ms at 1M x 512, so ~20-35 ms at the threshold,
    // which still fits a 50 ms text query with the text encoder. Below it exact wins: perfect results,
    // nothing to build or tune, cheap filters. HNSW costs a build (100k x 512: 30 s on low-rank data,
    // 130-250 s on uniform random vectors, on 2 cores) and recall (efSearch 128: 0.99 on low-rank data,
    // 0.2 on uniform random vectors, which have no neighbourhood structure).
    static constexpr std::int64_t kExactFloatsLimit = std::int64_t {256} << 20;
    static std::string defaultFactoryFor(std::int64_t count, int dimension = 512);

    explicit VectorIndex(VectorIndexConfig config);
    ~VectorIndex();
    VectorIndex(VectorIndex&&) noexcept;
    VectorIndex& operator=(VectorIndex&&) noexcept;

    VectorIndexConfig config() const;
    int dimension() const;
    bool isHnsw() const;
    std::int64_t size() const; // live vectors
    bool contains(std::int64_t id) const;
    std::vector<std::int64_t> ids() const; // live ids, unordered
    std::uint64_t idChecksum() const; // IdChecksum of the live ids
    VectorIndexInfo info() const;

    // vectors: ids.size() x dimension values, row-major. An id already present is replaced; an id
    // repeated within one call is an error.
    void add(std::span<const std::int64_t> ids, std::span<const float> vectors);
    // Returns how many of ids were present. Flat indexes drop the rows; FAISS's HNSW cannot remove
    // nodes, so HNSW rows are marked removed (tombstones) and filtered out of every search; the graph
    // still routes through them. compact() rebuilds the HNSW graph without them (as costly as a full
    // build: call it from a background job, e.g. when removedRows() exceeds 10-20% of size()).
    std::int64_t remove(std::span<const std::int64_t> ids);
    std::int64_t removedRows() const;
    void compact();

    // Best first; at most k hits. `allowed` (any order, duplicates and unknown ids are fine) restricts
    // the search to those ids *before* the top-k is taken, so a filter passing 5 of 10,000 vectors
    // returns those 5. An empty `allowed` allows nothing. Translating the ids to rows costs a hash
    // lookup per allowed id (~3 ms for 50k ids). Then:
    // - Flat: exact scan of the allowed rows only (cost proportional to the filter's size).
    // - HNSW: a small filter (<= max(exactFilterLimit, size/16)) is scanned exactly too; a larger one
    //   goes to FAISS's HNSW with an IDSelector over rows (SearchParametersHNSW::sel), asking for
    //   efSearch / selectivity results (capped at max(1024, efSearch)) so that k passing ones are
    //   found; should fewer than k come back, the exact scan of the allowed rows answers instead.
    // FAISS 1.7.3 specifics: IndexIDMap2 refuses SearchParameters (so selectors work on the inner
    // index's rows), and HNSW ignores SearchParametersHNSW::efSearch (its candidate list is
    // max(efSearch member, k), which is why a deeper search asks for more results).
    std::vector<VectorHit> search(std::span<const float> query, int k,
        std::optional<std::span<const std::int64_t>> allowed = std::nullopt) const;
    // queries: n x dimension values; one result list per query.
    std::vector<std::vector<VectorHit>> searchBatch(std::span<const float> queries, int k,
        std::optional<std::span<const std::int64_t>> allowed = std::nullopt) const;

    void setEfSearch(int efSearch);
    // Recorded by the library after syncing with the catalog; saved in the sidecar.
    void setCatalogRevision(const std::string& catalogId, std::int64_t revision);

    // Atomic: writes `path.tmp` (FAISS format) and `path.json.tmp` (the sidecar), fsyncs each, renames
    // over the old files and fsyncs the folder. The sidecar is renamed last and holds the index file's
    // size and XXH3 hash, so a crash between the two renames leaves a pair load() rejects.
    void save(const std::filesystem::path& path) const;
    // Throws pictor::Error naming the file when the index or its sidecar is missing, unreadable,
    // truncated, corrupt, of another layout, or when they disagree. The index file is hashed and
    // compared with the sidecar before FAISS parses it, so FAISS never reads a damaged file.
    static VectorIndex load(const std::filesystem::path& path);
    static VectorIndexInfo readInfo(const std::filesystem::path& path); // the sidecar only
    static std::filesystem::path sidecarPath(const std::filesystem::path& path); // path + ".json"

    // Threads for FAISS (OpenMP) and the exact scan. OpenMP keeps the thread count per calling thread,
    // so the setting is stored here and applied on every call. 0: OpenMP's default.
    static void setThreadCount(int threads);
    static int threadCount();
    static bool openMpWaitPolicyIsPassive(); // whether OMP_WAIT_POLICY=PASSIVE is in the environment

private:
    struct Impl;
    explicit VectorIndex(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace pictor
