#include "plugins/unclip/unet.h"

#include <algorithm>

#include "core/error.h"

namespace pictor::unclip {

void UNet::declare(nn::ParameterTable& table)
{
    const nn::Scope root(table);
    const auto& c = config_;
    const auto& channels = c.blockOutChannels;
    const std::size_t levels = channels.size();
    const auto temb = c.timeEmbedDim();
    nn::ResnetBlockOptions plain;
    plain.groups = c.normGroups;
    plain.eps = c.normEps;
    plain.time = c.scaleShift ? nn::TimeConditioning::ScaleShift : nn::TimeConditioning::Add;
    nn::ResnetBlockOptions down = plain, up = plain;
    down.resample = nn::Resample::Down;
    up.resample = nn::Resample::Up;
    auto declareAttention = [&](nn::AddedKvAttention& attention, const nn::Scope& scope, std::int64_t width) {
        attention.declare(scope, width, c.crossAttentionDim, c.attentionHeadDim, c.normGroups, c.normEps);
    };

    conv_in.declare(root / "conv_in", c.inChannels, channels[0], 3);
    time_embedding.declare(root / "time_embedding", channels[0], temb);

    down_blocks.resize(levels); // every container is sized before declaring: slots point into them
    for (std::size_t i = 0; i < levels; ++i) {
        Level& level = down_blocks[i];
        const nn::Scope scope = root / "down_blocks" / i;
        const auto out = channels[i];
        const auto in = i == 0 ? channels[0] : channels[i - 1];
        const bool attention = c.downBlocks[i] == UNetConfig::Block::SimpleCrossAttn;
        level.resnets.resize(static_cast<std::size_t>(c.layersPerBlock));
        level.attentions.resize(attention ? level.resnets.size() : 0);
        level.resamplers.resize(i + 1 < levels ? 1 : 0);
        for (std::size_t j = 0; j < level.resnets.size(); ++j) {
            level.resnets[j].declare(scope / "resnets" / j, j == 0 ? in : out, out, temb, plain);
            if (attention)
                declareAttention(level.attentions[j], scope / "attentions" / j, out);
        }
        if (!level.resamplers.empty())
            level.resamplers[0].declare(scope / "downsamplers" / "0", out, out, temb, down);
    }

    const auto deepest = channels.back();
    mid_block.resnets.resize(2);
    mid_block.attentions.resize(c.midCrossAttention ? 1 : 0);
    mid_block.resnets[0].declare(root / "mid_block" / "resnets" / "0", deepest, deepest, temb, plain);
    if (c.midCrossAttention)
        declareAttention(mid_block.attentions[0], root / "mid_block" / "attentions" / "0", deepest);
    mid_block.resnets[1].declare(root / "mid_block" / "resnets" / "1", deepest, deepest, temb, plain);

    std::vector<std::int64_t> reversed(channels.rbegin(), channels.rend());
    up_blocks.resize(levels);
    for (std::size_t i = 0; i < levels; ++i) {
        Level& level = up_blocks[i];
        const nn::Scope scope = root / "up_blocks" / i;
        const auto out = reversed[i];
        const auto previous = reversed[i == 0 ? 0 : i - 1];
        const auto skipOfLast = reversed[std::min(i + 1, levels - 1)];
        const bool attention = c.upBlocks[i] == UNetConfig::Block::SimpleCrossAttn;
        level.resnets.resize(static_cast<std::size_t>(c.layersPerBlock + 1));
        level.attentions.resize(attention ? level.resnets.size() : 0);
        level.resamplers.resize(i + 1 < levels ? 1 : 0);
        for (std::size_t j = 0; j < level.resnets.size(); ++j) {
            const auto skip = j + 1 == level.resnets.size() ? skipOfLast : out;
            level.resnets[j].declare(
                scope / "resnets" / j, (j == 0 ? previous : out) + skip, out, temb, plain);
            if (attention)
                declareAttention(level.attentions[j], scope / "attentions" / j, out);
        }
        if (!level.resamplers.empty())
            level.resamplers[0].declare(scope / "upsamplers" / "0", out, out, temb, up);
    }

    conv_norm_out.declare(root / "conv_norm_out", channels[0], c.normGroups, c.normEps);
    conv_out.declare(root / "conv_out", channels[0], c.outChannels, 3);
}

std::unique_ptr<UNet> UNet::load(const std::filesystem::path& dir, const nn::ComputeDevice& device)
{
    std::unique_ptr<UNet> unet(new UNet());
    unet->config_ = UNetConfig::load(dir);
    unet->device_ = device;
    nn::ParameterTable table;
    unet->declare(table);
    unet->weights_ = bindComponent(table, componentWeights(dir, "diffusion_pytorch_model"), device);
    return unet;
}

std::unique_ptr<UNet> UNet::withRandomWeights(
    const UNetConfig& config, const nn::ComputeDevice& device, std::uint64_t seed)
{
    std::unique_ptr<UNet> unet(new UNet());
    unet->config_ = config;
    unet->device_ = device;
    nn::ParameterTable table;
    unet->declare(table);
    unet->weights_ = randomComponent(table, device, seed);
    return unet;
}

at::Tensor UNet::forward(
    const at::Tensor& sample, std::int64_t timestep, const Conditioning& conditioning) const
{
    const auto dtype = conv_in.weight.scalar_type();
    const auto device = conv_in.weight.device();
    const auto batch = sample.size(0);
    PICTOR_CHECK(sample.dim() == 4 && sample.size(1) == config_.inChannels, config_.className,
        " takes [batch, ", config_.inChannels, ", H, W] samples");
    const std::int64_t factor = std::int64_t {1} << (config_.blockOutChannels.size() - 1);
    PICTOR_CHECK(sample.size(2) % factor == 0 && sample.size(3) % factor == 0, config_.className,
        ": the sample's height and width must be multiples of ", factor);

    const at::Tensor timesteps
        = at::full({batch}, timestep, at::TensorOptions().dtype(at::kLong).device(device));
    at::Tensor temb = time_embedding.forward(nn::sinusoidalTimestepEmbedding(
        timesteps, config_.blockOutChannels[0], config_.flipSinToCos, config_.freqShift)
                                                 .to(dtype));
    if (config_.classEmbedIdentity) {
        PICTOR_CHECK(conditioning.classLabels.defined(), config_.className,
            " needs class labels (identity embedding)");
        temb = temb + conditioning.classLabels.to(device, dtype);
    }
    at::Tensor context, mask;
    if (config_.crossAttentionDim > 0) {
        PICTOR_CHECK(conditioning.context.defined(), config_.className, " needs encoder hidden states");
        context = conditioning.context.to(device, dtype);
        if (conditioning.contextMask.defined())
            mask = ((1 - conditioning.contextMask.to(device, at::kFloat)) * -10000.0).unsqueeze(1);
    }

    at::Tensor h = conv_in.forward(sample.to(device, dtype));
    std::vector<at::Tensor> skips {h};
    for (const Level& level : down_blocks) {
        for (std::size_t j = 0; j < level.resnets.size(); ++j) {
            h = runLevel(level, h, j, temb, context, mask);
            skips.push_back(h);
        }
        for (const auto& downsampler : level.resamplers) {
            h = downsampler.forward(h, temb);
            skips.push_back(h);
        }
    }
    h = runLevel(mid_block, h, 0, temb, context, mask);
    h = mid_block.resnets[1].forward(h, temb);
    for (const Level& level : up_blocks) {
        for (std::size_t j = 0; j < level.resnets.size(); ++j) {
            h = at::cat({h, skips.back()}, 1);
            skips.pop_back();
            h = runLevel(level, h, j, temb, context, mask);
        }
        for (const auto& upsampler : level.resamplers)
            h = upsampler.forward(h, temb);
    }
    return conv_out.forward(at::silu(conv_norm_out.forward(h)));
}

// resnets[index], then attentions[index] where the level has attention.
at::Tensor UNet::runLevel(const Level& level, at::Tensor h, std::size_t index, const at::Tensor& temb,
    const at::Tensor& context, const at::Tensor& mask) const
{
    h = level.resnets[index].forward(h, temb);
    if (index < level.attentions.size())
        h = level.attentions[index].forward(h, context, mask);
    return h;
}

} // namespace pictor::unclip
