#include "indexer/auto_tags.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "core/log.h"

namespace pictor {
namespace {

void normalise(std::vector<float>& vector)
{
    double norm = 0;
    for (const float v : vector)
        norm += static_cast<double>(v) * v;
    norm = std::sqrt(norm);
    PICTOR_CHECK(norm > 0, "a zero text embedding cannot be normalised");
    for (float& v : vector)
        v = static_cast<float>(v / norm);
}

} // namespace

TagDefinition parseTagDefinition(std::string_view text)
{
    TagDefinition definition;
    const auto equals = text.find('=');
    definition.tag = normalizeTag(text.substr(0, equals));
    PICTOR_CHECK(
        !definition.tag.empty(), "a tag definition needs a tag: 'beach' or 'beach=a photo of a beach'");
    if (equals == std::string_view::npos) {
        definition.prompts.push_back("a photo of a " + definition.tag + ".");
        return definition;
    }
    std::stringstream prompts {std::string(text.substr(equals + 1))};
    for (std::string prompt; std::getline(prompts, prompt, ';');) {
        prompt = normalizeTag(prompt);
        PICTOR_CHECK(!prompt.empty(), "the tag '", definition.tag,
            "' has an empty prompt (prompts are separated by ';')");
        definition.prompts.push_back(prompt);
    }
    PICTOR_CHECK(!definition.prompts.empty(), "the tag '", definition.tag, "' has no prompt after '='");
    return definition;
}

std::vector<float> promptEnsemble(ImageTextEmbedder& embedder, const TagDefinition& definition)
{
    const EmbeddingMatrix texts = embedder.embedTexts(definition.prompts);
    std::vector<float> mean(static_cast<std::size_t>(texts.dim), 0.0F);
    for (int r = 0; r < texts.rows; ++r) {
        std::vector<float> unit(texts.row(r), texts.row(r) + texts.dim);
        normalise(unit);
        for (std::size_t i = 0; i < unit.size(); ++i)
            mean[i] += unit[i] / static_cast<float>(texts.rows);
    }
    normalise(mean);
    return mean;
}

std::vector<PhotoScore> scorePhotos(
    const Catalog& catalog, const std::string& modelId, const std::vector<float>& vector)
{
    std::vector<PhotoScore> scores;
    catalog.forEachEmbedding(modelId, [&](const EmbeddingBatch& batch) {
        PICTOR_CHECK(static_cast<std::size_t>(batch.dim) == vector.size(), "the tag vector has ",
            vector.size(), " values, the photos' embeddings ", batch.dim);
        for (std::size_t r = 0; r < batch.ids.size(); ++r) {
            const float* row = batch.vectors.data() + r * vector.size();
            double dot = 0, norm = 0;
            for (std::size_t i = 0; i < vector.size(); ++i) {
                dot += static_cast<double>(row[i]) * vector[i];
                norm += static_cast<double>(row[i]) * row[i];
            }
            scores.push_back({batch.ids[r], norm > 0 ? dot / std::sqrt(norm) : 0});
        }
    });
    std::sort(scores.begin(), scores.end(), [](const PhotoScore& a, const PhotoScore& b) {
        return a.score != b.score ? a.score > b.score : a.photoId < b.photoId;
    });
    return scores;
}

std::string autoTagSource(const std::string& modelId)
{
    return "auto:" + modelId;
}

std::int64_t applyAutoTag(Catalog& catalog, const std::string& modelId, const std::string& tag,
    const std::vector<PhotoScore>& scores, double threshold)
{
    const std::string source = autoTagSource(modelId);
    Catalog::Transaction transaction(catalog);
    catalog.removeTagFromAll(tag, source);
    const std::vector<std::int64_t> exclusions = catalog.autoTagExclusions(tag);
    std::int64_t tagged = 0;
    for (const PhotoScore& score : scores) {
        if (score.score < threshold)
            break; // best first
        if (std::binary_search(exclusions.begin(), exclusions.end(), score.photoId))
            continue;
        if (catalog.addAutoTag(score.photoId, tag, source, score.score, threshold))
            ++tagged;
    }
    transaction.commit();
    return tagged;
}

NewPhotoAutoTagger::NewPhotoAutoTagger(const Catalog& catalog, std::string modelId, TextEmbedding embedTexts)
    : modelId_(std::move(modelId)), embedTexts_(std::move(embedTexts))
{
    for (AutoTagRule& rule : catalog.autoTagRules()) {
        if (rule.modelId != modelId_)
            continue; // scores of another model's space: its threshold means nothing here
        std::vector<std::int64_t> exclusions = catalog.autoTagExclusions(rule.tag);
        rules_.push_back({std::move(rule), {}, std::move(exclusions)});
    }
}

void NewPhotoAutoTagger::prepare(std::size_t dimension)
{
    for (auto it = rules_.begin(); it != rules_.end();) {
        try {
            if (it->vector.empty())
                it->vector = embedTexts_({it->rule.tag, it->rule.prompts});
            PICTOR_CHECK(it->vector.size() == dimension, "its prompts give ", it->vector.size(),
                " values, the photos' embeddings ", dimension);
            ++it;
        } catch (const std::exception& e) {
            // A rule that cannot be applied must not stop the indexing: it is left out of this run.
            PICTOR_LOG_WARN("the zero-shot rule for '", it->rule.tag, "' is not applied: ", e.what());
            it = rules_.erase(it);
        }
    }
}

int NewPhotoAutoTagger::tag(Catalog& catalog, std::int64_t photoId, std::span<const float> unitEmbedding)
{
    int given = 0;
    for (Rule& rule : rules_) {
        if (rule.vector.size() != unitEmbedding.size())
            continue; // prepare() was not called for this dimension
        double score = 0;
        for (std::size_t i = 0; i < unitEmbedding.size(); ++i)
            score += static_cast<double>(unitEmbedding[i]) * rule.vector[i];
        if (score < rule.rule.threshold
            || std::binary_search(rule.exclusions.begin(), rule.exclusions.end(), photoId))
            continue;
        if (catalog.addAutoTag(photoId, rule.rule.tag, autoTagSource(modelId_), score, rule.rule.threshold))
            ++given;
    }
    return given;
}

} // namespace pictor
