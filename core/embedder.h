// The ImageTextEmbedder interface (CLIP today, SigLIP later) and the registry that picks a family by
// the checkpoint's model_type, for embedders and for vision chat models (core/vision_chat.h). No Torch
// here: the app and the indexer see only this.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
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

// model_type -> factory. Families register explicitly from the composition root (no static-init magic).
class ModelRegistry {
public:
    void registerEmbedder(const std::string& modelType, EmbedderFactory factory);
    // Reads <modelDir>/config.json; an unknown model_type is an error naming the supported ones.
    std::unique_ptr<ImageTextEmbedder> loadEmbedder(
        const std::filesystem::path& modelDir, const EmbedderOptions& options = {}) const;
    std::vector<std::string> embedderTypes() const;

    void registerVisionChat(const std::string& modelType, VisionChatFactory factory);
    // As loadEmbedder, for models that caption and answer questions about photos (model_type "llava").
    std::unique_ptr<VisionChat> loadVisionChat(
        const std::filesystem::path& modelDir, const VisionChatOptions& options = {}) const;
    std::vector<std::string> visionChatTypes() const;

    // Generators are diffusers pipeline folders, recognised by model_index.json's _class_name
    // ("UnCLIPPipeline"), not by a config.json model_type.
    void registerImageGenerator(const std::string& pipelineClass, ImageGeneratorFactory factory);
    std::unique_ptr<ImageGenerator> loadImageGenerator(
        const std::filesystem::path& modelDir, const GeneratorOptions& options = {}) const;
    std::vector<std::string> imageGeneratorTypes() const;

private:
    std::map<std::string, ImageGeneratorFactory> imageGenerators_;
    std::map<std::string, EmbedderFactory> embedders_;
    std::map<std::string, VisionChatFactory> visionChats_;
};

// The model_type field of a model folder's config.json (errors name the file).
std::string readModelType(const std::filesystem::path& modelDir);

// The _class_name of a diffusers pipeline folder's model_index.json (errors name the file).
std::string readPipelineClass(const std::filesystem::path& modelDir);

// L2-normalises each row in place (rows of zeros stay zero).
void normalizeRows(EmbeddingMatrix& matrix);

} // namespace pictor
