#include "indexer/search.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_set>

#include "core/error.h"
#include "core/imageio/decode.h"
#include "indexer/query_parser.h"

namespace pictor {
namespace {

void normalize(std::vector<float>& v)
{
    double sum = 0;
    for (float x : v)
        sum += double(x) * x;
    if (sum > 0)
        for (float& x : v)
            x = static_cast<float>(x / std::sqrt(sum));
}

std::vector<float> unitRow(const EmbeddingMatrix& matrix)
{
    std::vector<float> row(matrix.row(0), matrix.row(0) + matrix.dim);
    normalize(row);
    return row;
}

bool hasFilter(const PhotoFilter& filter)
{
    return filter.folder || filter.takenFrom || filter.takenBefore || filter.camera
        || !filter.fileTypes.empty() || filter.generated || !filter.tags.empty();
}

std::string formatScore(double score)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.4f", score);
    return text;
}

} // namespace

SearchService::SearchService(Library& library, ImageTextEmbedder& embedder)
    : library_(library),
      embedder_(embedder),
      index_(library.vectorIndex(embedder.modelId(), embedder.dimension()))
{
}

const std::vector<float>& SearchService::textEmbedding(const std::string& text)
{
    if (auto it = textCacheIndex_.find(text); it != textCacheIndex_.end()) {
        textCache_.splice(textCache_.begin(), textCache_, it->second);
        return it->second->second;
    }
    textCache_.emplace_front(text, unitRow(embedder_.embedTexts({text})));
    textCacheIndex_[text] = textCache_.begin();
    if (textCache_.size() > kCacheSize) {
        textCacheIndex_.erase(textCache_.back().first);
        textCache_.pop_back();
    }
    return textCache_.front().second;
}

std::vector<float> SearchService::imageEmbedding(const std::filesystem::path& file)
{
    return unitRow(embedder_.embedImages({decodeImageFile(file).image}));
}

std::vector<float> SearchService::photoEmbedding(std::int64_t photoId)
{
    auto stored = library_.catalog().embedding(photoId, embedder_.modelId());
    PICTOR_CHECK(stored.has_value(), "photo ", photoId, " is not in the library or has no embedding for ",
        embedder_.modelId());
    normalize(*stored);
    return *stored;
}

std::vector<float> SearchService::queryVector(const SearchQuery& query, const std::string& text)
{
    std::optional<std::vector<float>> image;
    if (query.imageFile)
        image = imageEmbedding(*query.imageFile);
    else if (query.photoId)
        image = photoEmbedding(*query.photoId);

    if (const auto terms = parseArithmeticQuery(text)) {
        std::vector<float> sum(static_cast<std::size_t>(embedder_.dimension()), 0.0f);
        auto add = [&](const std::vector<float>& unit, double weight) {
            for (std::size_t i = 0; i < sum.size(); ++i)
                sum[i] += static_cast<float>(weight * unit[i]);
        };
        for (const QueryTerm& term : *terms)
            add(term.image ? imageEmbedding(*term.image) : textEmbedding(term.text), term.weight);
        if (image)
            add(*image, 1.0);
        normalize(sum);
        return sum;
    }
    const bool hasText = text.find_first_not_of(' ') != std::string::npos;
    PICTOR_CHECK(hasText || image, "nothing to search for: give words, an image, a photo or a filter");
    if (!image)
        return textEmbedding(text);
    if (!hasText)
        return *image;
    const auto& unitText = textEmbedding(text);
    std::vector<float> composed(unitText.size());
    for (std::size_t i = 0; i < composed.size(); ++i)
        composed[i]
            = static_cast<float>((1 - query.textWeight) * (*image)[i] + query.textWeight * unitText[i]);
    normalize(composed);
    return composed;
}

std::vector<SearchHit> SearchService::search(const SearchQuery& query)
{
    PICTOR_CHECK(!(query.imageFile && query.photoId), "give either an image file or a photo id, not both");
    PICTOR_CHECK(query.textWeight >= 0 && query.textWeight <= 1, "the text weight must be between 0 and 1");
    // Only filters ("--tag beach", "--camera X100"): the photos that pass them, newest first.
    if (query.text.find_first_not_of(' ') == std::string::npos && !query.imageFile && !query.photoId
        && hasFilter(query.filter)) {
        std::vector<SearchHit> hits;
        for (const PhotoRecord& photo :
            library_.catalog().listPhotos(PhotoOrder::NewestFirst, 0, query.limit, query.filter))
            hits.push_back({photo.id, photo.path, 0, "filters only",
                photo.takenAt.value_or(photo.mtimeNs / 1'000'000'000)});
        return hits;
    }
    const HybridParts parts = splitQuotedPhrases(query.text);
    const std::vector<float> vector = queryVector(query, parts.vectorText);

    std::optional<std::vector<std::int64_t>> allowed;
    if (hasFilter(query.filter))
        allowed = library_.catalog().filterPhotos(query.filter);
    auto vectorSearch = [&](int k) {
        return allowed ? index_.search(vector, k, std::span<const std::int64_t>(*allowed))
                       : index_.search(vector, k);
    };

    std::string fullText = query.hybrid ? parts.vectorText : "";
    for (const auto& phrase : parts.phrases)
        fullText += (fullText.empty() ? "" : " ") + phrase;
    if (fullText.empty()) {
        std::vector<std::pair<std::int64_t, double>> ranked;
        for (const VectorHit& hit : vectorSearch(query.limit))
            ranked.emplace_back(hit.id, hit.score);
        return toHits(ranked, {}, query);
    }

    // Hybrid: reciprocal rank fusion of the vector ranking and the full-text ranking (k = 60, the usual
    // constant): a photo ranked well by either comes up; one ranked well by both comes first.
    constexpr double kRrf = 60;
    const int depth = std::max(query.limit, 100);
    std::unordered_map<std::int64_t, double> fused;
    std::unordered_map<std::int64_t, std::string> matched;
    const auto vectorHits = vectorSearch(depth);
    for (std::size_t rank = 0; rank < vectorHits.size(); ++rank)
        fused[vectorHits[rank].id] += 1.0 / (kRrf + double(rank) + 1);
    std::unordered_set<std::int64_t> allowedSet;
    if (allowed)
        allowedSet.insert(allowed->begin(), allowed->end());
    std::size_t textRank = 0;
    for (const TextMatch& match : library_.catalog().matchText(fullText, static_cast<std::size_t>(depth))) {
        if (allowed && !allowedSet.count(match.photoId))
            continue;
        fused[match.photoId] += 1.0 / (kRrf + double(textRank++) + 1);
        matched[match.photoId] = std::string(textFieldName(match.field)) + ": " + match.snippet;
    }
    std::vector<std::pair<std::int64_t, double>> ranked(fused.begin(), fused.end());
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (ranked.size() > static_cast<std::size_t>(query.limit))
        ranked.resize(static_cast<std::size_t>(query.limit));
    // Every hit reports its cosine similarity, also those found by full text only.
    for (auto& [id, score] : ranked) {
        const auto stored = library_.catalog().embedding(id, embedder_.modelId());
        double dot = 0;
        if (stored)
            for (std::size_t i = 0; i < vector.size(); ++i)
                dot += double((*stored)[i]) * vector[i];
        score = dot;
    }
    return toHits(ranked, matched, query);
}

std::vector<SearchHit> SearchService::toHits(const std::vector<std::pair<std::int64_t, double>>& ranked,
    const std::unordered_map<std::int64_t, std::string>& matched, const SearchQuery& query)
{
    std::vector<SearchHit> results;
    for (const auto& [id, score] : ranked) {
        if (query.minScore && score < *query.minScore && !matched.count(id))
            continue;
        const auto photo = library_.catalog().photo(id);
        if (!photo)
            continue; // deleted since the index was loaded
        std::string why = "vector score " + formatScore(score);
        if (auto it = matched.find(id); it != matched.end())
            why += "; " + it->second;
        results.push_back(
            {id, photo->path, score, why, photo->takenAt.value_or(photo->mtimeNs / 1'000'000'000)});
    }
    if (query.sortByDate)
        std::stable_sort(
            results.begin(), results.end(), [](const auto& a, const auto& b) { return a.date > b.date; });
    return results;
}

} // namespace pictor
