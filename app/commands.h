// The CLI subcommands. Each adds itself to the parser and returns the function that runs it.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "core/embedder.h"
#include "indexer/model_host.h"

namespace pictor::app {

// Runs after parsing; returns the process exit status.
using CommandRun = std::function<int()>;

// What commands share: the model host (its families load from the model module when a command first
// needs a model, so commands without one never load LibTorch).
struct CommandContext {
    ModelHost& models;
};

CommandRun addTokenizeCommand(CLI::App& parent, const CommandContext& context);
CommandRun addEmbedCommand(CLI::App& parent, const CommandContext& context);
CommandRun addModelsCommand(CLI::App& parent, const CommandContext& context);

} // namespace pictor::app

namespace pictor::app {

CommandRun addIndexCommand(CLI::App& parent, const CommandContext& context);
CommandRun addSearchCommand(CLI::App& parent, const CommandContext& context);
CommandRun addLibraryCommand(CLI::App& parent, const CommandContext& context);
CommandRun addCaptionCommand(CLI::App& parent, const CommandContext& context);
CommandRun addAskCommand(CLI::App& parent, const CommandContext& context);
CommandRun addGenerateCommand(CLI::App& parent, const CommandContext& context);
CommandRun addTagCommand(CLI::App& parent, const CommandContext& context);
CommandRun addDuplicatesCommand(CLI::App& parent, const CommandContext& context);
CommandRun addAutotagCommand(CLI::App& parent, const CommandContext& context);

} // namespace pictor::app
