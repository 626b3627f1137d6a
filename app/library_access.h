// What the library commands share: where the library is and which embedding model it uses.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/embedder.h"
#include "indexer/library.h"
#include "indexer/model_host.h"

namespace pictor::app {

// --library DIR, else the XDG data folder.
std::filesystem::path libraryDir(const std::string& option);

enum class ModelUse { Index, Search };
// Index: --model DIR, else the model the library was last indexed with (indexing with --model is how a
// library changes model). Search: Library::searchModelDir, the window's rule (a note on stderr says so when
// it is not --model). An error says how to choose one when there is none.
// `dtype`: the number format (--dtype: auto, float32, bfloat16).
std::shared_ptr<ImageTextEmbedder> loadLibraryEmbedder(ModelHost& models, const Library& library,
    const std::string& modelOption, ModelUse use, const std::string& dtype = "auto");

// --dtype on the commands that embed: the number format of the search model's matrix products.
void addNumberFormatOption(CLI::App& command, std::string& dtype);
// --dtype of the commands that run a language model (caption, ask): also int8, 8-bit weights.
void addChatNumberFormatOption(CLI::App& command, std::string& dtype);
// --library, --model (default: the library's search model) and --dtype of the commands that read a library
// with its search model (search, autotag, duplicates).
void addSearchModelOptions(CLI::App& command, std::string& library, std::string& model, std::string& dtype);

// JSON text for --json output. File names need not be UTF-8 (JSON strings must be): invalid bytes
// become U+FFFD instead of aborting the output; the catalog keeps the exact bytes.
std::string jsonText(const nlohmann::json& value, int indent = -1);

} // namespace pictor::app
