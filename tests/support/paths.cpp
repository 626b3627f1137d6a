#include "tests/support/paths.h"

#include <cstdlib>
#include <random>
#include <vector>

namespace pictor::test {
namespace {

std::filesystem::path fromEnv(const char* variable, const char* fallback)
{
    const char* value = std::getenv(variable);
    return std::filesystem::path(value && *value ? value : fallback);
}

struct ScratchDirs {
    std::vector<std::filesystem::path> dirs;
    ~ScratchDirs()
    {
        for (const auto& dir : dirs) {
            std::error_code ignored;
            std::filesystem::remove_all(dir, ignored);
        }
    }
};

} // namespace

std::filesystem::path fixturesDir()
{
    return fromEnv("PICTOR_FIXTURES", PICTOR_DEFAULT_FIXTURES_DIR);
}

std::filesystem::path fixtureDir(const std::string& name)
{
    return fixturesDir() / name;
}

std::filesystem::path realInputsDir()
{
    return fromEnv("PICTOR_REAL_INPUTS", PICTOR_DEFAULT_REAL_INPUTS_DIR);
}

std::filesystem::path scratchDir(const std::string& tag)
{
    static ScratchDirs scratch;
    std::random_device seed;
    auto dir = std::filesystem::temp_directory_path() / ("pictor-test-" + tag + "-" + std::to_string(seed()));
    std::filesystem::create_directories(dir);
    scratch.dirs.push_back(dir);
    return dir;
}

} // namespace pictor::test
