#include "plugins/clip/clip_model.h"

#include "core/error.h"
#include "core/log.h"
#include "core/nn/binder.h"

namespace pictor::clip {
namespace {

nn::EncoderConfig encoderConfig(const ClipTowerConfig& tower)
{
    return {tower.hiddenSize, tower.intermediateSize, tower.numHeads, tower.numLayers, tower.layerNormEps,
        nn::activationFromName(tower.hiddenAct)};
}

} // namespace

void ClipTextTower::declare(const nn::Scope& scope, const ClipTextConfig& textConfig)
{
    config = textConfig;
    const auto hidden = config.hiddenSize;
    scope.param("embeddings.token_embedding.weight", {config.vocabSize, hidden}, token_embedding);
    scope.param("embeddings.position_embedding.weight", {config.maxPositions, hidden}, position_embedding);
    encoder.declare(scope / "encoder", encoderConfig(config));
    final_layer_norm.declare(scope / "final_layer_norm", hidden, config.layerNormEps);
}

std::pair<at::Tensor, at::Tensor> ClipTextTower::forward(
    const at::Tensor& input_ids, const at::Tensor& attention_mask) const
{
    const auto batch = input_ids.size(0);
    const auto tokens = input_ids.size(1);
    PICTOR_CHECK(tokens <= config.maxPositions, "CLIP text input has ", tokens,
        " tokens; the model takes at most ", config.maxPositions);
    const auto options
        = at::TensorOptions().dtype(token_embedding.scalar_type()).device(token_embedding.device());
    at::Tensor hidden_states
        = at::embedding(token_embedding, input_ids) + position_embedding.slice(0, 0, tokens).unsqueeze(0);
    const at::Tensor mask = nn::causalMask(tokens, options) + nn::paddingMask(attention_mask, options);
    if (residualsInFloat32)
        hidden_states = hidden_states.to(at::kFloat);
    at::Tensor last_hidden_state = final_layer_norm.forward(encoder.forward(hidden_states, mask));

    // The legacy eos_token_id 2 (openai configs) means "pool at the highest id", which is the first
    // <|endoftext|>; newer configs name the EOS id and HF pools at its first occurrence.
    at::Tensor eos_positions = config.eosTokenId == 2
        ? input_ids.to(at::kInt).argmax(-1)
        : input_ids.eq(config.eosTokenId).to(at::kInt).argmax(-1);
    at::Tensor rows = at::arange(batch, input_ids.options().dtype(at::kLong));
    at::Tensor pooled_output = last_hidden_state.index({rows, eos_positions.to(at::kLong)});
    return {last_hidden_state, pooled_output};
}

void ClipVisionTower::declare(const nn::Scope& scope, const ClipVisionConfig& visionConfig)
{
    config = visionConfig;
    const auto hidden = config.hiddenSize;
    scope.param("embeddings.class_embedding", {hidden}, class_embedding);
    patch_embedding.declarePatchEmbedding(
        scope / "embeddings" / "patch_embedding", config.numChannels, hidden, config.patchSize, false);
    scope.param(
        "embeddings.position_embedding.weight", {config.numPatches() + 1, hidden}, position_embedding);
    pre_layrnorm.declare(scope / "pre_layrnorm", hidden, config.layerNormEps);
    encoder.declare(scope / "encoder", encoderConfig(config));
    post_layernorm.declare(scope / "post_layernorm", hidden, config.layerNormEps);
}

at::Tensor ClipVisionTower::embed(const at::Tensor& pixel_values) const
{
    PICTOR_CHECK(pixel_values.dim() == 4 && pixel_values.size(1) == config.numChannels
            && pixel_values.size(2) == config.imageSize && pixel_values.size(3) == config.imageSize,
        "CLIP vision input must be [batch, ", config.numChannels, ", ", config.imageSize, ", ",
        config.imageSize, "]");
    const auto batch = pixel_values.size(0);
    at::Tensor patch_embeds = patch_embedding.forward(pixel_values.to(patch_embedding.weight.scalar_type()));
    patch_embeds = patch_embeds.flatten(2).transpose(1, 2);
    at::Tensor class_embeds = class_embedding.view({1, 1, -1}).expand({batch, 1, config.hiddenSize});
    at::Tensor embeddings = at::cat({class_embeds, patch_embeds}, 1) + position_embedding.unsqueeze(0);
    return pre_layrnorm.forward(embeddings);
}

std::pair<at::Tensor, at::Tensor> ClipVisionTower::forward(const at::Tensor& pixel_values) const
{
    at::Tensor hidden_states = embed(pixel_values);
    if (residualsInFloat32)
        hidden_states = hidden_states.to(at::kFloat);
    at::Tensor last_hidden_state = encoder.forward(hidden_states, std::nullopt);
    at::Tensor pooled_output = post_layernorm.forward(last_hidden_state.select(1, 0));
    return {last_hidden_state, pooled_output};
}

const std::vector<std::string>& ClipModel::ignorableKeys()
{
    // Older hub checkpoints saved the position_ids buffers; transformers ignores them on load.
    static const std::vector<std::string> keys {
        "text_model.embeddings.position_ids", "vision_model.embeddings.position_ids"};
    return keys;
}

void ClipModel::declare(nn::ParameterTable& table)
{
    const nn::Scope root(table);
    text_model_.declare(root / "text_model", config_.text);
    vision_model_.declare(root / "vision_model", config_.vision);
    root.param("text_projection.weight", {config_.projectionDim, config_.text.hiddenSize}, text_projection_);
    root.param(
        "visual_projection.weight", {config_.projectionDim, config_.vision.hiddenSize}, visual_projection_);
    root.param("logit_scale", {}, logit_scale_);
}

std::unique_ptr<ClipModel> ClipModel::load(
    const std::filesystem::path& modelDir, const nn::ComputeDevice& device)
{
    std::unique_ptr<ClipModel> model(new ClipModel());
    model->config_ = ClipConfig::load(modelDir);
    model->device_ = device;
    model->checkpoint_ = Checkpoint::open(modelDir);
    nn::ParameterTable table;
    model->declare(table);
    nn::BindOptions options;
    options.dtype = usesMixedFormat(device) ? at::kFloat : device.dtype;
    options.device = device.device;
    options.ignorableKeys = ignorableKeys();
    const nn::BindReport report = nn::bindParameters(table, model->checkpoint_, options);
    model->applyMixedFormat(table);
    PICTOR_LOG_INFO(model->config_.summary(), "; ", report.bound, " tensors (", report.bytes / (1024 * 1024),
        " MiB) on ", device.describe());
    return model;
}

std::vector<std::pair<std::string, std::vector<std::int64_t>>> ClipModel::parameterShapes(
    const ClipConfig& config)
{
    ClipModel model;
    model.config_ = config;
    nn::ParameterTable table;
    model.declare(table);
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> shapes;
    for (const nn::ParameterSlot& slot : table.slots())
        shapes.emplace_back(slot.name, slot.shape);
    return shapes;
}

std::unique_ptr<ClipModel> ClipModel::withRandomWeights(
    const ClipConfig& config, const nn::ComputeDevice& device, std::uint64_t seed)
{
    std::unique_ptr<ClipModel> model(new ClipModel());
    model->config_ = config;
    model->device_ = device;
    nn::ParameterTable table;
    model->declare(table);
    nn::ComputeDevice bound = device;
    if (usesMixedFormat(device))
        bound.dtype = at::kFloat;
    nn::fillWithRandomValues(table, bound, seed);
    model->applyMixedFormat(table);
    return model;
}

TextOutput ClipModel::encodeText(const at::Tensor& input_ids, const at::Tensor& attention_mask) const
{
    auto [last_hidden_state, pooled_output]
        = text_model_.forward(input_ids.to(device_.device), attention_mask.to(device_.device));
    at::Tensor text_embeds = at::linear(pooled_output, text_projection_.to(pooled_output.scalar_type()));
    return {last_hidden_state, pooled_output, text_embeds};
}

VisionOutput ClipModel::encodeImages(const at::Tensor& pixel_values) const
{
    auto [last_hidden_state, pooled_output] = vision_model_.forward(pixel_values.to(device_.device));
    at::Tensor image_embeds = at::linear(pooled_output, visual_projection_.to(pooled_output.scalar_type()));
    return {last_hidden_state, pooled_output, image_embeds};
}

bool ClipModel::usesMixedFormat(const nn::ComputeDevice& device)
{
    return device.device.is_cpu() && device.dtype == at::kBFloat16;
}

// CLIP in bfloat16 on the CPU (its gate: tests/parity ClipNumberFormats): the image tower's weights and
// matrix products in bfloat16, where indexing spends its time (2.7x the images/s of float32 with native
// bfloat16); its residual stream, norms, attention, activations and the projection in float32; the text
// tower wholly in float32 (a query is 10 tokens: 24 ms against 11, and bfloat16 text alone moved 2 % of
// the top-10s on the gate's 2,000 photos).
void ClipModel::applyMixedFormat(const nn::ParameterTable& table)
{
    if (!usesMixedFormat(device_))
        return;
    for (const nn::ParameterSlot& slot : table.slots())
        if (slot.name.starts_with("vision_model.") && slot.tensor->defined())
            *slot.tensor = slot.tensor->to(at::kBFloat16);
    vision_model_.residualsInFloat32 = true;
    // One matrix product for q, k and v: at ViT-B/32's 50 tokens a batch's three 768-wide products are
    // small for the CPU's bfloat16 units.
    for (nn::EncoderLayer& layer : vision_model_.encoder.layers)
        layer.self_attn.stackProjections();
}

float ClipModel::logitScale() const
{
    return logit_scale_.to(at::kFloat).cpu().item<float>();
}

} // namespace pictor::clip
