// pictor index [--library DIR] [--model DIR] [--json] PATH...
#include <cstdio>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "app/cli_checks.h"
#include "app/commands.h"
#include "app/library_access.h"
#include "app/shell_quote.h"
#include "app/stop_request.h"
#include "indexer/index_job.h"

namespace pictor::app {
namespace {

struct IndexArgs {
    std::string library;
    std::string model;
    std::string dtype = "auto";
    bool json = false;
    int threads = 0;
    long long decodeMemoryMb = 512;
    bool fullDecode = false;
    std::string thumbnails;
    bool noThumbnails = false;
    bool allowMassDelete = false;
    std::vector<std::string> paths;
};

std::string clock(double seconds)
{
    const auto s = static_cast<long>(seconds);
    char text[32];
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    return text;
}

void printBar(const IndexProgress& p)
{
    if (p.phase != IndexProgress::Phase::Indexing || p.total == 0) {
        std::fprintf(stderr, "\r%-78s",
            p.phase == IndexProgress::Phase::Scanning ? "scanning folders..." : "finishing...");
        return;
    }
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * p.done / p.total);
    std::fprintf(stderr, "\r[%s%s] %lld/%lld  %.1f img/s  ETA %s  failed %lld ",
        std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
        static_cast<long long>(p.done), static_cast<long long>(p.total), p.imagesPerSecond,
        clock(p.etaSeconds).c_str(), static_cast<long long>(p.failed));
}

nlohmann::json progressJson(const IndexProgress& p)
{
    static const char* phases[] = {"scanning", "indexing", "finishing"};
    return {{"event", "progress"}, {"phase", phases[static_cast<int>(p.phase)]}, {"done", p.done},
        {"total", p.total}, {"failed", p.failed}, {"images_per_s", p.imagesPerSecond},
        {"eta_s", p.etaSeconds}};
}

nlohmann::json summaryJson(const IndexSummary& s)
{
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& failure : s.failures)
        failures.push_back({{"path", failure.path.string()}, {"reason", failure.reason}});
    nlohmann::json offline = nlohmann::json::array();
    for (const auto& root : s.offlineRoots)
        offline.push_back(root.string());
    nlohmann::json otherDrive = nlohmann::json::array();
    for (const auto& root : s.otherDriveRoots)
        otherDrive.push_back(root.string());
    return {{"event", "summary"}, {"indexed", s.indexed}, {"unchanged", s.unchanged}, {"touched", s.touched},
        {"moved", s.moved}, {"deleted", s.deleted}, {"kept", s.kept}, {"failed", s.failures.size()},
        {"failures", failures}, {"cancelled", s.cancelled}, {"seconds", s.seconds},
        {"images_per_s", s.imagesPerSecond}, {"vector_index", s.vectorIndex}, {"offline", offline},
        {"deletions_held", s.deletionsHeld}, {"other_drive", otherDrive}, {"raw_companions", s.rawCompanions},
        {"auto_tagged", s.autoTagged}};
}

void printSummary(const IndexSummary& s)
{
    std::printf(
        "indexed %lld, unchanged %lld, moved %lld, deleted %lld, metadata updated %lld, failed %zu%s\n",
        static_cast<long long>(s.indexed), static_cast<long long>(s.unchanged),
        static_cast<long long>(s.moved), static_cast<long long>(s.deleted), static_cast<long long>(s.touched),
        s.failures.size(), s.cancelled ? " (cancelled: run again to resume)" : "");
    for (const auto& root : s.offlineRoots)
        std::printf("offline: %s reads as empty (an unmounted drive?): its photos are kept and still found; "
                    "remove the folder from the library to forget them\n",
            shellQuoted(root).c_str());
    for (const auto& root : s.otherDriveRoots)
        std::printf("offline: %s is on another drive than when it was indexed, without some of its photos: "
                    "they are kept and still found; --allow-mass-delete accepts the new drive\n",
            shellQuoted(root).c_str());
    if (s.deletionsHeld > 0)
        std::printf(
            "held: %lld photos vanished from folders that lost more than half of theirs at once; they "
            "are kept: run again with --allow-mass-delete to forget them\n",
            static_cast<long long>(s.deletionsHeld));
    if (s.autoTagged > 0)
        std::printf("%lld zero-shot tags given to new photos by their rules (pictor autotag --rules)\n",
            static_cast<long long>(s.autoTagged));
    if (s.rawCompanions > 0)
        std::printf("%lld RAW files are the second file of the photo of the same name beside them (one shot, "
                    "indexed once)\n",
            static_cast<long long>(s.rawCompanions));
    if (s.kept > 0)
        std::printf("kept %lld photos under folders that could not be read, offline or held\n",
            static_cast<long long>(s.kept));
    for (const auto& failure : s.failures)
        std::printf("  failed: %s: %s\n", shellQuoted(failure.path).c_str(), failure.reason.c_str());
    std::printf(
        "%.1f s, %.1f images/s; vector index %s\n", s.seconds, s.imagesPerSecond, s.vectorIndex.c_str());
}

int runIndex(const IndexArgs& args, ModelHost& models)
{
    Library library = Library::openForWriting(libraryDir(args.library));
    auto embedder = loadLibraryEmbedder(models, library, args.model, ModelUse::Index, args.dtype);

    IndexOptions options;
    options.modelDir = args.model;
    options.decodeThreads = args.threads;
    options.decodeMemoryBytes = static_cast<std::int64_t>(args.decodeMemoryMb) << 20;
    options.reducedDecode = !args.fullDecode;
    options.allowMassDelete = args.allowMassDelete;
    std::optional<ThumbnailCache> thumbnails;
    if (!args.noThumbnails) {
        thumbnails.emplace(
            args.thumbnails.empty() ? ThumbnailCache::defaultDir() : std::filesystem::path(args.thumbnails));
        options.thumbnails = &*thumbnails;
    }
    options.cancel = &stopRequest();
    const bool bar = !args.json && isatty(STDERR_FILENO);
    options.progress = [&](const IndexProgress& p) {
        if (args.json)
            std::cout << jsonText(progressJson(p)) << std::endl;
        else if (bar)
            printBar(p);
    };
    std::vector<std::filesystem::path> roots(args.paths.begin(), args.paths.end());
    const IndexSummary summary = indexLibrary(library, *embedder, roots, options);
    if (bar)
        std::fputc('\n', stderr);
    if (args.json) {
        nlohmann::json out = summaryJson(summary);
        out["device"] = embedder->deviceDescription(); // "CPU bfloat16": the format picked for this CPU
        out["number_format_reason"] = embedder->numberFormatReason();
        std::cout << jsonText(out) << std::endl;
    } else {
        printSummary(summary);
        std::printf("model on %s (%s)\n", embedder->deviceDescription().c_str(),
            embedder->numberFormatReason().c_str());
    }
    return summary.cancelled ? 130 : 0;
}

} // namespace

CommandRun addIndexCommand(CLI::App& parent, const CommandContext& context)
{
    auto args = std::make_shared<IndexArgs>();
    CLI::App* command = parent.add_subcommand("index", "Add folders to the library and index their photos");
    command->add_option("--library", args->library, "Library folder (default: the XDG data folder)");
    addNumberFormatOption(*command, args->dtype);
    command->add_option("--model", args->model, "Embedding model folder (remembered for the library)")
        ->check(CLI::ExistingDirectory);
    command->add_flag("--json", args->json, "One JSON object per progress event, then a summary object");
    command->add_option("--threads", args->threads, "Decoding threads (0 = one per core)")
        ->check(wholeNumber(0, kMaxThreads));
    command
        ->add_option("--decode-memory", args->decodeMemoryMb,
            "Megabytes the decoding threads may hold at once (default 512; a larger photo is decoded alone)")
        ->check(wholeNumber(16, 1 << 20));
    command->add_flag("--full-decode", args->fullDecode, "Decode every JPEG at full size (slower)");
    command->add_option("--thumbnails", args->thumbnails,
        "Thumbnail cache folder (default: the XDG cache folder, pictor/thumbnails)");
    command->add_flag("--no-thumbnails", args->noThumbnails, "Do not write thumbnails");
    command->add_flag("--allow-mass-delete", args->allowMassDelete,
        "Forget the photos of a folder that lost more than half of them at once, or accept another drive at "
        "a "
        "folder's place (kept otherwise)");
    command->add_option(
        "PATH", args->paths, "Folders to add and index (none: re-index the library's folders)");
    ModelHost* models = &context.models;
    return [args, models] { return runIndex(*args, *models); };
}

} // namespace pictor::app
