// The ImageGenerator interface (unCLIP today): pictures from text, variations of a photo, a photo changed
// by words, or pictures decoded from CLIP image embeddings. A generation runs as a stream of steps (one
// diffusion step per step(), like AnswerStream), so the compute worker can run a search between two
// steps; it reports per-stage progress, shows a preview after each decoder and super-resolution step and
// stops between steps when cancelled. No Torch here: the app, the CLI and the worker see only this.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/image.h"

namespace pictor {

struct GeneratorOptions {
    std::string device = "auto"; // auto, cpu or cuda
    // auto: float16 on CUDA; on the CPU bfloat16 where the processor has it natively (AVX512_BF16), else
    // float32. Or float32, bfloat16, float16 (CUDA).
    std::string dtype = "auto";
    int cpuThreads = 0; // 0: every core
};

// Row-major float32 data with its shape (CLIP image embeddings, intermediate images).
struct FloatArray {
    std::vector<std::int64_t> shape;
    std::vector<float> values;
};

struct GenerationRequest {
    // Text to image: the prompts. With sourceImages: the change in words ("in snow").
    std::vector<std::string> prompts;
    // Variations of these photos, or the photos changed by the prompts (one photo and several prompts,
    // or several photos and one prompt).
    std::vector<RgbImage> sourceImages;
    // Decode these CLIP image embeddings [count, dim] (no prior); exclusive with sourceImages.
    std::optional<FloatArray> imageEmbeddings;
    int imagesPerInput = 1; // images made for each prompt, photo or embedding
    std::uint64_t seed = 0;
    // Take every random draw, in order, from this safetensors file (random_draw.00, ...) instead of the seed.
    std::filesystem::path replayNoise;
    int priorSteps = 25;
    int decoderSteps = 25;
    int superResSteps = 7;
    float priorGuidance = 4.0f;
    float decoderGuidance = 8.0f;
    // A photo changed by words (DALL-E 2's text diff): how far the photo's embedding turns toward the
    // difference between the prompt and baseCaption (0: the photo, 1: the words alone).
    float changeStrength = 0.3f;
    std::string baseCaption = "a photo";
    bool keepIntermediates = false; // result().intermediates: image_embeds, decoder_image, super_res_image
    const std::atomic<bool>* cancel = nullptr; // checked before every step
};

enum class GenerationStage { Encode, Prior, Decoder, SuperRes, Done };
std::string stageName(GenerationStage stage); // "encoding", "prior", "decoder", "super-resolution", "done"

struct GenerationProgress {
    GenerationStage stage = GenerationStage::Encode;
    int stageStep = 0; // steps of this stage done
    int stageSteps = 0;
    int stepsDone = 0; // over the whole run
    int totalSteps = 0;
};

struct GenerationResult {
    std::vector<RgbImage> images;
    // On request: "image_embeds" [B, dim] (the prior's output or the embeddings decoded),
    // "decoder_image" [B, 3, 64, 64] and "super_res_image" [B, 3, 256, 256], float NCHW in [-1, 1].
    std::map<std::string, FloatArray> intermediates;
    bool cancelled = false;
};

class GenerationStream {
public:
    virtual ~GenerationStream() = default;
    // Runs one step: the encoding, a prior step, or one part of a decoder or super-resolution step (a
    // resnet block of its UNet pass: at Karlo's shapes a super-resolution pass takes seconds, and the
    // compute worker runs other jobs between steps). Components load when their stage begins and are
    // released when it ends. Returns true when the run is finished (or cancelled).
    virtual bool step() = 0;
    virtual bool finished() const = 0;
    virtual GenerationProgress progress() const = 0;
    // The current estimate of the pictures during the decoder and super-resolution stages (empty before).
    virtual std::vector<RgbImage> preview() const = 0;
    virtual const GenerationResult& result() const = 0; // complete once finished()
};

// One component of a generator as verification found it (every tensor bound strictly).
struct GeneratorComponent {
    std::string name; // "decoder"
    std::string className; // "UNet2DConditionModel"
    std::int64_t parameters = 0;
    std::size_t tensors = 0;
    std::size_t files = 0; // safetensors files
    std::uint64_t bytes = 0; // on disk
};

class ImageGenerator {
public:
    virtual ~ImageGenerator() = default;
    virtual std::string modelId() const = 0;
    virtual std::string family() const = 0; // "unclip"
    virtual std::string deviceDescription() const = 0;
    virtual bool canGenerateFromText() const = 0; // has a prior
    virtual bool canUsePhotos() const = 0; // has an image encoder

    // Loads every component, one at a time, binding each tensor strictly (for `pictor models verify`).
    virtual std::vector<GeneratorComponent> verifyComponents() const = 0;

    // Checks the request (refusals are thrown here; nothing heavy runs), then returns the stream.
    virtual std::unique_ptr<GenerationStream> start(const GenerationRequest& request) = 0;
    // start() and every step, calling onProgress after each.
    GenerationResult generate(const GenerationRequest& request,
        const std::function<void(const GenerationProgress&)>& onProgress = {});
};

// A whole request's number of images: (prompts, photos or embeddings) x imagesPerInput.
int requestedImageCount(const GenerationRequest& request);

} // namespace pictor
