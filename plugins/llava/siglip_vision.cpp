#include "plugins/llava/siglip_vision.h"

#include "core/error.h"

namespace pictor::llava {

void SiglipVisionTower::declare(const nn::Scope& scope, const clip::ClipVisionConfig& visionConfig)
{
    config = visionConfig;
    const auto hidden = config.hiddenSize;
    const nn::Scope embeddings = scope / "embeddings";
    patch_embedding.declarePatchEmbedding(
        embeddings / "patch_embedding", config.numChannels, hidden, config.patchSize, true);
    embeddings.param("position_embedding.weight", {config.numPatches(), hidden}, position_embedding);
    encoder.declare(scope / "encoder",
        {hidden, config.intermediateSize, config.numHeads, config.numLayers, config.layerNormEps,
            nn::activationFromName(config.hiddenAct)});
    post_layernorm.declare(scope / "post_layernorm", hidden, config.layerNormEps);
}

at::Tensor SiglipVisionTower::embed(const at::Tensor& pixel_values) const
{
    PICTOR_CHECK(pixel_values.dim() == 4 && pixel_values.size(1) == config.numChannels
            && pixel_values.size(2) == config.imageSize && pixel_values.size(3) == config.imageSize,
        "SigLIP vision input must be [batch, ", config.numChannels, ", ", config.imageSize, ", ",
        config.imageSize, "]");
    at::Tensor patch_embeds = patch_embedding.forward(pixel_values.to(patch_embedding.weight.scalar_type()));
    at::Tensor embeddings = patch_embeds.flatten(2).transpose(1, 2);
    return embeddings + position_embedding.unsqueeze(0);
}

} // namespace pictor::llava
