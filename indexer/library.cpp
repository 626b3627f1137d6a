#include "indexer/library.h"

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_file.h"
#include "core/log.h"

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

Library Library::openForWriting(const std::filesystem::path& dir)
{
    auto lock = std::make_unique<LibraryLock>(dir); // creates the folder
    Catalog catalog = Catalog::open(dir, Catalog::OpenMode::ReadWrite);
    return Library(dir, std::move(lock), std::move(catalog));
}

Library Library::openForReading(const std::filesystem::path& dir)
{
    PICTOR_CHECK(std::filesystem::exists(dir / Catalog::kFileName), "no library at ", dir.string(),
        " (index a folder first: pictor index --library ", dir.string(), " --model DIR PATH)");
    return Library(dir, nullptr, Catalog::open(dir, Catalog::OpenMode::ReadOnly));
}

std::optional<std::filesystem::path> Library::modelDir() const
{
    const auto settings = readSettings(dir_);
    auto it = settings.find("model");
    if (it == settings.end() || !it->is_string())
        return std::nullopt;
    return std::filesystem::path(it->get<std::string>());
}

void Library::setModelDir(const std::filesystem::path& modelDir)
{
    PICTOR_CHECK(writable(), "the library is open read-only");
    auto settings = readSettings(dir_);
    settings["model"] = std::filesystem::absolute(modelDir).string();
    const auto file = dir_ / kSettingsFile;
    const auto temporary = dir_ / (std::string(kSettingsFile) + ".tmp");
    std::ofstream(temporary) << settings.dump(2) << '\n';
    std::filesystem::rename(temporary, file);
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
    catalog_->forEachEmbedding(modelId, [&](const EmbeddingBatch& batch) {
        PICTOR_CHECK(batch.dim == dimension, "catalog embeddings of ", modelId, " have dimension ", batch.dim,
            ", the model has ", dimension);
        index.add(batch.ids, batch.vectors);
    });
    if (writable()) {
        std::filesystem::create_directories(vectorIndexPath(modelId).parent_path());
        index.save(vectorIndexPath(modelId));
    }
    return index;
}

VectorIndex Library::vectorIndex(const std::string& modelId, int dimension, IndexState* state)
{
    IndexState local;
    IndexState& result = state ? *state : local;
    const auto path = vectorIndexPath(modelId);
    const std::vector<std::int64_t> ids = catalog_->embeddingIds(modelId);
    if (!std::filesystem::exists(path)) {
        result = {true, "missing"};
    } else {
        try {
            VectorIndex index = VectorIndex::load(path);
            const auto info = index.info();
            if (info.config.dimension != dimension || info.config.modelId != modelId)
                result = {true, "built for another model"};
            else if (info.count != static_cast<std::int64_t>(ids.size())
                || info.idChecksum != IdChecksum::of(ids))
                result = {true, strCat("stale: ", info.count, " vectors, the catalog has ", ids.size())};
            else
                return index;
        } catch (const Error& e) {
            result = {true, strCat("corrupt: ", e.what())};
        }
    }
    PICTOR_LOG_INFO("rebuilding the vector index of ", modelId, " (", result.reason, ")");
    return rebuildVectorIndex(modelId, dimension);
}

} // namespace pictor
