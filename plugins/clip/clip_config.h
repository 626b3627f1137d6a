// CLIPConfig as written by transformers (config.json), with transformers' defaults for absent fields.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace pictor::clip {

struct ClipTowerConfig {
    std::int64_t hiddenSize = 0; // width of the residual stream
    std::int64_t intermediateSize = 0; // MLP width
    std::int64_t numHeads = 0;
    std::int64_t numLayers = 0;
    double layerNormEps = 1e-5;
    std::string hiddenAct = "quick_gelu";
};

struct ClipTextConfig : ClipTowerConfig {
    std::int64_t vocabSize = 49408;
    std::int64_t maxPositions = 77;
    std::int64_t eosTokenId = 2; // 2 = the legacy value: pool at argmax(input_ids)
};

struct ClipVisionConfig : ClipTowerConfig {
    std::int64_t imageSize = 224;
    std::int64_t patchSize = 32;
    std::int64_t numChannels = 3;
    std::int64_t numPatches() const { return (imageSize / patchSize) * (imageSize / patchSize); }
};

// A vision_config section (CLIP's, or another ViT's such as SigLIP's or LLaVA's tower) read over
// `defaults`; errors name `file` and the field.
ClipVisionConfig readVisionConfig(
    const nlohmann::json& section, const ClipVisionConfig& defaults, const std::filesystem::path& file);

// A text_config section (or a standalone CLIPTextConfig file's root) read over `defaults`.
ClipTextConfig readTextConfig(
    const nlohmann::json& section, const ClipTextConfig& defaults, const std::filesystem::path& file);

struct ClipConfig {
    ClipTextConfig text;
    ClipVisionConfig vision;
    std::int64_t projectionDim = 512;

    // transformers' defaults: openai/clip-vit-base-patch32's architecture.
    static ClipConfig vitB32();
    // Reads <modelDir>/config.json (model_type "clip"); errors name the file and field.
    static ClipConfig load(const std::filesystem::path& modelDir);
    std::string summary() const; // one log line
};

} // namespace pictor::clip
