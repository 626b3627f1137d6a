// The Torch-free face of plugins/llava: LlavaEngine and LlavaChatSession over LlavaModel and LlavaSession.
#include "plugins/llava/llava_family.h"

#include <algorithm>
#include <optional>

#include <c10/core/InferenceMode.h>

#include "core/error.h"
#include "plugins/llava/llava_model.h"
#include "plugins/llava/llava_stepwise.h"

namespace pictor::llava {

struct LlavaEngine::Impl {
    std::shared_ptr<const LlavaModel> model;
    ImagePreprocessConfig preprocess;
    std::string modelId;
    std::int64_t prefillChunk = kDefaultPrefillChunk;
};

LlavaEngine::LlavaEngine() : impl_(std::make_unique<Impl>()) { }
LlavaEngine::~LlavaEngine() = default;

std::shared_ptr<const LlavaEngine> LlavaEngine::load(
    const std::filesystem::path& modelDir, const LlavaOptions& options)
{
    nn::setCpuThreads(options.cpuThreads);
    std::shared_ptr<LlavaEngine> engine(new LlavaEngine());
    nn::ComputeDevice device = nn::resolveDevice(nn::parseDeviceChoice(options.device));
    // bfloat16 on CPUs that compute it natively, and 8-bit weights for the language model on CPUs with
    // AVX2 or VNNI: their gates are tests/parity LlavaNumberFormats (the top token agrees with float32 at
    // >= 95 % of the fixtures' positions). The vision tower's encoder blocks keep norms, attention and
    // activations in float32; the language model, RMSNorm's statistics.
    nn::chooseNumberFormat(device, options.dtype, {.bfloat16 = true, .weights8Bit = true});
    engine->impl_->model = LlavaModel::load(modelDir, device);
    engine->impl_->preprocess = loadPreprocessConfig(modelDir / "preprocessor_config.json");
    const auto& vision = engine->impl_->model->config().vision;
    PICTOR_CHECK(engine->impl_->preprocess.outputHeight() == vision.imageSize
            && engine->impl_->preprocess.outputWidth() == vision.imageSize,
        (modelDir / "preprocessor_config.json").string(), ": produces ",
        engine->impl_->preprocess.outputWidth(), "x", engine->impl_->preprocess.outputHeight(),
        " images but the vision tower takes ", vision.imageSize);
    engine->impl_->modelId = engine->impl_->model->modelId();
    PICTOR_CHECK(
        options.prefillChunk > 0, "a prefill chunk needs at least one position, not ", options.prefillChunk);
    engine->impl_->prefillChunk = options.prefillChunk;
    return engine;
}

const LlavaConfig& LlavaEngine::config() const
{
    return impl_->model->config();
}

const ImagePreprocessConfig& LlavaEngine::preprocessing() const
{
    return impl_->preprocess;
}

std::string LlavaEngine::modelId() const
{
    return impl_->modelId;
}

std::string LlavaEngine::deviceDescription() const
{
    return impl_->model->device().describe();
}

std::unique_ptr<LlavaChatSession> LlavaEngine::startSession(std::uint64_t seed) const
{
    return std::unique_ptr<LlavaChatSession>(new LlavaChatSession(*this, seed));
}

// An answer between slices of generateSlice.
struct SlicedGeneration {
    std::optional<std::int64_t> unfed; // emitted at the end of the last slice, not fed back yet
    nn::GenerationResult result;
};

// A prompt between the steps of appendStep: the images waiting for preprocessing, then the vision tower's
// steps, then the prefill's chunks.
struct PendingPrompt {
    std::vector<std::int64_t> ids; // image tokens expanded
    std::vector<RgbImage> images;
    at::Tensor pixels; // [images, 3, side, side], filled one image per step
    std::size_t preprocessed = 0;
    std::optional<ImageEncoding> encoding;
    std::optional<ChunkedPrefill> prefill;
};

struct LlavaChatSession::Impl {
    LlavaSession session; // shares the weights: a session may outlive its engine
    ImagePreprocessConfig preprocess;
    std::int64_t prefillChunk;
    at::Tensor logits; // of the last position appended; undefined before the first append
    SlicedGeneration sliced;
    std::optional<PendingPrompt> pending;

    void runPromptStep();
};

LlavaChatSession::LlavaChatSession(const LlavaEngine& engine, std::uint64_t seed)
    : impl_(new Impl {LlavaSession(engine.impl_->model, seed), engine.impl_->preprocess,
        engine.impl_->prefillChunk, {}, {}, {}})
{
}

LlavaChatSession::~LlavaChatSession() = default;

void LlavaChatSession::append(const std::vector<std::int64_t>& ids, const std::vector<RgbImage>& images)
{
    beginAppend(ids, images);
    while (!appendStep(std::chrono::steady_clock::time_point::max())) { }
}

void LlavaChatSession::beginAppend(const std::vector<std::int64_t>& ids, const std::vector<RgbImage>& images)
{
    PICTOR_CHECK(!impl_->pending, "a prompt is being appended already");
    const LlavaConfig& config = impl_->session.model().config();
    const auto imageTokens = std::count(ids.begin(), ids.end(), config.imageTokenIndex);
    PICTOR_CHECK(static_cast<std::size_t>(imageTokens) == images.size(), "the prompt has ", imageTokens,
        " image token(s) (id ", config.imageTokenIndex, ") for ", images.size(), " image(s)");
    PICTOR_CHECK(!ids.empty(), "an empty prompt has nothing to append");
    PendingPrompt pending;
    pending.ids = expandImageTokens(ids, config.imageTokenIndex, config.tokensPerImage());
    impl_->session.checkFits(static_cast<std::int64_t>(pending.ids.size())); // before encoding any image
    pending.images = images;
    impl_->pending.emplace(std::move(pending));
    impl_->logits = at::Tensor();
    impl_->sliced = {};
}

bool LlavaChatSession::appending() const
{
    return impl_->pending.has_value();
}

bool LlavaChatSession::appendStep(std::chrono::steady_clock::time_point until)
{
    PICTOR_CHECK(impl_->pending, "nothing to append: call beginAppend first");
    c10::InferenceMode guard;
    try {
        do {
            impl_->runPromptStep();
        } while (impl_->pending && std::chrono::steady_clock::now() < until);
    } catch (...) {
        impl_->pending.reset(); // a failed prompt is not resumed; what it prefilled stays in the cache
        throw;
    }
    return !impl_->pending;
}

void LlavaChatSession::Impl::runPromptStep()
{
    PendingPrompt& prompt = *pending;
    const LlavaModel& model = session.model();
    if (prompt.preprocessed < prompt.images.size()) {
        const std::int64_t side = model.config().vision.imageSize;
        if (!prompt.pixels.defined())
            prompt.pixels
                = at::empty({static_cast<std::int64_t>(prompt.images.size()), 3, side, side}, at::kFloat);
        const std::vector<float> one = preprocessImage(prompt.images[prompt.preprocessed], preprocess);
        std::copy(one.begin(), one.end(), prompt.pixels.data_ptr<float>() + prompt.preprocessed * one.size());
        prompt.images[prompt.preprocessed] = RgbImage(); // its pixels are in the tensor now
        ++prompt.preprocessed;
        return;
    }
    if (prompt.pixels.defined() && !prompt.encoding) {
        prompt.encoding.emplace(model, prompt.pixels.to(model.device().dtype));
        prompt.pixels = at::Tensor();
    }
    if (prompt.encoding && !prompt.encoding->done()) {
        prompt.encoding->step();
        return;
    }
    if (!prompt.prefill) {
        // Embedding the prompt is a lookup: it goes with the first chunk.
        const at::Tensor features
            = prompt.encoding ? prompt.encoding->features().image_features : at::Tensor();
        const auto length = static_cast<std::int64_t>(prompt.ids.size());
        prompt.prefill.emplace(
            session, model.embedPrompt(at::tensor(prompt.ids).view({1, length}), features), prefillChunk);
        prompt.encoding.reset();
    }
    if (prompt.prefill->step()) {
        logits = prompt.prefill->logits();
        pending.reset();
    }
}

nn::GenerationResult LlavaChatSession::generate(const nn::GenerationOptions& options)
{
    while (!generateSlice(options, std::chrono::steady_clock::time_point::max())) { }
    return impl_->sliced.result;
}

bool LlavaChatSession::generateSlice(
    const nn::GenerationOptions& options, std::chrono::steady_clock::time_point until)
{
    PICTOR_CHECK(!impl_->pending, "the prompt is still being appended: run appendStep until it returns true");
    SlicedGeneration& sliced = impl_->sliced;
    PICTOR_CHECK(impl_->logits.defined() || sliced.unfed, "nothing to answer: append a prompt first");
    nn::GenerationResult& result = sliced.result;
    auto finish = [&](nn::StopReason reason) {
        result.stopReason = reason;
        sliced.unfed.reset();
        impl_->logits = at::Tensor(); // the last token is not fed back; the next turn starts with an append
        return true;
    };
    nn::GenerationOptions slice = options;
    const int produced = static_cast<int>(result.tokens.size());
    if (sliced.unfed) {
        // Where the uninterrupted loop stood after emitting that token: the same checks, in its order.
        if (produced >= options.maxNewTokens)
            return finish(nn::StopReason::MaxNewTokens);
        if (impl_->session.roomLeft() <= 0)
            return finish(nn::StopReason::ContextFull);
        if (options.cancel && options.cancel->load(std::memory_order_relaxed))
            return finish(nn::StopReason::Cancelled); // what the loop's next check says; saves a forward pass
        impl_->logits = impl_->session.decode(*sliced.unfed);
        sliced.unfed.reset();
        slice.sampling.seed.reset(); // seeded once per answer, at its first slice
    }
    slice.maxNewTokens = options.maxNewTokens - produced;
    bool paused = false;
    slice.onToken = [&](std::int64_t token) {
        if (options.onToken && !options.onToken(token))
            return false;
        paused = std::chrono::steady_clock::now() >= until;
        return !paused;
    };
    const nn::GenerationResult part = impl_->session.generate(impl_->logits, slice);
    result.tokens.insert(result.tokens.end(), part.tokens.begin(), part.tokens.end());
    if (!paused)
        return finish(part.stopReason);
    sliced.unfed = part.tokens.back();
    impl_->logits = at::Tensor();
    return false;
}

const nn::GenerationResult& LlavaChatSession::generated() const
{
    return impl_->sliced.result;
}

std::int64_t LlavaChatSession::length() const
{
    return impl_->session.length();
}

std::int64_t LlavaChatSession::roomLeft() const
{
    return impl_->session.roomLeft();
}

void LlavaChatSession::reset()
{
    impl_->pending.reset();
    impl_->session.reset();
    impl_->logits = at::Tensor();
    impl_->sliced = {};
}

} // namespace pictor::llava
