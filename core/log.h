// One logging entry point with a settable sink (the app routes it to Qt's logging, the CLI to stderr).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace pictor {

enum class LogLevel { Debug, Info, Warning, Error };

using LogSink = std::function<void(LogLevel, std::string_view message)>;

// Replaces the sink; an empty function restores the default (stderr, Info and above).
void setLogSink(LogSink sink);
void setLogLevel(LogLevel minimum);
void logMessage(LogLevel level, std::string_view message);

} // namespace pictor

#define PICTOR_LOG_DEBUG(...) ::pictor::logMessage(::pictor::LogLevel::Debug, ::pictor::strCat(__VA_ARGS__))
#define PICTOR_LOG_INFO(...) ::pictor::logMessage(::pictor::LogLevel::Info, ::pictor::strCat(__VA_ARGS__))
#define PICTOR_LOG_WARN(...) ::pictor::logMessage(::pictor::LogLevel::Warning, ::pictor::strCat(__VA_ARGS__))
#define PICTOR_LOG_ERROR(...) ::pictor::logMessage(::pictor::LogLevel::Error, ::pictor::strCat(__VA_ARGS__))
