#include "bench/support/synthetic_catalog.h"

#include <cmath>
#include <cstdio>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/support/bench_measures.h"
#include "core/error.h"

namespace pictor::bench {

std::uint64_t syntheticContentHash(std::uint64_t seed, std::int64_t index)
{
    return Rng(seed * 0x2545F4914F6CDD1Dull + static_cast<std::uint64_t>(index)).next();
}

namespace {

void createSparseFile(const std::filesystem::path& file, std::int64_t size, std::int64_t mtimeNs)
{
    std::filesystem::create_directories(file.parent_path());
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    PICTOR_CHECK(fd >= 0, "cannot create ", file.string());
    const bool sized = ::ftruncate(fd, size) == 0;
    const timespec times[2] = {{mtimeNs / 1'000'000'000, mtimeNs % 1'000'000'000},
        {mtimeNs / 1'000'000'000, mtimeNs % 1'000'000'000}};
    const bool timed = ::futimens(fd, times) == 0;
    ::close(fd);
    PICTOR_CHECK(sized && timed, "cannot size or date ", file.string());
}

} // namespace

std::int64_t fillSyntheticCatalog(Catalog& catalog, const SyntheticCatalogOptions& options)
{
    const std::int64_t rootId = catalog.addRoot(options.root);
    Rng rng(options.seed + 4242);
    std::vector<float> vector(static_cast<std::size_t>(options.dimension));
    for (std::int64_t first = 0; first < options.photos; first += options.perTransaction) {
        Catalog::Transaction transaction(catalog);
        for (std::int64_t i = first; i < std::min(options.photos, first + options.perTransaction); ++i) {
            PhotoRecord photo;
            photo.rootId = rootId;
            char name[64];
            std::snprintf(name, sizeof name, "%04lld/%02lld/IMG_%07lld.jpg",
                2000 + static_cast<long long>(i % 25), 1 + static_cast<long long>(i % 12),
                static_cast<long long>(i));
            photo.path = options.root / name;
            photo.size = 2'000'000 + static_cast<std::int64_t>(rng.next() % 2'000'000);
            photo.mtimeNs = 1'600'000'000'000'000'000 + i * 1'000'000'000;
            photo.contentHash = syntheticContentHash(options.seed, i);
            photo.width = 4000;
            photo.height = 3000;
            photo.takenAt = 1'600'000'000 + i * 60;
            photo.cameraMake = "BenchCam";
            photo.cameraModel = "Synthetic-1";
            photo.fileType = "jpeg";
            if (options.createFiles)
                createSparseFile(photo.path, photo.size, photo.mtimeNs);
            const std::int64_t id = catalog.upsertPhoto(photo);
            if (options.modelId.empty())
                continue;
            double norm = 0;
            for (std::size_t d = 0; d < vector.size(); d += 2) {
                const auto [a, b] = rng.normalPair();
                vector[d] = a;
                norm += static_cast<double>(a) * a;
                if (d + 1 < vector.size()) {
                    vector[d + 1] = b;
                    norm += static_cast<double>(b) * b;
                }
            }
            for (float& v : vector)
                v = static_cast<float>(v / std::sqrt(norm));
            catalog.putEmbedding(id, options.modelId, vector);
        }
        transaction.commit();
        if (options.onCommit)
            options.onCommit(std::min(options.photos, first + options.perTransaction));
    }
    return rootId;
}

} // namespace pictor::bench
