// The CLIP model (transformers' CLIPModel): text tower, vision tower, projections, logit scale.
// Declared parameter names equal the Hugging Face checkpoint keys.
#pragma once

#include <filesystem>
#include <memory>

#include <ATen/ATen.h>

#include "core/nn/device.h"
#include "core/nn/layers.h"
#include "core/safetensors.h"
#include "plugins/clip/clip_config.h"

namespace pictor::clip {

struct TextOutput {
    at::Tensor last_hidden_state; // [batch, tokens, hidden], after final_layer_norm
    at::Tensor pooler_output; // [batch, hidden] at the EOS position
    at::Tensor text_embeds; // [batch, projection] before L2 normalisation
};

struct VisionOutput {
    at::Tensor last_hidden_state; // [batch, 1 + patches, hidden], encoder output (no post_layernorm)
    at::Tensor pooler_output; // [batch, hidden], post_layernorm of the class token
    at::Tensor image_embeds; // [batch, projection] before L2 normalisation
};

struct ClipTextTower {
    ClipTextConfig config;
    at::Tensor token_embedding, position_embedding;
    nn::Encoder encoder;
    nn::LayerNorm final_layer_norm;
    // The residual stream and the outputs in float32 around bfloat16 matrix products (see
    // ClipModel::applyMixedFormat); off, everything runs in the weights' format.
    bool residualsInFloat32 = false;

    void declare(const nn::Scope& scope, const ClipTextConfig& textConfig); // scope: "text_model"
    // input_ids, attention_mask: [batch, tokens] int64.
    std::pair<at::Tensor, at::Tensor> forward(
        const at::Tensor& input_ids, const at::Tensor& attention_mask) const;
};

// Also the vision tower of LLaVA-1.5 (which reads a hidden layer before the last).
struct ClipVisionTower {
    ClipVisionConfig config;
    at::Tensor class_embedding, position_embedding;
    nn::Conv2d patch_embedding; // no bias
    nn::LayerNorm pre_layrnorm, post_layernorm; // sic: the upstream spelling
    nn::Encoder encoder;
    bool residualsInFloat32 = false; // as ClipTextTower's

    void declare(const nn::Scope& scope, const ClipVisionConfig& visionConfig); // scope: "vision_model"
    // Embeddings + pre_layrnorm: the input of encoder layer 0. pixel_values: [batch, 3, H, W].
    at::Tensor embed(const at::Tensor& pixel_values) const;
    // {last_hidden_state, pooler_output}.
    std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& pixel_values) const;
};

class ClipModel {
public:
    // Loads config.json and the safetensors weights of a model folder onto `device`.
    static std::unique_ptr<ClipModel> load(
        const std::filesystem::path& modelDir, const nn::ComputeDevice& device);

    // The same architecture with random weights (for benchmarks in the real shapes; nothing is read).
    static std::unique_ptr<ClipModel> withRandomWeights(
        const ClipConfig& config, const nn::ComputeDevice& device, std::uint64_t seed);

    TextOutput encodeText(const at::Tensor& input_ids, const at::Tensor& attention_mask) const;
    VisionOutput encodeImages(const at::Tensor& pixel_values) const;

    const ClipConfig& config() const { return config_; }
    const nn::ComputeDevice& device() const { return device_; }
    const Checkpoint& checkpoint() const { return checkpoint_; }
    float logitScale() const; // the raw parameter (apply exp() for logits)

    // Every tensor a checkpoint of this architecture holds: name and shape (to write test or bench models).
    static std::vector<std::pair<std::string, std::vector<std::int64_t>>> parameterShapes(
        const ClipConfig& config);

    // Checkpoint keys CLIP checkpoints may carry that the model does not use.
    static const std::vector<std::string>& ignorableKeys();

private:
    static bool usesMixedFormat(const nn::ComputeDevice& device);
    void applyMixedFormat(const nn::ParameterTable& table);
    ClipModel() = default;
    void declare(nn::ParameterTable& table);

    ClipConfig config_;
    nn::ComputeDevice device_;
    Checkpoint checkpoint_; // keeps the mapped weights alive (CPU tensors may alias them)
    ClipTextTower text_model_;
    ClipVisionTower vision_model_;
    at::Tensor text_projection_, visual_projection_, logit_scale_;
};

} // namespace pictor::clip
