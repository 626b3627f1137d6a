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

    // forward() in parts (the input convolution, each resnet with its attention, each resampler, the
    // middle, the output), so the compute worker can run other jobs between them: a super-resolution pass
    // at 256 px takes seconds. forward() is one Pass run to its end.
    class Pass {
    public:
        Pass(const UNet& unet, const at::Tensor& sample, std::int64_t timestep,
            const Conditioning& conditioning);
        bool step(); // runs the next part; true once the output is ready
        bool done() const { return next_ == unet_->parts_.size(); }
        std::size_t parts() const { return unet_->parts_.size(); }
        const at::Tensor& output() const { return h_; }

    private:
        const UNet* unet_;
        at::Tensor h_, temb_, context_, mask_;
        std::vector<at::Tensor> skips_;
        std::size_t next_ = 0;
    };

    const UNetConfig& config() const { return config_; }
    const ComponentWeights& weights() const { return weights_; }
    const nn::ComputeDevice& device() const { return device_; }

private:
    struct Level {
        std::vector<nn::ResnetBlock2D> resnets;
        std::vector<nn::AddedKvAttention> attentions; // one after each resnet, or none
        std::vector<nn::ResnetBlock2D> resamplers; // a down- or upsampling resnet, or none
    };
    // One part of a pass, in order.
    struct Part {
        enum class Kind { In, DownResnet, Downsample, Middle, UpResnet, Upsample, Out };
        Kind kind;
        std::size_t level = 0;
        std::size_t index = 0;
    };
    UNet() = default;
    void declare(nn::ParameterTable& table);
    void listParts();
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
    std::vector<Part> parts_;
};

} // namespace pictor::unclip
