#include "plugins/llava/llava_config.h"

#include <array>

#include "core/error.h"
#include "core/json_file.h"

namespace pictor::llava {
namespace {

// transformers' defaults per vision model_type (CLIPVisionConfig, SiglipVisionConfig).
struct VisionFamily {
    const char* modelType;
    VisionTowerKind kind;
    std::int64_t patchSize;
    double layerNormEps;
    const char* hiddenAct;
};
constexpr std::array kVisionFamilies {
    VisionFamily {"clip_vision_model", VisionTowerKind::Clip, 32, 1e-5, "quick_gelu"},
    VisionFamily {"siglip_vision_model", VisionTowerKind::Siglip, 16, 1e-6, "gelu_pytorch_tanh"},
};

// transformers' defaults per text model_type and which projections carry biases.
struct TextFamily {
    const char* modelType;
    std::int64_t vocabSize, hiddenSize, intermediateSize, numKvHeads, maxPositions;
    bool qkvBias; // fixed by the architecture (Qwen2)
    bool biasFromConfig; // attention_bias / mlp_bias fields (Llama)
};
constexpr std::array kTextFamilies {
    TextFamily {"llama", 32000, 4096, 11008, 0, 2048, false, true},
    TextFamily {"qwen2", 151936, 4096, 22016, 32, 32768, true, false},
    TextFamily {"mistral", 32000, 4096, 14336, 8, 4096 * 32, false, false},
};

template <typename Family, std::size_t N>
const Family& familyOf(const std::array<Family, N>& families, const std::string& modelType,
    const std::string& section, const std::filesystem::path& file)
{
    std::string supported;
    for (const Family& family : families) {
        if (modelType == family.modelType)
            return family;
        supported += (supported.empty() ? "" : ", ") + std::string(family.modelType);
    }
    PICTOR_FAIL(file.string(), ": ", section, ".model_type '", modelType,
        "' is not supported (supported: ", supported, ")");
}

const nlohmann::json& section(const nlohmann::json& root, const char* name, const std::filesystem::path& file)
{
    static const nlohmann::json empty = nlohmann::json::object();
    auto it = root.find(name);
    if (it == root.end() || it->is_null())
        return empty;
    PICTOR_CHECK(it->is_object(), file.string(), ": '", name, "' must be an object");
    return *it;
}

LlavaVisionConfig readVision(const nlohmann::json& root, const std::filesystem::path& file)
{
    const nlohmann::json& json = section(root, "vision_config", file);
    LlavaVisionConfig vision;
    if (json.empty()) { // LlavaConfig's default tower: CLIP ViT-L/14 at 336 px
        vision.hiddenSize = 1024;
        vision.intermediateSize = 4096;
        vision.numHeads = 16;
        vision.numLayers = 24;
        vision.imageSize = 336;
        vision.patchSize = 14;
        return vision;
    }
    vision.modelType = jsonFieldOr<std::string>(json, "model_type", "clip_vision_model", file);
    const VisionFamily& family = familyOf(kVisionFamilies, vision.modelType, "vision_config", file);
    clip::ClipVisionConfig defaults; // both families default to a ViT-B: 768 wide, 12 layers, 224 px
    defaults.hiddenSize = 768;
    defaults.intermediateSize = 3072;
    defaults.numHeads = 12;
    defaults.numLayers = 12;
    defaults.imageSize = 224;
    defaults.patchSize = family.patchSize;
    defaults.layerNormEps = family.layerNormEps;
    defaults.hiddenAct = family.hiddenAct;
    static_cast<clip::ClipVisionConfig&>(vision) = clip::readVisionConfig(json, defaults, file);
    vision.kind = family.kind;
    return vision;
}

LlavaTextConfig readText(const nlohmann::json& root, const std::filesystem::path& file)
{
    const nlohmann::json& json = section(root, "text_config", file);
    LlavaTextConfig text;
    text.modelType = jsonFieldOr<std::string>(json, "model_type", "llama", file);
    const TextFamily& family = familyOf(kTextFamilies, text.modelType, "text_config", file);
    text.vocabSize = jsonFieldOr<std::int64_t>(json, "vocab_size", family.vocabSize, file);
    text.hiddenSize = jsonFieldOr<std::int64_t>(json, "hidden_size", family.hiddenSize, file);
    text.intermediateSize
        = jsonFieldOr<std::int64_t>(json, "intermediate_size", family.intermediateSize, file);
    text.numLayers = jsonFieldOr<std::int64_t>(json, "num_hidden_layers", text.numLayers, file);
    text.numHeads = jsonFieldOr<std::int64_t>(json, "num_attention_heads", text.numHeads, file);
    text.numKvHeads = jsonFieldOr<std::int64_t>(
        json, "num_key_value_heads", family.numKvHeads > 0 ? family.numKvHeads : text.numHeads, file);
    PICTOR_CHECK(text.vocabSize > 0 && text.hiddenSize > 0 && text.intermediateSize > 0 && text.numLayers > 0
            && text.numHeads > 0 && text.numKvHeads > 0,
        file.string(), ": text_config sizes must be positive");
    PICTOR_CHECK(text.numHeads % text.numKvHeads == 0, file.string(), ": text_config.num_attention_heads ",
        text.numHeads, " is not a multiple of num_key_value_heads ", text.numKvHeads);
    text.headDim = jsonFieldOr<std::int64_t>(json, "head_dim", text.hiddenSize / text.numHeads, file);
    PICTOR_CHECK(text.headDim > 0 && text.headDim % 2 == 0, file.string(), ": text_config.head_dim ",
        text.headDim, " must be positive and even (rotary embeddings)");
    text.maxPositions = jsonFieldOr<std::int64_t>(json, "max_position_embeddings", family.maxPositions, file);
    PICTOR_CHECK(
        text.maxPositions > 0, file.string(), ": text_config.max_position_embeddings must be positive");
    text.rmsNormEps = jsonFieldOr<double>(json, "rms_norm_eps", text.rmsNormEps, file);
    text.ropeTheta = jsonFieldOr<double>(json, "rope_theta", text.ropeTheta, file);
    text.tieWordEmbeddings = jsonFieldOr<bool>(json, "tie_word_embeddings", false, file);
    text.hiddenAct = jsonFieldOr<std::string>(json, "hidden_act", text.hiddenAct, file);
    text.qkvBias = family.qkvBias;
    if (family.biasFromConfig) {
        text.qkvBias = text.outputBias = jsonFieldOr<bool>(json, "attention_bias", false, file);
        text.mlpBias = jsonFieldOr<bool>(json, "mlp_bias", false, file);
    }
    // Only plain RoPE over the whole context is implemented; say so rather than compute something else.
    if (auto it = json.find("rope_scaling"); it != json.end() && !it->is_null()) {
        const std::string type = it->is_object() ? it->value("rope_type", it->value("type", std::string("?")))
                                                 : std::string("?");
        PICTOR_CHECK(type == "default", file.string(), ": text_config.rope_scaling '", type,
            "' is not supported (only plain RoPE)");
    }
    PICTOR_CHECK(!jsonFieldOr<bool>(json, "use_sliding_window", false, file), file.string(),
        ": text_config.use_sliding_window is not supported");
    return text;
}

std::vector<std::int64_t> idList(const nlohmann::json& value, const std::filesystem::path& file)
{
    std::vector<std::int64_t> ids;
    if (value.is_number_integer())
        ids.push_back(value.get<std::int64_t>());
    else if (value.is_array())
        for (const auto& id : value) {
            PICTOR_CHECK(id.is_number_integer(), file.string(), ": eos_token_id must hold integers");
            ids.push_back(id.get<std::int64_t>());
        }
    else if (!value.is_null())
        PICTOR_FAIL(file.string(), ": eos_token_id must be an integer or a list of integers");
    return ids;
}

} // namespace

LlavaConfig LlavaConfig::load(const std::filesystem::path& modelDir)
{
    const auto file = modelDir / "config.json";
    const nlohmann::json root = readJsonFile(file);
    const auto modelType = jsonFieldOr<std::string>(root, "model_type", "", file);
    PICTOR_CHECK(modelType == "llava", file.string(), ": model_type '", modelType, "' is not 'llava'");

    LlavaConfig config;
    config.vision = readVision(root, file);
    config.text = readText(root, file);
    if (auto it = root.find("vision_feature_layer"); it != root.end() && !it->is_null()) {
        PICTOR_CHECK(it->is_number_integer() || (it->is_array() && !it->empty()), file.string(),
            ": vision_feature_layer must be an integer or a non-empty list of integers");
        config.visionFeatureLayers.clear();
        for (const auto& layer : it->is_array() ? *it : nlohmann::json::array({*it})) {
            PICTOR_CHECK(
                layer.is_number_integer(), file.string(), ": vision_feature_layer must hold integers");
            config.visionFeatureLayers.push_back(layer.get<int>());
        }
    }
    const auto strategy = jsonFieldOr<std::string>(root, "vision_feature_select_strategy", "default", file);
    PICTOR_CHECK(strategy == "default" || strategy == "full", file.string(),
        ": vision_feature_select_strategy '", strategy, "' is not supported (default, full)");
    config.dropClassToken = strategy == "default";
    config.imageTokenIndex = jsonFieldOr<std::int64_t>(root, "image_token_index",
        jsonFieldOr<std::int64_t>(root, "image_token_id", config.imageTokenIndex, file), file);
    PICTOR_CHECK(config.imageTokenIndex >= 0, file.string(), ": image_token_index must not be negative");
    config.projectorHiddenAct
        = jsonFieldOr<std::string>(root, "projector_hidden_act", config.projectorHiddenAct, file);
    config.projectorBias = jsonFieldOr<bool>(root, "multimodal_projector_bias", true, file);
    (void)config.featureLayerIndices(); // range check now, with the file named

    const auto generationFile = modelDir / "generation_config.json";
    if (std::filesystem::exists(generationFile)) {
        const nlohmann::json generation = readJsonFile(generationFile);
        if (auto it = generation.find("eos_token_id"); it != generation.end())
            config.eosTokenIds = idList(*it, generationFile);
    }
    if (config.eosTokenIds.empty())
        if (auto it = section(root, "text_config", file).find("eos_token_id");
            it != section(root, "text_config", file).end())
            config.eosTokenIds = idList(*it, file);
    return config;
}

std::vector<int> LlavaConfig::featureLayerIndices() const
{
    const int states = static_cast<int>(vision.numLayers) + 1; // hidden_states: embeddings + every layer
    std::vector<int> indices;
    for (int layer : visionFeatureLayers) {
        const int index = layer < 0 ? states + layer : layer;
        PICTOR_CHECK(index >= 0 && index < states, "vision_feature_layer ", layer,
            " is out of range for a vision tower with ", vision.numLayers, " layers");
        indices.push_back(index);
    }
    return indices;
}

std::vector<std::int64_t> expandImageTokens(
    const std::vector<std::int64_t>& ids, std::int64_t imageToken, std::int64_t tokensPerImage)
{
    std::vector<std::int64_t> expanded;
    expanded.reserve(ids.size());
    for (std::int64_t id : ids)
        expanded.insert(expanded.end(), id == imageToken ? static_cast<std::size_t>(tokensPerImage) : 1, id);
    return expanded;
}

std::string LlavaConfig::summary() const
{
    std::string layers;
    for (int layer : visionFeatureLayers) {
        if (!layers.empty())
            layers += ',';
        layers += std::to_string(layer);
    }
    return strCat("LLaVA: ", vision.modelType, " ", vision.numLayers, "x", vision.hiddenSize, " patch ",
        vision.patchSize, " at ", vision.imageSize, "px (layer ", layers, ", ",
        dropClassToken ? "default" : "full", ", ", tokensPerImage(), " tokens per image) -> ", text.modelType,
        " ", text.numLayers, "x", text.hiddenSize, " (", text.numHeads, " heads, ", text.numKvHeads,
        " kv, rope ", text.ropeTheta, ", ", text.maxPositions, " positions, vocab ", text.vocabSize,
        text.tieWordEmbeddings ? ", tied" : "", ")");
}

} // namespace pictor::llava
