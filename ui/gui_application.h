// Runs the desktop application: QApplication, the log sink routed to Qt's logging, the main window.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>

#include "core/embedder.h"

namespace pictor::ui {

struct GuiOptions {
    std::optional<std::filesystem::path> libraryDir;
    // Registers the model families; called on the compute worker at first model use.
    std::function<void(ModelRegistry&)> loadModelFamilies;
};

int runGuiApplication(int argc, char** argv, const GuiOptions& options);

} // namespace pictor::ui
