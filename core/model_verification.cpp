#include "core/model_verification.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "core/safetensors.h"

namespace pictor {

ModelVerification verifyModelFolder(const ModelRegistry& registry, const std::filesystem::path& dir)
{
    PICTOR_CHECK(std::filesystem::is_directory(dir), dir.string(), ": not a model folder");
    ModelVerification result;
    const std::optional<ModelCapability> capability = registry.capabilityOf(dir);
    if (capability == ModelCapability::ImageGeneration) {
        GeneratorOptions options;
        options.device = "cpu";
        options.dtype = "float32";
        const auto generator = registry.loadImageGenerator(dir, options);
        result.family = generator->family();
        result.modelId = generator->modelId();
        result.components = generator->verifyComponents();
        for (const GeneratorComponent& component : result.components) {
            result.tensors += component.tensors;
            result.files += component.files;
            result.tensorBytes += component.bytes;
        }
        return result;
    }
    if (capability == ModelCapability::VisionChat) {
        VisionChatOptions options;
        options.device = "cpu";
        const auto chat = registry.loadVisionChat(dir, options);
        result.family = chat->family();
        result.modelId = chat->modelId();
        result.chatTemplate = chat->chatTemplateName();
    } else {
        EmbedderOptions options;
        options.device = "cpu";
        const auto embedder = registry.loadEmbedder(dir, options);
        result.family = embedder->family();
        result.modelId = embedder->modelId();
        result.dimension = embedder->dimension();
        result.imageWidth = embedder->preprocessing().outputWidth();
        result.imageHeight = embedder->preprocessing().outputHeight();
    }
    const Checkpoint checkpoint = Checkpoint::open(dir);
    result.tensors = checkpoint.size();
    result.files = checkpoint.files().size();
    result.tensorBytes = checkpoint.totalBytes();
    return result;
}

std::string describeVerification(const ModelVerification& result, const std::filesystem::path& dir)
{
    std::ostringstream out;
    out << "OK " << dir.string() << '\n'
        << "  family:        " << result.family << '\n'
        << "  model id:      " << result.modelId << '\n';
    if (result.dimension > 0)
        out << "  embedding dim: " << result.dimension << '\n';
    if (!result.chatTemplate.empty())
        out << "  chat template: " << result.chatTemplate << '\n';
    out << "  tensors:       " << result.tensors << " in " << result.files << " file(s), "
        << static_cast<double>(result.tensorBytes) / (1024.0 * 1024.0) << " MiB\n";
    if (result.imageWidth > 0)
        out << "  image input:   " << result.imageWidth << "x" << result.imageHeight << '\n';
    for (const GeneratorComponent& component : result.components) {
        char line[256];
        std::snprintf(line, sizeof line, "  %-16s %-29s %13lld parameters, %zu tensors, %.1f MiB\n",
            (component.name + ":").c_str(), component.className.c_str(),
            static_cast<long long>(component.parameters), component.tensors,
            static_cast<double>(component.bytes) / (1024.0 * 1024.0));
        out << line;
    }
    return out.str();
}

} // namespace pictor
