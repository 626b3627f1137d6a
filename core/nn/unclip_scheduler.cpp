#include "core/nn/unclip_scheduler.h"

#include <cmath>

#include "core/error.h"
#include "core/json_file.h"

namespace pictor::nn {
namespace {

// betas_for_alpha_bar with the cosine transform, in double, capped at 0.999 (squaredcos_cap_v2).
std::vector<float> squaredCosineBetas(int steps)
{
    const double pi = std::acos(-1.0);
    auto alphaBar = [&](double t) {
        const double c = std::cos((t + 0.008) / 1.008 * pi / 2);
        return c * c;
    };
    std::vector<float> betas(static_cast<std::size_t>(steps));
    for (int i = 0; i < steps; ++i) {
        const double t1 = static_cast<double>(i) / steps, t2 = static_cast<double>(i + 1) / steps;
        betas[static_cast<std::size_t>(i)]
            = static_cast<float>(std::min(1 - alphaBar(t2) / alphaBar(t1), 0.999));
    }
    return betas;
}

// numpy's round(): halves go to the even neighbour.
std::int64_t roundHalfToEven(double x)
{
    return static_cast<std::int64_t>(std::nearbyint(x));
}

} // namespace

UnclipSchedulerConfig UnclipSchedulerConfig::load(const std::filesystem::path& file)
{
    const nlohmann::json root = readJsonFile(file);
    const auto name = file.parent_path().filename().string() + "/" + file.filename().string();
    const auto className = jsonFieldOr<std::string>(root, "_class_name", "", file);
    PICTOR_CHECK(className == "UnCLIPScheduler", name, ": scheduler '", className,
        "' is not supported (only UnCLIPScheduler)");
    const auto schedule = jsonFieldOr<std::string>(root, "beta_schedule", "squaredcos_cap_v2", file);
    PICTOR_CHECK(schedule == "squaredcos_cap_v2", name, ": beta_schedule '", schedule,
        "' is not supported (only squaredcos_cap_v2)");
    UnclipSchedulerConfig config;
    config.numTrainTimesteps = jsonFieldOr<int>(root, "num_train_timesteps", 1000, file);
    PICTOR_CHECK(config.numTrainTimesteps >= 2, name, ": num_train_timesteps must be at least 2");
    const auto variance = jsonFieldOr<std::string>(root, "variance_type", "fixed_small_log", file);
    if (variance == "fixed_small_log")
        config.variance = Variance::FixedSmallLog;
    else if (variance == "learned_range")
        config.variance = Variance::LearnedRange;
    else
        PICTOR_FAIL(
            name, ": variance_type '", variance, "' is not supported (fixed_small_log, learned_range)");
    const auto prediction = jsonFieldOr<std::string>(root, "prediction_type", "epsilon", file);
    if (prediction == "epsilon")
        config.prediction = Prediction::Epsilon;
    else if (prediction == "sample")
        config.prediction = Prediction::Sample;
    else
        PICTOR_FAIL(name, ": prediction_type '", prediction, "' is not supported (epsilon, sample)");
    config.clipSample = jsonFieldOr<bool>(root, "clip_sample", true, file);
    config.clipSampleRange = jsonFieldOr<double>(root, "clip_sample_range", 1.0, file);
    return config;
}

UnclipScheduler::UnclipScheduler(const UnclipSchedulerConfig& config)
    : config_(config), betaValues_(squaredCosineBetas(config.numTrainTimesteps))
{
    betas_ = at::tensor(betaValues_, at::kFloat);
    alphasCumprod_ = at::cumprod(1.0f - betas_, 0); // float32, as torch.cumprod computes it
    const float* values = alphasCumprod_.data_ptr<float>();
    alphaCumprodValues_.assign(values, values + alphasCumprod_.numel());
}

std::vector<std::int64_t> UnclipScheduler::timesteps(int steps, int numTrainTimesteps)
{
    PICTOR_CHECK(steps >= 2, "a diffusion stage needs at least 2 steps (got ", steps, ")");
    const double ratio = static_cast<double>(numTrainTimesteps - 1) / (steps - 1);
    std::vector<std::int64_t> result;
    for (int k = steps - 1; k >= 0; --k)
        result.push_back(roundHalfToEven(k * ratio));
    return result;
}

UnclipScheduler::StepResult UnclipScheduler::step(const at::Tensor& modelOutput, std::int64_t t,
    std::optional<std::int64_t> prevT, const at::Tensor& sample, const NoiseDraw& drawNoise) const
{
    PICTOR_CHECK(t >= 0 && t < config_.numTrainTimesteps, "timestep ", t, " is outside the schedule");
    at::Tensor output = modelOutput;
    at::Tensor predictedVariance;
    if (config_.variance == UnclipSchedulerConfig::Variance::LearnedRange
        && modelOutput.size(1) == 2 * sample.size(1)) {
        const auto halves = modelOutput.split(sample.size(1), 1);
        output = halves[0];
        predictedVariance = halves[1];
    }
    const std::int64_t prev = prevT.value_or(t - 1);
    // Float32 scalars, as the reference's 0-d tensors.
    const float alphaProd = alphaCumprodValues_[static_cast<std::size_t>(t)];
    const float alphaProdPrev = prev >= 0 ? alphaCumprodValues_[static_cast<std::size_t>(prev)] : 1.0f;
    const float betaProd = 1.0f - alphaProd;
    const float betaProdPrev = 1.0f - alphaProdPrev;
    const float beta
        = prev == t - 1 ? betaValues_[static_cast<std::size_t>(t)] : 1.0f - alphaProd / alphaProdPrev;
    const float alpha = 1.0f - beta;

    at::Tensor predOriginal = config_.prediction == UnclipSchedulerConfig::Prediction::Epsilon
        ? (sample - std::sqrt(betaProd) * output) / std::sqrt(alphaProd)
        : output;
    if (config_.clipSample)
        predOriginal = predOriginal.clamp(-config_.clipSampleRange, config_.clipSampleRange);
    const float originalCoeff = std::sqrt(alphaProdPrev) * beta / betaProd;
    const float currentCoeff = std::sqrt(alpha) * betaProdPrev / betaProd;
    at::Tensor prevSample = originalCoeff * predOriginal + currentCoeff * sample;

    if (t > 0) {
        const bool learned = config_.variance == UnclipSchedulerConfig::Variance::LearnedRange;
        PICTOR_CHECK(!learned || predictedVariance.defined(),
            "a learned_range scheduler needs the predicted variance (", 2 * sample.size(1),
            " output channels, got ", modelOutput.size(1), ")");
        const at::Tensor noise = drawNoise(output);
        const float variance = betaProdPrev / betaProd * beta; // beta_tilde
        if (!learned) {
            prevSample = prevSample + std::exp(0.5f * std::log(std::max(variance, 1e-20f))) * noise;
        } else {
            const at::Tensor frac = (predictedVariance + 1) / 2;
            const at::Tensor logVariance = frac * std::log(beta) + (1 - frac) * std::log(variance);
            prevSample = prevSample + at::exp(0.5 * logVariance) * noise;
        }
    }
    return {prevSample, predOriginal};
}

at::Tensor classifierFreeGuidance(const at::Tensor& batched, double scale, std::int64_t guidedChannels)
{
    const auto halves = batched.chunk(2, 0);
    const at::Tensor uncond = halves[0].slice(1, 0, guidedChannels);
    const at::Tensor cond = halves[1].slice(1, 0, guidedChannels);
    const at::Tensor guided = uncond + scale * (cond - uncond);
    if (guidedChannels >= batched.size(1))
        return guided;
    return at::cat({guided, halves[1].slice(1, guidedChannels)}, 1);
}

} // namespace pictor::nn
