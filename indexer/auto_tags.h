// Zero-shot tags: a tag defined by prompts ("beach": "a photo of a beach", "waves on a sandy shore"), its
// text embeddings averaged as the CLIP paper's prompt ensembles do (the mean of the unit vectors, made unit
// again), each photo scored by the cosine of its image embedding with that vector, and the photos at or
// above a threshold tagged with source "auto:<model id>", their score and the threshold kept.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/embedder.h"
#include "indexer/catalog.h"

namespace pictor {

struct TagDefinition {
    std::string tag;
    std::vector<std::string> prompts;
};

// "beach=a photo of a beach;waves on a sandy shore", or "beach" alone (the prompt "a photo of a beach.",
// the CLIP paper's template). Throws when the tag or a prompt is empty.
TagDefinition parseTagDefinition(std::string_view text);

// The unit vector of the tag: the mean of its prompts' unit text embeddings, normalised.
std::vector<float> promptEnsemble(ImageTextEmbedder& embedder, const TagDefinition& definition);

struct PhotoScore {
    std::int64_t photoId = 0;
    double score = 0;
};

// Every photo with an embedding of `modelId`, scored against `vector`, best first.
std::vector<PhotoScore> scorePhotos(
    const Catalog& catalog, const std::string& modelId, const std::vector<float>& vector);

std::string autoTagSource(const std::string& modelId); // "auto:<model id>"

// Replaces the tag's earlier zero-shot run with this model: every photo scoring >= threshold gets it, but
// those a person took it from or gave it (Catalog::autoTagExclusions). Returns how many were tagged. One
// transaction.
std::int64_t applyAutoTag(Catalog& catalog, const std::string& modelId, const std::string& tag,
    const std::vector<PhotoScore>& scores, double threshold);

// The zero-shot rules of one model applied to the photos an index run embeds, so new photos get their
// tags as they arrive. The prompts are embedded once, before the first batch with photos (a run with
// nothing new embeds no text); `embedTexts` runs that (on the compute worker, in the index job).
class NewPhotoAutoTagger {
public:
    using TextEmbedding = std::function<std::vector<float>(const TagDefinition&)>;
    NewPhotoAutoTagger(const Catalog& catalog, std::string modelId, TextEmbedding embedTexts);

    bool empty() const { return rules_.empty(); }
    // Embeds the rules' prompts (once), outside any transaction: a rule that fails, or whose vectors are
    // not `dimension` long, is logged and left out; it never stops the indexing.
    void prepare(std::size_t dimension);
    // Within the caller's transaction, after prepare(): tags the photo by every rule its unit embedding
    // meets; returns how many tags it got.
    int tag(Catalog& catalog, std::int64_t photoId, std::span<const float> unitEmbedding);

private:
    struct Rule {
        AutoTagRule rule;
        std::vector<float> vector; // empty until the first photo
        std::vector<std::int64_t> exclusions; // sorted
    };
    std::string modelId_;
    TextEmbedding embedTexts_;
    std::vector<Rule> rules_;
};

} // namespace pictor
