#include "indexer/library.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_file.h"
#include "core/log.h"
#include "indexer/atomic_file.h"

namespace pictor {
namespace {

constexpr const char* kSettingsFile = "library.json";

nlohmann::json readSettings(const std::filesystem::path& dir)
{
    const auto file = dir / kSettingsFile;
    return std::filesystem::exists(file) ? readJsonFile(file) : nlohmann::json::object();
}

} // namespace

std::filesystem::path Library::defaultDir()
{
    if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data == '/')
        return std::filesystem::path(data) / "pictor";
    const char* home = std::getenv("HOME");
    PICTOR_CHECK(
        home && *home, "cannot find the default library folder: HOME is not set (use --library DIR)");
    return std::filesystem::path(home) / ".local" / "share" / "pictor";
}

Library::Library(std::filesystem::path dir, std::unique_ptr<LibraryLock> lock, Catalog catalog)
    : dir_(std::move(dir)), lock_(std::move(lock)), catalog_(std::make_unique<Catalog>(std::move(catalog)))
{
}

namespace {

// Why the library at `dir` must not start a new catalog; empty when it may (a new or intact library).
std::string lostCatalogReason(const std::filesystem::path& dir)
{
    std::error_code error;
    const auto catalog = dir / Catalog::kFileName;
    const bool missing = !std::filesystem::exists(catalog, error);
    const bool empty = !missing && std::filesystem::file_size(catalog, error) == 0 && !error;
    if (!missing && !empty)
        return {};
    const bool hasSettings = std::filesystem::exists(dir / kSettingsFile, error);
    const bool hasIndexes = std::filesystem::is_directory(dir / "index", error)
        && !std::filesystem::is_empty(dir / "index", error);
    if (!hasSettings && !hasIndexes)
        return {};
    return strCat("the catalog of the library at ", dir.string(), " is ",
        missing ? "missing" : "empty (0 bytes)",
        " while its other files are there: its captions, tags and folders would be lost by starting a new "
        "one. "
        "Restore catalog.sqlite3 from a backup, or run 'pictor library recover --library ",
        dir.string(), "' to set what is left aside and start a new catalog");
}

} // namespace

std::vector<std::filesystem::path> Library::recover(const std::filesystem::path& dir)
{
    LibraryLock lock(dir);
    PICTOR_CHECK(!lostCatalogReason(dir).empty(), "the catalog of the library at ", dir.string(),
        " is there and not empty: nothing to recover (pictor library check tells what is wrong)");
    std::vector<std::filesystem::path> moved;
    const std::string suffix = strCat(".damaged-", std::time(nullptr));
    for (const char* name : {"catalog.sqlite3", "catalog.sqlite3-wal", "catalog.sqlite3-shm"}) {
        std::error_code error;
        if (std::filesystem::exists(dir / name, error)) {
            std::filesystem::rename(dir / name, dir / (name + suffix));
            moved.push_back(dir / (name + suffix));
        }
    }
    std::error_code error;
    if (std::filesystem::is_directory(dir / "index", error)) {
        std::filesystem::rename(dir / "index", dir / ("index" + suffix));
        moved.push_back(dir / ("index" + suffix));
    }
    Catalog::open(dir, Catalog::OpenMode::ReadWrite); // the new catalog; library.json keeps the model
    return moved;
}

Library Library::openForWriting(const std::filesystem::path& dir)
{
    auto lock = std::make_unique<LibraryLock>(dir); // creates the folder
    const std::string lost = lostCatalogReason(dir);
    PICTOR_CHECK(lost.empty(), lost);
    Catalog catalog = Catalog::open(dir, Catalog::OpenMode::ReadWrite);
    return Library(dir, std::move(lock), std::move(catalog));
}

Library Library::openForReading(const std::filesystem::path& dir)
{
    const std::string lost = lostCatalogReason(dir);
    PICTOR_CHECK(lost.empty(), lost);
    PICTOR_CHECK(std::filesystem::exists(dir / Catalog::kFileName), "no library at ", dir.string(),
        " (index a folder first: pictor index --library ", dir.string(), " --model DIR PATH)");
    return Library(dir, nullptr, Catalog::open(dir, Catalog::OpenMode::ReadOnly));
}

std::optional<std::filesystem::path> Library::rememberedModelDir(const std::filesystem::path& libraryDir)
{
    const auto settings = readSettings(libraryDir);
    auto it = settings.find("model");
    if (it == settings.end() || !it->is_string())
        return std::nullopt;
    return std::filesystem::path(it->get<std::string>());
}

std::filesystem::path Library::searchModelDir(
    const std::filesystem::path& libraryDir, const std::filesystem::path& chosen)
{
    std::error_code error;
    const auto remembered = rememberedModelDir(libraryDir);
    if (!remembered || !std::filesystem::exists(*remembered, error))
        return chosen;
    if (chosen.empty())
        return *remembered;
    const auto canonicalRemembered = std::filesystem::weakly_canonical(*remembered, error);
    const auto canonicalChosen = std::filesystem::weakly_canonical(chosen, error);
    const bool same = error ? remembered->lexically_normal() == chosen.lexically_normal()
                            : canonicalRemembered == canonicalChosen;
    return same ? chosen : *remembered;
}

void Library::setModelDir(const std::filesystem::path& modelDir)
{
    PICTOR_CHECK(writable(), "the library is open read-only");
    auto settings = readSettings(dir_);
    settings["model"] = std::filesystem::absolute(modelDir).string();
    writeFileAtomically(dir_ / kSettingsFile, "library settings", settings.dump(2) + "\n");
}

std::filesystem::path Library::vectorIndexPath(const std::string& modelId) const
{
    return dir_ / "index" / (modelId + ".faiss");
}

VectorIndex Library::rebuildVectorIndex(const std::string& modelId, int dimension)
{
    VectorIndexConfig config;
    config.modelId = modelId;
    config.dimension = dimension;
    config.factory = VectorIndex::defaultFactoryFor(catalog_->countEmbeddings(modelId), dimension);
    VectorIndex index(config);
    // Read before the embeddings: a row written in between is then re-read by the next catch-up.
    const std::int64_t revision = catalog_->embeddingRevision(modelId);
    catalog_->forEachEmbedding(modelId, [&](const EmbeddingBatch& batch) {
        PICTOR_CHECK(batch.dim == dimension, "catalog embeddings of ", modelId, " have dimension ", batch.dim,
            ", the model has ", dimension);
        index.add(batch.ids, batch.vectors);
    });
    index.setCatalogRevision(catalog_->identity(), revision);
    save(index, modelId);
    return index;
}

void Library::save(const VectorIndex& index, const std::string& modelId) const
{
    if (!writable())
        return;
    std::filesystem::create_directories(vectorIndexPath(modelId).parent_path());
    index.save(vectorIndexPath(modelId));
}

// Applies the catalog's changes since the index's revision. Returns false (and leaves the reason in
// `state`) when the index cannot catch up and must be rebuilt instead.
bool Library::catchUp(VectorIndex& index, const std::string& modelId, IndexState& state)
{
    const VectorIndexInfo info = index.info();
    const std::int64_t revision = catalog_->embeddingRevision(modelId);
    if (info.catalogId != catalog_->identity()) {
        state = {true, false, "stale: built from another catalog"};
        return false;
    }
    if (info.catalogRevision < 0 || info.catalogRevision > revision) {
        state = {true, false, "stale: saved without a matching catalog revision"};
        return false;
    }
    const std::vector<std::int64_t> catalogIds = catalog_->embeddingIds(modelId); // ascending
    const std::vector<std::int64_t> changed = catalog_->embeddingsChangedSince(modelId, info.catalogRevision);
    std::vector<std::int64_t> indexIds = index.ids();
    std::sort(indexIds.begin(), indexIds.end());
    std::vector<std::int64_t> removed;
    std::set_difference(
        indexIds.begin(), indexIds.end(), catalogIds.begin(), catalogIds.end(), std::back_inserter(removed));
    if (changed.empty() && removed.empty()) {
        if (info.count == static_cast<std::int64_t>(catalogIds.size())
            && info.idChecksum == IdChecksum::of(catalogIds))
            return true;
        state = {true, false, strCat("stale: ", info.count, " vectors, the catalog has ", catalogIds.size())};
        return false;
    }
    // Catching up reads rows one by one; past a quarter of the library a rebuild (one sequential read) wins.
    const std::size_t limit = std::max<std::size_t>(1024, catalogIds.size() / 4);
    if (changed.size() + removed.size() > limit) {
        state = {true, false, strCat("stale: ", changed.size(), " changed and ", removed.size(), " removed")};
        return false;
    }
    index.remove(removed);
    std::vector<float> vectors;
    vectors.reserve(changed.size() * static_cast<std::size_t>(info.config.dimension));
    for (const std::int64_t id : changed) {
        const auto vector = catalog_->embedding(id, modelId);
        PICTOR_CHECK(vector && static_cast<int>(vector->size()) == info.config.dimension,
            "catalog embedding of ", "photo ", id, " (", modelId,
            ") vanished or changed dimension while the index caught up");
        vectors.insert(vectors.end(), vector->begin(), vector->end());
    }
    index.add(changed, vectors);
    if (index.size() != static_cast<std::int64_t>(catalogIds.size())
        || index.idChecksum() != IdChecksum::of(catalogIds)) {
        state = {true, false, "stale: its ids still differ from the catalog's after catching up"};
        return false;
    }
    // HNSW cannot delete nodes; once tombstones pass a fifth of the graph, rebuild it without them.
    if (index.isHnsw() && index.removedRows() * 5 > index.size())
        index.compact();
    index.setCatalogRevision(catalog_->identity(), revision);
    state = {
        false, true, strCat("updated: ", changed.size(), " added or changed, ", removed.size(), " removed")};
    save(index, modelId);
    return true;
}

VectorIndex Library::vectorIndex(const std::string& modelId, int dimension, IndexState* state)
{
    IndexState local;
    IndexState& result = state ? *state : local;
    result = {};
    const auto path = vectorIndexPath(modelId);
    if (!std::filesystem::exists(path)) {
        result = {true, false, "missing"};
    } else {
        try {
            VectorIndex index = VectorIndex::load(path);
            const auto info = index.info();
            if (info.config.dimension != dimension || info.config.modelId != modelId)
                result = {true, false, "built for another model"};
            else if (catchUp(index, modelId, result))
                return index;
        } catch (const Error& e) {
            result = {true, false, strCat("corrupt: ", e.what())};
        }
    }
    PICTOR_LOG_INFO("rebuilding the vector index of ", modelId, " (", result.reason, ")");
    return rebuildVectorIndex(modelId, dimension);
}

} // namespace pictor
