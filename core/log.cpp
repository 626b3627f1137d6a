#include "core/log.h"

#include <cstdio>
#include <mutex>

namespace pictor {
namespace {

std::mutex& sinkMutex()
{
    static std::mutex mutex;
    return mutex;
}
LogSink& currentSink()
{
    static LogSink sink;
    return sink;
}
LogLevel& minimumLevel()
{
    static LogLevel level = LogLevel::Info;
    return level;
}

const char* levelName(LogLevel level)
{
    switch (level) {
    case LogLevel::Debug:
        return "debug";
    case LogLevel::Info:
        return "info";
    case LogLevel::Warning:
        return "warning";
    case LogLevel::Error:
        return "error";
    }
    return "?";
}

} // namespace

void setLogSink(LogSink sink)
{
    std::lock_guard lock(sinkMutex());
    currentSink() = std::move(sink);
}

void setLogLevel(LogLevel minimum)
{
    std::lock_guard lock(sinkMutex());
    minimumLevel() = minimum;
}

void logMessage(LogLevel level, std::string_view message)
{
    std::lock_guard lock(sinkMutex());
    if (level < minimumLevel())
        return;
    if (currentSink()) {
        currentSink()(level, message);
        return;
    }
    std::fprintf(
        stderr, "pictor %s: %.*s\n", levelName(level), static_cast<int>(message.size()), message.data());
}

} // namespace pictor
