// The ImageTextEmbedder interface (CLIP today, SigLIP later) and the registry that picks a family by
// the checkpoint's model_type, for embedders and for vision chat models (core/vision_chat.h). No Torch
// here: the app and the indexer see only this.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/image.h"
#include "core/image_generator.h"
#include "core/preprocess.h"
#include "core/vision_chat.h"

namespace pictor {

// Row-major float32 [rows, dim].
struct EmbeddingMatrix {
    int rows = 0;
    int dim = 0;
    std::vector<float> values;

    const float* row(int i) const { return values.data() + static_cast<std::size_t>(i) * dim; }
};

struct EmbedderOptions {
    std::string device = "auto"; // auto, cpu or cuda
    int cpuThreads = 0; // 0: every core
    // Inputs per forward pass. On CPU batch 8 beats 32 (bench/clip_bench, ViT-B/32: 16 vs 10 images/s).
    int maxBatch = 8;
    std::string dtype = "auto"; // auto (nn::chooseNumberFormat), float32, bfloat16 or float16 (CUDA)
};

// The most CPU threads a model's matrix products may use on the calling thread while this guard lives
// (0: no cap beyond the settings'). Indexing gives the image model part of the cores and its decoders the
// rest (indexer/index_job.cpp), so the model's idle threads do not spin on the cores the decoders need.
class ModelThreadCap {
public:
    explicit ModelThreadCap(int threads);
    ~ModelThreadCap();
    ModelThreadCap(const ModelThreadCap&) = delete;
    ModelThreadCap& operator=(const ModelThreadCap&) = delete;
    static int current();

private:
    int previous_;
};

class ImageTextEmbedder {
public:
    virtual ~ImageTextEmbedder() = default;

    // Stable across runs and machines for the same checkpoint; changes when the weights change.
    virtual std::string modelId() const = 0;
    virtual std::string family() const = 0;
    virtual int dimension() const = 0;
    virtual const ImagePreprocessConfig& preprocessing() const = 0;
    virtual std::string deviceDescription() const = 0; // "CPU float32", "CUDA:0 float16"
    // Why that number format ("native on this CPU (AVX512_BF16)", "as asked"); empty when not said.
    virtual std::string numberFormatReason() const { return {}; }
    virtual float logitScale() const = 0; // exp() of the checkpoint's logit_scale

    // Projected embeddings before L2 normalisation, float32, one row per input.
    virtual EmbeddingMatrix embedTexts(const std::vector<std::string>& texts) = 0;
    // `pixelValues` holds count x 3 x H x W floats as produced by preprocessImage().
    virtual EmbeddingMatrix embedPixelValues(const float* pixelValues, int count) = 0;

    // Preprocesses with the model's own parameters, then embeds.
    EmbeddingMatrix embedImages(const std::vector<RgbImage>& images);
};

using EmbedderFactory = std::function<std::unique_ptr<ImageTextEmbedder>(
    const std::filesystem::path& modelDir, const EmbedderOptions&)>;
using VisionChatFactory = std::function<std::unique_ptr<VisionChat>(
    const std::filesystem::path& modelDir, const VisionChatOptions&)>;
using ImageGeneratorFactory = std::function<std::unique_ptr<ImageGenerator>(
    const std::filesystem::path& modelDir, const GeneratorOptions&)>;

// What a model folder says it is: a diffusers pipeline's model_index.json `_class_name` ("UnCLIPPipeline"),
// else config.json's `model_type` ("clip", "llava"). The one reader of a folder's type: the registry,
// model discovery, verification and the window all ask it.
struct ModelFolderType {
    std::string name;
    bool pipeline = false; // read from model_index.json
};
// Errors name the file (a folder with neither file, unreadable JSON, no type field).
ModelFolderType readModelFolderType(const std::filesystem::path& modelDir);

enum class ModelCapability { Embedding, VisionChat, ImageGeneration };

// One table of families: each registers what it can do, the folder type it recognises and its factory.
// Families register explicitly from the composition root (no static-init magic).
class ModelRegistry {
public:
    void registerEmbedder(const std::string& modelType, EmbedderFactory factory);
    void registerVisionChat(const std::string& modelType, VisionChatFactory factory);
    // Generators are diffusers pipeline folders, recognised by model_index.json's _class_name.
    void registerImageGenerator(const std::string& pipelineClass, ImageGeneratorFactory factory);

    // What the family of this folder can do; nullopt when no family recognises it (or it has no type).
    std::optional<ModelCapability> capabilityOf(const std::filesystem::path& modelDir) const;

    // Each reads the folder's type; a type no family of that capability has is an error naming the
    // supported ones.
    std::unique_ptr<ImageTextEmbedder> loadEmbedder(
        const std::filesystem::path& modelDir, const EmbedderOptions& options = {}) const;
    std::unique_ptr<VisionChat> loadVisionChat(
        const std::filesystem::path& modelDir, const VisionChatOptions& options = {}) const;
    std::unique_ptr<ImageGenerator> loadImageGenerator(
        const std::filesystem::path& modelDir, const GeneratorOptions& options = {}) const;

    std::vector<std::string> embedderTypes() const; // sorted
    std::vector<std::string> visionChatTypes() const;
    std::vector<std::string> imageGeneratorTypes() const;

private:
    struct Family {
        ModelCapability capability;
        std::string folderType;
        EmbedderFactory embedder;
        VisionChatFactory visionChat;
        ImageGeneratorFactory imageGenerator;
    };
    Family& entry(ModelCapability capability, const std::string& folderType);
    const Family& family(
        ModelCapability capability, const std::filesystem::path& modelDir, const char* whatItIs) const;
    std::vector<std::string> typesOf(ModelCapability capability) const;
    std::vector<Family> families_;
};

// L2-normalises each row in place (rows of zeros stay zero).
void normalizeRows(EmbeddingMatrix& matrix);

} // namespace pictor
