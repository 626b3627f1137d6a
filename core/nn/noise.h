// Where the random draws of a diffusion run come from: our own seeded generator (the same numbers for a
// seed on every run and every machine; torch's generator is not reproduced), or a replay of draws
// recorded in a safetensors file (random_draw.00, random_draw.01, ... in draw order), which is how runs
// are compared with the reference pipeline.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "core/safetensors.h"

namespace pictor::nn {

class NoiseSource {
public:
    virtual ~NoiseSource() = default;
    // A float32 CPU tensor of standard normal draws. `what` names the draw in errors ("decoder latents").
    virtual at::Tensor draw(const std::vector<std::int64_t>& shape, const std::string& what) = 0;
    int drawsTaken() const { return drawsTaken_; }

protected:
    int drawsTaken_ = 0;
};

// SplitMix64 seeded with the seed, one 64-bit state for the whole run; each pair of values is a
// Box-Muller transform of two 53-bit uniforms in double precision, rounded to float32. Draws are taken
// in the order of the reference pipeline (prior latents, prior step noises, decoder latents, ...), so a
// seed fixes the whole run.
class SeededNoise final : public NoiseSource {
public:
    explicit SeededNoise(std::uint64_t seed) : state_(seed) { }
    at::Tensor draw(const std::vector<std::int64_t>& shape, const std::string& what) override;

private:
    std::uint64_t nextBits();
    double nextUniform(); // (0, 1]
    std::uint64_t state_;
};

// Replays random_draw.NN in order; a draw of another shape, or one more than the file holds, is an error
// naming the draw, the file and both shapes.
class ReplayNoise final : public NoiseSource {
public:
    explicit ReplayNoise(const std::filesystem::path& file);
    at::Tensor draw(const std::vector<std::int64_t>& shape, const std::string& what) override;

private:
    std::shared_ptr<const SafetensorsFile> file_;
};

// The key of the n-th recorded draw: "random_draw.07".
std::string recordedDrawName(int index);

} // namespace pictor::nn
