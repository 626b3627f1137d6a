// pictor models verify DIR [--json]
// pictor models list [--json]: the models the window offers (models folder, added folders, Hugging Face
// cache), each with its role and whether the window uses it.
// pictor models download ID [--revision REV] [--json]: the window's downloader, into the Hugging Face cache.
#include <QCoreApplication>
#include <QEventLoop>
#include <QTimer>
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/library_access.h"
#include "app/shell_quote.h"
#include "app/stop_request.h"
#include "core/error.h"
#include "core/model_discovery.h"
#include "core/model_verification.h"
#include "ui/app_settings.h"
#include "ui/hub_download.h"
#include "ui/hub_repo.h"

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

// Qt's network needs an application object and an event loop; the CLI has neither until here.
std::unique_ptr<QCoreApplication> ensureQtApplication()
{
    if (QCoreApplication::instance())
        return nullptr;
    static int argc = 1;
    static char name[] = "pictor";
    static char* argv[] = {name, nullptr};
    return std::make_unique<QCoreApplication>(argc, argv);
}

int runDownload(const std::string& repo, const std::string& revision, bool json)
{
    const auto application = ensureQtApplication();
    ui::HubDownload hub;
    QEventLoop loop;
    bool ok = false;
    QString message;
    QString lastFile;
    int lastPercent = -10;
    QObject::connect(
        &hub, &ui::HubDownload::progress, &loop, [&](qint64 done, qint64 total, const QString& file) {
            const int percent = total > 0 ? static_cast<int>(done * 100 / total) : 0;
            if (json || (file == lastFile && percent < lastPercent + 10))
                return; // a line per file and per tenth of the whole
            lastFile = file;
            lastPercent = percent;
            std::fprintf(stderr, "%3d %%  %.1f of %.1f MB  %s\n", percent, static_cast<double>(done) / 1e6,
                static_cast<double>(total) / 1e6, file.toUtf8().constData());
        });
    QObject::connect(&hub, &ui::HubDownload::finished, &loop, [&](bool succeeded, const QString& text) {
        ok = succeeded;
        message = text;
        loop.quit();
    });
    // Ctrl+C stops the transfer; the part downloaded stays in the cache for the next attempt.
    QTimer stopCheck;
    QObject::connect(&stopCheck, &QTimer::timeout, &loop, [&] {
        if (stopRequest().load() && hub.isRunning())
            hub.cancel();
    });
    stopCheck.start(100);
    hub.start(QString::fromStdString(repo), QString::fromStdString(revision));
    if (hub.isRunning())
        loop.exec();
    if (json)
        std::printf("%s\n",
            jsonText({{"ok", ok}, {"repo", repo}, {"revision", revision},
                         {"dir", hub.snapshotDir().toStdString()}, {"message", message.toStdString()}},
                2)
                .c_str());
    else
        std::fprintf(ok ? stdout : stderr, "%s\n", message.toUtf8().constData());
    return ok ? 0 : 1;
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
    auto repo = std::make_shared<std::string>();
    auto revision = std::make_shared<std::string>("main");
    CLI::App* download = command->add_subcommand("download",
        "Download a model from the Hugging Face hub into its cache, where the window finds it "
        "($HF_ENDPOINT, $HF_TOKEN and $HF_HUB_CACHE as huggingface_hub reads them)");
    download->add_option("ID", *repo, "Repository, e.g. openai/clip-vit-base-patch32")
        ->required()
        ->check([](const std::string& id) {
            return ui::hub::isValidRepoId(QString::fromStdString(id))
                ? std::string()
                : "not a Hugging Face repository id (org/name): " + id;
        });
    download->add_option("--revision", *revision, "Branch, tag or commit (default main)")
        ->check([](const std::string& rev) {
            return ui::hub::isValidRevision(QString::fromStdString(rev)) ? std::string()
                                                                         : "not a revision: " + rev;
        });
    download->add_flag("--json", *json, "One JSON object: {ok, repo, revision, dir, message}");
    ModelHost* models = &context.models;
    return [folder, json, models, list, download, repo, revision] {
        if (download->parsed())
            return runDownload(*repo, *revision, *json);
        return list->parsed() ? runList(*json) : runVerify(*folder, *json, *models);
    };
}

} // namespace pictor::app
