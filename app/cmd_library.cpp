// pictor library status|check|rebuild-index [--library DIR]
#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/library_access.h"
#include "app/shell_quote.h"
#include "core/error.h"
#include "indexer/library_lock.h"

namespace pictor::app {
namespace {

int runStatus(const std::filesystem::path& dir)
{
    Library library = Library::openForReading(dir);
    const CatalogCounts counts = library.catalog().counts();
    std::printf("library   %s\n", dir.c_str());
    if (const auto pid = LibraryLock::holder(dir))
        std::printf("in use by PID %lld (indexing)\n", static_cast<long long>(*pid));
    std::printf("folders   %lld\n", static_cast<long long>(counts.roots));
    for (const auto& root : library.catalog().roots())
        std::printf("          %s\n", shellQuoted(root.path).c_str());
    std::printf("photos    %lld\ncaptions  %lld\ntags      %lld\nfailures  %lld\n",
        static_cast<long long>(counts.photos), static_cast<long long>(counts.captions),
        static_cast<long long>(counts.tags), static_cast<long long>(counts.failures));
    for (const auto& [model, count] : counts.embeddingsPerModel) {
        const auto path = library.vectorIndexPath(model);
        std::string state = "missing (rebuilt on next use)";
        if (std::filesystem::exists(VectorIndex::sidecarPath(path))) {
            const VectorIndexInfo info = VectorIndex::readInfo(path);
            state = info.count == count ? info.config.factory + ", " + std::to_string(info.count) + " vectors"
                                        : "stale (" + std::to_string(info.count) + " vectors)";
        }
        std::printf("model     %s: %lld embeddings, index %s\n", model.c_str(), static_cast<long long>(count),
            state.c_str());
    }
    for (const auto& failure : library.catalog().failures())
        std::printf("failed    %s: %s\n", shellQuoted(failure.path).c_str(), failure.reason.c_str());
    return 0;
}

// Everything that can be checked without writing: the catalog's integrity, each vector index (its sidecar,
// its file loaded and verified against the sidecar's size and checksum, its catalog and its id set against
// the catalog's), and library.json.
int runCheck(const std::filesystem::path& dir, bool json)
{
    Library library = Library::openForReading(dir);
    std::vector<std::string> problems = library.catalog().integrityCheck();
    for (const auto& [model, count] : library.catalog().counts().embeddingsPerModel) {
        const auto path = library.vectorIndexPath(model);
        try {
            const VectorIndex index = VectorIndex::load(path); // size, checksum and ids against the sidecar
            const VectorIndexInfo info = index.info();
            const auto ids = library.catalog().embeddingIds(model);
            if (info.catalogId != library.catalog().identity())
                problems.push_back(strCat("vector index of ", model,
                    " was built from another catalog: run 'pictor library rebuild-index' (searches rebuild "
                    "it)"));
            else if (index.size() != static_cast<std::int64_t>(ids.size())
                || index.idChecksum() != IdChecksum::of(ids))
                problems.push_back(strCat("vector index of ", model, " is stale (", index.size(),
                    " vectors, the catalog has ", ids.size(), "): run 'pictor library rebuild-index'"));
        } catch (const Error& e) {
            problems.push_back(strCat("vector index of ", model, ": ", e.what()));
        }
    }
    try {
        Library::rememberedModelDir(dir);
    } catch (const Error& e) {
        problems.push_back(strCat("library settings: ", e.what(), ": the next index run writes them again"));
    }
    if (json) {
        std::printf("%s\n", nlohmann::json {{"ok", problems.empty()}, {"problems", problems}}.dump().c_str());
        return problems.empty() ? 0 : 1;
    }
    for (const auto& problem : problems)
        std::printf("problem: %s\n", problem.c_str());
    std::printf(problems.empty()
            ? "ok: the catalog, the vector indexes and the library settings are consistent\n"
            : "%zu problem(s)\n",
        problems.size());
    return problems.empty() ? 0 : 1;
}

int runRebuild(const std::filesystem::path& dir)
{
    Library library = Library::openForWriting(dir);
    for (const auto& [model, count] : library.catalog().counts().embeddingsPerModel) {
        auto first = library.catalog().embeddingIds(model);
        const auto vector = library.catalog().embedding(first.front(), model);
        const VectorIndex index = library.rebuildVectorIndex(model, static_cast<int>(vector->size()));
        std::printf("rebuilt %s: %lld vectors (%s)\n", model.c_str(), static_cast<long long>(index.size()),
            index.config().factory.c_str());
    }
    return 0;
}

int runRecover(const std::filesystem::path& dir)
{
    for (const auto& path : Library::recover(dir))
        std::printf("set aside: %s\n", path.c_str());
    std::printf("a new catalog was started at %s: add your folders again (pictor index --library %s FOLDER); "
                "the files set aside are kept for a later repair\n",
        dir.c_str(), dir.c_str());
    return 0;
}

} // namespace

CommandRun addLibraryCommand(CLI::App& parent, const CommandContext&)
{
    auto library = std::make_shared<std::string>();
    auto action = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    CLI::App* command = parent.add_subcommand("library", "Inspect and repair a library");
    command
        ->add_option("ACTION", *action,
            "status, check, rebuild-index, or recover (a missing or empty catalog: set what is left aside "
            "and "
            "start a new one)")
        ->required()
        ->check(CLI::IsMember({"status", "check", "rebuild-index", "recover"}));
    command->add_option("--library", *library, "Library folder (default: the XDG data folder)");
    command->add_flag("--json", *json, "check: one JSON object {ok, problems}");
    return [library, action, json] {
        const auto dir = libraryDir(*library);
        if (*action == "status")
            return runStatus(dir);
        if (*action == "check")
            return runCheck(dir, *json);
        if (*action == "recover")
            return runRecover(dir);
        return runRebuild(dir);
    };
}

} // namespace pictor::app
