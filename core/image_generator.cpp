#include "core/image_generator.h"

#include <algorithm>

namespace pictor {

std::string stageName(GenerationStage stage)
{
    switch (stage) {
    case GenerationStage::Encode:
        return "encoding";
    case GenerationStage::Prior:
        return "prior";
    case GenerationStage::Decoder:
        return "decoder";
    case GenerationStage::SuperRes:
        return "super-resolution";
    case GenerationStage::Done:
        return "done";
    }
    return "?";
}

int requestedImageCount(const GenerationRequest& request)
{
    std::size_t inputs = request.prompts.size();
    if (!request.sourceImages.empty())
        inputs = std::max(request.sourceImages.size(), std::max<std::size_t>(request.prompts.size(), 1));
    else if (request.imageEmbeddings && !request.imageEmbeddings->shape.empty())
        inputs = static_cast<std::size_t>(request.imageEmbeddings->shape[0]);
    return static_cast<int>(inputs) * request.imagesPerInput;
}

GenerationResult ImageGenerator::generate(
    const GenerationRequest& request, const std::function<void(const GenerationProgress&)>& onProgress)
{
    std::unique_ptr<GenerationStream> stream = start(request);
    while (!stream->step()) {
        if (onProgress)
            onProgress(stream->progress());
    }
    if (onProgress)
        onProgress(stream->progress());
    return stream->result();
}

} // namespace pictor
