// unCLIP (Karlo) speed and memory in the real shapes of kakaobrain/karlo-v1-alpha (about 3.4 B
// parameters), random weights made in memory (nothing is downloaded). For each number format and each
// stage it prints a JSON line: parameters, weights' size, seconds per step (the prior and the decoder at
// batch 2, guidance's layout for one picture; super-resolution at batch 1), and the peak RSS while the
// stage runs against its weights' size. Stages are held one at a time, as a run holds them. Then the
// seconds per picture at 25/25/7 steps, computed from the per-step figures.
// Usage: unclip_bench [--shapes karlo|tiny] [--dtype float32|bfloat16|both] [--steps N] [--threads N]
//                     [--stages text,prior,decoder,superres] [--device cpu|cuda]
// --shapes tiny reads the unclip-tiny fixture's configs (a quick check that the bench runs).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <c10/core/InferenceMode.h>
#include <malloc.h>

#include "bench/support/process_memory.h"
#include "core/nn/device.h"
#include "plugins/clip/clip_towers.h"
#include "plugins/unclip/prior_transformer.h"
#include "plugins/unclip/text_proj.h"
#include "plugins/unclip/unet.h"

namespace {

using namespace pictor;
using Clock = std::chrono::steady_clock;

struct Options {
    std::string shapes = "karlo";
    std::vector<std::string> dtypes {"float32", "bfloat16"};
    int steps = 2;
    int threads = 0;
    std::set<std::string> stages {"text", "prior", "decoder", "superres"};
    std::string device = "cpu";
};

struct Shapes {
    clip::ClipTextConfig text;
    std::int64_t projection = 768;
    unclip::PriorConfig prior;
    unclip::TextProjConfig textProj;
    unclip::UNetConfig decoder, superRes;
};

unclip::UNetConfig karloUNet(bool decoder)
{
    using Block = unclip::UNetConfig::Block;
    unclip::UNetConfig c;
    c.className = decoder ? "UNet2DConditionModel" : "UNet2DModel";
    c.blockOutChannels = {320, 640, 960, 1280};
    c.layersPerBlock = 3;
    c.attentionHeadDim = 64;
    if (decoder) {
        c.inChannels = 3;
        c.outChannels = 6;
        c.sampleSize = 64;
        c.downBlocks
            = {Block::Resnet, Block::SimpleCrossAttn, Block::SimpleCrossAttn, Block::SimpleCrossAttn};
        c.upBlocks = {Block::SimpleCrossAttn, Block::SimpleCrossAttn, Block::SimpleCrossAttn, Block::Resnet};
        c.midCrossAttention = true;
        c.crossAttentionDim = 1536;
        c.scaleShift = true;
        c.classEmbedIdentity = true;
    } else {
        c.inChannels = 6;
        c.outChannels = 3;
        c.sampleSize = 256;
        c.downBlocks.assign(4, Block::Resnet);
        c.upBlocks.assign(4, Block::Resnet);
    }
    return c;
}

Shapes karloShapes()
{
    Shapes s;
    s.text.hiddenSize = 768; // openai/clip-vit-large-patch14's text tower
    s.text.intermediateSize = 3072;
    s.text.numHeads = 12;
    s.text.numLayers = 12;
    s.decoder = karloUNet(true);
    s.superRes = karloUNet(false);
    return s; // PriorConfig and TextProjConfig default to Karlo's values
}

Shapes tinyShapes()
{
    const auto dir = std::filesystem::path(PICTOR_DEFAULT_FIXTURES_DIR) / "unclip-tiny";
    Shapes s;
    s.text.hiddenSize = 32;
    s.text.intermediateSize = 37;
    s.text.numHeads = 4;
    s.text.numLayers = 2;
    s.projection = 32;
    s.prior = unclip::PriorConfig::load(dir / "prior");
    s.textProj = unclip::TextProjConfig::load(dir / "text_proj");
    s.decoder = unclip::UNetConfig::load(dir / "decoder");
    s.superRes = unclip::UNetConfig::load(dir / "super_res_first");
    return s;
}

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `step` once to warm up, then `steps` times; seconds per step.
double timeSteps(int steps, const std::function<void()>& step)
{
    step();
    const auto start = Clock::now();
    for (int i = 0; i < steps; ++i)
        step();
    return secondsSince(start) / steps;
}

// One UNet pass run a part at a time, as a generation runs it on the compute worker: its longest part
// (what a search typed meanwhile waits at most) and how many parts it has.
struct Parts {
    double longestSeconds = 0;
    std::size_t count = 0;
};
Parts timeParts(
    const unclip::UNet& unet, const at::Tensor& sample, const unclip::UNet::Conditioning& conditioning)
{
    Parts parts;
    unclip::UNet::Pass pass(unet, sample, 500, conditioning);
    for (bool done = false; !done;) {
        const auto start = Clock::now();
        done = pass.step();
        parts.longestSeconds = std::max(parts.longestSeconds, secondsSince(start));
        ++parts.count;
    }
    return parts;
}

// peak_rss_over_weights: the stage's peak RSS (the process's own few hundred MiB of libraries included)
// against its weights.
// longest_part_seconds (UNet stages): the longest part of a step run in parts (see timeParts).
void report(const char* stage, const std::string& dtype, std::int64_t params, std::uint64_t bytes, int batch,
    double secondsPerStep, double peakMiB, Parts parts = {})
{
    const double weightsMiB = static_cast<double>(bytes) / (1024.0 * 1024.0);
    std::printf("{\"bench\":\"unclip\",\"stage\":\"%s\",\"dtype\":\"%s\",\"threads\":%d,\"params\":%lld,"
                "\"weights_mib\":%.0f,\"batch\":%d,\"seconds_per_step\":%.3f,\"parts_per_step\":%zu,"
                "\"longest_part_seconds\":%.3f,\"peak_rss_mib\":%.0f,\"peak_rss_over_weights\":%.2f,"
                "\"cpu_bf16_native\":%s}\n",
        stage, dtype.c_str(), nn::cpuThreads(), static_cast<long long>(params), weightsMiB, batch,
        secondsPerStep, parts.count, parts.longestSeconds, peakMiB, peakMiB / weightsMiB,
        nn::cpuHasFastBfloat16() ? "true" : "false");
    std::fflush(stdout);
}

void runFormat(const Options& options, const Shapes& shapes, const std::string& dtype)
{
    nn::ComputeDevice device = nn::resolveDevice(nn::parseDeviceChoice(options.device));
    device.dtype = dtype == "bfloat16" ? at::kBFloat16 : dtype == "float16" ? at::kHalf : at::kFloat;
    const auto floats = at::TensorOptions().dtype(at::kFloat).device(device.device);
    at::manual_seed(0);
    double textSeconds = 0, priorSeconds = 0, decoderSeconds = 0, superResSeconds = 0, textProjSeconds = 0;
    double overallPeak = 0;
    std::uint64_t totalBytes = 0;
    auto peakOf = [&] {
        const double peak = bench::peakRssMiB();
        overallPeak = std::max(overallPeak, peak);
        return peak;
    };
    // Each stage starts from what the process holds without it: freed heap goes back to the system.
    auto startStage = [] {
        malloc_trim(0);
        bench::resetPeakRss();
    };

    if (options.stages.count("text")) {
        startStage();
        const auto encoder
            = clip::ClipTextEncoder::withRandomWeights(shapes.text, shapes.projection, device, 1);
        const at::Tensor ids = at::randint(0, shapes.text.vocabSize, {2, 77}, at::kLong);
        textSeconds = timeSteps(options.steps, [&] { encoder->encode(ids, at::ones_like(ids)); });
        const std::uint64_t bytes
            = static_cast<std::uint64_t>(encoder->parameterCount()) * c10::elementSize(device.dtype);
        totalBytes += bytes;
        report("text_encoder", dtype, encoder->parameterCount(), bytes, 2, textSeconds, peakOf());
    }
    if (options.stages.count("prior")) {
        startStage();
        const auto prior = unclip::PriorTransformer::withRandomWeights(shapes.prior, device, 2);
        const auto& c = shapes.prior;
        const at::Tensor latents = at::randn({2, c.embeddingDim}, floats);
        const at::Tensor text = at::randn({2, c.embeddingProjDim}, floats);
        const at::Tensor hidden = at::randn({2, c.numEmbeddings, c.embeddingDim}, floats);
        const at::Tensor mask = at::ones({2, c.numEmbeddings}, at::kLong);
        priorSeconds = timeSteps(options.steps, [&] { prior->forward(latents, 500, text, hidden, mask); });
        totalBytes += prior->weights().bytes;
        report(
            "prior", dtype, prior->weights().parameters, prior->weights().bytes, 2, priorSeconds, peakOf());
    }
    if (options.stages.count("decoder")) {
        startStage();
        const auto proj = unclip::TextProj::withRandomWeights(shapes.textProj, device, 3);
        const auto& p = shapes.textProj;
        const at::Tensor image = at::randn({1, p.clipEmbeddingsDim}, floats);
        const at::Tensor text = at::randn({2, p.clipEmbeddingsDim}, floats);
        const at::Tensor textHidden = at::randn({2, 77, p.clipEmbeddingsDim}, floats);
        unclip::DecoderConditioning conditioning;
        textProjSeconds
            = timeSteps(options.steps, [&] { conditioning = proj->forward(image, text, textHidden, true); });
        totalBytes += proj->weights().bytes;
        const auto decoder = unclip::UNet::withRandomWeights(shapes.decoder, device, 4);
        const auto& c = shapes.decoder;
        const at::Tensor sample = at::randn({2, c.inChannels, c.sampleSize, c.sampleSize}, floats);
        const at::Tensor mask = at::ones({2, 77 + p.extraContextTokens}, at::kLong);
        decoderSeconds = timeSteps(options.steps, [&] {
            decoder->forward(
                sample, 500, {conditioning.additiveTimeEmbedding, conditioning.encoderHiddenStates, mask});
        });
        totalBytes += decoder->weights().bytes;
        const Parts parts = timeParts(
            *decoder, sample, {conditioning.additiveTimeEmbedding, conditioning.encoderHiddenStates, mask});
        report("decoder", dtype, decoder->weights().parameters,
            decoder->weights().bytes + proj->weights().bytes, 2, decoderSeconds, peakOf(), parts);
    }
    if (options.stages.count("superres")) {
        startStage();
        const auto superRes = unclip::UNet::withRandomWeights(shapes.superRes, device, 5);
        const auto& c = shapes.superRes;
        const at::Tensor sample = at::randn({1, c.inChannels, c.sampleSize, c.sampleSize}, floats);
        superResSeconds = timeSteps(options.steps, [&] { superRes->forward(sample, 500); });
        totalBytes += 2 * superRes->weights().bytes; // first and last: the same shapes
        report("super_res", dtype, superRes->weights().parameters, superRes->weights().bytes, 1,
            superResSeconds, peakOf(), timeParts(*superRes, sample, {}));
    }
    if (options.stages.size() == 4) {
        const double perImage
            = textSeconds + 25 * priorSeconds + textProjSeconds + 25 * decoderSeconds + 7 * superResSeconds;
        const double totalMiB = static_cast<double>(totalBytes) / (1024.0 * 1024.0);
        std::printf("{\"bench\":\"unclip_image\",\"dtype\":\"%s\",\"threads\":%d,\"steps\":\"25/25/7\","
                    "\"seconds_per_image\":%.1f,\"from\":\"per-step figures\",\"weights_mib\":%.0f,"
                    "\"peak_rss_mib\":%.0f,\"peak_rss_over_all_weights\":%.2f}\n",
            dtype.c_str(), nn::cpuThreads(), perImage, totalMiB, overallPeak, overallPeak / totalMiB);
    }
}

std::vector<std::string> splitList(const std::string& text)
{
    std::vector<std::string> items;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');)
        items.push_back(item);
    return items;
}

Options parseOptions(int argc, char** argv)
{
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "unclip_bench: %s needs a value\n", arg.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--shapes")
            options.shapes = value();
        else if (arg == "--dtype") {
            const std::string d = value();
            options.dtypes = d == "both" ? std::vector<std::string> {"float32", "bfloat16"} : std::vector {d};
        } else if (arg == "--steps")
            options.steps = std::max(1, std::atoi(value().c_str()));
        else if (arg == "--threads")
            options.threads = std::atoi(value().c_str());
        else if (arg == "--stages") {
            const auto list = splitList(value());
            options.stages = {list.begin(), list.end()};
        } else if (arg == "--device")
            options.device = value();
        else {
            std::fprintf(stderr,
                "usage: unclip_bench [--shapes karlo|tiny] [--dtype float32|bfloat16|float16|both] [--steps "
                "N] "
                "[--threads N] [--stages text,prior,decoder,superres] [--device cpu|cuda]\n");
            std::exit(2);
        }
    }
    return options;
}

} // namespace

int main(int argc, char** argv)
{
    const Options options = parseOptions(argc, argv);
    nn::setCpuThreads(options.threads);
    c10::InferenceMode inferenceMode;
    const Shapes shapes = options.shapes == "tiny" ? tinyShapes() : karloShapes();
    for (const std::string& dtype : options.dtypes)
        runFormat(options, shapes, dtype);
    return 0;
}
