// What the library commands share: where the library is and which embedding model it uses.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/embedder.h"
#include "indexer/library.h"

namespace pictor::app {

// --library DIR, else the XDG data folder.
std::filesystem::path libraryDir(const std::string& option);

// --model DIR, else the model the library was last indexed with; an error says how to choose one.
std::unique_ptr<ImageTextEmbedder> loadLibraryEmbedder(
    const ModelRegistry& registry, const Library& library, const std::string& modelOption);

} // namespace pictor::app
