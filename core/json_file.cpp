#include "core/json_file.h"

#include "core/regular_file.h"

namespace pictor {

nlohmann::json readJsonFile(const std::filesystem::path& file)
{
    const std::string text = readRegularFile(file, std::size_t {64} << 20); // configs are small
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        PICTOR_FAIL(file.string(), ": not valid JSON (", e.what(), ")");
    }
}

} // namespace pictor
