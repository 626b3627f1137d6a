#include "plugins/clip/clip_config.h"

#include "core/error.h"
#include "core/json_file.h"

namespace pictor::clip {
namespace {

// transformers nests the towers' configs as text_config / vision_config (very old files: *_config_dict).
const nlohmann::json& towerSection(const nlohmann::json& root, const std::string& name)
{
    static const nlohmann::json empty = nlohmann::json::object();
    for (const std::string& key : {name, name + "_dict"}) {
        auto it = root.find(key);
        if (it != root.end() && it->is_object())
            return *it;
    }
    return empty;
}

void readTower(const nlohmann::json& section, ClipTowerConfig& tower, const std::filesystem::path& file)
{
    tower.hiddenSize = jsonFieldOr<std::int64_t>(section, "hidden_size", tower.hiddenSize, file);
    tower.intermediateSize
        = jsonFieldOr<std::int64_t>(section, "intermediate_size", tower.intermediateSize, file);
    tower.numHeads = jsonFieldOr<std::int64_t>(section, "num_attention_heads", tower.numHeads, file);
    tower.numLayers = jsonFieldOr<std::int64_t>(section, "num_hidden_layers", tower.numLayers, file);
    tower.layerNormEps = jsonFieldOr<double>(section, "layer_norm_eps", tower.layerNormEps, file);
    tower.hiddenAct = jsonFieldOr<std::string>(section, "hidden_act", tower.hiddenAct, file);
    PICTOR_CHECK(
        tower.hiddenSize > 0 && tower.intermediateSize > 0 && tower.numHeads > 0 && tower.numLayers > 0,
        file.string(), ": tower sizes must be positive");
    PICTOR_CHECK(tower.hiddenSize % tower.numHeads == 0, file.string(), ": hidden_size ", tower.hiddenSize,
        " is not divisible by num_attention_heads ", tower.numHeads);
}

} // namespace

ClipVisionConfig readVisionConfig(
    const nlohmann::json& section, const ClipVisionConfig& defaults, const std::filesystem::path& file)
{
    ClipVisionConfig vision = defaults;
    readTower(section, vision, file);
    vision.imageSize = jsonFieldOr<std::int64_t>(section, "image_size", vision.imageSize, file);
    vision.patchSize = jsonFieldOr<std::int64_t>(section, "patch_size", vision.patchSize, file);
    vision.numChannels = jsonFieldOr<std::int64_t>(section, "num_channels", vision.numChannels, file);
    // Not necessarily a multiple: SigLIP so400m reads 384 px in 14 px patches (27 x 27; the stride-14
    // convolution ignores the last 6 pixels, as in PyTorch).
    PICTOR_CHECK(vision.patchSize > 0 && vision.imageSize >= vision.patchSize, file.string(), ": image_size ",
        vision.imageSize, " must be at least patch_size ", vision.patchSize);
    return vision;
}

ClipTextConfig readTextConfig(
    const nlohmann::json& section, const ClipTextConfig& defaults, const std::filesystem::path& file)
{
    ClipTextConfig text = defaults;
    readTower(section, text, file);
    text.vocabSize = jsonFieldOr<std::int64_t>(section, "vocab_size", text.vocabSize, file);
    text.maxPositions
        = jsonFieldOr<std::int64_t>(section, "max_position_embeddings", text.maxPositions, file);
    text.eosTokenId = jsonFieldOr<std::int64_t>(section, "eos_token_id", text.eosTokenId, file);
    return text;
}

ClipConfig ClipConfig::load(const std::filesystem::path& modelDir)
{
    const auto file = modelDir / "config.json";
    const nlohmann::json root = readJsonFile(file);
    const auto modelType = jsonFieldOr<std::string>(root, "model_type", "", file);
    PICTOR_CHECK(modelType == "clip", file.string(), ": model_type '", modelType, "' is not 'clip'");

    ClipConfig config = vitB32();
    config.text = readTextConfig(towerSection(root, "text_config"), config.text, file);

    config.vision = readVisionConfig(towerSection(root, "vision_config"), config.vision, file);

    config.projectionDim = jsonFieldOr<std::int64_t>(root, "projection_dim", config.projectionDim, file);
    PICTOR_CHECK(config.projectionDim > 0, file.string(), ": projection_dim must be positive");
    return config;
}

ClipConfig ClipConfig::vitB32()
{
    ClipConfig config; // transformers' CLIPTextConfig / CLIPVisionConfig defaults
    config.text.hiddenSize = 512;
    config.text.intermediateSize = 2048;
    config.text.numHeads = 8;
    config.text.numLayers = 12;
    config.vision.hiddenSize = 768;
    config.vision.intermediateSize = 3072;
    config.vision.numHeads = 12;
    config.vision.numLayers = 12;
    return config;
}

std::string ClipConfig::summary() const
{
    return strCat("CLIP text ", text.numLayers, "x", text.hiddenSize, " (", text.numHeads, " heads, ",
        text.hiddenAct, "), vision ", vision.numLayers, "x", vision.hiddenSize, " patch ", vision.patchSize,
        " at ", vision.imageSize, "px, projection ", projectionDim);
}

} // namespace pictor::clip
