// The FAISS vector index: exact search equals brute force, HNSW recall against exact, filters applied
// before the top-k, removal, persistence (atomic, round trip, damaged files) and the id checksum.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#define XXH_INLINE_ALL
#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "core/error.h"
#include "indexer/vector_index.h"
#include "tests/support/error_text.h"
#include "tests/support/paths.h"

namespace pictor {

void PrintTo(const VectorHit& hit, std::ostream* out)
{
    *out << "{" << hit.id << ", " << hit.score << "}";
}

namespace {

namespace fs = std::filesystem;
using test::errorOf;

std::vector<float> unitVectors(std::size_t n, int d, std::uint32_t seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    std::vector<float> out(n * static_cast<std::size_t>(d));
    for (std::size_t i = 0; i < n; ++i) {
        float* v = out.data() + i * static_cast<std::size_t>(d);
        double norm2 = 0;
        for (int j = 0; j < d; ++j) {
            v[j] = normal(rng);
            norm2 += double(v[j]) * v[j];
        }
        const float scale = static_cast<float>(1.0 / std::sqrt(norm2));
        for (int j = 0; j < d; ++j)
            v[j] *= scale;
    }
    return out;
}

// Ids that are not row numbers, so a row/id mix-up shows.
std::vector<std::int64_t> idsFor(std::size_t n, std::int64_t first = 1000)
{
    std::vector<std::int64_t> ids(n);
    for (std::size_t i = 0; i < n; ++i)
        ids[i] = first + 7 * static_cast<std::int64_t>(i);
    return ids;
}

// Brute force in double over the (id, vector) pairs whose id passes `keep`: best first, ties by id.
template <typename Keep>
std::vector<VectorHit> bruteForce(const std::vector<std::int64_t>& ids, const std::vector<float>& vectors,
    int d, const float* query, std::size_t k, Keep keep)
{
    std::vector<std::pair<double, std::int64_t>> scored;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (!keep(ids[i]))
            continue;
        double dot = 0;
        for (int j = 0; j < d; ++j)
            dot += double(query[j]) * vectors[i * static_cast<std::size_t>(d) + static_cast<std::size_t>(j)];
        scored.emplace_back(dot, ids[i]);
    }
    std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    std::vector<VectorHit> out;
    for (std::size_t i = 0; i < std::min(k, scored.size()); ++i)
        out.push_back({scored[i].second, static_cast<float>(scored[i].first)});
    return out;
}

std::vector<VectorHit> bruteForce(const std::vector<std::int64_t>& ids, const std::vector<float>& vectors,
    int d, const float* query, std::size_t k)
{
    return bruteForce(ids, vectors, d, query, k, [](std::int64_t) { return true; });
}

void expectSameHits(const std::vector<VectorHit>& actual, const std::vector<VectorHit>& expected)
{
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
        EXPECT_EQ(actual[i].id, expected[i].id) << "rank " << i;
        EXPECT_NEAR(actual[i].score, expected[i].score, 1e-5) << "rank " << i;
    }
}

VectorIndexConfig configFor(int d, const std::string& factory = VectorIndex::kExactFactory)
{
    VectorIndexConfig config;
    config.modelId = "clip-test";
    config.dimension = d;
    config.factory = factory;
    return config;
}

std::span<const float> row(const std::vector<float>& vectors, int d, std::size_t i)
{
    return std::span(vectors).subspan(i * static_cast<std::size_t>(d), static_cast<std::size_t>(d));
}

double recallAt(const std::vector<VectorHit>& found, const std::vector<VectorHit>& exact)
{
    std::set<std::int64_t> truth;
    for (const auto& hit : exact)
        truth.insert(hit.id);
    std::size_t hits = 0;
    for (const auto& hit : found)
        hits += truth.count(hit.id);
    return static_cast<double>(hits) / static_cast<double>(exact.size());
}

std::string readBytes(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeBytes(const fs::path& file, const std::string& bytes)
{
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Makes the sidecar describe `bytes`, so that the damaged index reaches FAISS's parser.
void forgeSidecar(const fs::path& index, const std::string& bytes)
{
    const fs::path sidecar = VectorIndex::sidecarPath(index);
    auto json = nlohmann::json::parse(readBytes(sidecar));
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx",
        static_cast<unsigned long long>(XXH3_64bits(bytes.data(), bytes.size())));
    json["index_bytes"] = bytes.size();
    json["index_xxh3"] = hash;
    writeBytes(sidecar, json.dump());
}

TEST(VectorIndex, ExactSearchEqualsBruteForce)
{
    for (const int d : {32, 512}) {
        SCOPED_TRACE(d);
        const std::size_t n = d == 32 ? 5000 : 2000;
        const auto vectors = unitVectors(n, d, 1);
        const auto ids = idsFor(n);
        VectorIndex index(configFor(d));
        // In two parts: search must see both.
        const std::size_t half = n / 2;
        index.add(std::span(ids).first(half), std::span(vectors).first(half * d));
        index.add(std::span(ids).subspan(half), std::span(vectors).subspan(half * d));
        EXPECT_EQ(index.size(), static_cast<std::int64_t>(n));
        EXPECT_FALSE(index.isHnsw());

        const auto queries = unitVectors(25, d, 2);
        for (std::size_t q = 0; q < 25; ++q)
            expectSameHits(
                index.search(row(queries, d, q), 10), bruteForce(ids, vectors, d, &queries[q * d], 10));
        // A batch of 25 takes FAISS's BLAS path, a batch of 5 the scan; both are exact.
        for (const std::size_t batch : {std::size_t {25}, std::size_t {5}}) {
            const auto results = index.searchBatch(std::span(queries).first(batch * d), 10);
            ASSERT_EQ(results.size(), batch);
            for (std::size_t q = 0; q < batch; ++q)
                expectSameHits(results[q], bruteForce(ids, vectors, d, &queries[q * d], 10));
        }
        // k larger than the index returns everything, best first.
        EXPECT_EQ(index.search(row(queries, d, 0), static_cast<int>(n) + 5).size(), n);
        EXPECT_TRUE(index.search(row(queries, d, 0), 0).empty());
    }
}

TEST(VectorIndex, MultiThreadedScanEqualsSingleThreaded)
{
    const int d = 128;
    const std::size_t n = 30000; // above the scan's threading threshold
    const auto vectors = unitVectors(n, d, 3);
    const auto ids = idsFor(n);
    VectorIndex index(configFor(d));
    index.add(ids, vectors);
    const auto query = unitVectors(1, d, 4);
    VectorIndex::setThreadCount(1);
    const auto single = index.search(query, 50);
    VectorIndex::setThreadCount(4);
    const auto multi = index.search(query, 50);
    VectorIndex::setThreadCount(0);
    EXPECT_EQ(single, multi);
    expectSameHits(single, bruteForce(ids, vectors, d, query.data(), 50));
}

TEST(VectorIndex, HnswRecallAgainstExact)
{
    const int d = 64;
    const std::size_t n = 20000;
    const auto vectors = unitVectors(n, d, 5);
    const auto ids = idsFor(n);
    VectorIndex exact(configFor(d));
    exact.add(ids, vectors);
    VectorIndex hnsw(configFor(d, VectorIndex::kHnswFactory));
    const auto start = std::chrono::steady_clock::now();
    hnsw.add(ids, vectors);
    const double buildSeconds
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(hnsw.isHnsw());

    const std::size_t nq = 200;
    const auto queries = unitVectors(nq, d, 6);
    const auto truth = exact.searchBatch(queries, 10);
    const auto recallWith = [&](int efSearch) {
        hnsw.setEfSearch(efSearch);
        const auto found = hnsw.searchBatch(queries, 10);
        double recall = 0;
        for (std::size_t q = 0; q < nq; ++q)
            recall += recallAt(found[q], truth[q]) / nq;
        return recall;
    };
    // Uniform random vectors are HNSW's worst case (no clusters); CLIP embeddings do better.
    const double recall64 = recallWith(64);
    const double recall128 = recallWith(VectorIndexConfig().efSearch);
    std::printf("[ measure  ] HNSW32 n=%zu d=%d: build %.2f s, recall@10 %.4f (efSearch 64), %.4f (128)\n", n,
        d, buildSeconds, recall64, recall128);
    EXPECT_EQ(VectorIndexConfig().efSearch, 128);
    EXPECT_GE(recall128, 0.95); // measured 0.97
    EXPECT_GE(recall64, 0.80); // measured 0.87-0.88
    const auto found128 = hnsw.searchBatch(queries, 10);
    // Single-query search equals the batch (same parameters).
    EXPECT_EQ(hnsw.search(row(queries, d, 0), 10), found128[0]);
    // Scores are inner products, like the exact ones.
    EXPECT_NEAR(found128[0][0].score, truth[0][0].score, 1e-5);
}

class VectorIndexBoth : public ::testing::TestWithParam<std::string> { };

INSTANTIATE_TEST_SUITE_P(
    Factories, VectorIndexBoth, ::testing::Values("IDMap2,Flat", "IDMap2,HNSW32"), [](const auto& param) {
        return param.param == "IDMap2,Flat" ? std::string("Flat") : std::string("HNSW");
    });

TEST_P(VectorIndexBoth, FilterIsAppliedBeforeTopK)
{
    const int d = 32;
    const std::size_t n = 10000;
    const auto vectors = unitVectors(n, d, 7);
    const auto ids = idsFor(n);
    auto config = configFor(d, GetParam());
    config.exactFilterLimit = 100; // filters above max(100, n / 16) go through the HNSW graph
    VectorIndex index(config);
    index.add(ids, vectors);
    const auto query = unitVectors(1, d, 8);

    // 5 of 10,000, listed in no particular order, one twice, plus an id the index does not hold.
    const std::vector<std::int64_t> allowed {ids[9000], ids[17], ids[4242], ids[17], ids[777], ids[1], 99};
    const std::set<std::int64_t> allowedSet(allowed.begin(), allowed.end());
    const auto keep = [&](std::int64_t id) { return allowedSet.count(id) > 0; };
    const auto expected = bruteForce(ids, vectors, d, query.data(), 10, keep);
    ASSERT_EQ(expected.size(), 5u);
    expectSameHits(index.search(query, 10, allowed), expected);
    expectSameHits(index.search(query, 3, allowed), bruteForce(ids, vectors, d, query.data(), 3, keep));
    EXPECT_TRUE(index.search(query, 10, std::span<const std::int64_t>()).empty());

    // Filters passing half and 8% of the index: HNSW searches the graph with a selector (and a deeper
    // candidate list for the sparser one); single and batched searches agree.
    for (const std::size_t every : {std::size_t {2}, std::size_t {12}}) {
        SCOPED_TRACE(every);
        std::vector<std::int64_t> passing;
        for (std::size_t i = 0; i < n; i += every)
            passing.push_back(ids[i]);
        const std::set<std::int64_t> passingSet(passing.begin(), passing.end());
        const auto queries = unitVectors(50, d, 9);
        const auto results = index.searchBatch(queries, 10, passing);
        double recall = 0;
        for (std::size_t q = 0; q < 50; ++q) {
            ASSERT_EQ(results[q].size(), 10u);
            for (const auto& hit : results[q])
                EXPECT_TRUE(passingSet.count(hit.id)) << hit.id;
            recall += recallAt(results[q], bruteForce(ids, vectors, d, &queries[q * d], 10, [&](auto id) {
                return passingSet.count(id) > 0;
            })) / 50;
        }
        EXPECT_EQ(index.search(row(queries, d, 3), 10, passing), results[3]);
        EXPECT_GE(recall, GetParam() == "IDMap2,Flat" ? 1.0 : 0.95) << recall;
    }
}

TEST_P(VectorIndexBoth, RemoveAndReplace)
{
    const int d = 32;
    const std::size_t n = 3000;
    const auto vectors = unitVectors(n, d, 10);
    auto ids = idsFor(n);
    VectorIndex index(configFor(d, GetParam()));
    index.add(ids, vectors);

    std::vector<std::int64_t> gone;
    for (std::size_t i = 0; i < n; i += 3)
        gone.push_back(ids[i]);
    gone.push_back(5); // not in the index
    EXPECT_EQ(index.remove(gone), static_cast<std::int64_t>(gone.size() - 1));
    EXPECT_EQ(index.remove(gone), 0);
    EXPECT_EQ(index.size(), static_cast<std::int64_t>(n - (gone.size() - 1)));
    EXPECT_FALSE(index.contains(ids[0]));
    EXPECT_TRUE(index.contains(ids[1]));
    EXPECT_EQ(
        index.removedRows(), GetParam() == "IDMap2,Flat" ? 0 : static_cast<std::int64_t>(gone.size() - 1));

    const std::set<std::int64_t> goneSet(gone.begin(), gone.end());
    const auto keep = [&](std::int64_t id) { return goneSet.count(id) == 0; };
    // A removed vector's own query must not find it; the survivors come back in exact order (HNSW: top 1).
    for (std::size_t i = 0; i < 30; ++i) {
        const auto hits = index.search(row(vectors, d, i), 10);
        ASSERT_EQ(hits.size(), 10u);
        for (const auto& hit : hits)
            EXPECT_TRUE(keep(hit.id)) << hit.id;
        const auto expected = bruteForce(ids, vectors, d, &vectors[i * d], 10, keep);
        if (GetParam() == "IDMap2,Flat")
            expectSameHits(hits, expected);
        else
            EXPECT_EQ(hits[0].id, expected[0].id);
    }
    // The filter cannot bring a removed id back.
    EXPECT_TRUE(index.search(row(vectors, d, 0), 5, std::vector<std::int64_t> {ids[0]}).empty());

    // Re-adding an id (removed or present) replaces its vector.
    const auto fresh = unitVectors(2, d, 11);
    index.add(std::vector<std::int64_t> {ids[0], ids[1]}, fresh);
    EXPECT_EQ(index.size(), static_cast<std::int64_t>(n - (gone.size() - 1) + 1));
    EXPECT_EQ(index.search(row(fresh, d, 0), 1)[0].id, ids[0]);
    EXPECT_EQ(index.search(row(fresh, d, 1), 1)[0].id, ids[1]);
    EXPECT_NEAR(index.search(row(fresh, d, 1), 1)[0].score, 1.0f, 1e-5);
    for (const auto& hit : index.search(row(vectors, d, 1), 50))
        EXPECT_NE(hit.id, ids[1]) << "the old vector of a replaced id is still found";

    auto live = index.ids();
    std::sort(live.begin(), live.end());
    EXPECT_EQ(static_cast<std::int64_t>(live.size()), index.size());
    EXPECT_EQ(index.idChecksum(), IdChecksum::of(live));

    // compact() drops HNSW tombstones and changes no result.
    const auto before = index.search(row(vectors, d, 2), 10);
    index.compact();
    EXPECT_EQ(index.removedRows(), 0);
    EXPECT_EQ(index.size(), static_cast<std::int64_t>(live.size()));
    EXPECT_EQ(index.idChecksum(), IdChecksum::of(live));
    if (GetParam() == "IDMap2,Flat")
        EXPECT_EQ(index.search(row(vectors, d, 2), 10), before);
    else
        EXPECT_EQ(index.search(row(vectors, d, 2), 10)[0].id, before[0].id);
}

TEST_P(VectorIndexBoth, SaveLoadRoundTrip)
{
    const int d = 48;
    const std::size_t n = 4000;
    const auto vectors = unitVectors(n, d, 12);
    const auto ids = idsFor(n);
    auto config = configFor(d, GetParam());
    config.efSearch = 80;
    VectorIndex index(config);
    index.add(ids, vectors);
    index.remove(std::vector<std::int64_t> {ids[3], ids[10], ids[11]});
    index.add(std::vector<std::int64_t> {ids[10]}, row(vectors, d, 10)); // back, on a new row for HNSW

    const fs::path dir = test::scratchDir("vector-index-roundtrip");
    const fs::path file = dir / "clip-test.faiss";
    index.save(file);
    index.save(file); // over an existing pair
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string> {"clip-test.faiss", "clip-test.faiss.json"})); // no .tmp left

    const auto info = VectorIndex::readInfo(file);
    EXPECT_EQ(info.config.modelId, "clip-test");
    EXPECT_EQ(info.config.dimension, d);
    EXPECT_EQ(info.config.factory, GetParam());
    EXPECT_EQ(info.config.efSearch, 80);
    EXPECT_EQ(info.count, index.size());
    EXPECT_EQ(info.idChecksum, index.idChecksum());

    const VectorIndex loaded = VectorIndex::load(file);
    EXPECT_EQ(loaded.size(), index.size());
    EXPECT_EQ(loaded.idChecksum(), index.idChecksum());
    EXPECT_EQ(loaded.isHnsw(), index.isHnsw());
    EXPECT_EQ(loaded.removedRows(), index.removedRows());
    EXPECT_FALSE(loaded.contains(ids[3]));
    EXPECT_TRUE(loaded.contains(ids[10]));
    EXPECT_EQ(loaded.config().efSearch, 80);
    const auto queries = unitVectors(30, d, 13);
    EXPECT_EQ(loaded.searchBatch(queries, 10), index.searchBatch(queries, 10));
    const std::vector<std::int64_t> allowed {ids[3], ids[10], ids[20], ids[30]};
    EXPECT_EQ(loaded.search(row(queries, d, 0), 10, allowed), index.search(row(queries, d, 0), 10, allowed));
    EXPECT_EQ(loaded.search(row(queries, d, 0), 10, allowed).size(), 3u);
}

TEST(VectorIndex, DamagedFilesAreErrorsNamingTheFile)
{
    const int d = 16;
    const auto vectors = unitVectors(500, d, 14);
    VectorIndex index(configFor(d, VectorIndex::kHnswFactory));
    index.add(idsFor(500), vectors);
    const fs::path dir = test::scratchDir("vector-index-damaged");
    const fs::path file = dir / "model.faiss";
    const fs::path sidecar = VectorIndex::sidecarPath(file);
    index.save(file);
    const std::string good = readBytes(file);
    const std::string goodSidecar = readBytes(sidecar);
    const auto loadError = [&] { return errorOf([&] { VectorIndex::load(file); }); };
    const auto restore = [&] {
        writeBytes(file, good);
        writeBytes(sidecar, goodSidecar);
    };

    EXPECT_EQ(errorOf([&] { VectorIndex::load(dir / "absent.faiss"); }),
        "vector index " + (dir / "absent.faiss").string() + " does not exist");
    EXPECT_EQ(errorOf([&] { VectorIndex::load(dir / "absent.faiss"); }).find('"'), std::string::npos);

    fs::remove(sidecar);
    EXPECT_NE(loadError().find("its sidecar " + sidecar.string() + " does not exist"), std::string::npos)
        << loadError();
    restore();

    // Truncated, garbage, one flipped byte: caught by the sidecar's size and hash before FAISS parses.
    for (const auto& damaged : {good.substr(0, good.size() / 2), std::string(good.size(), 'x'), std::string(),
             good.substr(0, 100) + char(good[100] ^ 1) + good.substr(101)}) {
        writeBytes(file, damaged);
        const std::string message = loadError();
        EXPECT_NE(message.find("vector index " + file.string() + " is corrupt, truncated"), std::string::npos)
            << message;
    }
    // The same damage behind a sidecar that matches it: FAISS's own exceptions become pictor::Error.
    for (const auto& damaged : {good.substr(0, good.size() / 2), good.substr(0, 3), std::string(4096, '\x7f'),
             std::string("IxM2") + std::string(200, '\xff')}) {
        writeBytes(file, damaged);
        forgeSidecar(file, damaged);
        const std::string message = loadError();
        EXPECT_NE(
            message.find("vector index " + file.string() + " cannot be read by FAISS"), std::string::npos)
            << message;
    }
    restore();

    writeBytes(sidecar, "{not json");
    EXPECT_NE(loadError().find("vector index sidecar " + sidecar.string() + " is invalid"), std::string::npos)
        << loadError();
    auto json = nlohmann::json::parse(goodSidecar);
    json["id_checksum"] = "0000000000000000";
    writeBytes(sidecar, json.dump());
    EXPECT_NE(loadError().find("id checksum of its vectors does not match its sidecar"), std::string::npos)
        << loadError();
    json = nlohmann::json::parse(goodSidecar);
    json["dimension"] = 17;
    writeBytes(sidecar, json.dump());
    EXPECT_NE(loadError().find("has dimension 16, expected 17"), std::string::npos) << loadError();
    json = nlohmann::json::parse(goodSidecar);
    json.erase("count");
    writeBytes(sidecar, json.dump());
    EXPECT_NE(loadError().find("is invalid"), std::string::npos) << loadError();
    restore();
    EXPECT_EQ(VectorIndex::load(file).size(), 500);
}

TEST(VectorIndex, IdChecksumTracksTheIdSet)
{
    const std::vector<std::int64_t> a {1, 2, 3, 1000000007};
    const std::vector<std::int64_t> shuffled {1000000007, 3, 1, 2};
    EXPECT_EQ(IdChecksum::of(a), IdChecksum::of(shuffled));
    EXPECT_NE(IdChecksum::of(a), IdChecksum::of(std::vector<std::int64_t> {1, 2, 3}));
    EXPECT_NE(IdChecksum::of(a), IdChecksum::of(std::vector<std::int64_t> {1, 2, 4, 1000000007}));
    EXPECT_NE(IdChecksum::of({}), IdChecksum::of(std::vector<std::int64_t> {0}));
    IdChecksum running;
    for (const auto id : a)
        running.add(id);
    running.add(99);
    running.remove(99);
    EXPECT_EQ(running.value(), IdChecksum::of(a));
    EXPECT_EQ(running.count(), 4);

    const int d = 8;
    VectorIndex index(configFor(d));
    EXPECT_EQ(index.idChecksum(), IdChecksum::of({}));
    index.add(a, unitVectors(a.size(), d, 15));
    EXPECT_EQ(index.idChecksum(), IdChecksum::of(shuffled));
    index.remove(std::vector<std::int64_t> {2});
    EXPECT_EQ(index.idChecksum(), IdChecksum::of(std::vector<std::int64_t> {1, 3, 1000000007}));
}

TEST(VectorIndex, BadArgumentsAreErrors)
{
    VectorIndex index(configFor(8));
    const auto four = unitVectors(4, 8, 16);
    EXPECT_EQ(errorOf([&] {
        index.add(std::vector<std::int64_t> {1, 2, 3, 4}, std::span(four).first(30));
    }),
        "vector index (clip-test): add got 4 ids and 30 values; dimension 8 needs 32");
    EXPECT_EQ(errorOf([&] {
        index.add(std::vector<std::int64_t> {1, 2, 1, 4}, four);
    }),
        "vector index (clip-test): id 1 appears twice in one add");
    EXPECT_EQ(errorOf([&] {
        index.add(std::vector<std::int64_t> {1, -1, 3, 4}, four);
    }),
        "vector index (clip-test): ids must be >= 0, got -1");
    auto nan = four;
    nan[9] = std::nanf("");
    EXPECT_EQ(errorOf([&] {
        index.add(std::vector<std::int64_t> {1, 2, 3, 4}, nan);
    }),
        "vector index (clip-test): the vector of id 2 has a non-finite value at 1");
    EXPECT_EQ(index.size(), 0);
    index.add(std::vector<std::int64_t> {1, 2, 3, 4}, four);

    const auto wide = unitVectors(1, 16, 17);
    EXPECT_EQ(errorOf([&] { index.search(wide, 3); }),
        "vector index (clip-test): the query has 16 values, the index has dimension 8");
    EXPECT_EQ(errorOf([&] { index.searchBatch(std::span(four).first(12), 3); }),
        "vector index (clip-test): 12 query values are not a whole number of vectors of dimension 8");
    EXPECT_EQ(errorOf([&] { index.search(std::span(four).first(8), -1); }),
        "vector index (clip-test): k must be >= 0, got -1");
    EXPECT_EQ(errorOf([&] { index.search(std::span(nan).subspan(8, 8), 3); }),
        "vector index (clip-test): query 0 has a non-finite value at 1");

    EXPECT_NE(errorOf([&] { VectorIndex(configFor(8, "IVF16,Flat")); }).find("is not supported"),
        std::string::npos);
    EXPECT_NE(
        errorOf([&] { VectorIndex(configFor(8, "IDMap2,NoSuchThing")); }).find("FAISS rejects the factory"),
        std::string::npos);
    EXPECT_NE(
        errorOf([&] { VectorIndex(configFor(8, "IDMap2,HNSW32_PQ4")); }).find("neither"), std::string::npos);
    EXPECT_EQ(errorOf([&] { VectorIndex(configFor(0)); }),
        "vector index (clip-test): dimension must be positive, got 0");
}

TEST(VectorIndex, DefaultFactoryThreshold)
{
    EXPECT_EQ(VectorIndex::defaultFactoryFor(0), "IDMap2,Flat");
    EXPECT_EQ(VectorIndex::defaultFactoryFor(100000), "IDMap2,Flat");
    EXPECT_EQ(VectorIndex::defaultFactoryFor(524288, 512), "IDMap2,Flat");
    EXPECT_EQ(VectorIndex::defaultFactoryFor(524289, 512), "IDMap2,HNSW32");
    EXPECT_EQ(VectorIndex::defaultFactoryFor(400000, 768), "IDMap2,HNSW32");
    EXPECT_EQ(VectorIndex::defaultFactoryFor(1000000), "IDMap2,HNSW32");
}

TEST_P(VectorIndexBoth, ConcurrentSearchesAndWrites)
{
    // Data and queries live in the first d-1 coordinates; the writer's vectors are the last axis, so
    // they score 0 against every query and never enter a top 10 of the exact index. (HNSW results may
    // legitimately change when the graph grows, so there the writer is left out.)
    const int d = 32;
    auto vectors = unitVectors(5000, d - 1, 18);
    auto queries = unitVectors(40, d - 1, 19);
    const auto widen = [&](const std::vector<float>& narrow) {
        std::vector<float> out;
        for (std::size_t i = 0; i < narrow.size(); i += d - 1) {
            out.insert(out.end(), narrow.begin() + static_cast<std::ptrdiff_t>(i),
                narrow.begin() + static_cast<std::ptrdiff_t>(i + d - 1));
            out.push_back(0.0f);
        }
        return out;
    };
    vectors = widen(vectors);
    queries = widen(queries);
    const auto ids = idsFor(5000);
    VectorIndex index(configFor(d, GetParam()));
    index.add(ids, vectors);
    std::vector<std::vector<VectorHit>> serial;
    for (std::size_t q = 0; q < 40; ++q)
        serial.push_back(index.search(row(queries, d, q), 10));
    std::atomic<int> mismatches {0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int round = 0; round < 5; ++round)
                for (std::size_t q = 0; q < 40; ++q)
                    if (index.search(row(queries, d, q), 10) != serial[q])
                        ++mismatches;
        });
    if (!index.isHnsw())
        threads.emplace_back([&] {
            std::vector<float> axis(static_cast<std::size_t>(d), 0.0f);
            axis.back() = 1.0f;
            for (std::int64_t round = 0; round < 50; ++round) {
                const std::vector<std::int64_t> extra {900000 + round};
                index.add(extra, axis);
                if (round % 2)
                    index.remove(extra);
            }
        });
    for (auto& thread : threads)
        thread.join();
    EXPECT_EQ(mismatches.load(), 0);
    EXPECT_EQ(index.size(), index.isHnsw() ? 5000 : 5025);
}

} // namespace
} // namespace pictor
