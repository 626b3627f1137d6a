// Internal to the vector index (vector_index*.cpp): the state behind VectorIndex and what its source
// files share. FAISS types live here, never in vector_index.h. Rows are positions in the FAISS index
// (IndexIDMap2::id_map[row] is the photo id); selectors and the exact scan work on rows.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/impl/IDSelector.h>

#include "indexer/vector_index.h"

namespace pictor {
namespace vector_index_detail {

using Row = faiss::Index::idx_t;

// --- vector_index_kernels.cpp: inner products at AVX2 speed (Debian's FAISS 1.7.3 has no AVX2 build)

// out[r] = <query, base row r> for rows 0..count-1 of a contiguous row-major block.
void scanContiguous(const float* query, const float* base, std::size_t d, std::size_t count, float* out);
// out[r] = <query, base row rows[r]>.
void scanGathered(
    const float* query, const float* base, std::size_t d, const Row* rows, std::size_t count, float* out);
// Search-time settings, and our fast distance computer for the HNSW storage. Returns the storage.
faiss::IndexFlat* prepareHnsw(faiss::IndexHNSW& graph, const VectorIndexConfig& config);

// --- shared helpers

std::string hex64(std::uint64_t value);

struct Candidate {
    float score;
    std::int64_t id;
};

// Best first: higher score, then lower id (deterministic whatever the thread split).
inline bool better(const Candidate& a, const Candidate& b)
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

inline std::vector<VectorHit> toHits(std::vector<Candidate> candidates, std::size_t k)
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

inline bool factoryIsHnsw(const std::string& factory)
{
    return factory.find("HNSW") != std::string::npos;
}

inline std::string faissMessage(const std::exception& e)
{
    // FaissException's text is "Error in <signature> at <file:line>: Error: '<cond>' failed: <message>".
    std::string text = e.what();
    if (const auto at = text.rfind(": Error: "); at != std::string::npos)
        return text.substr(at + 2);
    return text;
}

} // namespace vector_index_detail

using vector_index_detail::Row;
using vector_index_detail::RowSelector;

struct VectorIndex::Impl {
    VectorIndexConfig config;
    std::unique_ptr<faiss::IndexIDMap2> index;
    faiss::IndexFlat* flat = nullptr; // the inner index, or the HNSW's storage: rows of float vectors
    faiss::IndexHNSW* hnsw = nullptr;
    std::vector<std::uint8_t> removed; // HNSW: 1 per tombstoned row (sized like the index)
    std::int64_t removedCount = 0;
    IdChecksum checksum;
    std::int64_t catalogRevision = -1;
    std::string catalogId;
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

} // namespace pictor
