// FAISS behind a small interface: the index, adding, removing and searching. Kernels and files live in
// vector_index_kernels.cpp and vector_index_io.cpp; the shared state in vector_index_internal.h.
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

#include "indexer/vector_index_internal.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/error.h"

namespace pictor {

namespace fs = std::filesystem;
using namespace vector_index_detail;
// ---------------------------------------------------------------------------------------------------
// Id checksum

namespace {

std::uint64_t mixId(std::int64_t id)
{
    const auto word = static_cast<std::uint64_t>(id); // little-endian hosts only (x86-64, arm64)
    return XXH3_64bits(&word, sizeof word);
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

std::string vector_index_detail::hex64(std::uint64_t value)
{
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
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
                scanGathered(query, base, d, subset->data() + b, n, scores);
            else
                scanContiguous(query, base + b * d, d, n, scores);
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
    return {impl_->config, impl_->live(), impl_->checksum.value(), impl_->removedCount,
        impl_->catalogRevision, impl_->catalogId};
}

void VectorIndex::setCatalogRevision(const std::string& catalogId, std::int64_t revision)
{
    std::unique_lock lock(impl_->mutex);
    impl_->catalogId = catalogId;
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

} // namespace pictor
