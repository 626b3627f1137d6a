// The inner-product loops of the vector index. FAISS 1.7.3 from Debian is built without AVX2 and its
// single-query inner product runs at ~1.5 GFLOP/s here; these loops (16 independent accumulators, cloned
// for x86-64-v3 and picked at run time) are ~4x faster, and scan an arbitrary subset of rows, which
// filtered search needs.
#include <cstddef>
#include <memory>

#include "indexer/vector_index_internal.h"

namespace pictor::vector_index_detail {
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

} // namespace

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

void scanContiguous(const float* query, const float* base, std::size_t d, std::size_t count, float* out)
{
    dotContiguous(query, base, d, count, out);
}

void scanGathered(
    const float* query, const float* base, std::size_t d, const Row* rows, std::size_t count, float* out)
{
    dotGathered(query, base, d, rows, count, out);
}

} // namespace pictor::vector_index_detail
