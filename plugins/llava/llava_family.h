// The LLaVA family without Torch types, for the app, the CLI and the compute worker: a loaded checkpoint
// (immutable, shareable between threads) and chat sessions (one conversation's KV cache, position and
// random generator each). Prompts arrive as token ids from core/text's tokenizer and chat template.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/image.h"
#include "core/nn/generation.h"
#include "core/preprocess.h"
#include "plugins/llava/llava_config.h"

namespace pictor::llava {

struct LlavaOptions {
    std::string device = "auto"; // auto, cpu or cuda
    std::string dtype = "auto"; // auto (nn::chooseNumberFormat), float32, bfloat16, float16 (CUDA)
    int cpuThreads = 0; // 0: every core
    // Positions per prefill chunk when a prompt is appended in steps (beginAppend / appendStep).
    std::int64_t prefillChunk = 32;
};

class LlavaChatSession;

class LlavaEngine {
public:
    static std::shared_ptr<const LlavaEngine> load(
        const std::filesystem::path& modelDir, const LlavaOptions& options = {});
    ~LlavaEngine();

    const LlavaConfig& config() const;
    const ImagePreprocessConfig& preprocessing() const; // from the folder's preprocessor_config.json
    std::string modelId() const; // "llava-<16 hex>"
    std::string deviceDescription() const; // "CPU float32", "CUDA:0 float16"

    std::unique_ptr<LlavaChatSession> startSession(std::uint64_t seed = 0) const;

private:
    LlavaEngine();
    struct Impl;
    std::unique_ptr<Impl> impl_;
    friend class LlavaChatSession;
};

class LlavaChatSession {
public:
    ~LlavaChatSession();

    // Appends prompt ids after what the session holds, in one batched forward pass. Each image token of
    // `ids` stands for one image of `images`, in order, and is expanded to tokensPerImage() copies here.
    // A prompt that does not fit the context window, or whose image tokens do not match the images, is
    // refused with a message and leaves the session as it was.
    // beginAppend(), then every appendStep() at once.
    void append(const std::vector<std::int64_t>& ids, const std::vector<RgbImage>& images = {});
    // append() in steps, so a worker can run other jobs in between. beginAppend checks the prompt (the
    // refusals append() gives are thrown here, before anything runs) and keeps it; each appendStep runs
    // at least one step (preprocessing one image, the vision tower's embeddings or one of its encoder
    // layers, the projector, one prefill chunk of LlavaOptions::prefillChunk positions) and returns after
    // the first one that ends at or after `until`, or true when the prompt is in (generate next). The
    // steps do not depend on `until`: the result is the same bits however the calls are timed.
    void beginAppend(const std::vector<std::int64_t>& ids, const std::vector<RgbImage>& images = {});
    bool appendStep(std::chrono::steady_clock::time_point until);
    bool appending() const; // between beginAppend and the appendStep that returned true
    // Generates from the end of what was appended (needs an append first). The last emitted token is not
    // fed back: append it, with what the chat template puts after an answer, before the next turn.
    nn::GenerationResult generate(const nn::GenerationOptions& options);
    // generate() in slices, so a worker can run other jobs in between: each call goes on where the last
    // one stopped and returns after the first token emitted at or after `until` (the next call feeds it
    // back), or when the answer ends (true: generated() is complete). Pass the same options every time;
    // the tokens, the sampler's draws and the stop reason are those of one generate() call.
    bool generateSlice(const nn::GenerationOptions& options, std::chrono::steady_clock::time_point until);
    const nn::GenerationResult& generated() const; // the answer so far

    std::int64_t length() const; // positions used
    std::int64_t roomLeft() const; // positions left in the context window
    void reset(); // forgets the conversation

private:
    friend class LlavaEngine;
    LlavaChatSession(const LlavaEngine& engine, std::uint64_t seed);
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace pictor::llava
