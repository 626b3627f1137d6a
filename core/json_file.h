// JSON files of model folders (config.json, preprocessor_config.json, ...), with errors naming the file.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace pictor {

// Parses a JSON file; a missing file or a syntax error is a pictor::Error naming the file.
nlohmann::json readJsonFile(const std::filesystem::path& file);

// Typed field access with errors that name the file and the key ("config.json: 'hidden_size' ...").
template <typename T>
T jsonField(const nlohmann::json& object, const std::string& key, const std::filesystem::path& file);
template <typename T>
T jsonFieldOr(
    const nlohmann::json& object, const std::string& key, T fallback, const std::filesystem::path& file);

} // namespace pictor

#include "core/json_file_impl.h"
