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
    listParts();
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
    Pass pass(*this, sample, timestep, conditioning);
    while (!pass.step()) { }
    return pass.output();
}

void UNet::listParts()
{
    using Kind = Part::Kind;
    parts_ = {{Kind::In}};
    for (std::size_t l = 0; l < down_blocks.size(); ++l) {
        for (std::size_t j = 0; j < down_blocks[l].resnets.size(); ++j)
            parts_.push_back({Kind::DownResnet, l, j});
        for (std::size_t k = 0; k < down_blocks[l].resamplers.size(); ++k)
            parts_.push_back({Kind::Downsample, l, k});
    }
    parts_.push_back({Kind::Middle});
    for (std::size_t l = 0; l < up_blocks.size(); ++l) {
        for (std::size_t j = 0; j < up_blocks[l].resnets.size(); ++j)
            parts_.push_back({Kind::UpResnet, l, j});
        for (std::size_t k = 0; k < up_blocks[l].resamplers.size(); ++k)
            parts_.push_back({Kind::Upsample, l, k});
    }
    parts_.push_back({Kind::Out});
}

UNet::Pass::Pass(
    const UNet& unet, const at::Tensor& sample, std::int64_t timestep, const Conditioning& conditioning)
    : unet_(&unet)
{
    const UNetConfig& config = unet.config_;
    const auto dtype = unet.conv_in.weight.scalar_type();
    const auto device = unet.conv_in.weight.device();
    const auto batch = sample.size(0);
    PICTOR_CHECK(sample.dim() == 4 && sample.size(1) == config.inChannels, config.className,
        " takes [batch, ", config.inChannels, ", H, W] samples");
    const std::int64_t factor = std::int64_t {1} << (config.blockOutChannels.size() - 1);
    PICTOR_CHECK(sample.size(2) % factor == 0 && sample.size(3) % factor == 0, config.className,
        ": the sample's height and width must be multiples of ", factor);

    const at::Tensor timesteps
        = at::full({batch}, timestep, at::TensorOptions().dtype(at::kLong).device(device));
    temb_ = unet.time_embedding.forward(nn::sinusoidalTimestepEmbedding(
        timesteps, config.blockOutChannels[0], config.flipSinToCos, config.freqShift)
                                            .to(dtype));
    if (config.classEmbedIdentity) {
        PICTOR_CHECK(
            conditioning.classLabels.defined(), config.className, " needs class labels (identity embedding)");
        temb_ = temb_ + conditioning.classLabels.to(device, dtype);
    }
    if (config.crossAttentionDim > 0) {
        PICTOR_CHECK(conditioning.context.defined(), config.className, " needs encoder hidden states");
        context_ = conditioning.context.to(device, dtype);
        if (conditioning.contextMask.defined())
            mask_ = ((1 - conditioning.contextMask.to(device, at::kFloat)) * -10000.0).unsqueeze(1);
    }
    h_ = sample.to(device, dtype);
}

bool UNet::Pass::step()
{
    if (done())
        return true;
    const UNet& u = *unet_;
    const Part& part = u.parts_[next_++];
    using Kind = Part::Kind;
    switch (part.kind) {
    case Kind::In:
        h_ = u.conv_in.forward(h_);
        skips_ = {h_};
        break;
    case Kind::DownResnet:
        h_ = u.runLevel(u.down_blocks[part.level], h_, part.index, temb_, context_, mask_);
        skips_.push_back(h_);
        break;
    case Kind::Downsample:
        h_ = u.down_blocks[part.level].resamplers[part.index].forward(h_, temb_);
        skips_.push_back(h_);
        break;
    case Kind::Middle:
        h_ = u.runLevel(u.mid_block, h_, 0, temb_, context_, mask_);
        h_ = u.mid_block.resnets[1].forward(h_, temb_);
        break;
    case Kind::UpResnet:
        h_ = at::cat({h_, skips_.back()}, 1);
        skips_.pop_back();
        h_ = u.runLevel(u.up_blocks[part.level], h_, part.index, temb_, context_, mask_);
        break;
    case Kind::Upsample:
        h_ = u.up_blocks[part.level].resamplers[part.index].forward(h_, temb_);
        break;
    case Kind::Out:
        h_ = u.conv_out.forward(at::silu(u.conv_norm_out.forward(h_)));
        temb_ = context_ = mask_ = at::Tensor();
        break;
    }
    return done();
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
