// The Torch-free face of plugins/llava: LlavaEngine and LlavaChatSession over LlavaModel and LlavaSession.
#include "plugins/llava/llava_family.h"

#include <algorithm>
#include <optional>

#include <c10/core/InferenceMode.h>

#include "core/error.h"
#include "plugins/llava/llava_model.h"

namespace pictor::llava {

struct LlavaEngine::Impl {
    std::shared_ptr<const LlavaModel> model;
    ImagePreprocessConfig preprocess;
    std::string modelId;
};

LlavaEngine::LlavaEngine() : impl_(std::make_unique<Impl>()) { }
LlavaEngine::~LlavaEngine() = default;

std::shared_ptr<const LlavaEngine> LlavaEngine::load(
    const std::filesystem::path& modelDir, const LlavaOptions& options)
{
    nn::setCpuThreads(options.cpuThreads);
    std::shared_ptr<LlavaEngine> engine(new LlavaEngine());
    engine->impl_->model
        = LlavaModel::load(modelDir, nn::resolveDevice(nn::parseDeviceChoice(options.device)));
    engine->impl_->preprocess = loadPreprocessConfig(modelDir / "preprocessor_config.json");
    const auto& vision = engine->impl_->model->config().vision;
    PICTOR_CHECK(engine->impl_->preprocess.outputHeight() == vision.imageSize
            && engine->impl_->preprocess.outputWidth() == vision.imageSize,
        (modelDir / "preprocessor_config.json").string(), ": produces ",
        engine->impl_->preprocess.outputWidth(), "x", engine->impl_->preprocess.outputHeight(),
        " images but the vision tower takes ", vision.imageSize);
    engine->impl_->modelId = engine->impl_->model->modelId();
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

struct LlavaChatSession::Impl {
    LlavaSession session; // shares the weights: a session may outlive its engine
    ImagePreprocessConfig preprocess;
    at::Tensor logits; // of the last position appended; undefined before the first append
    SlicedGeneration sliced;
};

LlavaChatSession::LlavaChatSession(const LlavaEngine& engine, std::uint64_t seed)
    : impl_(new Impl {LlavaSession(engine.impl_->model, seed), engine.impl_->preprocess, {}, {}})
{
}

LlavaChatSession::~LlavaChatSession() = default;

void LlavaChatSession::append(const std::vector<std::int64_t>& ids, const std::vector<RgbImage>& images)
{
    c10::InferenceMode guard;
    const LlavaModel& model = impl_->session.model();
    const LlavaConfig& config = model.config();
    const auto imageTokens = std::count(ids.begin(), ids.end(), config.imageTokenIndex);
    PICTOR_CHECK(static_cast<std::size_t>(imageTokens) == images.size(), "the prompt has ", imageTokens,
        " image token(s) (id ", config.imageTokenIndex, ") for ", images.size(), " image(s)");
    const std::vector<std::int64_t> expanded
        = expandImageTokens(ids, config.imageTokenIndex, config.tokensPerImage());
    impl_->session.checkFits(static_cast<std::int64_t>(expanded.size())); // before encoding any image
    at::Tensor features;
    if (!images.empty()) {
        const ImagePreprocessConfig& preprocess = impl_->preprocess;
        const std::int64_t side = config.vision.imageSize;
        at::Tensor pixels = at::empty({static_cast<std::int64_t>(images.size()), 3, side, side}, at::kFloat);
        for (std::size_t i = 0; i < images.size(); ++i) {
            const std::vector<float> one = preprocessImage(images[i], preprocess);
            std::copy(one.begin(), one.end(), pixels.data_ptr<float>() + i * one.size());
        }
        features = model.encodeImages(pixels.to(model.device().dtype)).image_features;
    }
    impl_->logits = impl_->session.prefill(
        at::tensor(expanded).view({1, static_cast<std::int64_t>(expanded.size())}), features);
    impl_->sliced = {};
}

nn::GenerationResult LlavaChatSession::generate(const nn::GenerationOptions& options)
{
    while (!generateSlice(options, std::chrono::steady_clock::time_point::max())) { }
    return impl_->sliced.result;
}

bool LlavaChatSession::generateSlice(
    const nn::GenerationOptions& options, std::chrono::steady_clock::time_point until)
{
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
    impl_->session.reset();
    impl_->logits = at::Tensor();
    impl_->sliced = {};
}

} // namespace pictor::llava
