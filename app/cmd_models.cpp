// pictor models verify DIR
#include <iostream>

#include "app/commands.h"
#include "core/model_verification.h"

namespace pictor::app {
namespace {

int runVerify(const std::string& folder, const ModelRegistry& registry)
{
    std::cout << describeVerification(verifyModelFolder(registry, folder), folder);
    return 0;
}

} // namespace

CommandRun addModelsCommand(CLI::App& parent, const CommandContext& context)
{
    auto folder = std::make_shared<std::string>();
    CLI::App* command = parent.add_subcommand("models", "Inspect model folders");
    command->require_subcommand(1);
    CLI::App* verify = command->add_subcommand(
        "verify", "Check that a model folder (embedding or captioning) loads completely");
    verify->add_option("DIR", *folder, "Model folder (Hugging Face layout)")
        ->required()
        ->check(CLI::ExistingDirectory);
    const ModelRegistry* registry = &context.registry;
    return [folder, registry] { return runVerify(*folder, *registry); };
}

} // namespace pictor::app
