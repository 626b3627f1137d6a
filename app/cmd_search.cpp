// pictor search [--library DIR] [--model DIR] [--limit K] [--min-score S] [--sort score|date] [--folder F]
//               [--after YYYY-MM-DD] [--before YYYY-MM-DD] [--camera C] [--tag T]... [--image FILE | --photo
//               ID]
//               [--weight W] [--json] [QUERY...]
#include <cstdio>
#include <ctime>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/cli_checks.h"
#include "app/commands.h"
#include "app/library_access.h"
#include "app/shell_quote.h"
#include "core/error.h"
#include "indexer/scanner.h"
#include "indexer/search.h"

namespace pictor::app {
namespace {

constexpr long long kMaxSearchLimit = 1000000;

struct SearchArgs {
    std::string library;
    std::string model;
    std::string dtype = "auto";
    int limit = 20;
    std::optional<double> minScore;
    std::string sort = "score";
    std::string folder;
    std::string after;
    std::string before;
    std::string camera;
    std::vector<std::string> tags;
    std::string fileTypes; // comma-separated
    bool generated = false;
    bool notGenerated = false;
    std::string image;
    std::optional<std::int64_t> photo;
    double weight = 0.5;
    bool json = false;
    bool hybrid = false;
    std::vector<std::string> words;
};

// YYYY-MM-DD -> unix seconds at 00:00 (dates taken are stored as wall-clock time, see decode.h).
std::int64_t parseDay(const std::string& text)
{
    std::tm day {};
    char extra = 0;
    PICTOR_CHECK(
        std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &day.tm_year, &day.tm_mon, &day.tm_mday, &extra) == 3
            && day.tm_mon >= 1 && day.tm_mon <= 12 && day.tm_mday >= 1 && day.tm_mday <= 31,
        "takes a date as YYYY-MM-DD, not '", text, "'");
    const int dayOfMonth = day.tm_mday;
    day.tm_year -= 1900;
    day.tm_mon -= 1;
    const auto seconds = static_cast<std::int64_t>(timegm(&day));
    // timegm normalises 2021-02-30 to March 2nd; a day the month does not have is a typo.
    PICTOR_CHECK(day.tm_mday == dayOfMonth, text, " is not a day of the calendar");
    return seconds;
}

SearchQuery toQuery(const SearchArgs& args)
{
    SearchQuery query;
    for (const auto& word : args.words)
        query.text += (query.text.empty() ? "" : " ") + word;
    if (!args.image.empty())
        query.imageFile = args.image;
    query.photoId = args.photo;
    query.textWeight = args.weight;
    query.hybrid = args.hybrid;
    query.limit = args.limit;
    query.minScore = args.minScore;
    query.sortByDate = args.sort == "date";
    if (!args.folder.empty())
        query.filter.folder = std::filesystem::absolute(args.folder);
    if (!args.after.empty())
        query.filter.takenFrom = parseDay(args.after);
    if (!args.before.empty())
        query.filter.takenBefore = parseDay(args.before);
    if (!args.camera.empty())
        query.filter.camera = args.camera;
    query.filter.tags = args.tags;
    std::stringstream types(args.fileTypes);
    for (std::string type; std::getline(types, type, ',');)
        if (const auto known = fileTypeFromName(type))
            query.filter.fileTypes.emplace_back(fileTypeName(*known)); // as the catalog stores it
    if (args.generated || args.notGenerated)
        query.filter.generated = args.generated;
    return query;
}

int runSearch(const SearchArgs& args, ModelHost& models)
{
    Library library = Library::openForReading(libraryDir(args.library));
    auto embedder = loadLibraryEmbedder(models, library, args.model, ModelUse::Search, args.dtype);
    SearchService service(library, *embedder);
    const auto hits = service.search(toQuery(args));
    if (args.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& hit : hits)
            out.push_back(
                {{"id", hit.id}, {"path", hit.path.string()}, {"score", hit.score}, {"why", hit.why}});
        std::cout << jsonText(out, 2) << '\n';
        return 0;
    }
    for (const auto& hit : hits)
        std::printf(
            "%.4f  %6lld  %s\n", hit.score, static_cast<long long>(hit.id), shellQuoted(hit.path).c_str());
    if (hits.empty())
        std::fprintf(stderr, "no photos matched\n");
    return 0;
}

} // namespace

CommandRun addSearchCommand(CLI::App& parent, const CommandContext& context)
{
    auto args = std::make_shared<SearchArgs>();
    CLI::App* command = parent.add_subcommand("search", "Find photos by text, by a photo, or both");
    addSearchModelOptions(*command, args->library, args->model, args->dtype);
    command->add_option("--limit", args->limit, "How many photos")->check(wholeNumber(1, kMaxSearchLimit));
    command->add_option(
        "--min-score", args->minScore, "Leave out photos scoring below this cosine similarity");
    command->add_option("--sort", args->sort, "score (best first) or date (newest first)")
        ->check(CLI::IsMember({"score", "date"}));
    command->add_option("--folder", args->folder, "Only photos below this folder");
    const CLI::Validator calendarDay(
        [](std::string& text) -> std::string {
            try {
                parseDay(text);
            } catch (const Error& error) {
                return error.what();
            }
            return {};
        },
        "YYYY-MM-DD");
    command->add_option("--after", args->after, "Only photos taken on or after YYYY-MM-DD")
        ->check(calendarDay);
    command->add_option("--before", args->before, "Only photos taken before YYYY-MM-DD")->check(calendarDay);
    command->parse_complete_callback([args] {
        if (!args->after.empty() && !args->before.empty() && parseDay(args->after) >= parseDay(args->before))
            throw CLI::ValidationError("--after " + args->after + " is not before --before " + args->before
                + ": no day is in that range");
    });
    command->add_option("--camera", args->camera, "Only photos whose camera make or model contains this");
    command->add_option("--tag", args->tags, "Only photos with this tag (repeatable: every one of them)")
        ->expected(1)
        ->allow_extra_args(false) // one value per --tag: the words after it are the query
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    command
        ->add_option("--type", args->fileTypes,
            "Only these file types, comma-separated: jpg,png,webp,tif,bmp,heic (and the "
            "other names of each)")
        ->check(CLI::Validator(
            [](std::string& text) -> std::string {
                std::stringstream types(text);
                for (std::string type; std::getline(types, type, ',');)
                    if (!type.empty() && !fileTypeFromName(type))
                        return "unknown file type '" + type + "' (known: " + fileTypeNames() + ")";
                return {};
            },
            "TYPES"));
    auto* generated = command->add_flag("--generated", args->generated, "Only pictures made by Create");
    command->add_flag("--not-generated", args->notGenerated, "Leave out pictures made by Create")
        ->excludes(generated);
    auto* image = command->add_option("--image", args->image, "Photos like this image file")
                      ->check(CLI::ExistingFile);
    auto* photo = command->add_option("--photo", args->photo, "Photos like this library photo (its id)");
    image->excludes(photo);
    command->add_option("--weight", args->weight, "Weight of the words against the photo in a composed query")
        ->check(CLI::Range(0.0, 1.0));
    command->add_flag("--json", args->json, "Print [{\"id\", \"path\", \"score\", \"why\"}, ...] best first");
    command->add_flag("--hybrid", args->hybrid,
        "Also match the words against file names, folders, captions and tags (quoted \"phrases\" always do)");
    command->add_option("QUERY", args->words,
        "Words describing the photos; \"quoted phrases\" also match names, captions and tags; arithmetic "
        "such as "
        "2:snow + ./photo.jpg - people");
    ModelHost* models = &context.models;
    return [args, models] { return runSearch(*args, *models); };
}

} // namespace pictor::app
