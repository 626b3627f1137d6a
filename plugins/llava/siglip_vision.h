// The SigLIP vision transformer (transformers' SiglipVisionTransformer) without its pooling head:
// patch convolution with a bias, position embeddings for the patches only (no class token, no pre-norm),
// the shared pre-LN encoder, post_layernorm. Declared names equal the checkpoint keys under the scope
// (e.g. "vision_tower.vision_model").
#pragma once

#include <ATen/ATen.h>

#include "core/nn/layers.h"
#include "plugins/clip/clip_config.h"

namespace pictor::llava {

struct SiglipVisionTower {
    clip::ClipVisionConfig config;
    at::Tensor position_embedding;
    nn::Conv2d patch_embedding;
    nn::Encoder encoder;
    nn::LayerNorm post_layernorm;

    void declare(const nn::Scope& scope, const clip::ClipVisionConfig& visionConfig);
    // hidden_states[0]: patch embeddings + position embeddings, [batch, patches, hidden].
    at::Tensor embed(const at::Tensor& pixel_values) const;
};

} // namespace pictor::llava
