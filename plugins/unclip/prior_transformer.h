// diffusers' PriorTransformer (Karlo's diffusion prior): predicts a CLIP image embedding from the CLIP
// text embedding, the text encoder's hidden states and the noisy image embedding at a timestep.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include <ATen/ATen.h>

#include "core/nn/diffusion_blocks.h"
#include "plugins/unclip/component_weights.h"
#include "plugins/unclip/unclip_config.h"

namespace pictor::unclip {

class PriorTransformer {
public:
    static std::unique_ptr<PriorTransformer> load(
        const std::filesystem::path& dir, const nn::ComputeDevice& device);
    static std::unique_ptr<PriorTransformer> withRandomWeights(
        const PriorConfig& config, const nn::ComputeDevice& device, std::uint64_t seed);

    // hidden_states [B, embeddingDim] (the noisy normalised embedding); proj_embedding [B, D] (CLIP text
    // embeds); encoder_hidden_states [B, 77, D]; attention_mask [B, 77] 0/1 (text tokens). Returns the
    // predicted (normalised) image embedding [B, clipEmbedDim].
    at::Tensor forward(const at::Tensor& hidden_states, std::int64_t timestep,
        const at::Tensor& proj_embedding, const at::Tensor& encoder_hidden_states,
        const at::Tensor& attention_mask) const;
    // Into CLIP image-embedding space: latents * clip_std + clip_mean.
    at::Tensor postProcessLatents(const at::Tensor& latents) const;

    const PriorConfig& config() const { return config_; }
    const ComponentWeights& weights() const { return weights_; }

private:
    PriorTransformer() = default;
    void declare(nn::ParameterTable& table);

    PriorConfig config_;
    nn::ComputeDevice device_;
    ComponentWeights weights_;
    nn::TimestepMlp time_embedding;
    nn::Linear proj_in, embedding_proj, encoder_hidden_states_proj, proj_to_clip_embeddings;
    at::Tensor positional_embedding, prd_embedding, clip_mean, clip_std;
    std::vector<nn::PriorTransformerBlock> transformer_blocks;
    nn::LayerNorm norm_out;
};

} // namespace pictor::unclip
