// The entry point of the model module (pictor_models.so): registers every model family. The module has
// its own copy of the core library, so its log messages are forwarded to the executable's sink.
#include <string_view>

#include "app/model_module_api.h"
#include "core/log.h"
#include "plugins/clip/clip_family.h"
#include "plugins/llava/llava_vision_chat.h"
#include "plugins/unclip/unclip_family.h"

extern "C" __attribute__((visibility("default"))) int pictorModelModuleApiVersion()
{
    return pictor::app::kModelModuleApiVersion;
}

extern "C" __attribute__((visibility("default"))) void pictorRegisterModelFamilies(
    pictor::ModelRegistry& registry, void (*log)(pictor::LogLevel, std::string_view))
{
    pictor::setLogLevel(pictor::LogLevel::Debug); // the executable's sink decides what is shown
    pictor::setLogSink([log](pictor::LogLevel level, std::string_view message) { log(level, message); });
    pictor::clip::registerClipFamily(registry);
    pictor::llava::registerLlavaFamily(registry);
    pictor::unclip::registerUnclipFamily(registry);
}
