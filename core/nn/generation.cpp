#include "core/nn/generation.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace pictor::nn {

std::int64_t TokenSampler::sample(std::span<const float> logits, const SamplingOptions& options)
{
    PICTOR_CHECK(!logits.empty(), "cannot sample from empty logits");
    if (options.seed)
        reseed(*options.seed);
    if (options.greedy)
        return std::max_element(logits.begin(), logits.end()) - logits.begin();
    PICTOR_CHECK(options.temperature > 0.0f && std::isfinite(options.temperature),
        "temperature must be positive, not ", options.temperature);
    PICTOR_CHECK(options.topP > 0.0f && options.topP <= 1.0f, "top-p must be in (0, 1], not ", options.topP);
    PICTOR_CHECK(options.topK >= 0, "top-k must not be negative, not ", options.topK);

    // Candidates by descending logit (ties: lower id first, so results do not depend on the sort).
    scratch_.clear();
    scratch_.reserve(logits.size());
    for (std::size_t i = 0; i < logits.size(); ++i)
        if (!std::isnan(logits[i]))
            scratch_.emplace_back(logits[i] / options.temperature, static_cast<std::int64_t>(i));
    PICTOR_CHECK(!scratch_.empty(), "every logit is NaN");
    const auto byLogit = [](const auto& a, const auto& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    std::size_t kept = scratch_.size();
    if (options.topK > 0 && static_cast<std::size_t>(options.topK) < kept) {
        kept = static_cast<std::size_t>(options.topK);
        std::partial_sort(scratch_.begin(), scratch_.begin() + kept, scratch_.end(), byLogit);
    } else {
        std::sort(scratch_.begin(), scratch_.end(), byLogit);
    }
    // Softmax over the kept candidates (the top-k filter sets the others to -inf first, as HF does).
    const double maxLogit = scratch_.front().first;
    std::vector<double> probs(kept);
    double total = 0.0;
    for (std::size_t i = 0; i < kept; ++i)
        total += probs[i] = std::exp(static_cast<double>(scratch_[i].first) - maxLogit);
    for (double& p : probs)
        p /= total;
    if (options.topP < 1.0f) {
        // Keep the most likely tokens until their mass reaches topP (at least one).
        double mass = 0.0;
        std::size_t nucleus = 0;
        while (nucleus < kept && (nucleus == 0 || mass < options.topP))
            mass += probs[nucleus++];
        kept = nucleus;
        probs.resize(kept);
        for (double& p : probs)
            p /= mass;
    }
    const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    double cumulative = 0.0;
    for (std::size_t i = 0; i < kept; ++i) {
        cumulative += probs[i];
        if (draw < cumulative)
            return scratch_[i].second;
    }
    return scratch_[kept - 1].second; // rounding left the draw just above the total
}

std::string_view stopReasonName(StopReason reason)
{
    switch (reason) {
    case StopReason::EndOfSequence:
        return "end of sequence";
    case StopReason::MaxNewTokens:
        return "max new tokens";
    case StopReason::ContextFull:
        return "context window full";
    case StopReason::Cancelled:
        return "cancelled";
    case StopReason::StoppedByCallback:
        return "stopped by callback";
    }
    return "unknown";
}

GenerationResult generateTokens(std::vector<float> logits,
    const std::function<std::vector<float>(std::int64_t token)>& step, std::int64_t roomLeft,
    TokenSampler& sampler, const GenerationOptions& options)
{
    GenerationResult result;
    SamplingOptions sampling = options.sampling;
    if (sampling.seed) { // seed once per generation, not per token
        sampler.reseed(*sampling.seed);
        sampling.seed.reset();
    }
    for (int produced = 0;; ++produced) {
        if (options.cancel && options.cancel->load(std::memory_order_relaxed)) {
            result.stopReason = StopReason::Cancelled;
            break;
        }
        if (produced >= options.maxNewTokens) {
            result.stopReason = StopReason::MaxNewTokens;
            break;
        }
        const std::int64_t token = sampler.sample(logits, sampling);
        if (std::find(options.stopTokenIds.begin(), options.stopTokenIds.end(), token)
            != options.stopTokenIds.end()) {
            result.stopReason = StopReason::EndOfSequence;
            break;
        }
        result.tokens.push_back(token);
        if (options.onToken && !options.onToken(token)) {
            result.stopReason = StopReason::StoppedByCallback;
            break;
        }
        if (produced + 1 >= options.maxNewTokens) {
            result.stopReason = StopReason::MaxNewTokens; // the last token needs no forward pass
            break;
        }
        if (roomLeft <= 0) {
            result.stopReason = StopReason::ContextFull;
            break;
        }
        logits = step(token);
        roomLeft -= 1;
    }
    return result;
}

} // namespace pictor::nn
