// A model module built against another API version than the executable's (for the module loader's test).
#include <string_view>

#include "app/model_module_api.h"

extern "C" __attribute__((visibility("default"))) int pictorModelModuleApiVersion()
{
    return pictor::app::kModelModuleApiVersion + 1;
}

extern "C" __attribute__((visibility("default"))) void pictorRegisterModelFamilies(
    pictor::ModelRegistry& registry, void (*)(pictor::LogLevel, std::string_view))
{
    registry.registerEmbedder("never", {});
}
