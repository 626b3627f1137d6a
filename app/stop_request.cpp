#include "app/stop_request.h"

#include <csignal>
#include <cstring>

#include <unistd.h>

namespace pictor::app {
namespace {

std::atomic<bool> requested {false};

// Only async-signal-safe calls here: an atomic exchange, write(2) and _exit(2).
void onStopSignal(int signal)
{
    if (requested.exchange(true))
        ::_exit(128 + signal);
    const char message[] = "\npictor: stopping after the current step (press Ctrl+C again to quit at once)\n";
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, message, sizeof message - 1);
}

} // namespace

const std::atomic<bool>& stopRequest()
{
    static const bool installed = [] {
        struct sigaction action { };
        action.sa_handler = onStopSignal;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGINT, &action, nullptr);
        ::sigaction(SIGTERM, &action, nullptr);
        return true;
    }();
    (void)installed;
    return requested;
}

} // namespace pictor::app
