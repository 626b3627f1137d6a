// An unCLIP pipeline folder on a device: its configs and tokenizer, and each component loaded on demand
// (a run loads a component when its stage begins and drops it when the stage ends).
#pragma once

#include <filesystem>
#include <memory>

#include "core/image_generator.h"
#include "core/nn/device.h"
#include "core/nn/unclip_scheduler.h"
#include "core/preprocess.h"
#include "core/text/clip_tokenizer.h"
#include "plugins/clip/clip_towers.h"
#include "plugins/unclip/prior_transformer.h"
#include "plugins/unclip/text_proj.h"
#include "plugins/unclip/unclip_config.h"
#include "plugins/unclip/unet.h"

namespace pictor::unclip {

class UnclipPipeline {
public:
    UnclipPipeline(UnclipFolder folder, const nn::ComputeDevice& device);

    const UnclipFolder& folder() const { return folder_; }
    const nn::ComputeDevice& device() const { return device_; }
    const ClipTokenizer& tokenizer() const { return *tokenizer_; }
    const ImagePreprocessConfig& imagePreprocessing() const { return imagePreprocessing_; }
    const nn::UnclipSchedulerConfig& priorScheduler() const { return priorScheduler_; }
    const nn::UnclipSchedulerConfig& decoderScheduler() const { return decoderScheduler_; }
    const nn::UnclipSchedulerConfig& superResScheduler() const { return superResScheduler_; }
    const UNetConfig& superResConfig() const { return superResConfig_; }

    std::unique_ptr<clip::ClipTextEncoder> loadTextEncoder() const;
    std::unique_ptr<clip::ClipImageEncoder> loadImageEncoder() const;
    std::unique_ptr<PriorTransformer> loadPrior() const;
    std::unique_ptr<TextProj> loadTextProj() const;
    std::unique_ptr<UNet> loadDecoder() const;
    std::unique_ptr<UNet> loadSuperResFirst() const;
    std::unique_ptr<UNet> loadSuperResLast() const;

    // Loads each component in turn and drops it (strict binding of every tensor).
    std::vector<GeneratorComponent> verifyComponents() const;

private:
    UnclipFolder folder_;
    nn::ComputeDevice device_;
    std::unique_ptr<ClipTokenizer> tokenizer_;
    ImagePreprocessConfig imagePreprocessing_;
    nn::UnclipSchedulerConfig priorScheduler_, decoderScheduler_, superResScheduler_;
    UNetConfig superResConfig_;
};

// ComputeDevice from GeneratorOptions' device and dtype ("auto", "float32", "bfloat16", "float16").
nn::ComputeDevice resolveGeneratorDevice(const std::string& device, const std::string& dtype);

} // namespace pictor::unclip
