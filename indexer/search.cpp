#include "indexer/search.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "core/imageio/decode.h"

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
        || !filter.fileTypes.empty();
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

std::vector<SearchHit> SearchService::search(const SearchQuery& query)
{
    PICTOR_CHECK(!(query.imageFile && query.photoId), "give either an image file or a photo id, not both");
    PICTOR_CHECK(query.textWeight >= 0 && query.textWeight <= 1, "the text weight must be between 0 and 1");
    std::optional<std::vector<float>> image;
    if (query.imageFile)
        image = imageEmbedding(*query.imageFile);
    else if (query.photoId)
        image = photoEmbedding(*query.photoId);
    const bool hasText = !query.text.empty();
    PICTOR_CHECK(hasText || image, "nothing to search for: give words, an image or a photo");

    std::vector<float> vector;
    if (hasText && image) {
        const auto& text = textEmbedding(query.text);
        vector.resize(text.size());
        for (std::size_t i = 0; i < vector.size(); ++i)
            vector[i] = static_cast<float>((1 - query.textWeight) * (*image)[i] + query.textWeight * text[i]);
        normalize(vector);
    } else {
        vector = hasText ? textEmbedding(query.text) : *image;
    }

    std::optional<std::vector<std::int64_t>> allowed;
    if (hasFilter(query.filter))
        allowed = library_.catalog().filterPhotos(query.filter);
    const auto hits = allowed ? index_.search(vector, query.limit, std::span<const std::int64_t>(*allowed))
                              : index_.search(vector, query.limit);

    std::vector<SearchHit> results;
    for (const VectorHit& hit : hits) {
        if (query.minScore && hit.score < *query.minScore)
            continue;
        const auto photo = library_.catalog().photo(hit.id);
        if (!photo)
            continue; // deleted since the index was loaded
        results.push_back({hit.id, photo->path, hit.score, "vector score " + formatScore(hit.score),
            photo->takenAt.value_or(photo->mtimeNs / 1'000'000'000)});
    }
    if (query.sortByDate)
        std::stable_sort(
            results.begin(), results.end(), [](const auto& a, const auto& b) { return a.date > b.date; });
    return results;
}

} // namespace pictor
