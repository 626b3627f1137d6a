// pictor caption --model DIR [--json] [--max-tokens N] FILE...
// pictor caption --model DIR --library DIR --all|--folder F [--json]
// Captions files, or the photos of a library as a resumable batch job: a photo that already has a caption
// from this model id and prompt is skipped; each caption is stored (with model id, prompt and time) as
// soon as it is made, so Ctrl+C loses at most the photo in progress.
#include <atomic>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "app/cli_checks.h"
#include "app/commands.h"
#include "app/library_access.h"
#include "app/shell_quote.h"
#include "app/stop_request.h"
#include "core/error.h"
#include "core/imageio/decode.h"
#include "indexer/caption_job.h"
#include "indexer/compute_worker.h"

namespace pictor::app {
namespace {

struct CaptionArgs {
    std::string model;
    bool json = false;
    int maxTokens = 96;
    std::string device = "auto";
    std::string dtype = "auto";
    int threads = 0;
    std::string library;
    bool all = false;
    std::string folder;
    std::vector<std::string> files;
};

struct LoadedChat {
    ComputeWorker& worker;
    std::shared_ptr<VisionChat> chat;
};

ChatAnswer describeOnWorker(LoadedChat& loaded, const RgbImage& image, const CaptionArgs& args)
{
    AnswerOptions options;
    options.greedy = true;
    options.maxNewTokens = args.maxTokens;
    options.cancel = &stopRequest();
    return loaded.worker.run(JobPriority::Chat, [&] { return loaded.chat->describe(image, options); });
}

int captionFiles(const CaptionArgs& args, LoadedChat& loaded)
{
    int failed = 0;
    for (const auto& file : args.files) {
        if (stopRequest())
            return 130;
        ChatAnswer answer;
        try {
            answer = describeOnWorker(loaded, decodeImageFile(file, captionDecodeOptions()).image, args);
        } catch (const Error& e) {
            std::fprintf(stderr, "pictor: error: %s\n", e.what());
            ++failed;
            continue;
        }
        if (answer.cancelled)
            return 130;
        if (args.json)
            std::cout << jsonText({{"file", file}, {"caption", answer.text},
                {"model_id", loaded.chat->modelId()}, {"device", loaded.chat->deviceDescription()},
                {"prompt", captionPrompt()}, {"tokens", answer.tokens}})
                      << std::endl;
        else if (args.files.size() == 1)
            std::cout << answer.text << std::endl;
        else
            std::cout << file << ": " << answer.text << std::endl;
    }
    return failed > 0 ? 1 : 0;
}

void printBar(const CaptionCounts& c)
{
    constexpr int kWidth = 30;
    const std::int64_t todo = c.total - c.skipped;
    const int filled = todo > 0 ? static_cast<int>(kWidth * c.done / todo) : kWidth;
    std::fprintf(stderr, "\r[%s%s] %lld/%lld captioned  skipped %lld  failed %lld ",
        std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
        static_cast<long long>(c.done), static_cast<long long>(todo), static_cast<long long>(c.skipped),
        static_cast<long long>(c.failed));
}

nlohmann::json countsJson(const char* event, const CaptionCounts& c)
{
    return {{"event", event}, {"total", c.total}, {"done", c.done}, {"captioned", c.captioned},
        {"skipped", c.skipped}, {"failed", c.failed}};
}

int captionLibrary(const CaptionArgs& args, LoadedChat& loaded)
{
    Library library = Library::openForWriting(libraryDir(args.library));
    Catalog& catalog = library.catalog();
    PhotoFilter filter;
    if (!args.folder.empty())
        filter.folder = std::filesystem::absolute(args.folder).lexically_normal();
    const bool bar = !args.json && isatty(STDERR_FILENO);
    CaptionJobOptions options;
    options.maxNewTokens = args.maxTokens;
    options.worker = &loaded.worker;
    options.cancel = &stopRequest();
    options.progress = [&](const CaptionEvent& event) {
        if (args.json) {
            if (!event.caption.empty())
                std::cout << jsonText({{"event", "caption"}, {"photo_id", event.photoId},
                    {"path", event.path.string()}, {"caption", event.caption}})
                          << std::endl;
            std::cout << jsonText(countsJson("progress", event.counts)) << std::endl;
        } else if (bar) {
            printBar(event.counts);
        }
    };
    const CaptionSummary result = captionPhotos(catalog, *loaded.chat, catalog.filterPhotos(filter), options);
    const CaptionCounts& counts = result.counts;
    if (bar)
        std::fputc('\n', stderr);
    if (args.json) {
        nlohmann::json summary = countsJson("summary", counts);
        summary["cancelled"] = result.cancelled;
        summary["model_id"] = result.modelId;
        std::cout << jsonText(summary) << std::endl;
    } else {
        std::printf("captioned %lld, already captioned %lld, failed %lld%s\n",
            static_cast<long long>(counts.captioned), static_cast<long long>(counts.skipped),
            static_cast<long long>(counts.failed),
            result.cancelled ? " (cancelled: run again to resume)" : "");
        for (const auto& failure : catalog.failures("caption"))
            std::printf("  failed: %s: %s\n", shellQuoted(failure.path).c_str(), failure.reason.c_str());
    }
    return result.cancelled ? 130 : 0;
}

int runCaption(const CaptionArgs& args, ModelHost& models)
{
    const bool libraryMode = args.all || !args.folder.empty();
    PICTOR_CHECK(!(args.all && !args.folder.empty()), "--all and --folder exclude each other");
    PICTOR_CHECK(libraryMode || args.library.empty(), "--library needs --all or --folder F");
    PICTOR_CHECK(libraryMode || !args.files.empty(),
        "nothing to caption: give files, or --library with --all "
        "or --folder F");
    PICTOR_CHECK(!libraryMode || args.files.empty(), "give either files or --all / --folder, not both");

    const VisionChatOptions options {args.device, args.threads, args.dtype};
    LoadedChat loaded {models.worker(),
        models.worker().run(JobPriority::Chat, [&] { return models.visionChat(args.model, options); })};
    return libraryMode ? captionLibrary(args, loaded) : captionFiles(args, loaded);
}

} // namespace

CommandRun addCaptionCommand(CLI::App& parent, const CommandContext& context)
{
    auto args = std::make_shared<CaptionArgs>();
    CLI::App* command = parent.add_subcommand(
        "caption", "Caption photos with a vision chat model (LLaVA): files, or a library");
    command->add_option("--model", args->model, "Model folder (Hugging Face layout, model_type llava)")
        ->required()
        ->check(CLI::ExistingDirectory);
    command->add_flag("--json", args->json, "JSON lines: one per caption (and progress events in a library)");
    command->add_option("--max-tokens", args->maxTokens, "Most new tokens per caption (default 96)")
        ->check(wholeNumber(1, 32768));
    command->add_option("--device", args->device, "auto, cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    addChatNumberFormatOption(*command, args->dtype);
    command->add_option("--threads", args->threads, "CPU threads (0 = all cores)")
        ->check(wholeNumber(0, kMaxThreads));
    command->add_option("--library", args->library, "Library folder (default: the XDG data folder)");
    command->add_flag(
        "--all", args->all, "Caption every photo of the library that has no caption from this model");
    command->add_option("--folder", args->folder, "Caption the library's photos under this folder");
    command->add_option("FILE", args->files, "Image files to caption")->check(CLI::ExistingFile);
    ModelHost* models = &context.models;
    return [args, models] { return runCaption(*args, *models); };
}

} // namespace pictor::app
