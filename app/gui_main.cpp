// `pictor` without a subcommand (optionally `pictor --library DIR`): the desktop application.
#include <cstring>
#include <string>

#include "app/model_module.h"
#include "ui/gui_application.h"

namespace pictor::app {

// True for `pictor`, `pictor --library DIR` and `pictor --library=DIR`: no subcommand, no CLI flag.
bool isGuiInvocation(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--library") == 0 && i + 1 < argc)
            ++i;
        else if (std::strncmp(argv[i], "--library=", 10) != 0)
            return false;
    }
    return true;
}

int runGui(int argc, char** argv)
{
    ui::GuiOptions options;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--library") == 0)
            options.libraryDir = argv[++i];
        else
            options.libraryDir = argv[i] + 10;
    }
    options.loadModelFamilies = [](ModelRegistry& registry) { loadModelFamilies(registry); };
    return ui::runGuiApplication(argc, argv, options);
}

} // namespace pictor::app
