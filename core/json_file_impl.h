// Template definitions for core/json_file.h.
#pragma once

#include "core/error.h"

namespace pictor {

template <typename T>
T jsonField(const nlohmann::json& object, const std::string& key, const std::filesystem::path& file)
{
    auto it = object.find(key);
    PICTOR_CHECK(it != object.end() && !it->is_null(), file.string(), ": missing field '", key, "'");
    try {
        return it->template get<T>();
    } catch (const nlohmann::json::exception&) {
        PICTOR_FAIL(file.string(), ": field '", key, "' has the wrong type (", it->type_name(), ")");
    }
}

template <typename T>
T jsonFieldOr(
    const nlohmann::json& object, const std::string& key, T fallback, const std::filesystem::path& file)
{
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
        return fallback;
    return jsonField<T>(object, key, file);
}

} // namespace pictor
