// pictor models verify DIR [--json]
// pictor models list [--json]: the models the window offers (models folder, added folders, Hugging Face
// cache), each with its role and whether the window uses it.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/library_access.h"
#include "app/shell_quote.h"
#include "core/error.h"
#include "core/model_discovery.h"
#include "core/model_verification.h"
#include "ui/app_settings.h"

namespace pictor::app {
namespace {

const char* roleName(ModelRole role)
{
    switch (role) {
    case ModelRole::Embedding:
        return "search";
    case ModelRole::Captioning:
        return "captions";
    case ModelRole::Generation:
        return "pictures";
    case ModelRole::Unsupported:
        break;
    }
    return "unsupported";
}

int runVerify(const std::string& folder, bool json, ModelHost& models)
{
    if (!json) {
        const ModelVerification result = models.worker().run(
            JobPriority::Interactive, [&] { return verifyModelFolder(models.registry(), folder); });
        std::cout << describeVerification(result, folder);
        return 0;
    }
    try {
        const ModelVerification result = models.worker().run(
            JobPriority::Interactive, [&] { return verifyModelFolder(models.registry(), folder); });
        nlohmann::json components = nlohmann::json::array();
        for (const GeneratorComponent& component : result.components)
            components.push_back({{"name", component.name}, {"class", component.className},
                {"parameters", component.parameters}, {"tensors", component.tensors},
                {"bytes", component.bytes}});
        nlohmann::json out {{"ok", true}, {"dir", folder}, {"family", result.family},
            {"model_id", result.modelId}, {"tensors", result.tensors}, {"files", result.files},
            {"tensor_bytes", result.tensorBytes}};
        if (result.dimension > 0)
            out["embedding_dim"] = result.dimension;
        if (result.imageWidth > 0)
            out["image_input"] = {result.imageWidth, result.imageHeight};
        if (!result.chatTemplate.empty())
            out["chat_template"] = result.chatTemplate;
        if (!components.empty())
            out["components"] = components;
        std::printf("%s\n", jsonText(out, 2).c_str());
        return 0;
    } catch (const std::exception& e) {
        std::printf("%s\n", jsonText({{"ok", false}, {"dir", folder}, {"error", e.what()}}, 2).c_str());
        return 1;
    }
}

int runList(bool json)
{
    const auto models = discoverModels(ui::AppSettings().modelDiscovery());
    nlohmann::json out = nlohmann::json::array();
    for (const DiscoveredModel& model : models) {
        nlohmann::json active = nlohmann::json::array();
        if (model.activeEmbedding)
            active.push_back("search");
        if (model.activeCaptioning)
            active.push_back("captions");
        if (model.activeGeneration)
            active.push_back("pictures");
        if (json) {
            out.push_back({{"name", model.name}, {"dir", model.dir.string()}, {"family", model.family},
                {"role", roleName(roleOfFamily(model.family))}, {"bytes", model.bytesOnDisk},
                {"source",
                    model.source == ModelSource::HuggingFaceCache ? "huggingface-cache" : "models-folder"},
                {"in_use_for", active}});
            continue;
        }
        std::string inUse;
        for (const auto& role : active)
            inUse += (inUse.empty() ? "  in use for " : ", ") + role.get<std::string>();
        std::printf("%-40s %-10s %7.2f GB  %s%s\n", model.name.c_str(), roleName(roleOfFamily(model.family)),
            static_cast<double>(model.bytesOnDisk) / 1e9, shellQuoted(model.dir).c_str(), inUse.c_str());
    }
    if (json)
        std::printf("%s\n", jsonText(out, 2).c_str());
    else if (models.empty())
        std::fprintf(stderr,
            "no models found: download one in the window (File > Models...) or put a Hugging "
            "Face model folder in ~/models\n");
    return 0;
}

} // namespace

CommandRun addModelsCommand(CLI::App& parent, const CommandContext& context)
{
    auto folder = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    CLI::App* command = parent.add_subcommand("models", "Find and inspect model folders");
    command->require_subcommand(1);
    CLI::App* verify = command->add_subcommand(
        "verify", "Check that a model folder (embedding, captioning or pictures) loads completely");
    verify->add_option("DIR", *folder, "Model folder (Hugging Face layout)")
        ->required()
        ->check(CLI::ExistingDirectory);
    verify->add_flag("--json", *json, "One JSON object: {ok, family, model_id, ...} or {ok: false, error}");
    CLI::App* list = command->add_subcommand(
        "list", "The models the window offers: models folder, added folders, Hugging Face cache");
    list->add_flag("--json", *json, "[{name, dir, family, role, bytes, source, in_use_for}]");
    ModelHost* models = &context.models;
    return [folder, json, models, list] {
        return list->parsed() ? runList(*json) : runVerify(*folder, *json, *models);
    };
}

} // namespace pictor::app
