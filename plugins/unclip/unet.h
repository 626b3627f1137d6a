// The UNets of unCLIP: diffusers' UNet2DConditionModel (the 64 px decoder, cross-attending to the
// text_proj context, time embedding plus the CLIP image embedding) and UNet2DModel (the super-resolution
// stages, no context), in the block types of unet_config.h.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include <ATen/ATen.h>

#include "core/nn/diffusion_blocks.h"
#include "plugins/unclip/component_weights.h"
#include "plugins/unclip/unclip_config.h"

namespace pictor::unclip {

class UNet {
public:
    static std::unique_ptr<UNet> load(const std::filesystem::path& dir, const nn::ComputeDevice& device);
    static std::unique_ptr<UNet> withRandomWeights(
        const UNetConfig& config, const nn::ComputeDevice& device, std::uint64_t seed);

    struct Conditioning {
        at::Tensor classLabels; // [B, timeEmbedDim], added to the time embedding (decoder)
        at::Tensor context; // [B, T, crossAttentionDim] (decoder)
        at::Tensor contextMask; // [B, T] 0/1 (decoder)
    };
    // sample [B, inChannels, H, W] -> [B, outChannels, H, W].
    at::Tensor forward(
        const at::Tensor& sample, std::int64_t timestep, const Conditioning& conditioning = {}) const;

    const UNetConfig& config() const { return config_; }
    const ComponentWeights& weights() const { return weights_; }
    const nn::ComputeDevice& device() const { return device_; }

private:
    struct Level {
        std::vector<nn::ResnetBlock2D> resnets;
        std::vector<nn::AddedKvAttention> attentions; // one after each resnet, or none
        std::vector<nn::ResnetBlock2D> resamplers; // a down- or upsampling resnet, or none
    };
    UNet() = default;
    void declare(nn::ParameterTable& table);
    at::Tensor runLevel(const Level& level, at::Tensor h, std::size_t index, const at::Tensor& temb,
        const at::Tensor& context, const at::Tensor& mask) const;

    UNetConfig config_;
    nn::ComputeDevice device_;
    ComponentWeights weights_;
    nn::Conv2d conv_in, conv_out;
    nn::TimestepMlp time_embedding;
    std::vector<Level> down_blocks, up_blocks;
    Level mid_block;
    nn::GroupNorm conv_norm_out;
};

} // namespace pictor::unclip
