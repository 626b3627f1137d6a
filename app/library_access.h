// What the library commands share: where the library is and which embedding model it uses.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/embedder.h"
#include "indexer/library.h"

namespace pictor::app {

// --library DIR, else the XDG data folder.
std::filesystem::path libraryDir(const std::string& option);

// --model DIR, else the model the library was last indexed with; an error says how to choose one.
std::unique_ptr<ImageTextEmbedder> loadLibraryEmbedder(
    const ModelRegistry& registry, const Library& library, const std::string& modelOption);

// JSON text for --json output. File names need not be UTF-8 (JSON strings must be): invalid bytes
// become U+FFFD instead of aborting the output; the catalog keeps the exact bytes.
std::string jsonText(const nlohmann::json& value, int indent = -1);

} // namespace pictor::app
