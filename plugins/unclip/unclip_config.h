// The configuration of an unCLIP (Karlo) pipeline in diffusers layout: model_index.json and each
// component's config.json / scheduler_config.json, with the options diffusers' classes would take.
// Anything Pictor does not implement (another _class_name, block type or option) is one error naming it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/nn/unclip_scheduler.h"

namespace pictor::unclip {

// diffusers' PriorTransformer as Karlo configures it (prd token, linear text projection, no norm_in).
struct PriorConfig {
    std::int64_t numHeads = 32;
    std::int64_t headDim = 64;
    std::int64_t numLayers = 20;
    std::int64_t embeddingDim = 768; // the noisy CLIP image embedding
    std::int64_t embeddingProjDim = 768; // the CLIP text embedding
    std::int64_t clipEmbedDim = 768; // the predicted CLIP image embedding
    std::int64_t numEmbeddings = 77; // text tokens
    std::int64_t additionalEmbeddings = 4; // text embedding, time, noisy embedding, prd
    std::int64_t inner() const { return numHeads * headDim; }
    std::int64_t tokens() const { return numEmbeddings + additionalEmbeddings; }
    static PriorConfig load(const std::filesystem::path& componentDir);
};

// UnCLIPTextProjModel: the decoder's conditioning from the CLIP image and text embeddings.
struct TextProjConfig {
    std::int64_t clipEmbeddingsDim = 768;
    std::int64_t timeEmbedDim = 1280;
    std::int64_t crossAttentionDim = 1536;
    std::int64_t extraContextTokens = 4;
    static TextProjConfig load(const std::filesystem::path& componentDir);
};

// UNet2DConditionModel (the 64 px decoder) and UNet2DModel (the super-resolution stages) in the block
// types Karlo uses: ResnetDownsampleBlock2D / SimpleCrossAttnDownBlock2D, UNetMidBlock2DSimpleCrossAttn /
// UNetMidBlock2D without attention, SimpleCrossAttnUpBlock2D / ResnetUpsampleBlock2D.
struct UNetConfig {
    enum class Block { Resnet, SimpleCrossAttn };
    std::string className; // "UNet2DConditionModel" or "UNet2DModel"
    std::int64_t inChannels = 3;
    std::int64_t outChannels = 3;
    std::int64_t sampleSize = 64;
    std::vector<std::int64_t> blockOutChannels;
    std::int64_t layersPerBlock = 2;
    std::vector<Block> downBlocks, upBlocks;
    bool midCrossAttention = false; // UNetMidBlock2DSimpleCrossAttn, else UNetMidBlock2D (no attention)
    std::int64_t attentionHeadDim = 64;
    std::int64_t crossAttentionDim = 0; // 0: no cross-attention anywhere
    std::int64_t normGroups = 32;
    double normEps = 1e-5;
    bool scaleShift = false; // resnet_time_scale_shift "scale_shift", else "default"
    bool classEmbedIdentity = false; // class_labels are added to the time embedding
    bool flipSinToCos = true;
    double freqShift = 0;
    std::int64_t timeEmbedDim() const { return blockOutChannels.front() * 4; }
    static UNetConfig load(const std::filesystem::path& componentDir);
};

// The folders and configs of a pipeline. UnCLIPPipeline (kakaobrain/karlo-v1-alpha) has a prior and no
// image encoder; UnCLIPImageVariationPipeline (karlo-v1-alpha-image-variations) the reverse. An image
// encoder is also found in image_encoder/ or image_variation/image_encoder/ beside an UnCLIPPipeline.
struct UnclipFolder {
    std::filesystem::path root;
    std::string pipelineClass;
    std::filesystem::path textEncoder, tokenizer, textProj, decoder, superResFirst, superResLast;
    std::filesystem::path decoderScheduler, superResScheduler; // scheduler_config.json files
    std::filesystem::path prior, priorScheduler; // empty without a prior
    std::filesystem::path imageEncoder, featureExtractor; // empty without an image encoder
    bool hasPrior() const { return !prior.empty(); }
    bool hasImageEncoder() const { return !imageEncoder.empty(); }

    // Reads model_index.json and checks every component folder's class and weights; errors name the
    // component and what is missing or unsupported.
    static UnclipFolder open(const std::filesystem::path& root);
};

// The weights of a component folder: <base>.safetensors, its sharded index, or the .fp16 variant.
// A folder with only pickle weights (.bin, .ckpt, .pt, .pth) is refused with how to get safetensors.
std::filesystem::path componentWeights(const std::filesystem::path& componentDir, const std::string& base);

} // namespace pictor::unclip
