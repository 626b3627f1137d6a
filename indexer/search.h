// Searching a library: by text, by photo (a catalog photo or any image file), and composed photo + text,
// with filters applied before top-k, a score cutoff and date sorting.
#pragma once

#include <filesystem>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/embedder.h"
#include "indexer/catalog.h"
#include "indexer/library.h"
#include "indexer/vector_index.h"

namespace pictor {

// The query text may be arithmetic ("2:snow + ./photo.jpg - people") and may hold "quoted phrases"
// that also match file names, folders, captions and tags (see query_parser.h).
struct SearchQuery {
    std::string text;
    bool hybrid = false; // the whole text also goes to full-text search, not only quoted phrases
    std::optional<std::filesystem::path> imageFile; // any image, inside the library or not
    std::optional<std::int64_t> photoId; // a catalog photo ("more like this")
    // Composed queries: q = normalise((1 - textWeight) * image + textWeight * text), both unit vectors.
    double textWeight = 0.5;
    int limit = 20;
    std::optional<double> minScore; // cosine similarity cutoff (full-text matches are kept regardless)
    bool sortByDate = false; // the best `limit` hits, newest first
    PhotoFilter filter;
};

struct SearchHit {
    std::int64_t id = 0;
    std::filesystem::path path;
    double score = 0; // cosine similarity of the photo and the query
    std::string why; // "vector score 0.312"
    std::int64_t date = 0; // date taken, else file mtime (unix seconds)
};

class SearchService {
public:
    SearchService(Library& library, ImageTextEmbedder& embedder);

    std::vector<SearchHit> search(const SearchQuery& query);
    // The unit query vector of a text; repeated texts come from an LRU cache.
    const std::vector<float>& textEmbedding(const std::string& text);
    std::vector<float> imageEmbedding(const std::filesystem::path& file);
    std::vector<float> photoEmbedding(std::int64_t photoId);

private:
    std::vector<float> queryVector(const SearchQuery& query, const std::string& text);
    std::vector<SearchHit> toHits(const std::vector<std::pair<std::int64_t, double>>& ranked,
        const std::unordered_map<std::int64_t, std::string>& matched, const SearchQuery& query);

    Library& library_;
    ImageTextEmbedder& embedder_;
    VectorIndex index_;
    static constexpr std::size_t kCacheSize = 256;
    std::list<std::pair<std::string, std::vector<float>>> textCache_; // most recent first
    std::unordered_map<std::string, decltype(textCache_)::iterator> textCacheIndex_;
};

} // namespace pictor
