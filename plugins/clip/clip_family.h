// Registers the CLIP family (model_type "clip") with a model registry. No Torch in this header.
#pragma once

#include "core/embedder.h"

namespace pictor::clip {

void registerClipFamily(ModelRegistry& registry);

// Loads a CLIP folder directly (what the registry's factory does).
std::unique_ptr<ImageTextEmbedder> loadClipEmbedder(
    const std::filesystem::path& modelDir, const EmbedderOptions& options);

} // namespace pictor::clip
