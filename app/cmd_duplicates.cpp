// pictor duplicates [--library DIR] [--model DIR] [--threshold 0.95] [--json]
// Groups of exact copies (same content) and near-duplicates (embeddings within the threshold), the best
// photo of each first (most pixels, then the largest file, then the oldest). Nothing is changed.
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/library_access.h"
#include "app/shell_quote.h"
#include "core/error.h"
#include "indexer/duplicates.h"

namespace pictor::app {
namespace {

struct DuplicatesArgs {
    std::string library;
    std::string model;
    std::string dtype = "auto";
    double threshold = 0.95;
    bool json = false;
};

int runDuplicates(const DuplicatesArgs& args, ModelHost& models)
{
    Library library = Library::openForReading(libraryDir(args.library));
    const auto embedder = loadLibraryEmbedder(models, library, args.model, ModelUse::Search, args.dtype);
    const auto start = std::chrono::steady_clock::now();
    DuplicateOptions options;
    options.threshold = args.threshold;
    const auto groups = findDuplicates(library, embedder->modelId(), embedder->dimension(), options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (args.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& group : groups) {
            nlohmann::json photos = nlohmann::json::array();
            for (const auto& photo : group.photos)
                photos.push_back({{"id", photo.id}, {"path", photo.path.string()}, {"width", photo.width},
                    {"height", photo.height}, {"size", photo.size}});
            out.push_back(
                {{"kind", group.exact ? "exact" : "near"}, {"score", group.lowestScore}, {"photos", photos}});
        }
        std::printf("%s\n", jsonText(out, 2).c_str());
        return 0;
    }
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const auto& group = groups[g];
        std::printf("group %zu: %s\n", g + 1,
            group.exact ? "the same content"
                        : strCat("near-duplicates, similarity >= ", group.lowestScore).c_str());
        for (std::size_t i = 0; i < group.photos.size(); ++i) {
            const auto& photo = group.photos[i];
            std::printf("  %s %6lld  %dx%d  %.1f MB  %s\n", i == 0 ? "best" : "    ",
                static_cast<long long>(photo.id), photo.width, photo.height,
                static_cast<double>(photo.size) / 1e6, shellQuoted(photo.path).c_str());
        }
    }
    std::fprintf(stderr, "%zu groups of duplicates (%.1f s)\n", groups.size(), seconds);
    return 0;
}

} // namespace

CommandRun addDuplicatesCommand(CLI::App& parent, const CommandContext& context)
{
    auto args = std::make_shared<DuplicatesArgs>();
    CLI::App* command
        = parent.add_subcommand("duplicates", "List exact copies and near-duplicates, best first");
    addSearchModelOptions(*command, args->library, args->model, args->dtype);
    command->add_option("--threshold", args->threshold, "Cosine similarity of near-duplicates (default 0.95)")
        ->check(CLI::Range(0.5, 1.0));
    command->add_flag(
        "--json", args->json, "Print [{kind, score, photos: [{id, path, width, height, size}]}]");
    ModelHost* models = &context.models;
    return [args, models] { return runDuplicates(*args, *models); };
}

} // namespace pictor::app
