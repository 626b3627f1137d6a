// pictor models verify DIR
#include <iostream>

#include "app/commands.h"
#include "core/safetensors.h"

namespace pictor::app {
namespace {

int runVerify(const std::string& folder, const ModelRegistry& registry)
{
    // Loading binds every tensor strictly (names, shapes, dtypes) and loads the tokenizer and the
    // preprocessor: any problem surfaces here as one error.
    EmbedderOptions options;
    options.device = "cpu";
    const auto embedder = registry.loadEmbedder(folder, options);
    const Checkpoint checkpoint = Checkpoint::open(folder);
    const auto& pre = embedder->preprocessing();
    std::cout << "OK " << folder << '\n'
              << "  family:        " << embedder->family() << '\n'
              << "  model id:      " << embedder->modelId() << '\n'
              << "  embedding dim: " << embedder->dimension() << '\n'
              << "  tensors:       " << checkpoint.size() << " in " << checkpoint.files().size()
              << " file(s), " << checkpoint.totalBytes() / (1024.0 * 1024.0) << " MiB\n"
              << "  image input:   " << pre.outputWidth() << "x" << pre.outputHeight() << '\n';
    return 0;
}

} // namespace

CommandRun addModelsCommand(CLI::App& parent, const CommandContext& context)
{
    auto folder = std::make_shared<std::string>();
    CLI::App* command = parent.add_subcommand("models", "Inspect model folders");
    command->require_subcommand(1);
    CLI::App* verify = command->add_subcommand("verify", "Check that a model folder loads completely");
    verify->add_option("DIR", *folder, "Model folder (Hugging Face layout)")
        ->required()
        ->check(CLI::ExistingDirectory);
    const ModelRegistry* registry = &context.registry;
    return [folder, registry] { return runVerify(*folder, *registry); };
}

} // namespace pictor::app
