// Saving and loading vector indexes: the FAISS file and its sidecar, written atomically, hashed, and
// checked against each other before FAISS parses a byte.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <omp.h>
#include <strings.h>
#include <unistd.h>

#include "indexer/atomic_file.h"
#include "indexer/vector_index.h"
#include "indexer/vector_index_internal.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/error.h"
#include "core/file_descriptor.h"

namespace pictor {

namespace fs = std::filesystem;
using namespace vector_index_detail;
// ---------------------------------------------------------------------------------------------------
// Files

namespace {

constexpr const char* kSidecarFormat = "pictor-vector-index";
constexpr int kSidecarVersion = 1;

// Writes to a file descriptor, hashing and counting what goes through; records errno on failure.
class HashingWriter : public faiss::IOWriter {
public:
    explicit HashingWriter(int fd) : fd_(fd) { XXH3_64bits_reset(&state_); }
    size_t operator()(const void* ptr, size_t size, size_t nitems) override
    {
        const std::size_t total = size * nitems;
        const char* p = static_cast<const char*>(ptr);
        std::size_t done = 0;
        while (done < total) {
            const ssize_t n = ::write(fd_, p + done, total - done);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                error_ = errno;
                return size ? done / size : 0;
            }
            done += static_cast<std::size_t>(n);
        }
        XXH3_64bits_update(&state_, ptr, total);
        bytes_ += total;
        return nitems;
    }
    std::uint64_t hash() const { return XXH3_64bits_digest(&state_); }
    std::uint64_t bytes() const { return bytes_; }
    int error() const { return error_; }

private:
    int fd_;
    XXH3_state_t state_;
    std::uint64_t bytes_ = 0;
    int error_ = 0;
};

struct FileDigest {
    std::uint64_t bytes = 0;
    std::uint64_t hash = 0;
};

FileDigest digestOf(const fs::path& file)
{
    FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    PICTOR_CHECK(fd.get() >= 0, "cannot read vector index ", file.string(), ": ", std::strerror(errno));
    XXH3_state_t state;
    XXH3_64bits_reset(&state);
    std::vector<char> buffer(std::size_t {1} << 20);
    FileDigest digest;
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        PICTOR_CHECK(n >= 0, "cannot read vector index ", file.string(), ": ", std::strerror(errno));
        if (n == 0)
            break;
        XXH3_64bits_update(&state, buffer.data(), static_cast<std::size_t>(n));
        digest.bytes += static_cast<std::uint64_t>(n);
    }
    digest.hash = XXH3_64bits_digest(&state);
    return digest;
}

struct Sidecar {
    VectorIndexInfo info;
    std::int64_t rows = 0;
    std::vector<std::int64_t> removedRows;
    std::uint64_t indexBytes = 0;
    std::uint64_t indexHash = 0;
};

std::uint64_t parseHex64(const nlohmann::json& value, const char* field)
{
    const std::string text = value.get<std::string>();
    PICTOR_CHECK(text.size() == 16 && text.find_first_not_of("0123456789abcdef") == std::string::npos,
        "field '", field, "' is not 16 lowercase hex digits");
    return std::stoull(text, nullptr, 16);
}

Sidecar readSidecar(const fs::path& indexPath)
{
    const fs::path file = VectorIndex::sidecarPath(indexPath);
    PICTOR_CHECK(fs::exists(file), "vector index ", indexPath.string(), ": its sidecar ", file.string(),
        " does not exist");
    std::string text;
    {
        FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
        PICTOR_CHECK(
            fd.get() >= 0, "cannot read vector index sidecar ", file.string(), ": ", std::strerror(errno));
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR)
                continue;
            PICTOR_CHECK(
                n >= 0, "cannot read vector index sidecar ", file.string(), ": ", std::strerror(errno));
            if (n == 0)
                break;
            text.append(buffer, static_cast<std::size_t>(n));
            PICTOR_CHECK(text.size() <= (std::size_t {64} << 20), "vector index sidecar ", file.string(),
                " is larger than 64 MB");
        }
    }
    try {
        const auto json = nlohmann::json::parse(text);
        PICTOR_CHECK(json.is_object() && json.value("format", "") == kSidecarFormat, "not a ", kSidecarFormat,
            " sidecar");
        PICTOR_CHECK(json.at("version").get<int>() == kSidecarVersion, "version ", json.at("version").dump(),
            " is not supported (expected ", kSidecarVersion, ")");
        Sidecar out;
        auto& config = out.info.config;
        config.modelId = json.at("model_id").get<std::string>();
        config.dimension = json.at("dimension").get<int>();
        config.factory = json.at("factory").get<std::string>();
        config.efSearch = json.at("ef_search").get<int>();
        config.efConstruction = json.at("ef_construction").get<int>();
        config.exactFilterLimit = json.value("exact_filter_limit", config.exactFilterLimit);
        PICTOR_CHECK(config.dimension > 0 && config.efSearch > 0 && config.efConstruction > 0,
            "dimension, ef_search and ef_construction must be positive");
        out.info.count = json.at("count").get<std::int64_t>();
        out.info.idChecksum = parseHex64(json.at("id_checksum"), "id_checksum");
        out.info.catalogRevision = json.value("catalog_revision", std::int64_t {-1});
        out.info.catalogId = json.value("catalog_id", std::string());
        out.rows = json.at("rows").get<std::int64_t>();
        out.removedRows = json.at("removed_rows").get<std::vector<std::int64_t>>();
        out.info.removedRows = static_cast<std::int64_t>(out.removedRows.size());
        out.indexBytes = json.at("index_bytes").get<std::uint64_t>();
        out.indexHash = parseHex64(json.at("index_xxh3"), "index_xxh3");
        PICTOR_CHECK(out.info.count >= 0 && out.rows == out.info.count + out.info.removedRows, "rows (",
            out.rows, ") must equal count (", out.info.count, ") + removed rows (", out.info.removedRows,
            ")");
        return out;
    } catch (const nlohmann::json::exception& e) {
        PICTOR_FAIL("vector index sidecar ", file.string(), " is invalid: ", e.what());
    } catch (const Error& e) {
        PICTOR_FAIL("vector index sidecar ", file.string(), " is invalid: ", e.what());
    }
}

} // namespace

fs::path VectorIndex::sidecarPath(const fs::path& path)
{
    return path.string() + ".json";
}

VectorIndexInfo VectorIndex::readInfo(const fs::path& path)
{
    return readSidecar(path).info;
}

void VectorIndex::save(const fs::path& path) const
{
    const auto& s = *impl_;
    std::shared_lock lock(s.mutex);
    FileDigest digest;
    writeFileAtomically(path, "vector index", [&](int fd, const fs::path& tmp) {
        HashingWriter writer(fd);
        writer.name = tmp.string();
        try {
            faiss::write_index(s.index.get(), &writer);
        } catch (const faiss::FaissException& e) {
            PICTOR_FAIL("cannot write vector index ", tmp.string(), ": ",
                writer.error() ? std::strerror(writer.error()) : faissMessage(e).c_str());
        }
        digest = {writer.bytes(), writer.hash()};
    });

    nlohmann::json json;
    json["format"] = kSidecarFormat;
    json["version"] = kSidecarVersion;
    json["model_id"] = s.config.modelId;
    json["dimension"] = s.config.dimension;
    json["factory"] = s.config.factory;
    json["ef_search"] = s.config.efSearch;
    json["ef_construction"] = s.config.efConstruction;
    json["exact_filter_limit"] = s.config.exactFilterLimit;
    json["count"] = s.live();
    json["id_checksum"] = hex64(s.checksum.value());
    json["catalog_revision"] = s.catalogRevision;
    json["catalog_id"] = s.catalogId;
    json["rows"] = s.rows();
    std::vector<std::int64_t> removedRows;
    for (std::size_t row = 0; row < s.removed.size(); ++row)
        if (s.removed[row])
            removedRows.push_back(static_cast<std::int64_t>(row));
    json["removed_rows"] = removedRows;
    json["index_bytes"] = digest.bytes;
    json["index_xxh3"] = hex64(digest.hash);
    const fs::path sidecar = sidecarPath(path);
    writeFileAtomically(sidecar, "vector index sidecar",
        [&](int fd, const fs::path& tmp) { writeAll(fd, json.dump(1) + "\n", tmp); });
}

VectorIndex VectorIndex::load(const fs::path& path)
{
    PICTOR_CHECK(fs::exists(path), "vector index ", path.string(), " does not exist");
    const Sidecar sidecar = readSidecar(path);
    const FileDigest digest = digestOf(path);
    PICTOR_CHECK(digest.bytes == sidecar.indexBytes && digest.hash == sidecar.indexHash, "vector index ",
        path.string(), " is corrupt, truncated or not the file its sidecar describes: ", digest.bytes,
        " bytes with XXH3 ", hex64(digest.hash), ", the sidecar says ", sidecar.indexBytes,
        " bytes with XXH3 ", hex64(sidecar.indexHash));

    std::unique_ptr<faiss::Index> read;
    try {
        read.reset(faiss::read_index(path.c_str()));
    } catch (const faiss::FaissException& e) {
        PICTOR_FAIL("vector index ", path.string(), " cannot be read by FAISS: ", faissMessage(e));
    } catch (const std::exception& e) { // bad_alloc, length_error from sizes in a damaged file
        PICTOR_FAIL("vector index ", path.string(), " cannot be read by FAISS: ", e.what());
    }
    auto* map = dynamic_cast<faiss::IndexIDMap2*>(read.get());
    PICTOR_CHECK(map, "vector index ", path.string(), " is not an IDMap2 index");
    read.release();

    auto impl = std::make_unique<Impl>();
    impl->config = sidecar.info.config;
    const std::string what = strCat("vector index ", path.string());
    impl->attach(std::unique_ptr<faiss::IndexIDMap2>(map), what);
    auto& s = *impl;
    PICTOR_CHECK(
        s.rows() == sidecar.rows, what, " holds ", s.rows(), " rows, its sidecar says ", sidecar.rows);
    PICTOR_CHECK(s.hnsw || sidecar.removedRows.empty(), what, ": a flat index cannot have removed rows");
    for (const auto row : sidecar.removedRows) {
        PICTOR_CHECK(row >= 0 && row < s.rows() && !s.removed[static_cast<std::size_t>(row)], what,
            ": removed row ", row, " is out of range or listed twice");
        s.removed[static_cast<std::size_t>(row)] = 1;
        // IndexIDMap2 rebuilt rev_map from all rows; the live row of an id is its last one.
        const auto it = s.index->rev_map.find(s.idOf(row));
        if (it != s.index->rev_map.end() && it->second == row)
            s.index->rev_map.erase(it);
    }
    s.removedCount = static_cast<std::int64_t>(sidecar.removedRows.size());
    PICTOR_CHECK(static_cast<std::int64_t>(s.index->rev_map.size()) == s.live(), what,
        " has ids that appear on more than one live row");
    for (const auto& entry : s.index->rev_map)
        s.checksum.add(entry.first);
    PICTOR_CHECK(s.checksum.value() == sidecar.info.idChecksum, what,
        ": the id checksum of its vectors does not match its sidecar");
    s.catalogRevision = sidecar.info.catalogRevision;
    s.catalogId = sidecar.info.catalogId;
    return VectorIndex(std::move(impl));
}

} // namespace pictor
