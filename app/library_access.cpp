#include "app/library_access.h"

#include <cstdio>

#include "core/error.h"

namespace pictor::app {

std::filesystem::path libraryDir(const std::string& option)
{
    return option.empty() ? Library::defaultDir() : std::filesystem::path(option);
}

std::shared_ptr<ImageTextEmbedder> loadLibraryEmbedder(ModelHost& models, const Library& library,
    const std::string& modelOption, ModelUse use, const std::string& dtype)
{
    std::filesystem::path model = modelOption;
    if (use == ModelUse::Search) {
        model = Library::searchModelDir(library.dir(), modelOption);
        if (!modelOption.empty() && model != std::filesystem::path(modelOption))
            std::fprintf(stderr,
                "pictor: note: searching with %s, the library's model, until every photo is indexed with "
                "%s\n",
                model.string().c_str(), modelOption.c_str());
    } else if (model.empty()) {
        model = library.modelDir().value_or(std::filesystem::path());
    }
    PICTOR_CHECK(!model.empty(), "no embedding model chosen for the library at ", library.dir().string(),
        ": pass --model DIR (a Hugging Face CLIP folder)");
    EmbedderOptions options;
    options.dtype = dtype;
    return models.worker().run(JobPriority::Interactive, [&] { return models.embedder(model, options); });
}

void addNumberFormatOption(CLI::App& command, std::string& dtype)
{
    command
        .add_option("--dtype", dtype,
            "Number format of the model's matrix products: auto (bfloat16 where the CPU has it natively, "
            "else float32), float32 or bfloat16")
        ->check(CLI::IsMember({"auto", "float32", "bfloat16"}));
}

void addChatNumberFormatOption(CLI::App& command, std::string& dtype)
{
    command
        .add_option("--dtype", dtype,
            "Number format: auto (bfloat16 on CPUs that compute it natively, else float32; the language "
            "model's weights in 8 bits on CPUs with AVX2 or AVX-512 VNNI), float32, bfloat16, int8 (8-bit "
            "weights, the rest as auto); float16 on CUDA")
        ->check(CLI::IsMember({"auto", "float32", "bfloat16", "int8", "float16"}));
}

void addSearchModelOptions(CLI::App& command, std::string& library, std::string& model, std::string& dtype)
{
    command.add_option("--library", library, "Library folder (default: the XDG data folder)");
    command.add_option("--model", model, "Embedding model folder (default: the library's)")
        ->check(CLI::ExistingDirectory);
    addNumberFormatOption(command, dtype);
}

std::string jsonText(const nlohmann::json& value, int indent)
{
    return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace pictor::app
