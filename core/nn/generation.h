// Family-neutral autoregressive generation: token sampling (greedy, temperature, top-k, top-p with a
// seed) and the decode loop with stop tokens, a token budget, a per-token callback and cancellation.
// No Torch here: a model supplies logits through a step function.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <vector>

namespace pictor::nn {

struct SamplingOptions {
    bool greedy = true; // argmax (the first of equal maxima, as torch.argmax); the rest is then unused
    float temperature = 1.0f; // > 0
    int topK = 0; // 0: no limit
    float topP = 1.0f; // nucleus: the smallest set of most likely tokens whose probability reaches topP
    std::optional<std::uint64_t> seed; // reseeds the sampler's generator when set
};

// Picks the next token from logits. Holds the random generator, so one sampler belongs to one session.
class TokenSampler {
public:
    explicit TokenSampler(std::uint64_t seed = 0) : rng_(seed) { }
    void reseed(std::uint64_t seed) { rng_.seed(seed); }
    // Order as transformers' logits warpers: temperature, then top-k, then top-p, then a draw.
    std::int64_t sample(std::span<const float> logits, const SamplingOptions& options);

private:
    std::mt19937_64 rng_;
    std::vector<std::pair<float, std::int64_t>> scratch_;
};

enum class StopReason { EndOfSequence, MaxNewTokens, ContextFull, Cancelled, StoppedByCallback };
std::string_view stopReasonName(StopReason reason);

struct GenerationOptions {
    SamplingOptions sampling;
    int maxNewTokens = 256;
    std::vector<std::int64_t> stopTokenIds; // generation_config.json's eos_token_id(s); not emitted
    // Called with every new token before it is fed back; returning false stops (e.g. on a stop string).
    std::function<bool(std::int64_t token)> onToken;
    const std::atomic<bool>* cancel = nullptr; // checked before every token
};

struct GenerationResult {
    std::vector<std::int64_t> tokens; // the new tokens, stop token excluded
    StopReason stopReason = StopReason::MaxNewTokens;
};

// The decode loop. `logits`: the last position's logits after the prompt. `step(token)` feeds one token
// and returns the next logits. `roomLeft`: positions left in the context window; the loop never feeds
// more tokens than that.
GenerationResult generateTokens(std::vector<float> logits,
    const std::function<std::vector<float>(std::int64_t token)>& step, std::int64_t roomLeft,
    TokenSampler& sampler, const GenerationOptions& options);

} // namespace pictor::nn
