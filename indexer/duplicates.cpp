#include "indexer/duplicates.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "core/error.h"
#include "indexer/library.h"
#include "indexer/vector_index.h"

namespace pictor {
namespace {

// Union-find over photo ids, remembering the lowest score that joined each set.
class Groups {
public:
    void join(std::int64_t a, std::int64_t b, double score)
    {
        const auto ra = find(a), rb = find(b);
        const double lowest = std::min({score, lowest_[ra], lowest_[rb]});
        if (ra != rb)
            parent_[ra] = rb;
        lowest_[rb] = lowest;
    }
    std::int64_t find(std::int64_t id)
    {
        if (!parent_.count(id)) {
            parent_[id] = id;
            lowest_[id] = 1;
        }
        while (parent_[id] != id) {
            parent_[id] = parent_[parent_[id]];
            id = parent_[id];
        }
        return id;
    }
    std::map<std::int64_t, std::vector<std::int64_t>> members()
    {
        std::map<std::int64_t, std::vector<std::int64_t>> out;
        std::vector<std::int64_t> ids;
        for (const auto& entry : parent_)
            ids.push_back(entry.first);
        for (const auto id : ids)
            out[find(id)].push_back(id);
        return out;
    }
    double lowest(std::int64_t root) { return lowest_[find(root)]; }

private:
    std::unordered_map<std::int64_t, std::int64_t> parent_;
    std::unordered_map<std::int64_t, double> lowest_;
};

bool better(const PhotoRecord& a, const PhotoRecord& b)
{
    const auto pixels = [](const PhotoRecord& p) { return std::int64_t {p.width} * p.height; };
    if (pixels(a) != pixels(b))
        return pixels(a) > pixels(b);
    if (a.size != b.size)
        return a.size > b.size;
    const auto date = [](const PhotoRecord& p) { return p.takenAt.value_or(p.mtimeNs / 1'000'000'000); };
    if (date(a) != date(b))
        return date(a) < date(b); // the original is the older one
    return a.id < b.id;
}

} // namespace

std::vector<DuplicateGroup> findDuplicates(
    Library& library, const std::string& modelId, int dimension, const DuplicateOptions& options)
{
    PICTOR_CHECK(options.threshold > 0 && options.threshold <= 1,
        "the duplicate threshold must be in (0, 1], not ", options.threshold);
    Catalog& catalog = library.catalog();
    Groups groups;
    for (const auto& same : catalog.sameContentGroups())
        for (std::size_t i = 1; i < same.size(); ++i)
            groups.join(same[0], same[i], 1);
    if (catalog.countEmbeddings(modelId) > 1) {
        const VectorIndex index = library.vectorIndex(modelId, dimension);
        catalog.forEachEmbedding(
            modelId,
            [&](const EmbeddingBatch& batch) {
                const auto hits = index.searchBatch(batch.vectors, options.neighbours + 1);
                for (std::size_t q = 0; q < hits.size(); ++q)
                    for (const VectorHit& hit : hits[q])
                        if (hit.id != batch.ids[q] && hit.score >= options.threshold)
                            groups.join(batch.ids[q], hit.id, std::min(1.0, double(hit.score)));
            },
            1024);
    }
    std::vector<DuplicateGroup> out;
    for (auto& [root, ids] : groups.members()) {
        if (ids.size() < 2)
            continue;
        DuplicateGroup group;
        group.lowestScore = groups.lowest(root);
        for (const auto id : ids)
            if (auto photo = catalog.photo(id))
                group.photos.push_back(std::move(*photo));
        if (group.photos.size() < 2)
            continue;
        std::sort(group.photos.begin(), group.photos.end(), better);
        group.exact = std::all_of(group.photos.begin(), group.photos.end(),
            [&](const PhotoRecord& p) { return p.contentHash == group.photos.front().contentHash; });
        if (group.exact)
            group.lowestScore = 1;
        out.push_back(std::move(group));
    }
    std::sort(out.begin(), out.end(), [](const DuplicateGroup& a, const DuplicateGroup& b) {
        if (a.photos.size() != b.photos.size())
            return a.photos.size() > b.photos.size();
        return a.photos.front().path < b.photos.front().path;
    });
    return out;
}

} // namespace pictor
