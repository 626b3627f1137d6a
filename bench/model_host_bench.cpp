// The memory of the models Pictor holds together, loaded through the model host as the window loads them:
// a CLIP model for search and a LLaVA model for captions, both in use (an embedding batch, a caption), then
// again under a budget that fits one at a time (the idle one is unloaded for the other). Prints JSON lines:
// each load (the host's estimate of the weights, the process's RSS after it), the work with both held, and
// the peak RSS against the budget.
// --vit-b32 DIR: the CLIP model is a ViT-B/32-shaped random folder written at DIR first (what search uses).
//
// Measured (2-core Xeon with AVX-512, AVX512_BF16, AMX and VNNI, 23 GB RAM, 2 threads):
// - the fixtures (clip-tiny-a + llava-tiny-llama): the host counts 0.032 GB, the process holds 0.21 GB
//   (LibTorch itself) with both in use;
// - ViT-B/32-shaped CLIP (float32) + llava-1.5-7b-shaped LLaVA (bfloat16 from a sharded float16
//   checkpoint) under a 16 GB budget: the host counts 0.61 + 14.13 = 14.73 GB, RSS with both in use and a
//   caption made is 15.10 GB (1.03x the host's count, inside the budget). The peak RSS while loading is
//   24.4 GB: it counts the mapped checkpoint's pages (13.5 GB of file pages the kernel drops under
//   pressure), not memory the process allocates. Under a 14 GB budget the idle CLIP model is unloaded for
//   LLaVA (which alone exceeds it: loaded, with the warning).
// Usage: model_host_bench (--clip DIR | --vit-b32 DIR) --llava DIR [--llava-dtype auto|float32|bfloat16]
//                         [--threads N] [--budget-gb N] [--tight-budget-gb N]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/support/process_memory.h"
#include "bench/support/vit_b32_folder.h"
#include "indexer/model_host.h"
#include "plugins/clip/clip_family.h"
#include "plugins/llava/llava_vision_chat.h"

namespace {

using pictor::bench::currentRssMiB;
using pictor::bench::peakRssMiB;
using pictor::bench::resetPeakRss;

struct Options {
    std::string clip;
    std::string vitB32;
    std::string llava;
    std::string llavaDtype = "auto";
    int threads = 0;
    double budgetGB = 0; // 0: the host's default (half the memory)
    double tightBudgetGB = -1; // < 0: no second round
};

Options parseOptions(int argc, char** argv)
{
    Options options;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i], value = argv[i + 1];
        if (key == "--clip")
            options.clip = value;
        else if (key == "--vit-b32")
            options.vitB32 = value;
        else if (key == "--llava")
            options.llava = value;
        else if (key == "--llava-dtype")
            options.llavaDtype = value;
        else if (key == "--threads")
            options.threads = std::stoi(value);
        else if (key == "--budget-gb")
            options.budgetGB = std::stod(value);
        else if (key == "--tight-budget-gb")
            options.tightBudgetGB = std::stod(value);
        else {
            std::fprintf(stderr, "unknown option %s\n", key.c_str());
            std::exit(2);
        }
    }
    if (!options.vitB32.empty())
        options.clip = options.vitB32;
    if (options.clip.empty() || options.llava.empty()) {
        std::fprintf(stderr,
            "usage: model_host_bench --clip DIR --llava DIR [--llava-dtype auto|bfloat16] "
            "[--threads N] [--budget-gb N] [--tight-budget-gb N]\n");
        std::exit(2);
    }
    return options;
}

double gb(std::uint64_t bytes)
{
    return static_cast<double>(bytes) / 1e9;
}

void printLoaded(const char* round, const char* what, pictor::ModelHost& host)
{
    std::printf("{\"round\":\"%s\",\"event\":\"%s\",\"loaded\":[", round, what);
    const char* separator = "";
    for (const auto& model : host.loaded()) {
        std::printf("%s{\"model\":\"%s\",\"gb\":%.3f,\"in_use\":%s}", separator, model.description.c_str(),
            gb(model.bytes), model.inUse ? "true" : "false");
        separator = ",";
    }
    std::printf("],\"loaded_gb\":%.3f,\"budget_gb\":%.3f,\"rss_gb\":%.3f,\"peak_rss_gb\":%.3f}\n",
        gb(host.loadedBytes()), gb(host.budget()), currentRssMiB() * 1.048576e-3, peakRssMiB() * 1.048576e-3);
    std::fflush(stdout);
}

pictor::RgbImage randomPhoto(int width, int height)
{
    std::mt19937 rng(5);
    pictor::RgbImage image(width, height);
    for (auto& value : image.pixels)
        value = static_cast<std::uint8_t>(rng() % 256);
    return image;
}

// One search's and one caption's work, each model held while it runs (as the engines hold them).
void round(const char* name, pictor::ModelHost& host, const Options& options, bool holdBoth)
{
    pictor::EmbedderOptions clipOptions;
    clipOptions.device = "cpu";
    clipOptions.cpuThreads = options.threads;
    const pictor::VisionChatOptions chatOptions {"cpu", options.threads, options.llavaDtype};
    host.worker().run(pictor::JobPriority::Interactive, [&] {
        auto clip = host.embedder(options.clip, clipOptions);
        printLoaded(name, "clip loaded", host);
        const auto& pre = clip->preprocessing();
        std::vector<float> pixels(
            static_cast<std::size_t>(8) * 3 * pre.outputHeight() * pre.outputWidth(), 0.25f);
        clip->embedPixelValues(pixels.data(), 8);
        clip->embedTexts({"a dog on a beach at sunset"});
        if (!holdBoth)
            clip.reset(); // idle: the host may unload it
        auto chat = host.visionChat(options.llava, chatOptions);
        printLoaded(name, "llava loaded", host);
        pictor::AnswerOptions answer;
        answer.maxNewTokens = 8;
        const auto caption = chat->describe(randomPhoto(640, 480), answer);
        std::printf("{\"round\":\"%s\",\"event\":\"caption\",\"tokens\":%d,\"device\":\"%s\"}\n", name,
            caption.tokens, chat->deviceDescription().c_str());
        if (clip)
            clip->embedTexts({"this one, but in snow"}); // both in use
        printLoaded(name, holdBoth ? "both used" : "one at a time", host);
    });
}

} // namespace

int main(int argc, char** argv)
{
    const Options options = parseOptions(argc, argv);
    if (!options.vitB32.empty()
        && !std::filesystem::exists(std::filesystem::path(options.vitB32) / "model.safetensors"))
        pictor::bench::writeVitB32FolderInChild(
            options.vitB32, std::filesystem::path(PICTOR_DEFAULT_FIXTURES_DIR) / "clip-tiny-a", 7, false);
    const auto families = [](pictor::ModelRegistry& registry) {
        pictor::clip::registerClipFamily(registry);
        pictor::llava::registerLlavaFamily(registry);
    };
    {
        resetPeakRss();
        pictor::ModelHost host(families,
            options.budgetGB > 0 ? static_cast<std::uint64_t>(options.budgetGB * 1e9)
                                 : pictor::ModelHost::defaultBudget());
        round("both held", host, options, true);
    }
    if (options.tightBudgetGB >= 0) {
        resetPeakRss();
        pictor::ModelHost host(families, static_cast<std::uint64_t>(options.tightBudgetGB * 1e9));
        round("tight budget", host, options, false);
    }
    return 0;
}
