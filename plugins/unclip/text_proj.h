// diffusers' UnCLIPTextProjModel: turns the CLIP image embedding and the prompt's CLIP text outputs into
// the decoder's conditioning (4 extra context tokens before the 77 projected text tokens, and an
// embedding added to the time embedding).
#pragma once

#include <filesystem>
#include <memory>

#include <ATen/ATen.h>

#include "core/nn/layers.h"
#include "plugins/unclip/component_weights.h"
#include "plugins/unclip/unclip_config.h"

namespace pictor::unclip {

struct DecoderConditioning {
    at::Tensor encoderHiddenStates; // [B, extra + 77, crossAttentionDim]
    at::Tensor additiveTimeEmbedding; // [B, timeEmbedDim]
};

class TextProj {
public:
    static std::unique_ptr<TextProj> load(const std::filesystem::path& dir, const nn::ComputeDevice& device);
    static std::unique_ptr<TextProj> withRandomWeights(
        const TextProjConfig& config, const nn::ComputeDevice& device, std::uint64_t seed);

    // With guidance, the learned unconditional image embedding is put before the image batch
    // (B -> 2B: [uncond x B, image_embeddings]), matching prompt embeddings laid out [uncond, cond].
    DecoderConditioning forward(const at::Tensor& image_embeddings, const at::Tensor& prompt_embeds,
        const at::Tensor& text_encoder_hidden_states, bool classifierFreeGuidance) const;

    const TextProjConfig& config() const { return config_; }
    const ComponentWeights& weights() const { return weights_; }

private:
    TextProj() = default;
    void declare(nn::ParameterTable& table);

    TextProjConfig config_;
    ComponentWeights weights_;
    at::Tensor learned_classifier_free_guidance_embeddings;
    nn::Linear embedding_proj, clip_image_embeddings_project_to_time_embeddings,
        clip_extra_context_tokens_proj, encoder_hidden_states_proj;
    nn::LayerNorm text_encoder_hidden_states_norm;
};

} // namespace pictor::unclip
