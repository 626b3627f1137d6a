// diffusers' UnCLIPScheduler (the DDPM variant Karlo uses) and classifier-free guidance in its batch
// layout. Timesteps and every coefficient are computed as the reference computes them (numpy's
// round-half-to-even for the timesteps, float32 scalars for the coefficients).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include <ATen/ATen.h>

namespace pictor::nn {

struct UnclipSchedulerConfig {
    enum class Variance { FixedSmallLog, LearnedRange };
    enum class Prediction { Epsilon, Sample };
    int numTrainTimesteps = 1000;
    Variance variance = Variance::FixedSmallLog;
    Prediction prediction = Prediction::Epsilon;
    bool clipSample = true;
    double clipSampleRange = 1.0;

    // Reads a scheduler_config.json (_class_name UnCLIPScheduler, beta_schedule squaredcos_cap_v2);
    // other classes, schedules, variance or prediction types are errors naming the file and value.
    static UnclipSchedulerConfig load(const std::filesystem::path& file);
};

class UnclipScheduler {
public:
    explicit UnclipScheduler(const UnclipSchedulerConfig& config);

    // set_timesteps(n): round(k * (T - 1) / (n - 1)) for k = n-1 .. 0, rounding halves to even. n >= 2.
    static std::vector<std::int64_t> timesteps(int steps, int numTrainTimesteps = 1000);

    struct StepResult {
        at::Tensor prevSample;
        at::Tensor predOriginalSample;
    };
    // Draws the noise for a step (shape of the sample); called only when t > 0.
    using NoiseDraw = std::function<at::Tensor(const at::Tensor& like)>;
    // One reverse step from t to prevT (nullopt: t - 1). With learned_range, modelOutput carries the
    // predicted variance in its second half of channels.
    StepResult step(const at::Tensor& modelOutput, std::int64_t t, std::optional<std::int64_t> prevT,
        const at::Tensor& sample, const NoiseDraw& drawNoise) const;

    const at::Tensor& betas() const { return betas_; } // float32 [T]
    const at::Tensor& alphasCumprod() const { return alphasCumprod_; } // float32 [T]
    const UnclipSchedulerConfig& config() const { return config_; }

private:
    UnclipSchedulerConfig config_;
    at::Tensor betas_, alphasCumprod_;
    std::vector<float> betaValues_, alphaCumprodValues_;
};

// Classifier-free guidance on a batch laid out [unconditional..., conditional...]:
// u + scale * (c - u) on the first `guidedChannels` channels; further channels (a learned variance) are
// taken from the conditional half. Returns half the batch.
at::Tensor classifierFreeGuidance(const at::Tensor& batched, double scale, std::int64_t guidedChannels);

} // namespace pictor::nn
