// The contract between the pictor executable and its model module (pictor_models.so): the entry point's
// name and type, and an API version both sides compile in. Raise kModelModuleApiVersion whenever a type
// the two pass across the boundary changes (ModelRegistry, the model interfaces of core/, LogLevel), so an
// executable never runs a module built against other headers.
#pragma once

#include <string_view>

#include "core/embedder.h"
#include "core/log.h"

namespace pictor::app {

inline constexpr int kModelModuleApiVersion = 3; // 2: ImageGenerator families; 3: VisionChatOptions::dtype

inline constexpr const char* kModelModuleEntryPoint = "pictorRegisterModelFamilies";
inline constexpr const char* kModelModuleVersionSymbol = "pictorModelModuleApiVersion";
using ModelModuleEntry = void (*)(ModelRegistry&, void (*)(LogLevel, std::string_view));
using ModelModuleVersion = int (*)();

} // namespace pictor::app
