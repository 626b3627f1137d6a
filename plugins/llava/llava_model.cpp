#include "plugins/llava/llava_model.h"

#include <c10/core/InferenceMode.h>

#include "core/error.h"
#include "core/log.h"
#include "core/model_id.h"
#include "core/nn/binder.h"
#include "plugins/clip/clip_model.h"
#include "plugins/llava/llava_names.h"
#include "plugins/llava/llava_stepwise.h"
#include "plugins/llava/siglip_vision.h"

namespace pictor::llava {
namespace {

class ClipTower final : public VisionTower {
public:
    ClipTower(const nn::Scope& scope, const clip::ClipVisionConfig& config) { tower_.declare(scope, config); }
    at::Tensor embed(const at::Tensor& pixel_values) const override { return tower_.embed(pixel_values); }
    const nn::Encoder& encoder() const override { return tower_.encoder; }
    nn::Encoder& encoder() override { return tower_.encoder; }

private:
    clip::ClipVisionTower tower_;
};

class SiglipTower final : public VisionTower {
public:
    SiglipTower(const nn::Scope& scope, const clip::ClipVisionConfig& config)
    {
        tower_.declare(scope, config);
    }
    at::Tensor embed(const at::Tensor& pixel_values) const override { return tower_.embed(pixel_values); }
    const nn::Encoder& encoder() const override { return tower_.encoder; }
    nn::Encoder& encoder() override { return tower_.encoder; }

private:
    SiglipVisionTower tower_;
};

nn::DecoderConfig decoderConfig(const LlavaTextConfig& text)
{
    nn::DecoderConfig config;
    config.hiddenSize = text.hiddenSize;
    config.intermediateSize = text.intermediateSize;
    config.numHeads = text.numHeads;
    config.numKvHeads = text.numKvHeads;
    config.headDim = text.headDim;
    config.numLayers = text.numLayers;
    config.rmsNormEps = text.rmsNormEps;
    config.ropeTheta = text.ropeTheta;
    config.qkvBias = text.qkvBias;
    config.outputBias = text.outputBias;
    config.mlpBias = text.mlpBias;
    config.activation = nn::activationFromName(text.hiddenAct);
    return config;
}

// The binder would report a shape mismatch; this says which two parts of the model disagree.
void checkProjectorFitsTheTowers(
    const LlavaConfig& config, const Checkpoint& checkpoint, const char* projector)
{
    const std::string name = std::string(projector) + ".linear_1.weight";
    const TensorView* linear_1 = checkpoint.find(name);
    if (!linear_1 || linear_1->shape.size() != 2)
        return; // missing or malformed: the binder names it
    const std::int64_t takes = linear_1->shape[1];
    const std::int64_t gives = config.projectorInputSize();
    PICTOR_CHECK(takes == gives, "[llava] ", linear_1->file, ": the projector takes ", takes,
        "-wide image features ('", name, "' ", linear_1->shapeString(), ") but the vision tower gives ",
        gives, " (vision_config.hidden_size ", config.vision.hiddenSize, " x ",
        config.visionFeatureLayers.size(), " feature layer(s))");
    PICTOR_CHECK(linear_1->shape[0] == config.text.hiddenSize, "[llava] ", linear_1->file,
        ": the projector gives ", linear_1->shape[0], "-wide features ('", name, "' ",
        linear_1->shapeString(), ") but the language model is ", config.text.hiddenSize,
        " wide (text_config.hidden_size)");
}

std::vector<float> toVector(const at::Tensor& logits)
{
    const at::Tensor values = logits.to(at::kFloat).cpu().contiguous();
    return {values.data_ptr<float>(), values.data_ptr<float>() + values.numel()};
}

} // namespace

void LlavaModel::declare(nn::ParameterTable& table, const char* visionTower, const char* projector,
    const char* languageModel, const char* lmHead)
{
    const nn::Scope vision = nn::Scope(table, visionTower) / "vision_model";
    if (config_.vision.kind == VisionTowerKind::Clip)
        vision_tower_ = std::make_unique<ClipTower>(vision, config_.vision);
    else
        vision_tower_ = std::make_unique<SiglipTower>(vision, config_.vision);
    const nn::Scope projectorScope(table, projector);
    linear_1_.declare(projectorScope / "linear_1", config_.projectorInputSize(), config_.text.hiddenSize,
        config_.projectorBias);
    linear_2_.declare(
        projectorScope / "linear_2", config_.text.hiddenSize, config_.text.hiddenSize, config_.projectorBias);
    projector_act_ = nn::activationFromName(config_.projectorHiddenAct);
    language_model_.declare(nn::Scope(table, languageModel), nn::Scope(table, lmHead),
        decoderConfig(config_.text), config_.text.vocabSize, config_.text.tieWordEmbeddings);
}

std::shared_ptr<const LlavaModel> LlavaModel::load(
    const std::filesystem::path& modelDir, const nn::ComputeDevice& device)
{
    std::shared_ptr<LlavaModel> model(new LlavaModel());
    model->config_ = LlavaConfig::load(modelDir);
    model->device_ = device;
    model->checkpoint_ = Checkpoint::open(modelDir);
    const CheckpointNames& names = detectCheckpointNames(model->checkpoint_);
    checkProjectorFitsTheTowers(model->config_, model->checkpoint_, names.projector);
    nn::ParameterTable table;
    model->declare(table, names.visionTower, names.projector, names.languageModel, names.lmHead);
    nn::BindOptions options;
    options.dtype = device.dtype;
    options.device = device.device;
    options.ignorableKeys = ignorableKeys();
    if (model->config_.text.tieWordEmbeddings) // transformers re-ties a saved copy to embed_tokens on load
        options.ignorableKeys.push_back(std::string(names.lmHead) + ".weight");
    const nn::BindReport report = nn::bindParameters(table, model->checkpoint_, options);
    model->language_model_.tieWeights();
    model->quantizeIfAsked();
    model->stackVisionProjectionsInBfloat16();
    model->modelId_ = computeModelId("llava", modelDir / "config.json", model->checkpoint_);
    if (report.zeroCopy == 0)
        model->checkpoint_ = Checkpoint();
    PICTOR_LOG_INFO(model->config_.summary(), "; ", report.bound, " tensors (", report.bytes / (1024 * 1024),
        " MiB, names of ", names.scheme, ", ", report.zeroCopy, " used in place) on ", device.describe());
    return model;
}

std::shared_ptr<const LlavaModel> LlavaModel::withRandomWeights(
    const LlavaConfig& config, const nn::ComputeDevice& device, std::uint64_t seed)
{
    std::shared_ptr<LlavaModel> model(new LlavaModel());
    model->config_ = config;
    model->device_ = device;
    nn::ParameterTable table;
    const CheckpointNames& names = kCheckpointNames.front();
    model->declare(table, names.visionTower, names.projector, names.languageModel, names.lmHead);
    at::manual_seed(seed);
    for (const nn::ParameterSlot& slot : table.slots())
        *slot.tensor = (at::randn(slot.shape) * 0.02).to(device.device, device.dtype);
    model->language_model_.tieWeights();
    model->quantizeIfAsked();
    model->stackVisionProjectionsInBfloat16();
    return model;
}

void LlavaModel::quantizeIfAsked()
{
    if (!device_.weights8Bit)
        return;
    // Only the language model: decoding reads all of it per token. The vision tower and the projector
    // run once per image, batched, where bfloat16's matrix products are faster.
    const int matrices = language_model_.quantizeTo8Bit();
    PICTOR_LOG_INFO("[llava] ", matrices, " language model matrices in 8-bit blocks");
}

void LlavaModel::stackVisionProjectionsInBfloat16()
{
    if (device_.dtype != at::kBFloat16 || !device_.device.is_cpu())
        return;
    // The vision tower's attention (unmasked) then runs in one pass per head (nn::attendStackedBfloat16):
    // SigLIP so400m's 729 tokens in a third of LibTorch 1.13's time.
    for (nn::EncoderLayer& layer : vision_tower_->encoder().layers)
        layer.self_attn.stackProjections();
}

std::vector<std::pair<std::string, std::vector<std::int64_t>>> LlavaModel::parameterShapes(
    const LlavaConfig& config)
{
    LlavaModel model;
    model.config_ = config;
    nn::ParameterTable table;
    const CheckpointNames& names = kCheckpointNames.front();
    model.declare(table, names.visionTower, names.projector, names.languageModel, names.lmHead);
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> shapes;
    for (const nn::ParameterSlot& slot : table.slots())
        shapes.emplace_back(slot.name, slot.shape);
    return shapes;
}

VisionFeatures LlavaModel::encodeImages(const at::Tensor& pixel_values) const
{
    ImageEncoding encoding(*this, pixel_values);
    while (!encoding.step()) { }
    return encoding.features();
}

at::Tensor LlavaModel::project(const at::Tensor& selected) const
{
    c10::InferenceMode guard;
    return linear_2_.forward(nn::activate(linear_1_.forward(selected), projector_act_));
}

at::Tensor LlavaModel::embedPrompt(const at::Tensor& input_ids, const at::Tensor& image_features) const
{
    c10::InferenceMode guard;
    PICTOR_CHECK(input_ids.dim() == 2 && input_ids.size(0) == 1 && input_ids.size(1) > 0,
        "LLaVA input_ids must be [1, tokens] with at least one token");
    const at::Tensor ids = input_ids.to(at::kCPU, at::kLong).contiguous();
    const std::int64_t vocab = config_.text.vocabSize;
    const at::Tensor isImage = ids.eq(config_.imageTokenIndex);
    const at::Tensor outside = ids.lt(0).logical_or(ids.ge(vocab)).logical_and(isImage.logical_not());
    if (outside.any().item<bool>()) {
        const std::int64_t position = outside.flatten().nonzero().flatten()[0].item<std::int64_t>();
        PICTOR_FAIL("token id ", ids[0][position].item<std::int64_t>(), " at position ", position,
            " is outside the vocabulary of ", vocab, " tokens");
    }
    const std::int64_t imageTokens = isImage.sum().item<std::int64_t>();
    const std::int64_t hidden = config_.text.hiddenSize;
    const std::int64_t features
        = image_features.defined() ? image_features.numel() / std::max<std::int64_t>(hidden, 1) : 0;
    if (image_features.defined())
        PICTOR_CHECK(image_features.dim() == 3 && image_features.size(2) == hidden,
            "image features must be [images, tokens, ", hidden, "], not ", image_features.sizes());
    PICTOR_CHECK(imageTokens == features, "the prompt holds ", imageTokens, " image tokens (id ",
        config_.imageTokenIndex, ") but the images give ", features, " feature rows (",
        image_features.defined() ? image_features.size(0) : 0, " x ", config_.tokensPerImage(),
        "); expand each image token with expandImageTokens()");
    // The image token may lie outside the embedding table: embed a valid id there, then overwrite.
    at::Tensor inputs_embeds = language_model_.embed(ids.masked_fill(isImage, 0));
    if (imageTokens > 0) {
        const at::Tensor positions = isImage.flatten().nonzero().flatten().to(inputs_embeds.device());
        inputs_embeds.index_copy_(
            1, positions, image_features.reshape({1, imageTokens, hidden}).to(inputs_embeds.scalar_type()));
    }
    return inputs_embeds;
}

LlavaSession::LlavaSession(std::shared_ptr<const LlavaModel> model, std::uint64_t seed)
    : model_(std::move(model)), sampler_(seed)
{
    PICTOR_CHECK(model_ != nullptr, "a session needs a loaded model");
}

at::Tensor LlavaSession::run(const at::Tensor& inputs_embeds)
{
    const nn::CausalDecoder& lm = model_->languageModel();
    return lm.logits(lm.forward(inputs_embeds, cache_)).select(0, 0).to(at::kFloat).cpu();
}

at::Tensor LlavaSession::prefill(const at::Tensor& input_ids, const at::Tensor& image_features)
{
    c10::InferenceMode guard;
    checkFits(input_ids.dim() == 2 ? input_ids.size(1) : 0);
    return run(model_->embedPrompt(input_ids, image_features));
}

at::Tensor LlavaSession::prefillEmbeddings(const at::Tensor& inputs_embeds, bool withLogits)
{
    c10::InferenceMode guard;
    PICTOR_CHECK(inputs_embeds.dim() == 3 && inputs_embeds.size(0) == 1 && inputs_embeds.size(1) > 0,
        "prompt embeddings must be [1, tokens, hidden] with at least one token, not ", inputs_embeds.sizes());
    checkFits(inputs_embeds.size(1));
    if (withLogits)
        return run(inputs_embeds);
    model_->languageModel().forward(inputs_embeds, cache_);
    return {};
}

void LlavaSession::checkFits(std::int64_t tokens) const
{
    PICTOR_CHECK(tokens <= roomLeft(), "the prompt has ", tokens, " tokens but only ", roomLeft(), " of the ",
        model_->config().text.maxPositions, " positions of the context window are left",
        cache_.length > 0 ? " (start a new session or shorten the history)" : " (shorten the prompt)");
}

at::Tensor LlavaSession::decode(std::int64_t token)
{
    c10::InferenceMode guard;
    PICTOR_CHECK(
        roomLeft() > 0, "the context window of ", model_->config().text.maxPositions, " positions is full");
    PICTOR_CHECK(token >= 0 && token < model_->config().text.vocabSize, "token id ", token,
        " is outside the vocabulary of ", model_->config().text.vocabSize, " tokens");
    const at::Tensor ids = at::full({1, 1}, token, at::TensorOptions().dtype(at::kLong));
    return run(model_->languageModel().embed(ids));
}

nn::GenerationResult LlavaSession::generate(const at::Tensor& logits, const nn::GenerationOptions& options)
{
    nn::GenerationOptions resolved = options;
    if (resolved.stopTokenIds.empty())
        resolved.stopTokenIds = model_->config().eosTokenIds;
    return nn::generateTokens(
        toVector(logits), [this](std::int64_t token) { return toVector(decode(token)); }, roomLeft(),
        sampler_, resolved);
}

} // namespace pictor::llava
