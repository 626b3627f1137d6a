// This process's resident memory from /proc (Linux), for the engine benches (no Torch, no Qt).
#pragma once

namespace pictor::bench {

double peakRssMiB(); // VmHWM
double currentRssMiB(); // VmRSS
void resetPeakRss(); // the next peakRssMiB() counts from now (clear_refs "5")

} // namespace pictor::bench
