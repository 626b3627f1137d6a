// LLaVA speed and memory in the real shapes of llava-interleave-qwen-0.5b (SigLIP so400m at 384 px, 26
// layers, + Qwen2-0.5B) or, with --shapes llava-1.5-7b, of llava-1.5-7b (CLIP ViT-L/14 at 336 px +
// Llama-2-7B), random weights made in memory (nothing is downloaded). Prints JSON lines:
// image-encode ms, prefill tokens/s (one image + text), decode tokens/s, per thread count, and the peak
// RSS while encoding and generating against the weights' size. The start of an answer in steps (what the
// compute worker runs between other jobs): the longest and total time of the vision tower's steps (one
// encoder layer each) and of the prefill's chunks (--prefill-chunks, positions per chunk).
// With --folder DIR the weights are written there first (config.json + sharded safetensors in
// --checkpoint-dtype, default f16 like the published checkpoint) and loaded the way a real model is
// (mapped, converted to the working dtype), so the RSS figures include what loading leaves behind.
// --dtype sets the number format (default: the device's, float32 on CPU; auto: as the app picks it; int8:
// the language model's weights in 8-bit blocks); the 7B model needs bf16 or int8 to fit.
// Usage: llava_bench [--shapes interleave-qwen-0.5b|llava-1.5-7b] [--dtype f32|bf16|f16|int8|auto]
//                    [--threads 1,2] [--decode-tokens 16] [--text-tokens 32] [--device cpu|cuda]
//                    [--prefill-chunks 32,64] [--only all|steps]
//                    [--folder DIR [--checkpoint-dtype f16|bf16|f32]]
// The peer: llama.cpp's llama-bench on a random GGUF in Qwen2-0.5B's shapes (../shared/peers/llamacpp:
// building it and make_qwen2_gguf.py), in the same minutes: `llama-bench -m qwen2-0.5b-q8_0.gguf -t 2
// -p 256 -n 32 -d 0,770` against `llava_bench --threads 2 --decode-tokens 32 --dtype int8`: its tg32
// against decode_after_text, tg32 @ d770 against decode (after one image's 770 positions), and the BF16
// file's pp256 against prefill.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include "bench/support/process_memory.h"
#include "plugins/llava/llava_model.h"
#include "plugins/llava/llava_stepwise.h"

namespace {

using pictor::bench::currentRssMiB;
using pictor::bench::peakRssMiB;
using pictor::bench::resetPeakRss;
using Clock = std::chrono::steady_clock;
using pictor::llava::LlavaConfig;

struct Options {
    std::vector<int> threads {1, 2};
    int decodeTokens = 16;
    int textTokens = 32;
    std::string device = "cpu";
    std::string folder;
    std::string checkpointDtype = "f16";
    std::string shapes = "interleave-qwen-0.5b";
    std::string dtype; // empty: the device's working dtype
    std::vector<std::int64_t> prefillChunks {pictor::llava::kDefaultPrefillChunk};
    bool stepsOnly = false; // --only steps: skip the one-pass encode / prefill / decode figures
};

Options parseOptions(int argc, char** argv)
{
    Options options;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i], value = argv[i + 1];
        if (key == "--threads") {
            options.threads.clear();
            std::stringstream list(value);
            for (std::string item; std::getline(list, item, ',');)
                options.threads.push_back(std::stoi(item));
        } else if (key == "--decode-tokens") {
            options.decodeTokens = std::stoi(value);
        } else if (key == "--text-tokens") {
            options.textTokens = std::stoi(value);
        } else if (key == "--device") {
            options.device = value;
        } else if (key == "--folder") {
            options.folder = value;
        } else if (key == "--checkpoint-dtype") {
            options.checkpointDtype = value;
        } else if (key == "--shapes") {
            options.shapes = value;
        } else if (key == "--dtype") {
            options.dtype = value;
        } else if (key == "--prefill-chunks") {
            options.prefillChunks.clear();
            std::stringstream list(value);
            for (std::string item; std::getline(list, item, ',');)
                options.prefillChunks.push_back(std::stoll(item));
        } else if (key == "--only") {
            options.stepsOnly = value == "steps";
        }
    }
    return options;
}

// llava-hf/llava-interleave-qwen-0.5b-hf's config.json.
LlavaConfig interleaveQwen05b()
{
    LlavaConfig config;
    config.vision.kind = pictor::llava::VisionTowerKind::Siglip;
    config.vision.modelType = "siglip_vision_model";
    config.vision.hiddenSize = 1152;
    config.vision.intermediateSize = 4304;
    config.vision.numHeads = 16;
    config.vision.numLayers = 26;
    config.vision.imageSize = 384;
    config.vision.patchSize = 14;
    config.vision.layerNormEps = 1e-6;
    config.vision.hiddenAct = "gelu_pytorch_tanh";
    config.visionFeatureLayers = {-1};
    config.dropClassToken = false;
    config.imageTokenIndex = 151646;
    config.eosTokenIds = {151645};
    auto& text = config.text;
    text.modelType = "qwen2";
    text.vocabSize = 152000;
    text.hiddenSize = 896;
    text.intermediateSize = 4864;
    text.numLayers = 24;
    text.numHeads = 14;
    text.numKvHeads = 2;
    text.headDim = 64;
    text.maxPositions = 32768;
    text.rmsNormEps = 1e-6;
    text.ropeTheta = 1e6;
    text.qkvBias = true;
    text.tieWordEmbeddings = true;
    return config;
}

// llava-hf/llava-1.5-7b-hf's config.json.
LlavaConfig llava15_7b()
{
    LlavaConfig config;
    config.vision.kind = pictor::llava::VisionTowerKind::Clip;
    config.vision.modelType = "clip_vision_model";
    config.vision.hiddenSize = 1024;
    config.vision.intermediateSize = 4096;
    config.vision.numHeads = 16;
    config.vision.numLayers = 24;
    config.vision.imageSize = 336;
    config.vision.patchSize = 14;
    config.vision.layerNormEps = 1e-5;
    config.vision.hiddenAct = "quick_gelu";
    config.visionFeatureLayers = {-2};
    config.dropClassToken = true;
    config.imageTokenIndex = 32000;
    config.eosTokenIds = {2};
    auto& text = config.text;
    text.modelType = "llama";
    text.vocabSize = 32064;
    text.hiddenSize = 4096;
    text.intermediateSize = 11008;
    text.numLayers = 32;
    text.numHeads = 32;
    text.numKvHeads = 32;
    text.headDim = 128;
    text.maxPositions = 4096;
    text.rmsNormEps = 1e-5;
    text.ropeTheta = 10000.0;
    text.tieWordEmbeddings = false;
    return config;
}

// The prompt around one image and `text` random ids, in the chat template of the shapes' family.
std::vector<std::int64_t> promptIds(const LlavaConfig& config, const at::Tensor& text, bool withImage = true)
{
    const bool llama = config.text.modelType == "llama";
    // llava-1.5: "USER: <image>\n" + text + " ASSISTANT:"; ChatML: <|im_start|>user\n<image>\n + text +
    // <|im_end|>\n<|im_start|>assistant\n.
    std::vector<std::int64_t> ids = llama
        ? std::vector<std::int64_t> {1, 3148, 1001, 29901, 29871, config.imageTokenIndex, 29871, 13}
        : std::vector<std::int64_t> {151644, 872, 198, config.imageTokenIndex, 198};
    if (!withImage)
        ids.erase(std::find(ids.begin(), ids.end(), config.imageTokenIndex));
    ids.insert(ids.end(), text.data_ptr<std::int64_t>(), text.data_ptr<std::int64_t>() + text.numel());
    if (llama)
        ids.insert(ids.end(), {319, 1799, 9047, 13566, 29901});
    else
        ids.insert(ids.end(), {151645, 198, 151644, 77091, 198});
    return pictor::llava::expandImageTokens(ids, config.imageTokenIndex, config.tokensPerImage());
}

// A llava folder in these shapes: config.json, generation_config.json and random weights in `dtype`.
void writeFolder(const std::filesystem::path& dir, const LlavaConfig& config, const std::string& dtype)
{
    std::filesystem::create_directories(dir);
    const auto& v = config.vision;
    const auto& t = config.text;
    const nlohmann::json json {{"model_type", "llava"}, {"image_token_index", config.imageTokenIndex},
        {"vision_feature_layer", config.visionFeatureLayers.front()},
        {"vision_feature_select_strategy", config.dropClassToken ? "default" : "full"},
        {"projector_hidden_act", config.projectorHiddenAct},
        {"vision_config",
            {{"model_type", v.modelType}, {"hidden_size", v.hiddenSize},
                {"intermediate_size", v.intermediateSize}, {"num_attention_heads", v.numHeads},
                {"num_hidden_layers", v.numLayers}, {"image_size", v.imageSize}, {"patch_size", v.patchSize},
                {"layer_norm_eps", v.layerNormEps}, {"hidden_act", v.hiddenAct}, {"vision_use_head", false}}},
        {"text_config",
            {{"model_type", t.modelType}, {"vocab_size", t.vocabSize}, {"hidden_size", t.hiddenSize},
                {"intermediate_size", t.intermediateSize}, {"num_hidden_layers", t.numLayers},
                {"num_attention_heads", t.numHeads}, {"num_key_value_heads", t.numKvHeads},
                {"max_position_embeddings", t.maxPositions}, {"rms_norm_eps", t.rmsNormEps},
                {"rope_theta", t.ropeTheta}, {"tie_word_embeddings", t.tieWordEmbeddings}}}};
    std::ofstream(dir / "config.json") << json.dump(2);
    std::ofstream(dir / "generation_config.json")
        << nlohmann::json {{"eos_token_id", config.eosTokenIds}}.dump(2);

    const at::ScalarType type = dtype == "f32" ? at::kFloat : dtype == "bf16" ? at::kBFloat16 : at::kHalf;
    const pictor::DType fileType = dtype == "f32" ? pictor::DType::F32
        : dtype == "bf16"                         ? pictor::DType::BF16
                                                  : pictor::DType::F16;
    // Sharded like the published checkpoints (about 2 GB a file), so only one shard is in memory at a time.
    at::manual_seed(1234);
    const auto shapes = pictor::llava::LlavaModel::parameterShapes(config);
    std::vector<std::vector<std::size_t>> shards(1);
    std::int64_t shardBytes = 0;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
        std::int64_t bytes = static_cast<std::int64_t>(c10::elementSize(type));
        for (std::int64_t dim : shapes[i].second)
            bytes *= dim;
        if (shardBytes > 0 && shardBytes + bytes > (std::int64_t {2} << 30)) {
            shards.emplace_back();
            shardBytes = 0;
        }
        shards.back().push_back(i);
        shardBytes += bytes;
    }
    nlohmann::json weightMap = nlohmann::json::object();
    for (std::size_t s = 0; s < shards.size(); ++s) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
        std::vector<at::Tensor> keep;
        std::vector<pictor::TensorToWrite> tensors;
        for (std::size_t i : shards[s]) {
            const auto& [tensorName, shape] = shapes[i];
            keep.push_back((at::randn(shape) * 0.02).to(type).contiguous());
            tensors.push_back({tensorName, fileType, shape,
                std::span(static_cast<const std::byte*>(keep.back().data_ptr()), keep.back().nbytes())});
            weightMap[tensorName] = name;
        }
        pictor::writeSafetensors(dir / name, tensors);
    }
    std::ofstream(dir / "model.safetensors.index.json")
        << nlohmann::json {{"metadata", nlohmann::json::object()}, {"weight_map", weightMap}}.dump(1);
}

double seconds(Clock::time_point since)
{
    return std::chrono::duration<double>(Clock::now() - since).count();
}

// Runs `step` until it returns true; the longest step and the total, in ms, and how many steps ran.
struct StepTimes {
    double longestMs = 0.0;
    double totalMs = 0.0;
    int steps = 0;
};

template <class Step> StepTimes timeSteps(Step step)
{
    StepTimes times;
    for (bool done = false; !done;) {
        const auto start = Clock::now();
        done = step();
        const double ms = seconds(start) * 1e3;
        times.longestMs = std::max(times.longestMs, ms);
        times.totalMs += ms;
        ++times.steps;
    }
    return times;
}

} // namespace

int main(int argc, char** argv)
{
    const Options options = parseOptions(argc, argv);
    auto device = pictor::nn::resolveDevice(pictor::nn::parseDeviceChoice(options.device));
    if (!options.dtype.empty()) {
        // As the app picks it (plugins/llava/llava_family.cpp), short names too.
        const std::string format = options.dtype == "bf16" ? "bfloat16"
            : options.dtype == "f16"                       ? "float16"
            : options.dtype == "f32"                       ? "float32"
                                                           : options.dtype;
        pictor::nn::chooseNumberFormat(device, format, {.bfloat16 = true, .weights8Bit = true});
    }
    const bool llava7b = options.shapes == "llava-1.5-7b";
    const LlavaConfig config = llava7b ? llava15_7b() : interleaveQwen05b();
    std::int64_t parameters = 0;
    for (const auto& [name, shape] : pictor::llava::LlavaModel::parameterShapes(config)) {
        std::int64_t count = 1;
        for (std::int64_t dim : shape)
            count *= dim;
        parameters += count;
    }
    const double weightsMiB
        = parameters * static_cast<double>(c10::elementSize(device.dtype)) / (1024 * 1024);
    auto start = Clock::now();
    std::shared_ptr<const pictor::llava::LlavaModel> model;
    if (options.folder.empty()) {
        model = pictor::llava::LlavaModel::withRandomWeights(config, device, 1234);
    } else {
        if (!std::filesystem::exists(std::filesystem::path(options.folder) / "model.safetensors.index.json"))
            writeFolder(options.folder, config, options.checkpointDtype);
        resetPeakRss();
        start = Clock::now();
        model = pictor::llava::LlavaModel::load(options.folder, device);
        std::printf("{\"bench\":\"load\",\"checkpoint_dtype\":\"%s\",\"seconds\":%.1f,\"peak_rss_mib\":%.0f,"
                    "\"rss_mib\":%.0f}\n",
            options.checkpointDtype.c_str(), seconds(start), peakRssMiB(), currentRssMiB());
    }
    std::printf(
        "{\"model\":\"%s shapes, random weights\",\"device\":\"%s\",\"format_reason\":\"%s\","
        "\"parameters\":%lld,\"weights_mib\":%.0f,\"tokens_per_image\":%lld,\"seconds_to_build\":%.1f}\n",
        llava7b ? "llava-1.5-7b (CLIP ViT-L/14 336px + Llama-2-7B)"
                : "llava-interleave-qwen-0.5b (SigLIP so400m 384px 26 layers + Qwen2-0.5B)",
        device.describe().c_str(), device.formatReason.c_str(), static_cast<long long>(parameters),
        weightsMiB, static_cast<long long>(config.tokensPerImage()), seconds(start));
    std::fflush(stdout);

    c10::InferenceMode guard;
    const std::int64_t textVocab = llava7b ? 32000 : 151643; // ordinary (non-special) ids
    const at::Tensor text = at::randint(0, textVocab, {options.textTokens}, at::kLong).contiguous();
    const std::vector<std::int64_t> ids = promptIds(config, text);
    const at::Tensor inputIds = at::tensor(ids).view({1, static_cast<std::int64_t>(ids.size())});
    const at::Tensor pixels
        = at::randn({1, 3, config.vision.imageSize, config.vision.imageSize}).to(device.device, device.dtype);

    resetPeakRss();
    const double rssBefore = peakRssMiB();
    for (int threads : options.threads) {
        pictor::nn::setCpuThreads(threads);
        model->encodeImages(pixels); // warm-up (oneDNN primitive creation, allocator)
        // The answer's start as the compute worker runs it: one step per job.
        pictor::llava::ImageEncoding encoding(*model, pixels);
        const StepTimes encodeSteps = timeSteps([&] { return encoding.step(); });
        std::printf("{\"bench\":\"image_encode_steps\",\"threads\":%d,\"steps\":%d,\"longest_step_ms\":%.0f,"
                    "\"total_ms\":%.0f}\n",
            threads, encodeSteps.steps, encodeSteps.longestMs, encodeSteps.totalMs);
        std::fflush(stdout);
        const at::Tensor embeds = model->embedPrompt(inputIds, encoding.features().image_features);
        for (const std::int64_t chunk : options.prefillChunks) {
            pictor::llava::LlavaSession chunked(model);
            pictor::llava::ChunkedPrefill prefill(chunked, embeds, chunk);
            const StepTimes prefillSteps = timeSteps([&] { return prefill.step(); });
            std::printf("{\"bench\":\"prefill_chunks\",\"threads\":%d,\"tokens\":%lld,\"chunk\":%lld,"
                        "\"steps\":%d,\"longest_step_ms\":%.0f,\"total_ms\":%.0f,\"tokens_per_s\":%.1f}\n",
                threads, static_cast<long long>(ids.size()), static_cast<long long>(chunk),
                prefillSteps.steps, prefillSteps.longestMs, prefillSteps.totalMs,
                ids.size() / (prefillSteps.totalMs / 1e3));
            std::fflush(stdout);
        }
        if (options.stepsOnly)
            continue;
        start = Clock::now();
        const at::Tensor features = model->encodeImages(pixels).image_features;
        const double encode = seconds(start);
        std::printf(
            "{\"bench\":\"image_encode\",\"threads\":%d,\"images\":1,\"ms\":%.0f}\n", threads, encode * 1e3);
        std::fflush(stdout);

        pictor::llava::LlavaSession session(model);
        start = Clock::now();
        const at::Tensor logits = session.prefill(inputIds, features);
        const double prefill = seconds(start);
        std::printf(
            "{\"bench\":\"prefill\",\"threads\":%d,\"tokens\":%lld,\"ms\":%.0f,\"tokens_per_s\":%.1f}\n",
            threads, static_cast<long long>(ids.size()), prefill * 1e3, ids.size() / prefill);
        std::fflush(stdout);

        pictor::nn::GenerationOptions generation;
        generation.maxNewTokens = options.decodeTokens + 1; // the first token comes from the prefill logits
        generation.stopTokenIds = {-1}; // random weights: never stop early
        start = Clock::now();
        const auto result = session.generate(logits, generation);
        const double decode = seconds(start);
        const auto fed = static_cast<double>(result.tokens.size()) - 1; // forward passes run
        std::printf(
            "{\"bench\":\"decode\",\"threads\":%d,\"context\":%lld,\"tokens\":%.0f,\"ms_per_token\":%.1f,"
            "\"tokens_per_s\":%.2f}\n",
            threads, static_cast<long long>(ids.size()), fed, decode * 1e3 / fed, fed / decode);
        std::fflush(stdout);

        // The same after a text-only prompt: what llama-bench's tg figures (from an empty context) measure.
        const std::vector<std::int64_t> textIds = promptIds(config, text, false);
        pictor::llava::LlavaSession textSession(model);
        const at::Tensor textLogits
            = textSession.prefill(at::tensor(textIds).view({1, static_cast<std::int64_t>(textIds.size())}));
        start = Clock::now();
        const auto textResult = textSession.generate(textLogits, generation);
        const double textDecode = seconds(start);
        const auto textFed = static_cast<double>(textResult.tokens.size()) - 1;
        std::printf("{\"bench\":\"decode_after_text\",\"threads\":%d,\"context\":%lld,\"tokens\":%.0f,"
                    "\"ms_per_token\":%.1f,\"tokens_per_s\":%.2f}\n",
            threads, static_cast<long long>(textIds.size()), textFed, textDecode * 1e3 / textFed,
            textFed / textDecode);
        std::fflush(stdout);
    }
    const double peak = peakRssMiB();
    std::printf("{\"bench\":\"memory\",\"weights_mib\":%.0f,\"rss_before_mib\":%.0f,\"peak_rss_mib\":%.0f,"
                "\"peak_over_weights\":%.2f}\n",
        weightsMiB, rssBefore, peak, peak / weightsMiB);
    return 0;
}
