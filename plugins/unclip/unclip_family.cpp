#include "plugins/unclip/unclip_family.h"

#include "core/error.h"
#include "core/model_id.h"
#include "plugins/unclip/unclip_run.h"

namespace pictor::unclip {
namespace {

class UnclipGenerator final : public ImageGenerator {
public:
    UnclipGenerator(const std::filesystem::path& modelDir, const GeneratorOptions& options)
    {
        UnclipFolder folder = UnclipFolder::open(modelDir);
        modelId_ = computeModelId("unclip", modelDir / "model_index.json",
            Checkpoint::open(componentWeights(folder.decoder, "diffusion_pytorch_model")));
        nn::setCpuThreads(options.cpuThreads);
        pipeline_ = std::make_shared<const UnclipPipeline>(
            std::move(folder), resolveGeneratorDevice(options.device, options.dtype));
    }

    std::string modelId() const override { return modelId_; }
    std::string family() const override { return "unclip"; }
    std::string deviceDescription() const override { return pipeline_->device().describe(); }
    bool canGenerateFromText() const override { return pipeline_->folder().hasPrior(); }
    bool canUsePhotos() const override { return pipeline_->folder().hasImageEncoder(); }

    std::vector<GeneratorComponent> verifyComponents() const override
    {
        return pipeline_->verifyComponents();
    }

    std::unique_ptr<GenerationStream> start(const GenerationRequest& request) override
    {
        return std::make_unique<UnclipRun>(pipeline_, request);
    }

private:
    std::string modelId_;
    std::shared_ptr<const UnclipPipeline> pipeline_;
};

} // namespace

std::unique_ptr<ImageGenerator> loadUnclipGenerator(
    const std::filesystem::path& modelDir, const GeneratorOptions& options)
{
    return std::make_unique<UnclipGenerator>(modelDir, options);
}

void registerUnclipFamily(ModelRegistry& registry)
{
    registry.registerImageGenerator("UnCLIPPipeline", loadUnclipGenerator);
    registry.registerImageGenerator("UnCLIPImageVariationPipeline", loadUnclipGenerator);
}

} // namespace pictor::unclip
