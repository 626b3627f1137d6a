// The start of an answer in steps, so the compute worker can run other jobs (a search typed meanwhile)
// between them: the vision tower one encoder layer at a time, and the prompt's prefill in chunks of
// positions with the KV cache carried over. Each step is a fixed piece of work, independent of time, so
// the results do not depend on where a caller pauses: running every step at once gives the same bits.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

#include "plugins/llava/llava_model.h"

namespace pictor::llava {

// encodeImages() a step at a time: the embeddings (hidden_states[0]), then one encoder layer per step up
// to the deepest layer the feature selection reads, then the selection and the projector. The model must
// outlive the encoding.
class ImageEncoding {
public:
    ImageEncoding(const LlavaModel& model, const at::Tensor& pixel_values);
    // Runs the next step; true when features() is ready (the last step ran, now or before).
    bool step();
    bool done() const { return done_; }
    int stepsLeft() const; // including the projector's
    const VisionFeatures& features() const; // once done()

private:
    const LlavaModel& model_;
    at::Tensor pixel_values_; // released once embedded
    at::Tensor hidden_states_; // hidden_states[next_ - 1] between steps
    std::vector<int> indices_; // hidden_states indices the selection reads
    int deepest_ = 0;
    int next_ = 0; // 0: embed; i in 1..deepest: encoder layer i - 1; deepest + 1: select + project
    std::vector<at::Tensor> chosen_;
    VisionFeatures features_;
    bool done_ = false;
};

// Positions of the prompt per prefill chunk when none is given: about a few hundred ms per chunk for
// llava-interleave-qwen-0.5b on a 2-core CPU (docs/ARCHITECTURE.md, LLaVA "Slices").
inline constexpr std::int64_t kDefaultPrefillChunk = 32;

// LlavaSession::prefill of prompt embeddings [1, tokens, hidden] in chunks of `chunk` positions, one per
// step: causal within each chunk after the ones before (the chunked prefill after history). The session
// must outlive the prefill; nothing else may be appended meanwhile.
class ChunkedPrefill {
public:
    // Refuses a prompt that does not fit the session's context window before anything runs.
    ChunkedPrefill(
        LlavaSession& session, at::Tensor inputs_embeds, std::int64_t chunk = kDefaultPrefillChunk);
    // Prefills the next chunk; true when the whole prompt is in (logits() is ready).
    bool step();
    bool done() const { return next_ >= total_; }
    std::int64_t positionsLeft() const { return total_ - next_; }
    const at::Tensor& logits() const { return logits_; } // the last position's [vocab] once done()

private:
    LlavaSession& session_;
    at::Tensor inputs_embeds_;
    std::int64_t chunk_;
    std::int64_t total_;
    std::int64_t next_ = 0;
    at::Tensor logits_;
};

} // namespace pictor::llava
