#include "bench/support/process_memory.h"

#include <fstream>
#include <string>

namespace pictor::bench {
namespace {

double statusFieldMiB(const char* field)
{
    std::ifstream status("/proc/self/status");
    const std::string prefix = field;
    for (std::string line; std::getline(status, line);)
        if (line.rfind(prefix, 0) == 0)
            return std::stod(line.substr(prefix.size())) / 1024.0;
    return -1.0;
}

} // namespace

double peakRssMiB()
{
    return statusFieldMiB("VmHWM:");
}

double currentRssMiB()
{
    return statusFieldMiB("VmRSS:");
}

void resetPeakRss()
{
    std::ofstream("/proc/self/clear_refs") << "5";
}

} // namespace pictor::bench
