// pictor library status|check|rebuild-index|recover [--library DIR] [--json] [--repair] [--thumbnails DIR]
#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/library_access.h"
#include "app/shell_quote.h"
#include "core/error.h"
#include "indexer/library_lock.h"
#include "indexer/thumbnail_cache.h"

namespace pictor::app {
namespace {

nlohmann::json statusJson(const std::filesystem::path& dir, Library& library)
{
    const CatalogCounts counts = library.catalog().counts();
    nlohmann::json folders = nlohmann::json::array();
    for (const auto& root : library.catalog().roots()) {
        std::error_code error;
        folders.push_back(
            {{"path", root.path.string()}, {"readable", std::filesystem::is_directory(root.path, error)}});
    }
    nlohmann::json models = nlohmann::json::array();
    for (const auto& [model, count] : counts.embeddingsPerModel) {
        const auto path = library.vectorIndexPath(model);
        nlohmann::json index = nullptr;
        if (std::filesystem::exists(VectorIndex::sidecarPath(path))) {
            const VectorIndexInfo info = VectorIndex::readInfo(path);
            index = {
                {"kind", info.config.factory}, {"vectors", info.count}, {"up_to_date", info.count == count}};
        }
        models.push_back({{"model_id", model}, {"embeddings", count}, {"vector_index", index}});
    }
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& failure : library.catalog().failures())
        failures.push_back({{"path", failure.path.string()}, {"reason", failure.reason}});
    const auto holder = LibraryLock::holder(dir);
    return {{"library", std::filesystem::absolute(dir).string()},
        {"in_use_by_pid", holder ? nlohmann::json(*holder) : nlohmann::json(nullptr)},
        {"catalog_id", library.catalog().identity()}, {"folders", folders}, {"photos", counts.photos},
        {"captions", counts.captions}, {"tags", counts.tags}, {"models", models}, {"failures", failures}};
}

int runStatus(const std::filesystem::path& dir, bool json)
{
    Library library = Library::openForReading(dir);
    if (json) {
        std::printf("%s\n", jsonText(statusJson(dir, library), 2).c_str());
        return 0;
    }
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

struct CheckOptions {
    bool json = false;
    bool repair = false;
    std::filesystem::path thumbnails; // empty: the default cache folder
};

ThumbnailCache thumbnailCacheFor(const CheckOptions& options)
{
    return options.thumbnails.empty() ? ThumbnailCache() : ThumbnailCache(options.thumbnails);
}

// What is wrong with the vector index of `model`, if anything: its file loaded and verified against the
// sidecar's size and checksum, its catalog and its id set against the catalog's.
std::optional<std::string> vectorIndexProblem(Library& library, const std::string& model)
{
    try {
        const VectorIndex index = VectorIndex::load(library.vectorIndexPath(model));
        const auto ids = library.catalog().embeddingIds(model);
        if (index.info().catalogId != library.catalog().identity())
            return strCat("vector index of ", model,
                " was built from another catalog: run 'pictor library rebuild-index' (searches rebuild it)");
        if (index.size() != static_cast<std::int64_t>(ids.size())
            || index.idChecksum() != IdChecksum::of(ids))
            return strCat("vector index of ", model, " is stale (", index.size(),
                " vectors, the catalog has ", ids.size(), "): run 'pictor library rebuild-index'");
    } catch (const Error& e) {
        return strCat("vector index of ", model, ": ", e.what());
    }
    return std::nullopt;
}

// The vector index of `model` rebuilt from the catalog (its dimension from a stored embedding).
VectorIndex rebuildIndexOf(Library& library, const std::string& model)
{
    const auto ids = library.catalog().embeddingIds(model);
    const auto vector = library.catalog().embedding(ids.front(), model);
    return library.rebuildVectorIndex(model, static_cast<int>(vector->size()));
}

// Photos of the catalog whose thumbnail is not in the cache (thumbnails are keyed by content).
std::vector<PhotoFileState> photosWithoutThumbnail(const Catalog& catalog, const ThumbnailCache& cache)
{
    std::vector<PhotoFileState> missing;
    for (const auto& root : catalog.roots())
        for (auto& photo : catalog.listPhotosUnder(root.id))
            if (photo.contentHash != 0 && !cache.contains(photo.contentHash))
                missing.push_back(std::move(photo));
    return missing;
}

// --repair: rebuilds the vector indexes that fail their check and makes the missing thumbnails; says
// what it did. A photo whose thumbnail cannot be made (its drive is offline) is named, not fatal.
void repair(const std::filesystem::path& dir, const CheckOptions& options)
{
    Library library = Library::openForWriting(dir);
    for (const auto& [model, count] : library.catalog().counts().embeddingsPerModel) {
        if (!vectorIndexProblem(library, model))
            continue;
        const VectorIndex index = rebuildIndexOf(library, model);
        std::fprintf(stderr, "repaired: vector index of %s rebuilt (%lld vectors)\n", model.c_str(),
            static_cast<long long>(index.size()));
    }
    const ThumbnailCache cache = thumbnailCacheFor(options);
    std::int64_t made = 0;
    for (const auto& photo : photosWithoutThumbnail(library.catalog(), cache)) {
        try {
            cache.ensure(photo.path, photo.contentHash);
            ++made;
        } catch (const Error& e) {
            std::fprintf(stderr, "cannot make a thumbnail: %s\n", e.what());
        }
    }
    if (made > 0)
        std::fprintf(stderr, "repaired: %lld thumbnails made\n", static_cast<long long>(made));
}

// Everything that can be checked without writing: the catalog's integrity, each vector index, and
// library.json are problems (exit 1); missing thumbnails are reported (the window makes them when it
// shows the photos), not problems.
int runCheck(const std::filesystem::path& dir, const CheckOptions& options)
{
    if (options.repair)
        repair(dir, options);
    Library library = Library::openForReading(dir);
    std::vector<std::string> problems = library.catalog().integrityCheck();
    for (const auto& [model, count] : library.catalog().counts().embeddingsPerModel)
        if (auto problem = vectorIndexProblem(library, model))
            problems.push_back(std::move(*problem));
    try {
        Library::rememberedModelDir(dir);
    } catch (const Error& e) {
        problems.push_back(strCat("library settings: ", e.what(), ": the next index run writes them again"));
    }
    const ThumbnailCache cache = thumbnailCacheFor(options);
    const auto withoutThumbnail = photosWithoutThumbnail(library.catalog(), cache);
    if (options.json) {
        nlohmann::json missing = nlohmann::json::array();
        for (const auto& photo : withoutThumbnail)
            missing.push_back(photo.path.string());
        std::printf("%s\n",
            jsonText({{"ok", problems.empty()}, {"problems", problems},
                         {"thumbnails", {{"folder", cache.dir().string()}, {"missing", missing}}}})
                .c_str());
        return problems.empty() ? 0 : 1;
    }
    for (const auto& problem : problems)
        std::printf("problem: %s\n", problem.c_str());
    if (!withoutThumbnail.empty())
        std::printf("thumbnails: %zu photos have none in %s (the window makes them when it shows them; "
                    "--repair makes them now)\n",
            withoutThumbnail.size(), shellQuoted(cache.dir()).c_str());
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
        const VectorIndex index = rebuildIndexOf(library, model);
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
    auto check = std::make_shared<CheckOptions>();
    CLI::App* command = parent.add_subcommand("library", "Inspect and repair a library");
    command
        ->add_option("ACTION", *action,
            "status, check, rebuild-index, or recover (a missing or empty catalog: set what is left aside "
            "and start a new one)")
        ->required()
        ->check(CLI::IsMember({"status", "check", "rebuild-index", "recover"}));
    command->add_option("--library", *library, "Library folder (default: the XDG data folder)");
    command->add_flag("--json", check->json,
        "status: one JSON object {library, folders, photos, models, failures, ...}; check: {ok, problems, "
        "thumbnails}");
    command->add_flag("--repair", check->repair,
        "check: first rebuild the vector indexes that fail their check and make the missing thumbnails");
    command->add_option("--thumbnails", check->thumbnails,
        "check: the thumbnail cache folder (default: the XDG cache folder, pictor/thumbnails)");
    return [library, action, check] {
        const auto dir = libraryDir(*library);
        if (*action == "status")
            return runStatus(dir, check->json);
        if (*action == "check")
            return runCheck(dir, *check);
        if (*action == "recover")
            return runRecover(dir);
        return runRebuild(dir);
    };
}

} // namespace pictor::app
