// Registers the unCLIP family (diffusers UnCLIPPipeline and UnCLIPImageVariationPipeline folders) with a
// model registry. No Torch in this header.
#pragma once

#include "core/embedder.h"

namespace pictor::unclip {

void registerUnclipFamily(ModelRegistry& registry);

// Loads an unCLIP pipeline folder directly (what the registry's factory does). Only configs, the
// tokenizer and file headers are read here; each component loads when a generation needs it.
std::unique_ptr<ImageGenerator> loadUnclipGenerator(
    const std::filesystem::path& modelDir, const GeneratorOptions& options);

} // namespace pictor::unclip
