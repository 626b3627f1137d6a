// FAISS behind a small interface. Rows are positions in the FAISS index (IndexIDMap2::id_map[row] is
// the photo id); selectors and the exact scan work on rows, results are translated to ids.
#include "indexer/vector_index.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <omp.h>
#include <strings.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/error.h"

namespace pictor {

namespace fs = std::filesystem;
using Row = faiss::Index::idx_t;

// ---------------------------------------------------------------------------------------------------
// Id checksum

namespace {

std::uint64_t mixId(std::int64_t id)
{
    const auto word = static_cast<std::uint64_t>(id); // little-endian hosts only (x86-64, arm64)
    return XXH3_64bits(&word, sizeof word);
}

std::string hex64(std::uint64_t value)
{
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
}

} // namespace

void IdChecksum::add(std::int64_t id)
{
    sum_ += mixId(id);
    ++count_;
}

void IdChecksum::remove(std::int64_t id)
{
    sum_ -= mixId(id);
    --count_;
}

std::uint64_t IdChecksum::value() const
{
    const std::uint64_t words[2] = {sum_, static_cast<std::uint64_t>(count_)};
    return XXH3_64bits(words, sizeof words);
}

std::uint64_t IdChecksum::of(std::span<const std::int64_t> ids)
{
    IdChecksum checksum;
    for (const auto id : ids)
        checksum.add(id);
    return checksum.value();
}

// ---------------------------------------------------------------------------------------------------
// Threads

namespace {

std::atomic<int> gThreadCount {0};
// OpenMP's own default (OMP_NUM_THREADS, else the cores), read before anyone changes it.
const int gOpenMpDefault = omp_get_max_threads();

int configuredThreads()
{
    const int threads = gThreadCount.load(std::memory_order_relaxed);
    return std::max(1, threads > 0 ? threads : gOpenMpDefault);
}

// OpenMP's thread count is per calling thread (libgomp copies the ICV on omp_set_num_threads), so a
// setting made on the GUI thread would not reach a search running on a worker: apply it on every call.
void applyThreadCount()
{
    omp_set_num_threads(configuredThreads());
}

int scanThreads()
{
    return configuredThreads();
}

} // namespace

void VectorIndex::setThreadCount(int threads)
{
    PICTOR_CHECK(
        threads >= 0, "vector index: thread count must be >= 0 (0 = OpenMP's default), got ", threads);
    gThreadCount.store(threads);
    applyThreadCount();
}

int VectorIndex::threadCount()
{
    return scanThreads();
}

bool VectorIndex::openMpWaitPolicyIsPassive()
{
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    return policy && strcasecmp(policy, "passive") == 0;
}

// ---------------------------------------------------------------------------------------------------
// Exact scan: FAISS 1.7.3 from Debian is built without AVX2 and its single-query inner product runs at
// ~1.5 GFLOP/s here; this loop (16 independent accumulators, cloned for x86-64-v3) is ~4x faster, and
// it scans an arbitrary subset of rows, which filtered search needs.

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PICTOR_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define PICTOR_SIMD_CLONES
#endif

namespace {

template <typename RowPointer>
inline __attribute__((always_inline)) void dotRows(
    const float* query, std::size_t d, std::size_t count, RowPointer rowPointer, float* out)
{
    for (std::size_t r = 0; r < count; ++r) {
        const float* v = rowPointer(r);
        float acc[16] = {};
        std::size_t i = 0;
        for (; i + 16 <= d; i += 16)
            for (std::size_t j = 0; j < 16; ++j)
                acc[j] += query[i + j] * v[i + j];
        float sum = 0;
        for (; i < d; ++i)
            sum += query[i] * v[i];
        for (std::size_t j = 0; j < 8; ++j)
            acc[j] += acc[j + 8];
        for (std::size_t j = 0; j < 4; ++j)
            acc[j] += acc[j + 4];
        out[r] = sum + (acc[0] + acc[2]) + (acc[1] + acc[3]);
    }
}

PICTOR_SIMD_CLONES void dotContiguous(
    const float* query, const float* base, std::size_t d, std::size_t count, float* out)
{
    dotRows(
        query, d, count, [&](std::size_t r) { return base + r * d; }, out);
}

PICTOR_SIMD_CLONES void dotGathered(
    const float* query, const float* base, std::size_t d, const Row* rows, std::size_t count, float* out)
{
    dotRows(
        query, d, count, [&](std::size_t r) { return base + static_cast<std::size_t>(rows[r]) * d; }, out);
}

PICTOR_SIMD_CLONES float dotOne(const float* a, const float* b, std::size_t d)
{
    float out;
    dotRows(
        a, d, 1, [&](std::size_t) { return b; }, &out);
    return out;
}

// HNSW spends its time in distance computations; FAISS's generic ones (fvec_inner_product) run at the
// scalar speed measured above. The HNSW storage is swapped for this IndexFlat, which differs only in
// the distance computer it hands out (FAISS calls get_FlatCodesDistanceComputer for both adding and
// searching). It is written to disk as a plain IndexFlat (write_index dispatches on IndexFlat).
struct FastIpDistance final : faiss::FlatCodesDistanceComputer {
    FastIpDistance(const float* vectors, std::size_t dimension)
        : faiss::FlatCodesDistanceComputer(
            reinterpret_cast<const std::uint8_t*>(vectors), dimension * sizeof(float)),
          base(vectors),
          d(dimension)
    {
    }
    void set_query(const float* x) override { query = x; }
    float distance_to_code(const std::uint8_t* code) override
    {
        return dotOne(query, reinterpret_cast<const float*>(code), d);
    }
    float symmetric_dis(idx_t i, idx_t j) override
    {
        return dotOne(base + static_cast<std::size_t>(i) * d, base + static_cast<std::size_t>(j) * d, d);
    }
    const float* base;
    std::size_t d;
    const float* query = nullptr;
};

struct FastFlatIp final : faiss::IndexFlat {
    explicit FastFlatIp(int dimension) : faiss::IndexFlat(dimension, faiss::METRIC_INNER_PRODUCT) { }
    faiss::FlatCodesDistanceComputer* get_FlatCodesDistanceComputer() const override
    {
        return new FastIpDistance(get_xb(), static_cast<std::size_t>(d));
    }
};

// Search-time settings, and the fast distance computer (FastFlatIp) for the storage.
faiss::IndexFlat* prepareHnsw(faiss::IndexHNSW& graph, const VectorIndexConfig& config)
{
    graph.hnsw.efConstruction = config.efConstruction;
    graph.hnsw.efSearch = config.efSearch;
    auto* storage = dynamic_cast<faiss::IndexFlat*>(graph.storage);
    if (!storage || dynamic_cast<FastFlatIp*>(storage))
        return storage;
    auto fast = std::make_unique<FastFlatIp>(storage->d);
    fast->codes.swap(storage->codes);
    fast->ntotal = storage->ntotal;
    if (graph.own_fields)
        delete graph.storage;
    graph.storage = fast.release();
    graph.own_fields = true;
    return static_cast<faiss::IndexFlat*>(graph.storage);
}

struct Candidate {
    float score;
    std::int64_t id;
};

// Best first: higher score, then lower id (deterministic whatever the thread split).
bool better(const Candidate& a, const Candidate& b)
{
    return a.score > b.score || (a.score == b.score && a.id < b.id);
}

class TopK {
public:
    explicit TopK(std::size_t k) : k_(k) { heap_.reserve(k); }
    bool full() const { return heap_.size() == k_; }
    float worstScore() const { return heap_.front().score; }
    void push(const Candidate& c)
    {
        if (heap_.size() < k_) {
            heap_.push_back(c);
            std::push_heap(heap_.begin(), heap_.end(), better); // front: the worst kept
        } else if (better(c, heap_.front())) {
            std::pop_heap(heap_.begin(), heap_.end(), better);
            heap_.back() = c;
            std::push_heap(heap_.begin(), heap_.end(), better);
        }
    }
    std::vector<Candidate>& items() { return heap_; }

private:
    std::size_t k_;
    std::vector<Candidate> heap_;
};

std::vector<VectorHit> toHits(std::vector<Candidate> candidates, std::size_t k)
{
    std::sort(candidates.begin(), candidates.end(), better);
    if (candidates.size() > k)
        candidates.resize(k);
    std::vector<VectorHit> hits;
    hits.reserve(candidates.size());
    for (const auto& c : candidates)
        hits.push_back({c.id, c.score});
    return hits;
}

// A FAISS selector over rows: not removed, and in the allowed bitmap when there is one.
struct RowSelector : faiss::IDSelector {
    const std::uint8_t* removed = nullptr;
    const std::uint8_t* allowed = nullptr;
    bool is_member(idx_t row) const override
    {
        return (!removed || !removed[row]) && (!allowed || allowed[row]);
    }
};

bool factoryIsHnsw(const std::string& factory)
{
    return factory.find("HNSW") != std::string::npos;
}

std::string faissMessage(const std::exception& e)
{
    // FaissException's text is "Error in <signature> at <file:line>: Error: '<cond>' failed: <message>".
    std::string text = e.what();
    if (const auto at = text.rfind(": Error: "); at != std::string::npos)
        return text.substr(at + 2);
    return text;
}

} // namespace

// ---------------------------------------------------------------------------------------------------
// Impl

struct VectorIndex::Impl {
    VectorIndexConfig config;
    std::unique_ptr<faiss::IndexIDMap2> index;
    faiss::IndexFlat* flat = nullptr; // the inner index, or the HNSW's storage: rows of float vectors
    faiss::IndexHNSW* hnsw = nullptr;
    std::vector<std::uint8_t> removed; // HNSW: 1 per tombstoned row (sized like the index)
    std::int64_t removedCount = 0;
    IdChecksum checksum;
    std::int64_t catalogRevision = -1;
    mutable std::shared_mutex mutex;

    static std::unique_ptr<faiss::IndexIDMap2> create(const VectorIndexConfig& config);
    void attach(std::unique_ptr<faiss::IndexIDMap2> created, const std::string& what);

    Row rows() const { return index->ntotal; }
    std::int64_t live() const { return index->ntotal - removedCount; }
    std::int64_t idOf(Row row) const { return index->id_map[static_cast<std::size_t>(row)]; }
    const float* vectors() const { return flat->get_xb(); }

    std::vector<Row> rowsOf(std::span<const std::int64_t> ids) const;
    std::int64_t removeIds(std::span<const std::int64_t> ids); // caller holds the exclusive lock
    std::vector<VectorHit> exact(const float* query, std::size_t k, const std::vector<Row>* subset) const;
    std::vector<std::vector<VectorHit>> searchHnsw(const float* queries, std::size_t nq, std::size_t k,
        std::size_t depth, const RowSelector* selector) const;
    std::vector<std::vector<VectorHit>> search(
        const float* queries, std::size_t nq, std::size_t k, const std::vector<Row>* allowed) const;
};

std::unique_ptr<faiss::IndexIDMap2> VectorIndex::Impl::create(const VectorIndexConfig& config)
{
    std::unique_ptr<faiss::Index> created;
    try {
        created.reset(
            faiss::index_factory(config.dimension, config.factory.c_str(), faiss::METRIC_INNER_PRODUCT));
    } catch (const faiss::FaissException& e) {
        PICTOR_FAIL(
            "vector index: FAISS rejects the factory string '", config.factory, "': ", faissMessage(e));
    }
    auto* map = dynamic_cast<faiss::IndexIDMap2*>(created.get());
    PICTOR_CHECK(map, "vector index: factory '", config.factory,
        "' is not supported; use 'IDMap2,Flat' (exact) or 'IDMap2,HNSW<M>' (approximate)");
    created.release();
    std::unique_ptr<faiss::IndexIDMap2> out(map);
    if (auto* graph = dynamic_cast<faiss::IndexHNSWFlat*>(out->index))
        prepareHnsw(*graph, config);
    return out;
}

void VectorIndex::Impl::attach(std::unique_ptr<faiss::IndexIDMap2> created, const std::string& what)
{
    faiss::Index* inner = created->index;
    faiss::IndexFlat* storage = nullptr;
    faiss::IndexHNSW* graph = nullptr;
    if (auto* hnswFlat = dynamic_cast<faiss::IndexHNSWFlat*>(inner)) {
        graph = hnswFlat;
        storage = dynamic_cast<faiss::IndexFlat*>(hnswFlat->storage);
    } else {
        storage = dynamic_cast<faiss::IndexFlat*>(inner);
    }
    PICTOR_CHECK(inner && storage, what, ": the FAISS index is neither IDMap2,Flat nor IDMap2,HNSW<M>,Flat");
    PICTOR_CHECK(inner->metric_type == faiss::METRIC_INNER_PRODUCT
            && storage->metric_type == faiss::METRIC_INNER_PRODUCT,
        what, ": the FAISS index does not use the inner-product metric");
    PICTOR_CHECK(created->d == config.dimension, what, ": the FAISS index has dimension ", created->d,
        ", expected ", config.dimension);
    PICTOR_CHECK(factoryIsHnsw(config.factory) == (graph != nullptr), what, ": factory '", config.factory,
        "' does not describe the FAISS index (", graph ? "HNSW" : "flat", ")");
    // The scan reads rows straight from the storage: its size must be what the row count says.
    PICTOR_CHECK(storage->ntotal == created->ntotal
            && created->id_map.size() == static_cast<std::size_t>(created->ntotal)
            && storage->codes.size()
                == static_cast<std::size_t>(created->ntotal) * static_cast<std::size_t>(created->d)
                    * sizeof(float),
        what, ": the FAISS index's vectors, ids and row count disagree");
    if (graph)
        storage = prepareHnsw(*graph, config);
    index = std::move(created);
    flat = storage;
    hnsw = graph;
    removed.assign(hnsw ? static_cast<std::size_t>(index->ntotal) : 0, 0);
    removedCount = 0;
}

std::vector<Row> VectorIndex::Impl::rowsOf(std::span<const std::int64_t> ids) const
{
    std::vector<Row> out;
    out.reserve(std::min<std::size_t>(ids.size(), static_cast<std::size_t>(index->ntotal)));
    for (const auto id : ids)
        if (const auto it = index->rev_map.find(id); it != index->rev_map.end())
            out.push_back(it->second);
    std::sort(out.begin(), out.end()); // ascending rows: sequential memory access; also dedups
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::int64_t VectorIndex::Impl::removeIds(std::span<const std::int64_t> ids)
{
    std::vector<std::int64_t> present;
    for (const auto id : ids)
        if (index->rev_map.count(id))
            present.push_back(id);
    std::sort(present.begin(), present.end());
    present.erase(std::unique(present.begin(), present.end()), present.end());
    if (present.empty())
        return 0;
    if (hnsw) {
        for (const auto id : present) {
            const auto it = index->rev_map.find(id);
            removed[static_cast<std::size_t>(it->second)] = 1;
            index->rev_map.erase(it);
        }
        removedCount += static_cast<std::int64_t>(present.size());
    } else {
        faiss::IDSelectorBatch selector(present.size(), present.data());
        try {
            index->remove_ids(selector); // IndexIDMap2 also rebuilds its reverse map
        } catch (const faiss::FaissException& e) {
            PICTOR_FAIL("vector index (", config.modelId, "): removing ", present.size(),
                " ids failed: ", faissMessage(e));
        }
    }
    for (const auto id : present)
        checksum.remove(id);
    return static_cast<std::int64_t>(present.size());
}

// Exact top-k over all rows (subset == nullptr; tombstones skipped) or over the given rows.
std::vector<VectorHit> VectorIndex::Impl::exact(
    const float* query, std::size_t k, const std::vector<Row>* subset) const
{
    const std::size_t total = subset ? subset->size() : static_cast<std::size_t>(rows());
    const std::size_t d = static_cast<std::size_t>(config.dimension);
    const float* base = vectors();
    const std::uint8_t* dead = removedCount > 0 ? removed.data() : nullptr;

    auto scan = [&](std::size_t begin, std::size_t end, TopK& top) {
        constexpr std::size_t kBlock = 256;
        float scores[kBlock];
        for (std::size_t b = begin; b < end; b += kBlock) {
            const std::size_t n = std::min(kBlock, end - b);
            if (subset)
                dotGathered(query, base, d, subset->data() + b, n, scores);
            else
                dotContiguous(query, base + b * d, d, n, scores);
            for (std::size_t i = 0; i < n; ++i) {
                if (top.full() && scores[i] < top.worstScore())
                    continue;
                const Row row = subset ? (*subset)[b + i] : static_cast<Row>(b + i);
                if (dead && dead[row])
                    continue;
                top.push({scores[i], idOf(row)});
            }
        }
    };

    // Threads pay off above ~1M floats (~0.3 ms of scanning; starting a thread costs ~30 us).
    const std::size_t threads
        = total * d >= (std::size_t {1} << 20) ? std::min<std::size_t>(scanThreads(), total / 1024 + 1) : 1;
    std::vector<TopK> tops(threads, TopK(k));
    if (threads == 1) {
        scan(0, total, tops[0]);
    } else {
        std::vector<std::thread> workers;
        workers.reserve(threads - 1);
        const std::size_t step = (total + threads - 1) / threads;
        for (std::size_t t = 1; t < threads; ++t)
            workers.emplace_back(
                [&, t] { scan(std::min(total, t * step), std::min(total, (t + 1) * step), tops[t]); });
        scan(0, std::min(total, step), tops[0]);
        for (auto& worker : workers)
            worker.join();
    }
    std::vector<Candidate> all;
    for (auto& top : tops)
        all.insert(all.end(), top.items().begin(), top.items().end());
    return toHits(std::move(all), k);
}

// FAISS 1.7.3's HNSW ignores SearchParametersHNSW::efSearch (measured: recall stays at the member's
// value) and the member is shared by concurrent searches, so a deeper search asks for more results
// instead: HNSW's candidate list is max(efSearch, k) long. The first k of `depth` results are kept.
std::vector<std::vector<VectorHit>> VectorIndex::Impl::searchHnsw(
    const float* queries, std::size_t nq, std::size_t k, std::size_t depth, const RowSelector* selector) const
{
    const std::size_t kk = std::min<std::size_t>(std::max(k, depth), static_cast<std::size_t>(rows()));
    std::vector<float> distances(nq * kk);
    std::vector<Row> labels(nq * kk);
    faiss::SearchParametersHNSW params;
    params.efSearch = std::max(config.efSearch, static_cast<int>(kk));
    params.sel = const_cast<RowSelector*>(selector); // FAISS's field is non-const; it only reads it
    applyThreadCount();
    try {
        hnsw->search(
            static_cast<Row>(nq), queries, static_cast<Row>(kk), distances.data(), labels.data(), &params);
    } catch (const faiss::FaissException& e) {
        PICTOR_FAIL("vector index (", config.modelId, "): HNSW search failed: ", faissMessage(e));
    }
    std::vector<std::vector<VectorHit>> out(nq);
    for (std::size_t q = 0; q < nq; ++q)
        for (std::size_t j = 0; j < kk && out[q].size() < k; ++j)
            if (const Row row = labels[q * kk + j]; row >= 0)
                out[q].push_back({idOf(row), distances[q * kk + j]});
    return out;
}

std::vector<std::vector<VectorHit>> VectorIndex::Impl::search(
    const float* queries, std::size_t nq, std::size_t k, const std::vector<Row>* allowed) const
{
    const std::size_t d = static_cast<std::size_t>(config.dimension);
    std::vector<std::vector<VectorHit>> out(nq);
    const std::size_t candidates = allowed ? allowed->size() : static_cast<std::size_t>(live());
    k = std::min(k, candidates); // also bounds what is allocated for k
    if (k == 0)
        return out;

    if (!hnsw) {
        // Flat. Unfiltered batches of 20+ queries go to FAISS, whose flat search then runs a BLAS
        // matrix product (every vector is read once for all queries); otherwise the exact scan.
        if (!allowed && nq >= 20) {
            const std::size_t kk = k;
            std::vector<float> distances(nq * kk);
            std::vector<Row> labels(nq * kk);
            applyThreadCount();
            try {
                flat->search(
                    static_cast<Row>(nq), queries, static_cast<Row>(kk), distances.data(), labels.data());
            } catch (const faiss::FaissException& e) {
                PICTOR_FAIL("vector index (", config.modelId, "): search failed: ", faissMessage(e));
            }
            for (std::size_t q = 0; q < nq; ++q)
                for (std::size_t j = 0; j < kk; ++j)
                    if (const Row row = labels[q * kk + j]; row >= 0)
                        out[q].push_back({idOf(row), distances[q * kk + j]});
            return out;
        }
        for (std::size_t q = 0; q < nq; ++q)
            out[q] = exact(queries + q * d, k, allowed);
        return out;
    }

    // HNSW. A small allowed set is cheaper and exact to scan; HNSW's traversal would visit about
    // efSearch / selectivity nodes to collect k that pass.
    const std::size_t smallSubset = static_cast<std::size_t>(std::max(config.exactFilterLimit, live() / 16));
    if (allowed && allowed->size() <= smallSubset) {
        for (std::size_t q = 0; q < nq; ++q)
            out[q] = exact(queries + q * d, k, allowed);
        return out;
    }
    std::vector<std::uint8_t> allowedMask;
    RowSelector selector;
    selector.removed = removedCount > 0 ? removed.data() : nullptr;
    if (allowed) {
        allowedMask.assign(static_cast<std::size_t>(rows()), 0);
        for (const Row row : *allowed)
            allowedMask[static_cast<std::size_t>(row)] = 1;
        selector.allowed = allowedMask.data();
    }
    const bool selective = selector.removed || selector.allowed;
    // Widen the candidate list by 1 / selectivity (capped) so that k passing nodes are usually found.
    const double selectivity = static_cast<double>(candidates) / static_cast<double>(rows());
    const std::size_t depth = selective
        ? static_cast<std::size_t>(std::min(
            std::max(1024.0, static_cast<double>(config.efSearch)), std::ceil(config.efSearch / selectivity)))
        : k;
    out = searchHnsw(queries, nq, k, depth, selective ? &selector : nullptr);
    const std::size_t expected = std::min(k, candidates);
    for (std::size_t q = 0; q < nq; ++q)
        if (out[q].size() < expected) // the graph ran out of passing nodes: answer exactly
            out[q] = exact(queries + q * d, k, allowed);
    return out;
}

// ---------------------------------------------------------------------------------------------------
// VectorIndex

std::string VectorIndex::defaultFactoryFor(std::int64_t count, int dimension)
{
    return count * std::max(dimension, 1) > kExactFloatsLimit ? kHnswFactory : kExactFactory;
}

VectorIndex::VectorIndex(VectorIndexConfig config) : impl_(std::make_unique<Impl>())
{
    PICTOR_CHECK(config.dimension > 0, "vector index (", config.modelId,
        "): dimension must be positive, got ", config.dimension);
    PICTOR_CHECK(config.efSearch > 0 && config.efConstruction > 0 && config.exactFilterLimit >= 0,
        "vector index (", config.modelId,
        "): efSearch and efConstruction must be positive, exactFilterLimit not negative");
    impl_->config = std::move(config);
    impl_->attach(Impl::create(impl_->config), "vector index (" + impl_->config.modelId + ")");
}

VectorIndex::VectorIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { }
VectorIndex::~VectorIndex() = default;
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;

VectorIndexConfig VectorIndex::config() const
{
    std::shared_lock lock(impl_->mutex);
    return impl_->config;
}

int VectorIndex::dimension() const
{
    return impl_->config.dimension;
}

bool VectorIndex::isHnsw() const
{
    std::shared_lock lock(impl_->mutex);
    return impl_->hnsw != nullptr;
}

std::int64_t VectorIndex::size() const
{
    std::shared_lock lock(impl_->mutex);
    return impl_->live();
}

bool VectorIndex::contains(std::int64_t id) const
{
    std::shared_lock lock(impl_->mutex);
    return impl_->index->rev_map.count(id) > 0;
}

std::vector<std::int64_t> VectorIndex::ids() const
{
    std::shared_lock lock(impl_->mutex);
    std::vector<std::int64_t> out;
    out.reserve(impl_->index->rev_map.size());
    for (const auto& entry : impl_->index->rev_map)
        out.push_back(entry.first);
    return out;
}

std::uint64_t VectorIndex::idChecksum() const
{
    std::shared_lock lock(impl_->mutex);
    return impl_->checksum.value();
}

VectorIndexInfo VectorIndex::info() const
{
    std::shared_lock lock(impl_->mutex);
    return {
        impl_->config, impl_->live(), impl_->checksum.value(), impl_->removedCount, impl_->catalogRevision};
}

void VectorIndex::setCatalogRevision(std::int64_t revision)
{
    std::unique_lock lock(impl_->mutex);
    impl_->catalogRevision = revision;
}

std::int64_t VectorIndex::removedRows() const
{
    std::shared_lock lock(impl_->mutex);
    return impl_->removedCount;
}

void VectorIndex::setEfSearch(int efSearch)
{
    PICTOR_CHECK(efSearch > 0, "vector index (", impl_->config.modelId, "): efSearch must be positive, got ",
        efSearch);
    std::unique_lock lock(impl_->mutex);
    impl_->config.efSearch = efSearch;
    if (impl_->hnsw)
        impl_->hnsw->hnsw.efSearch = efSearch;
}

void VectorIndex::add(std::span<const std::int64_t> ids, std::span<const float> vectors)
{
    auto& s = *impl_;
    const std::size_t d = static_cast<std::size_t>(s.config.dimension);
    PICTOR_CHECK(vectors.size() == ids.size() * d, "vector index (", s.config.modelId, "): add got ",
        ids.size(), " ids and ", vectors.size(), " values; dimension ", d, " needs ", ids.size() * d);
    if (ids.empty())
        return;
    std::vector<std::int64_t> sorted(ids.begin(), ids.end());
    std::sort(sorted.begin(), sorted.end());
    PICTOR_CHECK(
        sorted.front() >= 0, "vector index (", s.config.modelId, "): ids must be >= 0, got ", sorted.front());
    if (const auto dup = std::adjacent_find(sorted.begin(), sorted.end()); dup != sorted.end())
        PICTOR_FAIL("vector index (", s.config.modelId, "): id ", *dup, " appears twice in one add");
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const float* v = vectors.data() + i * d;
        double norm2 = 0;
        for (std::size_t j = 0; j < d; ++j) {
            PICTOR_CHECK(std::isfinite(v[j]), "vector index (", s.config.modelId, "): the vector of id ",
                ids[i], " has a non-finite value at ", j);
            norm2 += double(v[j]) * v[j];
        }
#ifndef NDEBUG
        // Callers normalise; float16 storage in the catalog leaves ~1e-3 of slack.
        PICTOR_CHECK(std::abs(std::sqrt(norm2) - 1.0) < 1e-2, "vector index (", s.config.modelId,
            "): the vector of id ", ids[i], " is not L2-normalised (norm ", std::sqrt(norm2), ")");
#endif
    }

    std::unique_lock lock(s.mutex);
    s.removeIds(ids); // ids already present are replaced
    applyThreadCount();
    try {
        s.index->add_with_ids(static_cast<Row>(ids.size()), vectors.data(), ids.data());
    } catch (const faiss::FaissException& e) {
        PICTOR_FAIL("vector index (", s.config.modelId, "): adding ", ids.size(),
            " vectors failed: ", faissMessage(e));
    }
    if (s.hnsw)
        s.removed.resize(static_cast<std::size_t>(s.index->ntotal), 0);
    for (const auto id : ids)
        s.checksum.add(id);
}

std::int64_t VectorIndex::remove(std::span<const std::int64_t> ids)
{
    std::unique_lock lock(impl_->mutex);
    return impl_->removeIds(ids);
}

void VectorIndex::compact()
{
    auto& s = *impl_;
    std::unique_lock lock(s.mutex);
    if (!s.hnsw || s.removedCount == 0)
        return;
    auto fresh = Impl::create(s.config);
    const std::size_t d = static_cast<std::size_t>(s.config.dimension);
    // Live rows in row order, in chunks (bounded extra memory).
    constexpr std::size_t kChunk = 16384;
    std::vector<std::int64_t> chunkIds;
    std::vector<float> chunkVectors;
    applyThreadCount();
    auto flush = [&] {
        if (chunkIds.empty())
            return;
        try {
            fresh->add_with_ids(static_cast<Row>(chunkIds.size()), chunkVectors.data(), chunkIds.data());
        } catch (const faiss::FaissException& e) {
            PICTOR_FAIL("vector index (", s.config.modelId, "): compacting failed: ", faissMessage(e));
        }
        chunkIds.clear();
        chunkVectors.clear();
    };
    for (Row row = 0; row < s.rows(); ++row) {
        if (s.removed[static_cast<std::size_t>(row)])
            continue;
        chunkIds.push_back(s.idOf(row));
        const float* v = s.vectors() + static_cast<std::size_t>(row) * d;
        chunkVectors.insert(chunkVectors.end(), v, v + d);
        if (chunkIds.size() == kChunk)
            flush();
    }
    flush();
    const IdChecksum checksum = s.checksum;
    s.attach(std::move(fresh), "vector index (" + s.config.modelId + ")");
    s.checksum = checksum;
}

std::vector<VectorHit> VectorIndex::search(
    std::span<const float> query, int k, std::optional<std::span<const std::int64_t>> allowed) const
{
    PICTOR_CHECK(query.size() == static_cast<std::size_t>(impl_->config.dimension), "vector index (",
        impl_->config.modelId, "): the query has ", query.size(), " values, the index has dimension ",
        impl_->config.dimension);
    return std::move(searchBatch(query, k, allowed).front());
}

std::vector<std::vector<VectorHit>> VectorIndex::searchBatch(
    std::span<const float> queries, int k, std::optional<std::span<const std::int64_t>> allowed) const
{
    const auto& s = *impl_;
    const std::size_t d = static_cast<std::size_t>(s.config.dimension);
    PICTOR_CHECK(!queries.empty() && queries.size() % d == 0, "vector index (", s.config.modelId,
        "): ", queries.size(), " query values are not a whole number of vectors of dimension ", d);
    PICTOR_CHECK(k >= 0, "vector index (", s.config.modelId, "): k must be >= 0, got ", k);
    for (std::size_t i = 0; i < queries.size(); ++i)
        PICTOR_CHECK(std::isfinite(queries[i]), "vector index (", s.config.modelId, "): query ", i / d,
            " has a non-finite value at ", i % d);
    std::shared_lock lock(s.mutex);
    std::optional<std::vector<Row>> rows;
    if (allowed)
        rows = s.rowsOf(*allowed);
    return s.search(queries.data(), queries.size() / d, static_cast<std::size_t>(k), rows ? &*rows : nullptr);
}

// ---------------------------------------------------------------------------------------------------
// Files

namespace {

constexpr const char* kSidecarFormat = "pictor-vector-index";
constexpr int kSidecarVersion = 1;

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) { }
    ~Fd()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

// Writes to a file descriptor, hashing and counting what goes through; records errno on failure.
class HashingWriter : public faiss::IOWriter {
public:
    explicit HashingWriter(int fd) : fd_(fd) { XXH3_64bits_reset(&state_); }
    size_t operator()(const void* ptr, size_t size, size_t nitems) override
    {
        const std::size_t total = size * nitems;
        const char* p = static_cast<const char*>(ptr);
        std::size_t done = 0;
        while (done < total) {
            const ssize_t n = ::write(fd_, p + done, total - done);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                error_ = errno;
                return size ? done / size : 0;
            }
            done += static_cast<std::size_t>(n);
        }
        XXH3_64bits_update(&state_, ptr, total);
        bytes_ += total;
        return nitems;
    }
    std::uint64_t hash() const { return XXH3_64bits_digest(&state_); }
    std::uint64_t bytes() const { return bytes_; }
    int error() const { return error_; }

private:
    int fd_;
    XXH3_state_t state_;
    std::uint64_t bytes_ = 0;
    int error_ = 0;
};

void fsyncFolder(const fs::path& file)
{
    const fs::path folder = file.has_parent_path() ? file.parent_path() : fs::path(".");
    Fd fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0)
        ::fsync(fd.get()); // best effort: some file systems refuse fsync on folders
}

// Writes `path.tmp` through `write(fd)`, fsyncs, renames over `path`, fsyncs the folder.
template <typename WriteFn> void writeAtomically(const fs::path& path, const std::string& what, WriteFn write)
{
    const fs::path tmp = path.string() + ".tmp";
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    PICTOR_CHECK(fd.get() >= 0, "cannot write ", what, " ", tmp.string(), ": ", std::strerror(errno));
    try {
        write(fd.get(), tmp);
        PICTOR_CHECK(::fsync(fd.get()) == 0, "cannot write ", what, " ", tmp.string(),
            ": fsync: ", std::strerror(errno));
        PICTOR_CHECK(
            ::close(fd.release()) == 0, "cannot write ", what, " ", tmp.string(), ": ", std::strerror(errno));
        PICTOR_CHECK(::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename ", tmp.string(), " to ",
            path.string(), ": ", std::strerror(errno));
    } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
    fsyncFolder(path);
}

void writeAll(int fd, const std::string& bytes, const fs::path& file)
{
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        PICTOR_CHECK(n >= 0, "cannot write ", file.string(), ": ", std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
}

struct FileDigest {
    std::uint64_t bytes = 0;
    std::uint64_t hash = 0;
};

FileDigest digestOf(const fs::path& file)
{
    Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    PICTOR_CHECK(fd.get() >= 0, "cannot read vector index ", file.string(), ": ", std::strerror(errno));
    XXH3_state_t state;
    XXH3_64bits_reset(&state);
    std::vector<char> buffer(std::size_t {1} << 20);
    FileDigest digest;
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        PICTOR_CHECK(n >= 0, "cannot read vector index ", file.string(), ": ", std::strerror(errno));
        if (n == 0)
            break;
        XXH3_64bits_update(&state, buffer.data(), static_cast<std::size_t>(n));
        digest.bytes += static_cast<std::uint64_t>(n);
    }
    digest.hash = XXH3_64bits_digest(&state);
    return digest;
}

struct Sidecar {
    VectorIndexInfo info;
    std::int64_t rows = 0;
    std::vector<std::int64_t> removedRows;
    std::uint64_t indexBytes = 0;
    std::uint64_t indexHash = 0;
};

std::uint64_t parseHex64(const nlohmann::json& value, const char* field)
{
    const std::string text = value.get<std::string>();
    PICTOR_CHECK(text.size() == 16 && text.find_first_not_of("0123456789abcdef") == std::string::npos,
        "field '", field, "' is not 16 lowercase hex digits");
    return std::stoull(text, nullptr, 16);
}

Sidecar readSidecar(const fs::path& indexPath)
{
    const fs::path file = VectorIndex::sidecarPath(indexPath);
    PICTOR_CHECK(fs::exists(file), "vector index ", indexPath.string(), ": its sidecar ", file.string(),
        " does not exist");
    std::string text;
    {
        Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
        PICTOR_CHECK(
            fd.get() >= 0, "cannot read vector index sidecar ", file.string(), ": ", std::strerror(errno));
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR)
                continue;
            PICTOR_CHECK(
                n >= 0, "cannot read vector index sidecar ", file.string(), ": ", std::strerror(errno));
            if (n == 0)
                break;
            text.append(buffer, static_cast<std::size_t>(n));
            PICTOR_CHECK(text.size() <= (std::size_t {64} << 20), "vector index sidecar ", file.string(),
                " is larger than 64 MB");
        }
    }
    try {
        const auto json = nlohmann::json::parse(text);
        PICTOR_CHECK(json.is_object() && json.value("format", "") == kSidecarFormat, "not a ", kSidecarFormat,
            " sidecar");
        PICTOR_CHECK(json.at("version").get<int>() == kSidecarVersion, "version ", json.at("version").dump(),
            " is not supported (expected ", kSidecarVersion, ")");
        Sidecar out;
        auto& config = out.info.config;
        config.modelId = json.at("model_id").get<std::string>();
        config.dimension = json.at("dimension").get<int>();
        config.factory = json.at("factory").get<std::string>();
        config.efSearch = json.at("ef_search").get<int>();
        config.efConstruction = json.at("ef_construction").get<int>();
        config.exactFilterLimit = json.value("exact_filter_limit", config.exactFilterLimit);
        PICTOR_CHECK(config.dimension > 0 && config.efSearch > 0 && config.efConstruction > 0,
            "dimension, ef_search and ef_construction must be positive");
        out.info.count = json.at("count").get<std::int64_t>();
        out.info.idChecksum = parseHex64(json.at("id_checksum"), "id_checksum");
        out.info.catalogRevision = json.value("catalog_revision", std::int64_t {-1});
        out.rows = json.at("rows").get<std::int64_t>();
        out.removedRows = json.at("removed_rows").get<std::vector<std::int64_t>>();
        out.info.removedRows = static_cast<std::int64_t>(out.removedRows.size());
        out.indexBytes = json.at("index_bytes").get<std::uint64_t>();
        out.indexHash = parseHex64(json.at("index_xxh3"), "index_xxh3");
        PICTOR_CHECK(out.info.count >= 0 && out.rows == out.info.count + out.info.removedRows, "rows (",
            out.rows, ") must equal count (", out.info.count, ") + removed rows (", out.info.removedRows,
            ")");
        return out;
    } catch (const nlohmann::json::exception& e) {
        PICTOR_FAIL("vector index sidecar ", file.string(), " is invalid: ", e.what());
    } catch (const Error& e) {
        PICTOR_FAIL("vector index sidecar ", file.string(), " is invalid: ", e.what());
    }
}

} // namespace

fs::path VectorIndex::sidecarPath(const fs::path& path)
{
    return path.string() + ".json";
}

VectorIndexInfo VectorIndex::readInfo(const fs::path& path)
{
    return readSidecar(path).info;
}

void VectorIndex::save(const fs::path& path) const
{
    const auto& s = *impl_;
    std::shared_lock lock(s.mutex);
    FileDigest digest;
    writeAtomically(path, "vector index", [&](int fd, const fs::path& tmp) {
        HashingWriter writer(fd);
        writer.name = tmp.string();
        try {
            faiss::write_index(s.index.get(), &writer);
        } catch (const faiss::FaissException& e) {
            PICTOR_FAIL("cannot write vector index ", tmp.string(), ": ",
                writer.error() ? std::strerror(writer.error()) : faissMessage(e).c_str());
        }
        digest = {writer.bytes(), writer.hash()};
    });

    nlohmann::json json;
    json["format"] = kSidecarFormat;
    json["version"] = kSidecarVersion;
    json["model_id"] = s.config.modelId;
    json["dimension"] = s.config.dimension;
    json["factory"] = s.config.factory;
    json["ef_search"] = s.config.efSearch;
    json["ef_construction"] = s.config.efConstruction;
    json["exact_filter_limit"] = s.config.exactFilterLimit;
    json["count"] = s.live();
    json["id_checksum"] = hex64(s.checksum.value());
    json["catalog_revision"] = s.catalogRevision;
    json["rows"] = s.rows();
    std::vector<std::int64_t> removedRows;
    for (std::size_t row = 0; row < s.removed.size(); ++row)
        if (s.removed[row])
            removedRows.push_back(static_cast<std::int64_t>(row));
    json["removed_rows"] = removedRows;
    json["index_bytes"] = digest.bytes;
    json["index_xxh3"] = hex64(digest.hash);
    const fs::path sidecar = sidecarPath(path);
    writeAtomically(sidecar, "vector index sidecar",
        [&](int fd, const fs::path& tmp) { writeAll(fd, json.dump(1) + "\n", tmp); });
}

VectorIndex VectorIndex::load(const fs::path& path)
{
    PICTOR_CHECK(fs::exists(path), "vector index ", path.string(), " does not exist");
    const Sidecar sidecar = readSidecar(path);
    const FileDigest digest = digestOf(path);
    PICTOR_CHECK(digest.bytes == sidecar.indexBytes && digest.hash == sidecar.indexHash, "vector index ",
        path.string(), " is corrupt, truncated or not the file its sidecar describes: ", digest.bytes,
        " bytes with XXH3 ", hex64(digest.hash), ", the sidecar says ", sidecar.indexBytes,
        " bytes with XXH3 ", hex64(sidecar.indexHash));

    std::unique_ptr<faiss::Index> read;
    try {
        read.reset(faiss::read_index(path.c_str()));
    } catch (const faiss::FaissException& e) {
        PICTOR_FAIL("vector index ", path.string(), " cannot be read by FAISS: ", faissMessage(e));
    } catch (const std::exception& e) { // bad_alloc, length_error from sizes in a damaged file
        PICTOR_FAIL("vector index ", path.string(), " cannot be read by FAISS: ", e.what());
    }
    auto* map = dynamic_cast<faiss::IndexIDMap2*>(read.get());
    PICTOR_CHECK(map, "vector index ", path.string(), " is not an IDMap2 index");
    read.release();

    auto impl = std::make_unique<Impl>();
    impl->config = sidecar.info.config;
    const std::string what = strCat("vector index ", path.string());
    impl->attach(std::unique_ptr<faiss::IndexIDMap2>(map), what);
    auto& s = *impl;
    PICTOR_CHECK(
        s.rows() == sidecar.rows, what, " holds ", s.rows(), " rows, its sidecar says ", sidecar.rows);
    PICTOR_CHECK(s.hnsw || sidecar.removedRows.empty(), what, ": a flat index cannot have removed rows");
    for (const auto row : sidecar.removedRows) {
        PICTOR_CHECK(row >= 0 && row < s.rows() && !s.removed[static_cast<std::size_t>(row)], what,
            ": removed row ", row, " is out of range or listed twice");
        s.removed[static_cast<std::size_t>(row)] = 1;
        // IndexIDMap2 rebuilt rev_map from all rows; the live row of an id is its last one.
        const auto it = s.index->rev_map.find(s.idOf(row));
        if (it != s.index->rev_map.end() && it->second == row)
            s.index->rev_map.erase(it);
    }
    s.removedCount = static_cast<std::int64_t>(sidecar.removedRows.size());
    PICTOR_CHECK(static_cast<std::int64_t>(s.index->rev_map.size()) == s.live(), what,
        " has ids that appear on more than one live row");
    for (const auto& entry : s.index->rev_map)
        s.checksum.add(entry.first);
    PICTOR_CHECK(s.checksum.value() == sidecar.info.idChecksum, what,
        ": the id checksum of its vectors does not match its sidecar");
    s.catalogRevision = sidecar.info.catalogRevision;
    return VectorIndex(std::move(impl));
}

} // namespace pictor
