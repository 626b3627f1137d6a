#include "core/embedder.h"

#include <cmath>

#include "core/error.h"
#include "core/json_file.h"

namespace pictor {

EmbeddingMatrix ImageTextEmbedder::embedImages(const std::vector<RgbImage>& images)
{
    const ImagePreprocessConfig& config = preprocessing();
    const std::size_t perImage = 3ull * config.outputHeight() * config.outputWidth();
    std::vector<float> pixelValues(perImage * images.size());
    for (std::size_t i = 0; i < images.size(); ++i) {
        const std::vector<float> one = preprocessImage(images[i], config);
        std::copy(one.begin(), one.end(), pixelValues.begin() + static_cast<std::ptrdiff_t>(i * perImage));
    }
    return embedPixelValues(pixelValues.data(), static_cast<int>(images.size()));
}

void ModelRegistry::registerEmbedder(const std::string& modelType, EmbedderFactory factory)
{
    embedders_[modelType] = std::move(factory);
}

std::vector<std::string> ModelRegistry::embedderTypes() const
{
    std::vector<std::string> types;
    for (const auto& [type, factory] : embedders_)
        types.push_back(type);
    return types;
}

std::string readModelType(const std::filesystem::path& modelDir)
{
    const auto configFile = modelDir / "config.json";
    return jsonField<std::string>(readJsonFile(configFile), "model_type", configFile);
}

std::unique_ptr<ImageTextEmbedder> ModelRegistry::loadEmbedder(
    const std::filesystem::path& modelDir, const EmbedderOptions& options) const
{
    PICTOR_CHECK(std::filesystem::is_directory(modelDir), modelDir.string(), ": not a model folder");
    const std::string type = readModelType(modelDir);
    auto it = embedders_.find(type);
    if (it == embedders_.end()) {
        std::string supported;
        for (const auto& name : embedderTypes())
            supported += (supported.empty() ? "" : ", ") + name;
        PICTOR_FAIL((modelDir / "config.json").string(), ": model_type '", type,
            "' is not an image-text embedding model Pictor supports (supported: ", supported, ")");
    }
    return it->second(modelDir, options);
}

void ModelRegistry::registerVisionChat(const std::string& modelType, VisionChatFactory factory)
{
    visionChats_[modelType] = std::move(factory);
}

std::vector<std::string> ModelRegistry::visionChatTypes() const
{
    std::vector<std::string> types;
    for (const auto& [type, factory] : visionChats_)
        types.push_back(type);
    return types;
}

std::unique_ptr<VisionChat> ModelRegistry::loadVisionChat(
    const std::filesystem::path& modelDir, const VisionChatOptions& options) const
{
    PICTOR_CHECK(std::filesystem::is_directory(modelDir), modelDir.string(), ": not a model folder");
    const std::string type = readModelType(modelDir);
    auto it = visionChats_.find(type);
    if (it == visionChats_.end()) {
        std::string supported;
        for (const auto& name : visionChatTypes())
            supported += (supported.empty() ? "" : ", ") + name;
        PICTOR_FAIL((modelDir / "config.json").string(), ": model_type '", type,
            "' is not a captioning / question-answering model Pictor supports (supported: ",
            supported.empty() ? "none" : supported, ")");
    }
    return it->second(modelDir, options);
}

void ModelRegistry::registerImageGenerator(const std::string& pipelineClass, ImageGeneratorFactory factory)
{
    imageGenerators_[pipelineClass] = std::move(factory);
}

std::vector<std::string> ModelRegistry::imageGeneratorTypes() const
{
    std::vector<std::string> types;
    for (const auto& [type, factory] : imageGenerators_)
        types.push_back(type);
    return types;
}

std::string readPipelineClass(const std::filesystem::path& modelDir)
{
    const auto indexFile = modelDir / "model_index.json";
    PICTOR_CHECK(std::filesystem::exists(indexFile), modelDir.string(),
        ": not a diffusers pipeline folder (no model_index.json)");
    return jsonField<std::string>(readJsonFile(indexFile), "_class_name", indexFile);
}

std::unique_ptr<ImageGenerator> ModelRegistry::loadImageGenerator(
    const std::filesystem::path& modelDir, const GeneratorOptions& options) const
{
    PICTOR_CHECK(std::filesystem::is_directory(modelDir), modelDir.string(), ": not a model folder");
    const std::string type = readPipelineClass(modelDir);
    auto it = imageGenerators_.find(type);
    if (it == imageGenerators_.end()) {
        std::string supported;
        for (const auto& name : imageGeneratorTypes())
            supported += (supported.empty() ? "" : ", ") + name;
        PICTOR_FAIL((modelDir / "model_index.json").string(), ": pipeline '", type,
            "' is not an image generator Pictor supports (supported: ",
            supported.empty() ? "none" : supported, ")");
    }
    return it->second(modelDir, options);
}

void normalizeRows(EmbeddingMatrix& matrix)
{
    for (int r = 0; r < matrix.rows; ++r) {
        float* row = matrix.values.data() + static_cast<std::size_t>(r) * matrix.dim;
        double sum = 0;
        for (int c = 0; c < matrix.dim; ++c)
            sum += double(row[c]) * row[c];
        if (sum <= 0)
            continue;
        const float inverse = static_cast<float>(1.0 / std::sqrt(sum));
        for (int c = 0; c < matrix.dim; ++c)
            row[c] *= inverse;
    }
}

} // namespace pictor
