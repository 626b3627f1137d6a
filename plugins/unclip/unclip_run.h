// One unCLIP generation as a stream of steps: encode, the prior's steps (text to image), the decoder's
// steps, the super-resolution steps. Mirrors diffusers' UnCLIPPipeline and UnCLIPImageVariationPipeline:
// the same batch layout, guidance, schedulers, stage hand-overs and order of random draws, so replaying
// the reference's recorded draws reproduces its images.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <ATen/ATen.h>

#include "core/image_generator.h"
#include "core/nn/noise.h"
#include "plugins/unclip/unclip_pipeline.h"

namespace pictor::unclip {

class UnclipRun final : public GenerationStream {
public:
    // Checks the request against the pipeline (throws pictor::Error naming what is wrong).
    UnclipRun(std::shared_ptr<const UnclipPipeline> pipeline, GenerationRequest request);
    ~UnclipRun() override;

    bool step() override;
    bool finished() const override { return progress_.stage == GenerationStage::Done; }
    GenerationProgress progress() const override { return progress_; }
    std::vector<RgbImage> preview() const override;
    const GenerationResult& result() const override { return result_; }

private:
    enum class Mode { TextToImage, Variations, Embeddings, ChangedByWords };
    void encode();
    void startPrior();
    void priorStep();
    void startDecoder();
    void decoderStep();
    void startSuperRes();
    void superResStep();
    void finish();
    // The text encoder's outputs for the conditional texts, with the empty prompt's before them when
    // guidance is on; prompt_embeds, last_hidden_state, token mask.
    void encodeTexts(const clip::ClipTextEncoder& encoder, const std::vector<std::string>& texts);
    at::Tensor encodePhotos(const clip::ClipTextEncoder& textEncoder);
    at::Tensor drawNoise(const std::vector<std::int64_t>& shape, const std::string& what);
    void keep(const std::string& name, const at::Tensor& value);
    void advance();
    // Runs the next part of this diffusion step's UNet pass (started on makeInput() when none is under
    // way); the output once the pass is complete, else an undefined tensor.
    at::Tensor runPart(const std::function<at::Tensor()>& makeInput, std::int64_t t,
        const UNet::Conditioning& conditioning = {});

    std::shared_ptr<const UnclipPipeline> pipeline_;
    GenerationRequest request_;
    Mode mode_ = Mode::TextToImage;
    std::unique_ptr<nn::NoiseSource> noise_;
    bool guidance_ = false;
    std::int64_t batch_ = 0;
    GenerationProgress progress_;
    GenerationResult result_;

    at::Tensor promptEmbeds_, textHidden_, textMask_; // [uncond B; cond B] with guidance
    at::Tensor imageEmbeds_; // [B, clip dim], float32

    std::optional<nn::UnclipScheduler> scheduler_;
    std::vector<std::int64_t> timesteps_;
    at::Tensor latents_, predOriginal_; // float32 on the device
    std::unique_ptr<PriorTransformer> prior_;
    std::unique_ptr<UNet> unet_; // the decoder, then a super-resolution UNet
    std::optional<UNet::Pass> pass_; // the UNet pass of the diffusion step under way, run a part a step
    DecoderConditioning conditioning_;
    at::Tensor decoderMask_, decoderImage_, upscaled_;
};

} // namespace pictor::unclip
