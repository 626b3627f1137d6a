#include "plugins/unclip/prior_transformer.h"

#include "core/error.h"

namespace pictor::unclip {

void PriorTransformer::declare(nn::ParameterTable& table)
{
    const nn::Scope root(table);
    const auto inner = config_.inner();
    time_embedding.declare(root / "time_embedding", inner, inner);
    proj_in.declare(root / "proj_in", config_.embeddingDim, inner);
    embedding_proj.declare(root / "embedding_proj", config_.embeddingProjDim, inner);
    encoder_hidden_states_proj.declare(root / "encoder_hidden_states_proj", config_.embeddingDim, inner);
    root.param("positional_embedding", {1, config_.tokens(), inner}, positional_embedding);
    root.param("prd_embedding", {1, 1, inner}, prd_embedding);
    transformer_blocks.resize(static_cast<std::size_t>(config_.numLayers)); // sized once: slots point here
    for (std::size_t i = 0; i < transformer_blocks.size(); ++i)
        transformer_blocks[i].declare(
            root / "transformer_blocks" / i, inner, config_.numHeads, config_.headDim);
    norm_out.declare(root / "norm_out", inner, 1e-5);
    proj_to_clip_embeddings.declare(root / "proj_to_clip_embeddings", inner, config_.clipEmbedDim);
    root.param("clip_mean", {1, config_.clipEmbedDim}, clip_mean);
    root.param("clip_std", {1, config_.clipEmbedDim}, clip_std);
}

std::unique_ptr<PriorTransformer> PriorTransformer::load(
    const std::filesystem::path& dir, const nn::ComputeDevice& device)
{
    std::unique_ptr<PriorTransformer> prior(new PriorTransformer());
    prior->config_ = PriorConfig::load(dir);
    prior->device_ = device;
    nn::ParameterTable table;
    prior->declare(table);
    prior->weights_ = bindComponent(table, componentWeights(dir, "diffusion_pytorch_model"), device);
    return prior;
}

std::unique_ptr<PriorTransformer> PriorTransformer::withRandomWeights(
    const PriorConfig& config, const nn::ComputeDevice& device, std::uint64_t seed)
{
    std::unique_ptr<PriorTransformer> prior(new PriorTransformer());
    prior->config_ = config;
    prior->device_ = device;
    nn::ParameterTable table;
    prior->declare(table);
    prior->weights_ = randomComponent(table, device, seed);
    return prior;
}

at::Tensor PriorTransformer::forward(const at::Tensor& hidden_states, std::int64_t timestep,
    const at::Tensor& proj_embedding, const at::Tensor& encoder_hidden_states,
    const at::Tensor& attention_mask) const
{
    const auto batch = hidden_states.size(0);
    const auto dtype = positional_embedding.scalar_type();
    const auto device = positional_embedding.device();
    PICTOR_CHECK(encoder_hidden_states.size(1) == config_.numEmbeddings, "the prior takes ",
        config_.numEmbeddings, " text tokens, got ", encoder_hidden_states.size(1));
    const at::Tensor timesteps
        = at::full({batch}, timestep, at::TensorOptions().dtype(at::kLong).device(device));
    const at::Tensor time_embeddings = time_embedding.forward(
        nn::sinusoidalTimestepEmbedding(timesteps, config_.inner(), true, 0).to(dtype));
    const at::Tensor proj_embeddings = embedding_proj.forward(proj_embedding.to(device, dtype));
    const at::Tensor text_states
        = encoder_hidden_states_proj.forward(encoder_hidden_states.to(device, dtype));
    const at::Tensor image_states = proj_in.forward(hidden_states.to(device, dtype));

    // [77 text tokens, text embedding, time, noisy image embedding, prd] + positions.
    at::Tensor x = at::cat({text_states, proj_embeddings.unsqueeze(1), time_embeddings.unsqueeze(1),
                               image_states.unsqueeze(1), prd_embedding.expand({batch, -1, -1})},
                       1)
        + positional_embedding;

    // Padding of the text tokens (the 4 extra tokens are always visible) plus the causal mask, -10000
    // each, as the reference adds them.
    const auto tokens = config_.tokens();
    const auto floats = at::TensorOptions().dtype(at::kFloat).device(device);
    at::Tensor padding = (1 - attention_mask.to(floats)) * -10000.0;
    padding = at::constant_pad_nd(padding, {0, config_.additionalEmbeddings}, 0);
    const at::Tensor causal = at::full({tokens, tokens}, -10000.0, floats).triu(1);
    const at::Tensor mask = (padding.unsqueeze(1) + causal.unsqueeze(0)).unsqueeze(1).to(dtype);

    for (const auto& block : transformer_blocks)
        x = block.forward(x, mask);
    x = norm_out.forward(x).select(1, tokens - 1);
    return proj_to_clip_embeddings.forward(x);
}

at::Tensor PriorTransformer::postProcessLatents(const at::Tensor& latents) const
{
    return latents.to(clip_std.scalar_type()) * clip_std + clip_mean;
}

} // namespace pictor::unclip
