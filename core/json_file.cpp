#include "core/json_file.h"

#include <fstream>

namespace pictor {

nlohmann::json readJsonFile(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    PICTOR_CHECK(in.good(), file.string(), ": cannot open");
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        PICTOR_FAIL(file.string(), ": not valid JSON (", e.what(), ")");
    }
}

} // namespace pictor
