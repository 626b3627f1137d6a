#include "app/library_access.h"

#include "core/error.h"

namespace pictor::app {

std::filesystem::path libraryDir(const std::string& option)
{
    return option.empty() ? Library::defaultDir() : std::filesystem::path(option);
}

std::unique_ptr<ImageTextEmbedder> loadLibraryEmbedder(
    const ModelRegistry& registry, const Library& library, const std::string& modelOption)
{
    std::filesystem::path model = modelOption;
    if (model.empty()) {
        const auto remembered = library.modelDir();
        PICTOR_CHECK(remembered.has_value(), "no embedding model chosen for the library at ",
            library.dir().string(), ": pass --model DIR (a Hugging Face CLIP folder)");
        model = *remembered;
    }
    return registry.loadEmbedder(model);
}

std::string jsonText(const nlohmann::json& value, int indent)
{
    return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace pictor::app
