#include "plugins/unclip/unclip_run.h"

#include <algorithm>
#include <cmath>

#include <c10/core/InferenceMode.h>

#include "core/error.h"
#include "core/log.h"
#include "core/nn/diffusion_blocks.h"

namespace pictor::unclip {
namespace {

at::Tensor normalized(const at::Tensor& x)
{
    return x / x.norm(2, -1, true).clamp_min(1e-12);
}

// DALL-E 2's text diff: the photo's embedding turned by `strength` of the angle toward the normalised
// difference of the prompt's and the base caption's text embeddings (slerp on the unit sphere), at the
// photo embedding's length.
at::Tensor turnTowardTextDiff(
    const at::Tensor& image, const at::Tensor& prompt, const at::Tensor& base, double strength)
{
    const at::Tensor from = normalized(image);
    const at::Tensor toward = normalized(prompt - base);
    const at::Tensor omega = at::acos((from * toward).sum(-1, true).clamp(-1.0, 1.0));
    const at::Tensor sinOmega = at::sin(omega);
    // Nearly parallel: linear interpolation is the limit.
    const at::Tensor safe = sinOmega.abs().lt(1e-6);
    const at::Tensor wFrom
        = at::where(safe, at::full_like(omega, 1 - strength), at::sin((1 - strength) * omega) / sinOmega);
    const at::Tensor wToward
        = at::where(safe, at::full_like(omega, strength), at::sin(strength * omega) / sinOmega);
    return normalized(wFrom * from + wToward * toward) * image.norm(2, -1, true);
}

std::vector<RgbImage> toImages(const at::Tensor& nchwUnit)
{
    // [0, 1] float -> uint8 as numpy's (x * 255).round(): halves to even.
    const at::Tensor bytes = at::round(nchwUnit.to(at::kFloat).cpu() * 255.0f)
                                 .clamp(0, 255)
                                 .to(at::kByte)
                                 .permute({0, 2, 3, 1})
                                 .contiguous();
    std::vector<RgbImage> images;
    for (std::int64_t i = 0; i < bytes.size(0); ++i) {
        RgbImage image(static_cast<int>(bytes.size(2)), static_cast<int>(bytes.size(1)));
        const at::Tensor one = bytes.select(0, i);
        std::copy_n(one.data_ptr<std::uint8_t>(), image.pixels.size(), image.pixels.begin());
        images.push_back(std::move(image));
    }
    return images;
}

std::vector<std::int64_t> sizesOf(const at::Tensor& t)
{
    return std::vector<std::int64_t>(t.sizes().begin(), t.sizes().end());
}

} // namespace

UnclipRun::UnclipRun(std::shared_ptr<const UnclipPipeline> pipeline, GenerationRequest request)
    : pipeline_(std::move(pipeline)), request_(std::move(request))
{
    const auto& folder = pipeline_->folder();
    const auto& r = request_;
    PICTOR_CHECK(r.imagesPerInput > 0, "the number of images must be positive (got ", r.imagesPerInput, ")");
    PICTOR_CHECK(r.sourceImages.empty() || !r.imageEmbeddings, "give photos or image embeddings, not both");
    PICTOR_CHECK(!r.imageEmbeddings || r.prompts.empty(), "image embeddings are decoded without a prompt");
    for (const RgbImage& image : r.sourceImages)
        PICTOR_CHECK(!image.empty() && image.pixels.size() == 3ull * image.width * image.height,
            "a photo to start from is empty");
    if (!r.sourceImages.empty()) {
        mode_ = r.prompts.empty() ? Mode::Variations : Mode::ChangedByWords;
        PICTOR_CHECK(folder.hasImageEncoder(), folder.root.string(),
            ": this model has no image encoder (image_encoder/), so it cannot start from a photo; use the "
            "image-variations pipeline (e.g. kakaobrain/karlo-v1-alpha-image-variations)");
        PICTOR_CHECK(
            r.prompts.size() <= 1 || r.sourceImages.size() <= 1 || r.prompts.size() == r.sourceImages.size(),
            "give one photo and several prompts, several photos and one prompt, or as many of each");
    } else if (r.imageEmbeddings) {
        mode_ = Mode::Embeddings;
        PICTOR_CHECK(r.imageEmbeddings->shape.size() == 2 && r.imageEmbeddings->shape[0] > 0,
            "image embeddings must be [count, dim]");
        PICTOR_CHECK(static_cast<std::size_t>(r.imageEmbeddings->shape[0] * r.imageEmbeddings->shape[1])
                == r.imageEmbeddings->values.size(),
            "image embeddings: shape and values disagree");
    } else {
        mode_ = Mode::TextToImage;
        PICTOR_CHECK(!r.prompts.empty(), "nothing to generate: give a prompt, a photo or image embeddings");
        PICTOR_CHECK(folder.hasPrior(), folder.root.string(), ": this model (", folder.pipelineClass,
            ") has no prior, so it cannot paint from text alone; it makes variations of photos. Text to "
            "image "
            "needs an UnCLIPPipeline folder (e.g. kakaobrain/karlo-v1-alpha)");
    }
    for (int steps : {mode_ == Mode::TextToImage ? r.priorSteps : 2, r.decoderSteps, r.superResSteps})
        PICTOR_CHECK(steps >= 2 && steps <= 1000, "each stage needs 2 to 1000 steps (got ", steps, ")");

    batch_ = requestedImageCount(r);
    // As the reference: guidance in both stages when either scale asks for it (the variations pipeline
    // looks at the decoder's only).
    guidance_ = r.decoderGuidance > 1.0f || (mode_ == Mode::TextToImage && r.priorGuidance > 1.0f);
    if (!r.replayNoise.empty())
        noise_ = std::make_unique<nn::ReplayNoise>(r.replayNoise);
    else
        noise_ = std::make_unique<nn::SeededNoise>(r.seed);
    progress_.totalSteps
        = 1 + (mode_ == Mode::TextToImage ? r.priorSteps : 0) + r.decoderSteps + r.superResSteps;
    progress_.stageSteps = 1;
}

UnclipRun::~UnclipRun() = default;

bool UnclipRun::step()
{
    if (finished())
        return true;
    if (request_.cancel && request_.cancel->load()) {
        result_.cancelled = true;
        progress_.stage = GenerationStage::Done;
        prior_.reset();
        pass_.reset();
        unet_.reset();
        return true;
    }
    c10::InferenceMode inferenceMode;
    switch (progress_.stage) {
    case GenerationStage::Encode:
        encode();
        break;
    case GenerationStage::Prior:
        priorStep();
        break;
    case GenerationStage::Decoder:
        decoderStep();
        break;
    case GenerationStage::SuperRes:
        superResStep();
        break;
    case GenerationStage::Done:
        break;
    }
    return finished();
}

void UnclipRun::advance()
{
    ++progress_.stageStep;
    ++progress_.stepsDone;
}

at::Tensor UnclipRun::drawNoise(const std::vector<std::int64_t>& shape, const std::string& what)
{
    return noise_->draw(shape, what).to(pipeline_->device().device);
}

void UnclipRun::keep(const std::string& name, const at::Tensor& value)
{
    if (!request_.keepIntermediates)
        return;
    const at::Tensor data = value.to(at::kFloat).cpu().contiguous();
    FloatArray array;
    array.shape = sizesOf(data);
    array.values.assign(data.data_ptr<float>(), data.data_ptr<float>() + data.numel());
    result_.intermediates[name] = std::move(array);
}

void UnclipRun::encodeTexts(const clip::ClipTextEncoder& encoder, const std::vector<std::string>& texts)
{
    const ClipTokenizer& tokenizer = pipeline_->tokenizer();
    const auto length = static_cast<std::int64_t>(tokenizer.contextLength());
    auto encodeBatch = [&](const std::vector<std::string>& batch) {
        std::vector<std::int64_t> ids, mask;
        for (const std::string& text : batch) {
            const TokenizedText tokens = tokenizer.encode(text);
            ids.insert(ids.end(), tokens.inputIds.begin(), tokens.inputIds.end());
            mask.insert(mask.end(), tokens.attentionMask.begin(), tokens.attentionMask.end());
        }
        const auto count = static_cast<std::int64_t>(batch.size());
        const at::Tensor inputIds = at::tensor(ids, at::kLong).view({count, length});
        // As the pipeline calls it: no attention mask (padding is attended, only the causal mask applies).
        const clip::TextOutput out = encoder.encode(inputIds, at::ones_like(inputIds));
        return std::tuple {
            out.text_embeds, out.last_hidden_state, at::tensor(mask, at::kLong).view({count, length})};
    };
    // Each text once, then repeated for the images made from it (repeat_interleave).
    auto [embeds, hidden, mask] = encodeBatch(texts);
    const std::int64_t repeat = batch_ / static_cast<std::int64_t>(texts.size());
    promptEmbeds_ = embeds.repeat_interleave(repeat, 0);
    textHidden_ = hidden.repeat_interleave(repeat, 0);
    textMask_ = mask.repeat_interleave(repeat, 0);
    if (guidance_) {
        auto [uEmbeds, uHidden, uMask] = encodeBatch({""});
        promptEmbeds_ = at::cat({uEmbeds.expand({batch_, -1}), promptEmbeds_});
        textHidden_ = at::cat({uHidden.expand({batch_, -1, -1}), textHidden_});
        textMask_ = at::cat({uMask.expand({batch_, -1}), textMask_});
    }
}

at::Tensor UnclipRun::encodePhotos(const clip::ClipTextEncoder& textEncoder)
{
    const ImagePreprocessConfig& config = pipeline_->imagePreprocessing();
    const auto count = static_cast<std::int64_t>(request_.sourceImages.size());
    std::vector<float> pixels;
    for (const RgbImage& image : request_.sourceImages) {
        const std::vector<float> one = preprocessImage(image, config);
        pixels.insert(pixels.end(), one.begin(), one.end());
    }
    const at::Tensor pixelValues
        = at::tensor(pixels, at::kFloat).view({count, 3, config.outputHeight(), config.outputWidth()});
    at::Tensor embeds = pipeline_->loadImageEncoder()->encode(pixelValues).image_embeds.to(at::kFloat);
    if (mode_ != Mode::ChangedByWords)
        return embeds;

    // Pair photos and prompts (one of them may be a single one), and turn each photo toward its words.
    const auto pairs
        = static_cast<std::int64_t>(std::max(request_.sourceImages.size(), request_.prompts.size()));
    auto expand = [&](const at::Tensor& t) { return t.size(0) == pairs ? t : t.expand({pairs, -1}); };
    auto textEmbeds = [&](const std::vector<std::string>& texts) {
        std::vector<std::int64_t> ids;
        const ClipTokenizer& tokenizer = pipeline_->tokenizer();
        for (const auto& text : texts) {
            const auto tokens = tokenizer.encode(text).inputIds;
            ids.insert(ids.end(), tokens.begin(), tokens.end());
        }
        const at::Tensor inputIds
            = at::tensor(ids, at::kLong).view({static_cast<std::int64_t>(texts.size()), -1});
        return textEncoder.encode(inputIds, at::ones_like(inputIds)).text_embeds.to(at::kFloat);
    };
    const at::Tensor prompts = textEmbeds(request_.prompts);
    const at::Tensor base = textEmbeds({request_.baseCaption});
    return turnTowardTextDiff(expand(embeds), expand(prompts), base, request_.changeStrength);
}

void UnclipRun::encode()
{
    const auto textEncoder = pipeline_->loadTextEncoder();
    const std::int64_t perInput = request_.imagesPerInput;
    switch (mode_) {
    case Mode::TextToImage:
        encodeTexts(*textEncoder, request_.prompts);
        break;
    case Mode::Variations:
        encodeTexts(*textEncoder, std::vector<std::string>(request_.sourceImages.size(), ""));
        imageEmbeds_ = encodePhotos(*textEncoder).repeat_interleave(perInput, 0);
        break;
    case Mode::ChangedByWords: {
        const std::size_t pairs = std::max(request_.sourceImages.size(), request_.prompts.size());
        std::vector<std::string> texts = request_.prompts;
        if (texts.size() < pairs)
            texts.assign(pairs, request_.prompts.front());
        encodeTexts(*textEncoder, texts);
        imageEmbeds_ = encodePhotos(*textEncoder).repeat_interleave(perInput, 0);
        break;
    }
    case Mode::Embeddings: {
        const FloatArray& given = *request_.imageEmbeddings;
        encodeTexts(*textEncoder, std::vector<std::string>(static_cast<std::size_t>(given.shape[0]), ""));
        imageEmbeds_ = at::tensor(given.values, at::kFloat)
                           .view({given.shape[0], given.shape[1]})
                           .repeat_interleave(perInput, 0);
        break;
    }
    }
    if (imageEmbeds_.defined())
        keep("image_embeds", imageEmbeds_);
    ++progress_.stepsDone;
    if (mode_ == Mode::TextToImage)
        startPrior();
    else
        startDecoder();
}

void UnclipRun::startPrior()
{
    prior_ = pipeline_->loadPrior();
    scheduler_.emplace(pipeline_->priorScheduler());
    timesteps_
        = nn::UnclipScheduler::timesteps(request_.priorSteps, pipeline_->priorScheduler().numTrainTimesteps);
    progress_.stage = GenerationStage::Prior;
    progress_.stageStep = 0;
    progress_.stageSteps = request_.priorSteps;
    latents_ = drawNoise({batch_, prior_->config().embeddingDim}, "prior latents");
}

void UnclipRun::priorStep()
{
    const auto i = static_cast<std::size_t>(progress_.stageStep);
    const std::int64_t t = timesteps_[i];
    const at::Tensor input = guidance_ ? at::cat({latents_, latents_}) : latents_;
    at::Tensor predicted = prior_->forward(input, t, promptEmbeds_, textHidden_, textMask_).to(at::kFloat);
    if (guidance_)
        predicted = nn::classifierFreeGuidance(predicted, request_.priorGuidance, predicted.size(1));
    const std::optional<std::int64_t> prev
        = i + 1 < timesteps_.size() ? std::optional(timesteps_[i + 1]) : std::nullopt;
    const auto stepped = scheduler_->step(predicted, t, prev, latents_, [&](const at::Tensor& like) {
        return drawNoise(sizesOf(like), "prior step noise (t=" + std::to_string(t) + ")");
    });
    latents_ = stepped.prevSample;
    advance();
    if (progress_.stageStep < progress_.stageSteps)
        return;
    imageEmbeds_ = prior_->postProcessLatents(latents_).to(at::kFloat);
    keep("image_embeds", imageEmbeds_);
    prior_.reset(); // the later stages never hold the prior
    startDecoder();
}

void UnclipRun::startDecoder()
{
    {
        const auto textProj = pipeline_->loadTextProj();
        PICTOR_CHECK(imageEmbeds_.size(1) == textProj->config().clipEmbeddingsDim,
            "image embeddings of width ", imageEmbeds_.size(1), " do not fit this model (",
            textProj->config().clipEmbeddingsDim, ")");
        conditioning_ = textProj->forward(imageEmbeds_, promptEmbeds_, textHidden_, guidance_);
        decoderMask_ = at::constant_pad_nd(textMask_, {textProj->config().extraContextTokens, 0}, 1);
    }
    unet_ = pipeline_->loadDecoder();
    scheduler_.emplace(pipeline_->decoderScheduler());
    timesteps_ = nn::UnclipScheduler::timesteps(
        request_.decoderSteps, pipeline_->decoderScheduler().numTrainTimesteps);
    progress_.stage = GenerationStage::Decoder;
    progress_.stageStep = 0;
    progress_.stageSteps = request_.decoderSteps;
    const auto& config = unet_->config();
    latents_
        = drawNoise({batch_, config.inChannels, config.sampleSize, config.sampleSize}, "decoder latents");
}

void UnclipRun::decoderStep()
{
    const auto i = static_cast<std::size_t>(progress_.stageStep);
    const std::int64_t t = timesteps_[i];
    at::Tensor output = runPart(
        [&] {
            return guidance_ ? at::cat({latents_, latents_}) : latents_;
        },
        t, {conditioning_.additiveTimeEmbedding, conditioning_.encoderHiddenStates, decoderMask_});
    if (!output.defined())
        return; // the pass goes on at the next step
    if (guidance_)
        output = nn::classifierFreeGuidance(output, request_.decoderGuidance, latents_.size(1));
    const std::optional<std::int64_t> prev
        = i + 1 < timesteps_.size() ? std::optional(timesteps_[i + 1]) : std::nullopt;
    const auto stepped = scheduler_->step(output, t, prev, latents_, [&](const at::Tensor& like) {
        return drawNoise(sizesOf(like), "decoder step noise (t=" + std::to_string(t) + ")");
    });
    latents_ = stepped.prevSample;
    predOriginal_ = stepped.predOriginalSample;
    advance();
    if (progress_.stageStep < progress_.stageSteps)
        return;
    decoderImage_ = latents_.clamp(-1, 1);
    keep("decoder_image", decoderImage_);
    unet_.reset();
    conditioning_ = {};
    promptEmbeds_ = textHidden_ = textMask_ = decoderMask_ = at::Tensor();
    startSuperRes();
}

void UnclipRun::startSuperRes()
{
    unet_ = pipeline_->loadSuperResFirst();
    scheduler_.emplace(pipeline_->superResScheduler());
    timesteps_ = nn::UnclipScheduler::timesteps(
        request_.superResSteps, pipeline_->superResScheduler().numTrainTimesteps);
    progress_.stage = GenerationStage::SuperRes;
    progress_.stageStep = 0;
    progress_.stageSteps = request_.superResSteps;
    const auto& config = unet_->config();
    latents_ = drawNoise(
        {batch_, config.inChannels / 2, config.sampleSize, config.sampleSize}, "super-res latents");
    upscaled_ = nn::resizeBicubicAntialiased(decoderImage_, config.sampleSize, config.sampleSize);
}

void UnclipRun::superResStep()
{
    const auto i = static_cast<std::size_t>(progress_.stageStep);
    const std::int64_t t = timesteps_[i];
    if (i + 1 == timesteps_.size() && !pass_) { // the last step has a UNet of its own
        unet_.reset();
        unet_ = pipeline_->loadSuperResLast();
    }
    const at::Tensor output = runPart([&] { return at::cat({latents_, upscaled_}, 1); }, t);
    if (!output.defined())
        return; // the pass goes on at the next step
    const std::optional<std::int64_t> prev
        = i + 1 < timesteps_.size() ? std::optional(timesteps_[i + 1]) : std::nullopt;
    const auto stepped = scheduler_->step(output, t, prev, latents_, [&](const at::Tensor& like) {
        return drawNoise(sizesOf(like), "super-res step noise (t=" + std::to_string(t) + ")");
    });
    latents_ = stepped.prevSample;
    predOriginal_ = stepped.predOriginalSample;
    advance();
    if (progress_.stageStep == progress_.stageSteps)
        finish();
}

at::Tensor UnclipRun::runPart(
    const std::function<at::Tensor()>& makeInput, std::int64_t t, const UNet::Conditioning& conditioning)
{
    if (!pass_)
        pass_.emplace(*unet_, makeInput(), t, conditioning);
    if (!pass_->step())
        return {};
    at::Tensor output = pass_->output().to(at::kFloat);
    pass_.reset();
    return output;
}

void UnclipRun::finish()
{
    unet_.reset();
    keep("super_res_image", latents_.clamp(-1, 1));
    result_.images = toImages((latents_ * 0.5f + 0.5f).clamp(0, 1));
    progress_.stage = GenerationStage::Done;
    PICTOR_LOG_INFO("unCLIP: ", result_.images.size(), " images, ", noise_->drawsTaken(), " random draws");
}

std::vector<RgbImage> UnclipRun::preview() const
{
    if (!predOriginal_.defined()
        || (progress_.stage != GenerationStage::Decoder && progress_.stage != GenerationStage::SuperRes))
        return {};
    c10::InferenceMode inferenceMode;
    return toImages((predOriginal_.clamp(-1, 1) * 0.5f + 0.5f));
}

} // namespace pictor::unclip
