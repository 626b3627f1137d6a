// CLIP speed in the real ViT-B/32 shapes (random weights made in memory; nothing is downloaded).
// Prints one JSON line per measurement: image-encode images/s at batch 1/8/32 and text-encode ms/query,
// for each thread count. Usage: clip_bench [--threads 1,2] [--device cpu|cuda] [--dtype
// auto|float32|bfloat16]
// [--seconds S]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <c10/core/InferenceMode.h>

#include "plugins/clip/clip_model.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::vector<int> threads {1, 2};
    std::string device = "cpu";
    std::string dtype = "auto"; // nn::chooseNumberFormat, as the app picks it
    double seconds = 3.0; // minimum measuring time per figure
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
        } else if (key == "--device") {
            options.device = value;
        } else if (key == "--dtype") {
            options.dtype = value;
        } else if (key == "--seconds") {
            options.seconds = std::stod(value);
        }
    }
    return options;
}

// Runs `step` (after one warm-up) until `seconds` have passed; returns seconds per call.
template <typename Step>
double timePerCall(Step step, double seconds, const pictor::nn::ComputeDevice& device)
{
    auto sync = [&] {
        if (device.device.is_cuda())
            at::empty({1}, at::TensorOptions().device(device.device)).cpu(); // waits for the stream
    };
    step();
    sync();
    int calls = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    while (elapsed < seconds || calls < 3) {
        step();
        sync();
        ++calls;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    }
    return elapsed / calls;
}

} // namespace

int main(int argc, char** argv)
{
    const Options options = parseOptions(argc, argv);
    auto device = pictor::nn::resolveDevice(pictor::nn::parseDeviceChoice(options.device));
    pictor::nn::chooseNumberFormat(device, options.dtype, {.bfloat16 = true});
    const auto config = pictor::clip::ClipConfig::vitB32();
    const auto model = pictor::clip::ClipModel::withRandomWeights(config, device, 1234);
    c10::InferenceMode guard;
    std::printf(
        "{\"model\":\"ViT-B/32 shapes, random weights\",\"device\":\"%s\"}\n", device.describe().c_str());

    for (int threads : options.threads) {
        pictor::nn::setCpuThreads(threads);
        for (int batch : {1, 8, 32}) {
            const at::Tensor pixels = at::randn({batch, 3, config.vision.imageSize, config.vision.imageSize});
            const double seconds = timePerCall([&] { model->encodeImages(pixels); }, options.seconds, device);
            std::printf("{\"bench\":\"image_encode\",\"threads\":%d,\"batch\":%d,\"images_per_s\":%.2f,\"ms_"
                        "per_batch\":"
                        "%.1f}\n",
                threads, batch, batch / seconds, seconds * 1e3);
            std::fflush(stdout);
        }
        // A typical search query is ~10 tokens; the embedder pads only to the longest text of a batch.
        for (int tokens : {10, 77}) {
            at::Tensor ids = at::randint(1, 49000, {1, tokens}, at::kLong);
            ids.index_put_({0, tokens - 1}, 49407);
            const at::Tensor mask = at::ones({1, tokens}, at::kLong);
            const double seconds
                = timePerCall([&] { model->encodeText(ids, mask); }, options.seconds, device);
            std::printf("{\"bench\":\"text_encode\",\"threads\":%d,\"batch\":1,\"tokens\":%d,\"ms_per_"
                        "query\":%.2f}\n",
                threads, tokens, seconds * 1e3);
            std::fflush(stdout);
        }
    }
    return 0;
}
