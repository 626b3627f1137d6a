// CLIPTextModelWithProjection and CLIPVisionModelWithProjection: one CLIP tower and its projection in a
// folder of its own (config.json with model_type clip_text_model / clip_vision_model), as diffusion
// pipelines store their text_encoder and image_encoder. The towers are ClipModel's.
#pragma once

#include <filesystem>
#include <memory>

#include <ATen/ATen.h>

#include "core/nn/device.h"
#include "core/safetensors.h"
#include "plugins/clip/clip_model.h"

namespace pictor::clip {

class ClipTextEncoder {
public:
    // `weights`: the safetensors file or index to read (default: the folder's model.safetensors).
    static std::unique_ptr<ClipTextEncoder> load(const std::filesystem::path& dir,
        const nn::ComputeDevice& device, const std::filesystem::path& weights = {});
    // Random weights in the given shapes (benchmarks); nothing is read.
    static std::unique_ptr<ClipTextEncoder> withRandomWeights(const ClipTextConfig& config,
        std::int64_t projectionDim, const nn::ComputeDevice& device, std::uint64_t seed);

    // input_ids, attention_mask [batch, tokens] int64 (pass all ones for "no attention mask").
    TextOutput encode(const at::Tensor& input_ids, const at::Tensor& attention_mask) const;
    const ClipTextConfig& config() const { return text_model_.config; }
    std::int64_t projectionDim() const { return projectionDim_; }
    std::int64_t parameterCount() const { return parameterCount_; }

private:
    ClipTextEncoder() = default;
    void declare(nn::ParameterTable& table, const ClipTextConfig& config);
    Checkpoint checkpoint_;
    ClipTextTower text_model_;
    at::Tensor text_projection_;
    std::int64_t projectionDim_ = 0;
    std::int64_t parameterCount_ = 0;
    nn::ComputeDevice device_;
};

class ClipImageEncoder {
public:
    static std::unique_ptr<ClipImageEncoder> load(const std::filesystem::path& dir,
        const nn::ComputeDevice& device, const std::filesystem::path& weights = {});
    // pixel_values [batch, 3, H, W] float.
    VisionOutput encode(const at::Tensor& pixel_values) const;
    const ClipVisionConfig& config() const { return vision_model_.config; }
    std::int64_t projectionDim() const { return projectionDim_; }
    std::int64_t parameterCount() const { return parameterCount_; }

private:
    ClipImageEncoder() = default;
    Checkpoint checkpoint_;
    ClipVisionTower vision_model_;
    at::Tensor visual_projection_;
    std::int64_t projectionDim_ = 0;
    std::int64_t parameterCount_ = 0;
    nn::ComputeDevice device_;
};

} // namespace pictor::clip
