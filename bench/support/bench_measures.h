// Small helpers shared by the benchmarks: wall and CPU time, this process's memory, the machine's load,
// and a fast deterministic random generator for weights, pixels and embeddings. No Torch, no Qt.
#pragma once

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

namespace pictor::bench {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start);
double round3(double value);
double peakRssMb(); // ru_maxrss of this process
double currentRssMb(); // resident now (/proc/self/statm)
double cpuSeconds(); // user + system of this process
double loadAverage(); // 1-minute load average, rounded; -1 when unknown

// The value at fraction `q` (0..1) of `values` (sorted here); 0 for an empty list.
double quantile(std::vector<double> values, double q);

// splitmix64: fast, good enough for weights, pixels and noise.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed) { }
    std::uint64_t next()
    {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; } // [0, 1)
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    int integer(int lo, int hi) { return lo + static_cast<int>(uniform() * (hi - lo)); } // [lo, hi)
    std::pair<float, float> normalPair(); // two standard normals (Box-Muller)

private:
    std::uint64_t state_;
};

} // namespace pictor::bench
