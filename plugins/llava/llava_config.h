// LlavaConfig as written by transformers (config.json with nested vision_config and text_config, plus
// generation_config.json), with transformers' defaults for absent fields. No Torch here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "plugins/clip/clip_config.h"

namespace pictor::llava {

enum class VisionTowerKind { Clip, Siglip };

struct LlavaVisionConfig : clip::ClipVisionConfig {
    VisionTowerKind kind = VisionTowerKind::Clip;
    std::string modelType = "clip_vision_model";
    bool hasClassToken() const { return kind == VisionTowerKind::Clip; }
    std::int64_t numPositions() const { return numPatches() + (hasClassToken() ? 1 : 0); }
};

// A Llama-style decoder (llama, qwen2, mistral): sizes, RoPE and which projections carry biases.
struct LlavaTextConfig {
    std::string modelType = "llama";
    std::int64_t vocabSize = 32000;
    std::int64_t hiddenSize = 4096;
    std::int64_t intermediateSize = 11008;
    std::int64_t numLayers = 32;
    std::int64_t numHeads = 32;
    std::int64_t numKvHeads = 32;
    std::int64_t headDim = 128; // head_dim, else hidden_size / num_attention_heads
    std::int64_t maxPositions = 2048; // the context window
    double rmsNormEps = 1e-6;
    double ropeTheta = 10000.0;
    bool qkvBias = false;
    bool outputBias = false;
    bool mlpBias = false;
    bool tieWordEmbeddings = false;
    std::string hiddenAct = "silu";
};

struct LlavaConfig {
    LlavaVisionConfig vision;
    LlavaTextConfig text;
    // Indices into the vision tower's hidden_states (num_layers + 1 entries, [0] = embeddings); negative
    // counts from the end. Several layers are concatenated along the hidden size.
    std::vector<int> visionFeatureLayers {-2};
    bool dropClassToken
        = true; // vision_feature_select_strategy "default" (drops position 0); "full" keeps it
    std::int64_t imageTokenIndex = 32000;
    std::string projectorHiddenAct = "gelu";
    bool projectorBias = true; // multimodal_projector_bias
    std::vector<std::int64_t> eosTokenIds; // generation_config.json, else text_config.eos_token_id

    // Reads <modelDir>/config.json (model_type "llava") and generation_config.json when present.
    static LlavaConfig load(const std::filesystem::path& modelDir);
    // hidden_states index (0..num_layers) of each feature layer; errors when one is out of range.
    std::vector<int> featureLayerIndices() const;
    std::int64_t tokensPerImage() const { return vision.numPositions() - (dropClassToken ? 1 : 0); }
    std::int64_t projectorInputSize() const
    {
        return vision.hiddenSize * static_cast<std::int64_t>(visionFeatureLayers.size());
    }
    std::string summary() const; // one log line
};

// The processor's image-token expansion: every `imageToken` in `ids` becomes `tokensPerImage` copies.
std::vector<std::int64_t> expandImageTokens(
    const std::vector<std::int64_t>& ids, std::int64_t imageToken, std::int64_t tokensPerImage);

} // namespace pictor::llava
