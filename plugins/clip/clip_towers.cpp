#include "plugins/clip/clip_towers.h"

#include "core/error.h"
#include "core/json_file.h"
#include "core/log.h"
#include "core/nn/binder.h"

namespace pictor::clip {
namespace {

nlohmann::json readTowerConfig(const std::filesystem::path& dir, const std::string& modelType)
{
    const auto file = dir / "config.json";
    nlohmann::json root = readJsonFile(file);
    const auto type = jsonFieldOr<std::string>(root, "model_type", "", file);
    PICTOR_CHECK(
        type == modelType, file.string(), ": model_type '", type, "' where ", modelType, " was expected");
    return root;
}

Checkpoint bindFolder(const nn::ParameterTable& table, const std::filesystem::path& dir,
    const std::filesystem::path& weights, const nn::ComputeDevice& device)
{
    Checkpoint checkpoint = Checkpoint::open(weights.empty() ? dir : weights);
    nn::BindOptions options;
    options.dtype = device.dtype;
    options.device = device.device;
    options.ignorableKeys = ClipModel::ignorableKeys();
    const nn::BindReport report = nn::bindParameters(table, checkpoint, options);
    PICTOR_LOG_INFO(dir.filename().string(), ": ", report.bound, " tensors (", report.bytes / (1024 * 1024),
        " MiB) on ", device.describe());
    return checkpoint;
}

} // namespace

void ClipTextEncoder::declare(nn::ParameterTable& table, const ClipTextConfig& config)
{
    const nn::Scope root(table);
    text_model_.declare(root / "text_model", config);
    root.param("text_projection.weight", {projectionDim_, config.hiddenSize}, text_projection_);
    parameterCount_ = table.parameterCount();
}

std::unique_ptr<ClipTextEncoder> ClipTextEncoder::load(
    const std::filesystem::path& dir, const nn::ComputeDevice& device, const std::filesystem::path& weights)
{
    const nlohmann::json root = readTowerConfig(dir, "clip_text_model");
    const auto file = dir / "config.json";
    ClipTextConfig defaults = ClipConfig::vitB32().text;
    std::unique_ptr<ClipTextEncoder> encoder(new ClipTextEncoder());
    encoder->projectionDim_ = jsonFieldOr<std::int64_t>(root, "projection_dim", 512, file);
    encoder->device_ = device;
    nn::ParameterTable table;
    encoder->declare(table, readTextConfig(root, defaults, file));
    encoder->checkpoint_ = bindFolder(table, dir, weights, device);
    return encoder;
}

std::unique_ptr<ClipTextEncoder> ClipTextEncoder::withRandomWeights(const ClipTextConfig& config,
    std::int64_t projectionDim, const nn::ComputeDevice& device, std::uint64_t seed)
{
    std::unique_ptr<ClipTextEncoder> encoder(new ClipTextEncoder());
    encoder->projectionDim_ = projectionDim;
    encoder->device_ = device;
    nn::ParameterTable table;
    encoder->declare(table, config);
    nn::fillWithRandomValues(table, device, seed);
    return encoder;
}

TextOutput ClipTextEncoder::encode(const at::Tensor& input_ids, const at::Tensor& attention_mask) const
{
    auto [last_hidden_state, pooled_output]
        = text_model_.forward(input_ids.to(device_.device), attention_mask.to(device_.device));
    at::Tensor text_embeds = at::linear(pooled_output, text_projection_);
    return {last_hidden_state, pooled_output, text_embeds};
}

std::unique_ptr<ClipImageEncoder> ClipImageEncoder::load(
    const std::filesystem::path& dir, const nn::ComputeDevice& device, const std::filesystem::path& weights)
{
    const nlohmann::json root = readTowerConfig(dir, "clip_vision_model");
    const auto file = dir / "config.json";
    std::unique_ptr<ClipImageEncoder> encoder(new ClipImageEncoder());
    encoder->projectionDim_ = jsonFieldOr<std::int64_t>(root, "projection_dim", 512, file);
    encoder->device_ = device;
    nn::ParameterTable table;
    const nn::Scope scope(table);
    encoder->vision_model_.declare(
        scope / "vision_model", readVisionConfig(root, ClipConfig::vitB32().vision, file));
    scope.param("visual_projection.weight",
        {encoder->projectionDim_, encoder->vision_model_.config.hiddenSize}, encoder->visual_projection_);
    encoder->parameterCount_ = table.parameterCount();
    encoder->checkpoint_ = bindFolder(table, dir, weights, device);
    return encoder;
}

VisionOutput ClipImageEncoder::encode(const at::Tensor& pixel_values) const
{
    auto [last_hidden_state, pooled_output]
        = vision_model_.forward(pixel_values.to(device_.device, device_.dtype));
    at::Tensor image_embeds = at::linear(pooled_output, visual_projection_);
    return {last_hidden_state, pooled_output, image_embeds};
}

} // namespace pictor::clip
