// pictor models verify DIR
#include <iostream>

#include "app/commands.h"
#include "core/model_verification.h"

namespace pictor::app {
namespace {

int runVerify(const std::string& folder, ModelHost& models)
{
    const ModelVerification result = models.worker().run(
        JobPriority::Interactive, [&] { return verifyModelFolder(models.registry(), folder); });
    std::cout << describeVerification(result, folder);
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
    ModelHost* models = &context.models;
    return [folder, models] { return runVerify(*folder, *models); };
}

} // namespace pictor::app
