// pictor autotag --tag "beach=a photo of a beach;waves on a sandy shore" [--tag dog]... [--threshold 0.25]
//                [--dry-run] [--json] [--library DIR] [--model DIR]
// Zero-shot tags (indexer/auto_tags.h): each photo at or above the threshold gets the tag, marked as given by
// the model (source "auto:<model id>", with its score and the threshold); a run replaces the tag's earlier
// one with the same model. --dry-run writes nothing and shows how many photos the threshold takes, with the
// best and the borderline ones, to choose it. A run that writes also keeps the tag's rule: new photos get
// the tag as they are indexed (--no-follow: not); --rules lists the rules, --forget TAG drops one (its
// tags stay).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/library_access.h"
#include "app/shell_quote.h"
#include "core/error.h"
#include "indexer/auto_tags.h"

namespace pictor::app {
namespace {

struct AutotagArgs {
    std::string library;
    std::string model;
    std::string dtype = "auto";
    std::vector<std::string> tags;
    double threshold = 0.25;
    bool dryRun = false;
    bool noFollow = false;
    bool listRules = false;
    std::vector<std::string> forget;
    bool json = false;
};

int listRules(const AutotagArgs& args)
{
    Library library = Library::openForReading(libraryDir(args.library));
    nlohmann::json out = nlohmann::json::array();
    for (const AutoTagRule& rule : library.catalog().autoTagRules()) {
        out.push_back({{"tag", rule.tag}, {"prompts", rule.prompts}, {"model_id", rule.modelId},
            {"threshold", rule.threshold}, {"created_at", rule.createdAt}});
        if (!args.json)
            std::printf("%s  threshold %.3f  model %s  prompts: %s\n", rule.tag.c_str(), rule.threshold,
                rule.modelId.c_str(), nlohmann::json(rule.prompts).dump().c_str());
    }
    if (args.json)
        std::printf("%s\n", jsonText(out, 2).c_str());
    return 0;
}

int forgetRules(const AutotagArgs& args)
{
    Library library = Library::openForWriting(libraryDir(args.library));
    int missing = 0;
    for (const auto& tag : args.forget) {
        if (library.catalog().removeAutoTagRule(tag)) {
            std::printf("%s: new photos no longer get it (the photos tagged keep it)\n", tag.c_str());
        } else {
            std::fprintf(stderr, "no zero-shot rule for the tag '%s'\n", tag.c_str());
            ++missing;
        }
    }
    return missing > 0 ? 1 : 0;
}

int runAutotag(const AutotagArgs& args, ModelHost& models)
{
    if (args.listRules)
        return listRules(args);
    if (!args.forget.empty())
        return forgetRules(args);
    PICTOR_CHECK(!args.tags.empty(), "name a tag: --tag beach or --tag \"beach=a photo of a beach\"");
    std::vector<TagDefinition> definitions;
    for (const auto& text : args.tags)
        definitions.push_back(parseTagDefinition(text));
    std::optional<Library> library;
    if (args.dryRun)
        library.emplace(Library::openForReading(libraryDir(args.library)));
    else
        library.emplace(Library::openForWriting(libraryDir(args.library)));
    const auto embedder = loadLibraryEmbedder(models, *library, args.model, ModelUse::Search, args.dtype);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& definition : definitions) {
        const auto vector = promptEnsemble(*embedder, definition);
        const auto scores = scorePhotos(library->catalog(), embedder->modelId(), vector);
        const auto passing = std::count_if(
            scores.begin(), scores.end(), [&](const PhotoScore& s) { return s.score >= args.threshold; });
        const std::int64_t tagged = args.dryRun
            ? 0
            : applyAutoTag(library->catalog(), embedder->modelId(), definition.tag, scores, args.threshold);
        if (!args.dryRun && !args.noFollow)
            library->catalog().saveAutoTagRule(
                {definition.tag, definition.prompts, embedder->modelId(), args.threshold, 0});
        nlohmann::json photos = nlohmann::json::array(); // the best, and those around the threshold
        for (std::size_t i = 0; i < scores.size(); ++i) {
            const bool best = i < 5;
            const bool borderline = std::abs(scores[i].score - args.threshold) < 0.02;
            if (!best && !borderline)
                continue;
            const auto photo = library->catalog().photo(scores[i].photoId);
            photos.push_back({{"id", scores[i].photoId}, {"path", photo ? photo->path.string() : ""},
                {"score", scores[i].score}, {"tagged", scores[i].score >= args.threshold}});
        }
        out.push_back({{"tag", definition.tag}, {"prompts", definition.prompts},
            {"threshold", args.threshold}, {"scored", scores.size()}, {"passing", passing},
            {"tagged", tagged}, {"source", autoTagSource(embedder->modelId())}, {"photos", photos}});
        if (args.json)
            continue;
        std::printf("%s: %lld of %zu photos at or above %.3f%s\n", definition.tag.c_str(),
            static_cast<long long>(passing), scores.size(), args.threshold,
            args.dryRun ? " (dry run: nothing written)" : " tagged");
        for (const auto& photo : photos)
            std::printf("  %s %.4f  %s\n", photo["tagged"].get<bool>() ? "+" : "-",
                photo["score"].get<double>(), shellQuoted(photo["path"].get<std::string>()).c_str());
    }
    if (args.json)
        std::printf("%s\n", jsonText(out, 2).c_str());
    return 0;
}

} // namespace

CommandRun addAutotagCommand(CLI::App& parent, const CommandContext& context)
{
    auto args = std::make_shared<AutotagArgs>();
    CLI::App* command
        = parent.add_subcommand("autotag", "Tag photos by prompts (zero-shot, with the search model)");
    addSearchModelOptions(*command, args->library, args->model, args->dtype);
    command
        ->add_option("--tag", args->tags,
            "TAG or TAG=PROMPT;PROMPT...: the tag and the prompts whose mean defines it (repeatable)")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    command->add_option("--threshold", args->threshold, "Cosine score a photo needs (default 0.25)")
        ->check(CLI::Range(-1.0, 1.0));
    command->add_flag(
        "--dry-run", args->dryRun, "Write nothing: how many photos the threshold takes, best and borderline");
    command->add_flag("--no-follow", args->noFollow, "Tag the library once: new photos do not get the tag");
    auto* rules = command->add_flag("--rules", args->listRules, "List the zero-shot rules new photos follow");
    auto* forget = command
                       ->add_option("--forget", args->forget,
                           "TAG: new photos no longer get this zero-shot tag (the photos tagged keep it)")
                       ->expected(1)
                       ->allow_extra_args(false)
                       ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    rules->excludes(forget);
    command->add_flag(
        "--json", args->json, "Print [{tag, prompts, threshold, scored, passing, tagged, photos}]");
    ModelHost* models = &context.models;
    return [args, models] { return runAutotag(*args, *models); };
}

} // namespace pictor::app
