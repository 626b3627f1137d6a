#include "core/embedder.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/json_file.h"

namespace pictor {

namespace {
thread_local int modelThreadCap = 0;
}

ModelThreadCap::ModelThreadCap(int threads) : previous_(modelThreadCap)
{
    modelThreadCap = threads;
}

ModelThreadCap::~ModelThreadCap()
{
    modelThreadCap = previous_;
}

int ModelThreadCap::current()
{
    return modelThreadCap;
}

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

ModelFolderType readModelFolderType(const std::filesystem::path& modelDir)
{
    const auto indexFile = modelDir / "model_index.json";
    if (std::filesystem::exists(indexFile))
        return {jsonField<std::string>(readJsonFile(indexFile), "_class_name", indexFile), true};
    const auto configFile = modelDir / "config.json";
    PICTOR_CHECK(std::filesystem::exists(configFile), modelDir.string(),
        ": not a model folder (no config.json, nor a diffusers model_index.json)");
    return {jsonField<std::string>(readJsonFile(configFile), "model_type", configFile), false};
}

ModelRegistry::Family& ModelRegistry::entry(ModelCapability capability, const std::string& folderType)
{
    for (Family& family : families_)
        if (family.capability == capability && family.folderType == folderType)
            return family;
    families_.push_back({capability, folderType, {}, {}, {}});
    return families_.back();
}

void ModelRegistry::registerEmbedder(const std::string& modelType, EmbedderFactory factory)
{
    entry(ModelCapability::Embedding, modelType).embedder = std::move(factory);
}

void ModelRegistry::registerVisionChat(const std::string& modelType, VisionChatFactory factory)
{
    entry(ModelCapability::VisionChat, modelType).visionChat = std::move(factory);
}

void ModelRegistry::registerImageGenerator(const std::string& pipelineClass, ImageGeneratorFactory factory)
{
    entry(ModelCapability::ImageGeneration, pipelineClass).imageGenerator = std::move(factory);
}

std::vector<std::string> ModelRegistry::typesOf(ModelCapability capability) const
{
    std::vector<std::string> types;
    for (const Family& family : families_)
        if (family.capability == capability)
            types.push_back(family.folderType);
    std::sort(types.begin(), types.end());
    return types;
}

std::vector<std::string> ModelRegistry::embedderTypes() const
{
    return typesOf(ModelCapability::Embedding);
}

std::vector<std::string> ModelRegistry::visionChatTypes() const
{
    return typesOf(ModelCapability::VisionChat);
}

std::vector<std::string> ModelRegistry::imageGeneratorTypes() const
{
    return typesOf(ModelCapability::ImageGeneration);
}

std::optional<ModelCapability> ModelRegistry::capabilityOf(const std::filesystem::path& modelDir) const
{
    const ModelFolderType type = readModelFolderType(modelDir);
    for (const Family& family : families_)
        if (family.folderType == type.name
            && (family.capability == ModelCapability::ImageGeneration) == type.pipeline)
            return family.capability;
    return std::nullopt;
}

const ModelRegistry::Family& ModelRegistry::family(
    ModelCapability capability, const std::filesystem::path& modelDir, const char* whatItIs) const
{
    PICTOR_CHECK(std::filesystem::is_directory(modelDir), modelDir.string(), ": not a model folder");
    PICTOR_CHECK(capability != ModelCapability::ImageGeneration
            || std::filesystem::exists(modelDir / "model_index.json"),
        modelDir.string(), ": not a diffusers pipeline folder (no model_index.json)");
    const ModelFolderType type = readModelFolderType(modelDir);
    for (const Family& candidate : families_)
        if (candidate.capability == capability && candidate.folderType == type.name)
            return candidate;
    std::string supported;
    for (const auto& name : typesOf(capability))
        supported += (supported.empty() ? "" : ", ") + name;
    const char* file = type.pipeline ? "model_index.json" : "config.json";
    const char* field = type.pipeline ? "pipeline" : "model_type";
    PICTOR_FAIL((modelDir / file).string(), ": ", field, " '", type.name, "' is not ", whatItIs,
        " Pictor supports (supported: ", supported.empty() ? "none" : supported, ")");
}

std::unique_ptr<ImageTextEmbedder> ModelRegistry::loadEmbedder(
    const std::filesystem::path& modelDir, const EmbedderOptions& options) const
{
    return family(ModelCapability::Embedding, modelDir, "an image-text embedding model")
        .embedder(modelDir, options);
}

std::unique_ptr<VisionChat> ModelRegistry::loadVisionChat(
    const std::filesystem::path& modelDir, const VisionChatOptions& options) const
{
    return family(ModelCapability::VisionChat, modelDir, "a captioning / question-answering model")
        .visionChat(modelDir, options);
}

std::unique_ptr<ImageGenerator> ModelRegistry::loadImageGenerator(
    const std::filesystem::path& modelDir, const GeneratorOptions& options) const
{
    return family(ModelCapability::ImageGeneration, modelDir, "an image generator")
        .imageGenerator(modelDir, options);
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
