// pictor tag add TAG [--library DIR] [--photo ID]... [--file FILE]...
// pictor tag remove TAG [--library DIR] [--photo ID]... [--file FILE]...
// pictor tag list [--library DIR] [--photo ID]... [--file FILE]... [--json]
// Tags a person gives photos (source "user"): found by `pictor search --tag` and by quoted words.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/library_access.h"
#include "app/shell_quote.h"
#include "core/error.h"
#include "indexer/library.h"

namespace pictor::app {
namespace {

struct TagArgs {
    std::string library;
    std::string action;
    std::string tag; // add/remove: the tag; list: unused
    std::vector<std::int64_t> photoIds;
    std::vector<std::string> files;
    bool json = false;
};

// The photos named by id or by file path; an unknown one is an error that names it.
std::vector<std::int64_t> photosOf(const Catalog& catalog, const TagArgs& args)
{
    std::vector<std::int64_t> ids;
    for (const auto id : args.photoIds) {
        PICTOR_CHECK(catalog.photo(id).has_value(), "photo ", id, " is not in the library");
        ids.push_back(id);
    }
    for (const auto& file : args.files) {
        std::error_code error;
        const auto path = std::filesystem::weakly_canonical(std::filesystem::absolute(file), error);
        const auto photo = catalog.findByPath(error ? std::filesystem::absolute(file) : path);
        PICTOR_CHECK(photo.has_value(), file, " is not in the library (index its folder first)");
        ids.push_back(photo->id);
    }
    return ids;
}

int runChange(const TagArgs& args)
{
    Library library = Library::openForWriting(libraryDir(args.library));
    Catalog& catalog = library.catalog();
    const auto ids = photosOf(catalog, args);
    PICTOR_CHECK(!ids.empty(), "name the photos to tag: --photo ID or their files");
    std::int64_t changed = 0;
    Catalog::Transaction transaction(catalog);
    for (const auto id : ids) {
        if (args.action == "add") {
            const auto before = catalog.tags(id).size();
            catalog.addTag(id, args.tag, kUserTagSource);
            changed += catalog.tags(id).size() > before ? 1 : 0;
        } else {
            changed += catalog.removeTag(id, args.tag) ? 1 : 0;
        }
    }
    transaction.commit();
    std::printf("%s '%s': %lld of %zu photos changed\n", args.action == "add" ? "tagged" : "untagged",
        normalizeTag(args.tag).c_str(), static_cast<long long>(changed), ids.size());
    return 0;
}

int runList(const TagArgs& args)
{
    Library library = Library::openForReading(libraryDir(args.library));
    const Catalog& catalog = library.catalog();
    const auto ids = photosOf(catalog, args);
    if (!ids.empty()) { // the tags of these photos
        nlohmann::json out = nlohmann::json::array();
        for (const auto id : ids)
            for (const auto& tag : catalog.tags(id)) {
                nlohmann::json entry {{"photo", id}, {"tag", tag.tag}, {"source", tag.source}};
                if (tag.score)
                    entry["score"] = *tag.score;
                if (tag.threshold)
                    entry["threshold"] = *tag.threshold;
                out.push_back(entry);
                if (!args.json)
                    std::printf(
                        "%6lld  %s  (%s)\n", static_cast<long long>(id), tag.tag.c_str(), tag.source.c_str());
            }
        if (args.json)
            std::printf("%s\n", jsonText(out, 2).c_str());
        return 0;
    }
    const auto counts = catalog.tagCounts();
    if (args.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& [tag, count] : counts)
            out.push_back({{"tag", tag}, {"photos", count}});
        std::printf("%s\n", jsonText(out, 2).c_str());
        return 0;
    }
    for (const auto& [tag, count] : counts)
        std::printf("%6lld  %s\n", static_cast<long long>(count), tag.c_str());
    if (counts.empty())
        std::fprintf(stderr, "no tags yet: pictor tag add TAG --photo ID\n");
    return 0;
}

} // namespace

CommandRun addTagCommand(CLI::App& parent, const CommandContext&)
{
    auto args = std::make_shared<TagArgs>();
    CLI::App* command = parent.add_subcommand("tag", "Add, remove and list the tags of photos");
    command->add_option("ACTION", args->action, "add, remove or list")
        ->required()
        ->check(CLI::IsMember({"add", "remove", "list"}));
    command->add_option("TAG", args->tag, "The tag (add, remove)");
    command->add_option("--library", args->library, "Library folder (default: the XDG data folder)");
    command->add_option(
        "--photo", args->photoIds, "A library photo (its id, as search prints it); repeatable");
    command->add_option("--file", args->files, "A photo by its file; repeatable")->check(CLI::ExistingFile);
    command->add_flag("--json", args->json, "list: JSON");
    command->parse_complete_callback([args] {
        if (args->action != "list" && normalizeTag(args->tag).empty())
            throw CLI::ValidationError(
                "TAG", "'pictor tag " + args->action + "' needs a tag that is not empty");
    });
    return [args] { return args->action == "list" ? runList(*args) : runChange(*args); };
}

} // namespace pictor::app
