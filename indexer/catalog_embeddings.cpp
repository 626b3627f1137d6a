// Catalog: embeddings, stored as little-endian float16 blobs, read back as float32.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "indexer/catalog.h"
#include "indexer/catalog_impl.h"
#include "indexer/float16.h"

namespace pictor {

using catalog_detail::Blob;
using catalog_detail::catalogLabel;
using catalog_detail::unixNow;

namespace {

// Far above any embedding model; bounds what a corrupt row can make us allocate.
constexpr std::int64_t kMaxDim = 1 << 16;

std::uint16_t toLittleEndian(std::uint16_t value)
{
    if constexpr (std::endian::native == std::endian::big)
        return static_cast<std::uint16_t>((value >> 8) | (value << 8));
    return value;
}

// Appends the decoded vector to `out`; throws naming the row when the blob does not match `dim`.
void decodeVector(std::span<const std::byte> blob, std::int64_t dim, std::vector<float>& out,
    const std::filesystem::path& file, std::int64_t photoId, std::string_view modelId)
{
    PICTOR_CHECK(dim > 0 && dim <= kMaxDim && blob.size() == static_cast<std::size_t>(dim) * 2,
        catalogLabel(file), ": corrupt embedding of photo ", photoId, " (model ", modelId, "): ", blob.size(),
        " bytes for dimension ", dim);
    const std::size_t base = out.size();
    out.resize(base + static_cast<std::size_t>(dim));
    for (std::size_t i = 0; i < static_cast<std::size_t>(dim); ++i) {
        std::uint16_t half = 0;
        std::memcpy(&half, blob.data() + 2 * i, 2);
        out[base + i] = halfToFloat(toLittleEndian(half));
    }
}

} // namespace

void Catalog::putEmbedding(std::int64_t photoId, std::string_view modelId, std::span<const float> vector)
{
    impl_->checkWritable();
    const std::string label = catalogLabel(file());
    PICTOR_CHECK(!modelId.empty(), label, ": embedding of photo ", photoId, " without a model id");
    PICTOR_CHECK(!vector.empty() && vector.size() <= static_cast<std::size_t>(kMaxDim), label,
        ": embedding of photo ", photoId, " has dimension ", vector.size());
    std::string blob(vector.size() * 2, '\0');
    for (std::size_t i = 0; i < vector.size(); ++i) {
        const std::uint16_t half = floatToHalf(vector[i]);
        // Exponent all ones: infinity or NaN (an input that was not finite or beyond +-65504).
        PICTOR_CHECK((half & 0x7c00u) != 0x7c00u, label, ": embedding of photo ", photoId, " (model ",
            modelId, ") has value ", vector[i], " at index ", i, ", not representable as float16");
        const std::uint16_t stored = toLittleEndian(half);
        std::memcpy(blob.data() + 2 * i, &stored, 2);
    }
    // The counter and the row change together (one statement each inside the caller's transaction, or
    // a savepoint of their own), so a revision is never taken without its row.
    catalog_detail::Savepoint savepoint(impl_->db);
    std::int64_t revision = 0;
    {
        auto next = impl_->db.query("INSERT INTO embedding_revisions(model_id, last) VALUES (?, 1) "
                                    "ON CONFLICT(model_id) DO UPDATE SET last = last + 1 RETURNING last");
        next.bindAll(modelId);
        PICTOR_CHECK(next.step(), label, ": no embedding revision for model ", modelId);
        revision = next.int64(0);
        next.run();
    }
    impl_->db
        .query("INSERT INTO embeddings(photo_id, model_id, dim, vector, created_at, revision) "
               "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(photo_id, model_id) DO UPDATE SET dim = excluded.dim, "
               "vector = excluded.vector, created_at = excluded.created_at, revision = excluded.revision")
        .bindAll(photoId, modelId, static_cast<std::int64_t>(vector.size()), Blob {blob}, unixNow(), revision)
        .run();
    savepoint.release();
}

std::optional<std::vector<float>> Catalog::embedding(std::int64_t photoId, std::string_view modelId) const
{
    auto query = impl_->db.query("SELECT dim, vector FROM embeddings WHERE photo_id = ? AND model_id = ?");
    query.bindAll(photoId, modelId);
    if (!query.step())
        return std::nullopt;
    std::vector<float> out;
    decodeVector(query.blobView(1), query.int64(0), out, file(), photoId, modelId);
    return out;
}

void Catalog::forEachEmbedding(std::string_view modelId,
    const std::function<void(const EmbeddingBatch&)>& visit, std::size_t batchSize) const
{
    auto& db = impl_->db;
    PICTOR_CHECK(batchSize > 0, catalogLabel(file()), ": forEachEmbedding needs a batch size");
    // One read transaction for the whole walk: every batch comes from the same snapshot.
    const bool ownTransaction = !db.inTransaction();
    if (ownTransaction)
        db.query("BEGIN").run();
    try {
        std::vector<std::int64_t> ids;
        std::vector<float> vectors;
        std::int64_t after = std::numeric_limits<std::int64_t>::min();
        int dim = 0;
        for (;;) {
            ids.clear();
            vectors.clear();
            {
                auto query = db.query("SELECT photo_id, dim, vector FROM embeddings WHERE model_id = ? AND "
                                      "photo_id > ? ORDER BY photo_id LIMIT ?");
                query.bindAll(modelId, after, static_cast<std::int64_t>(batchSize));
                while (query.step()) {
                    const auto photoId = query.int64(0);
                    const auto rowDim = query.int64(1);
                    if (dim == 0)
                        dim = static_cast<int>(std::clamp<std::int64_t>(rowDim, 0, kMaxDim));
                    PICTOR_CHECK(rowDim == dim, catalogLabel(file()), ": embeddings of model ", modelId,
                        " have different dimensions (", dim, " and ", rowDim, " at photo ", photoId, ")");
                    decodeVector(query.blobView(2), rowDim, vectors, file(), photoId, modelId);
                    ids.push_back(photoId);
                }
            }
            if (ids.empty())
                break;
            visit(EmbeddingBatch {ids, vectors, dim});
            after = ids.back();
            if (ids.size() < batchSize)
                break;
        }
        if (ownTransaction)
            db.query("COMMIT").run();
    } catch (...) {
        if (ownTransaction && db.inTransaction())
            db.query("ROLLBACK").run();
        throw;
    }
}

std::int64_t Catalog::countEmbeddings(std::string_view modelId) const
{
    auto query = impl_->db.query("SELECT count(*) FROM embeddings WHERE model_id = ?");
    query.bindAll(modelId);
    query.step();
    return query.int64(0);
}

std::vector<std::int64_t> Catalog::embeddingIds(std::string_view modelId) const
{
    std::vector<std::int64_t> ids;
    auto query = impl_->db.query("SELECT photo_id FROM embeddings WHERE model_id = ? ORDER BY photo_id");
    query.bindAll(modelId);
    while (query.step())
        ids.push_back(query.int64(0));
    return ids;
}

std::int64_t Catalog::embeddingRevision(std::string_view modelId) const
{
    auto query = impl_->db.query("SELECT last FROM embedding_revisions WHERE model_id = ?");
    query.bindAll(modelId);
    return query.step() ? query.int64(0) : 0;
}

std::vector<std::int64_t> Catalog::embeddingsChangedSince(
    std::string_view modelId, std::int64_t revision) const
{
    std::vector<std::int64_t> ids;
    auto query = impl_->db.query("SELECT photo_id FROM embeddings WHERE model_id = ? AND revision > ?");
    query.bindAll(modelId, revision);
    while (query.step())
        ids.push_back(query.int64(0));
    std::sort(ids.begin(), ids.end());
    return ids;
}

std::vector<std::int64_t> Catalog::photosWithoutEmbedding(std::string_view modelId) const
{
    std::vector<std::int64_t> ids;
    auto query = impl_->db.query("SELECT id FROM photos WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE "
                                 "e.photo_id = photos.id AND e.model_id = ?) ORDER BY id");
    query.bindAll(modelId);
    while (query.step())
        ids.push_back(query.int64(0));
    return ids;
}

} // namespace pictor
