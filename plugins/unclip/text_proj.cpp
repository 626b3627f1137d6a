#include "plugins/unclip/text_proj.h"

#include "core/error.h"

namespace pictor::unclip {

void TextProj::declare(nn::ParameterTable& table)
{
    const nn::Scope root(table);
    const auto clipDim = config_.clipEmbeddingsDim;
    root.param("learned_classifier_free_guidance_embeddings", {clipDim},
        learned_classifier_free_guidance_embeddings);
    embedding_proj.declare(root / "embedding_proj", clipDim, config_.timeEmbedDim);
    clip_image_embeddings_project_to_time_embeddings.declare(
        root / "clip_image_embeddings_project_to_time_embeddings", clipDim, config_.timeEmbedDim);
    clip_extra_context_tokens_proj.declare(root / "clip_extra_context_tokens_proj", clipDim,
        config_.extraContextTokens * config_.crossAttentionDim);
    encoder_hidden_states_proj.declare(
        root / "encoder_hidden_states_proj", clipDim, config_.crossAttentionDim);
    text_encoder_hidden_states_norm.declare(
        root / "text_encoder_hidden_states_norm", config_.crossAttentionDim, 1e-5);
}

std::unique_ptr<TextProj> TextProj::load(const std::filesystem::path& dir, const nn::ComputeDevice& device)
{
    std::unique_ptr<TextProj> proj(new TextProj());
    proj->config_ = TextProjConfig::load(dir);
    nn::ParameterTable table;
    proj->declare(table);
    proj->weights_ = bindComponent(table, componentWeights(dir, "diffusion_pytorch_model"), device);
    return proj;
}

std::unique_ptr<TextProj> TextProj::withRandomWeights(
    const TextProjConfig& config, const nn::ComputeDevice& device, std::uint64_t seed)
{
    std::unique_ptr<TextProj> proj(new TextProj());
    proj->config_ = config;
    nn::ParameterTable table;
    proj->declare(table);
    proj->weights_ = randomComponent(table, device, seed);
    return proj;
}

DecoderConditioning TextProj::forward(const at::Tensor& image_embeddings, const at::Tensor& prompt_embeds,
    const at::Tensor& text_encoder_hidden_states, bool classifierFreeGuidance) const
{
    const auto dtype = embedding_proj.weight.scalar_type();
    const auto device = embedding_proj.weight.device();
    at::Tensor images = image_embeddings.to(device, dtype);
    if (classifierFreeGuidance) {
        const at::Tensor uncond
            = learned_classifier_free_guidance_embeddings.unsqueeze(0).expand({images.size(0), -1});
        images = at::cat({uncond, images}, 0);
    }
    const auto batch = prompt_embeds.size(0);
    PICTOR_CHECK(
        images.size(0) == batch, "text_proj: ", images.size(0), " image embeddings for ", batch, " prompts");
    DecoderConditioning out;
    out.additiveTimeEmbedding = clip_image_embeddings_project_to_time_embeddings.forward(images)
        + embedding_proj.forward(prompt_embeds.to(device, dtype));
    // (B, cross * extra) -> (B, cross, extra) -> (B, extra, cross): reshape then permute, as the reference.
    const at::Tensor extra = clip_extra_context_tokens_proj.forward(images)
                                 .reshape({batch, -1, config_.extraContextTokens})
                                 .permute({0, 2, 1});
    const at::Tensor text = text_encoder_hidden_states_norm.forward(
        encoder_hidden_states_proj.forward(text_encoder_hidden_states.to(device, dtype)));
    out.encoderHiddenStates = at::cat({extra, text}, 1);
    return out;
}

} // namespace pictor::unclip
