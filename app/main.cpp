// pictor: the composition root. Registers the model families and dispatches the CLI subcommands.
#include <cstdio>
#include <map>

#include <CLI/CLI.hpp>

#include "app/commands.h"
#include "app/model_module.h"
#include "core/error.h"
#include "core/log.h"

#ifndef PICTOR_VERSION
#define PICTOR_VERSION "0.0.0"
#endif

namespace pictor::app {
bool isGuiInvocation(int argc, char** argv); // gui_main.cpp
int runGui(int argc, char** argv);
} // namespace pictor::app

int main(int argc, char** argv)
{
    if (pictor::app::isGuiInvocation(argc, argv))
        return pictor::app::runGui(argc, argv);
    // One command runs one model at a time: no memory budget on the command line.
    pictor::ModelHost models(
        [](pictor::ModelRegistry& registry) { pictor::app::loadModelFamilies(registry); }, 0);
    const pictor::app::CommandContext context {models};

    CLI::App app {"Pictor: search, understand and create photos, locally.", "pictor"};
    app.set_version_flag("--version", std::string("pictor ") + PICTOR_VERSION);
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "Log model loading and timings to stderr");
    app.require_subcommand(0, 1);

    std::map<CLI::App*, pictor::app::CommandRun> commands;
    auto add
        = [&](pictor::app::CommandRun run) { commands[app.get_subcommands({}).back()] = std::move(run); };
    add(pictor::app::addTokenizeCommand(app, context));
    add(pictor::app::addEmbedCommand(app, context));
    add(pictor::app::addModelsCommand(app, context));
    add(pictor::app::addIndexCommand(app, context));
    add(pictor::app::addSearchCommand(app, context));
    add(pictor::app::addLibraryCommand(app, context));
    add(pictor::app::addCaptionCommand(app, context));
    add(pictor::app::addAskCommand(app, context));
    add(pictor::app::addGenerateCommand(app, context));
    add(pictor::app::addTagCommand(app, context));
    add(pictor::app::addDuplicatesCommand(app, context));
    add(pictor::app::addAutotagCommand(app, context));

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "pictor: %s\nRun 'pictor --help' for usage.\n", e.what());
        return 2;
    }
    pictor::setLogLevel(verbose ? pictor::LogLevel::Info : pictor::LogLevel::Warning);

    for (auto& [subcommand, run] : commands) {
        if (!subcommand->parsed())
            continue;
        try {
            return run();
        } catch (const pictor::Error& e) {
            std::fprintf(stderr, "pictor: error: %s\n", e.what());
            return 1;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "pictor: internal error: %s\n", e.what());
            return 1;
        }
    }
    std::fputs(app.help().c_str(), stdout);
    return 0;
}
