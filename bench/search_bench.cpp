// Vector search cost through pictor::VectorIndex on random unit vectors (the worst case for HNSW), the
// same measurements as ../shared/peers/search_peer.py: for each n, the exact index (build, single-query
// p50/p99, batch queries/s) and HNSW (build, then per efSearch: p50/p99, batch queries/s, recall@k
// against exact), plus filtered single queries (1% and 50% of the ids allowed). One JSON line per result.
//
//   search_bench [--n 100000[,1000000]] [--d 512] [--queries 200] [--k 10] [--threads 2] [--M 32]
//                [--ef-construction 40] [--ef 64,128] [--hnsw-build-limit 600] [--no-hnsw] [--seed 0]
//                [--intrinsic-dim R] [--hnsw-file PREFIX]
//
// --hnsw-file PREFIX saves each HNSW index built (PREFIX.<n>.<d>.<seed>.<M>.<R>) and later runs load it
// instead of building it again (the data is regenerated from the seed), timing save and load.
//
// Uniform random unit vectors (the default, as the peer) have no structure and are HNSW's worst case.
// --intrinsic-dim R draws x = normalise(A z + 0.1 e) with z in R^R, A a fixed random d x R matrix and e
// small isotropic noise: data on a low-dimensional subspace, closer to what embedding models produce,
// where HNSW's recall is representative of real libraries. Queries are drawn the same way.
//
// HNSW is added in chunks; when the build passes --hnsw-build-limit seconds it is stopped and reported
// as skipped, and a size whose build projects (from the previous size) past twice the limit is skipped
// up front, as the peer does.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "indexer/vector_index.h"

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Options {
    std::vector<std::int64_t> sizes {100000};
    int d = 512;
    int queries = 200;
    int k = 10;
    int threads = 2;
    int m = 32;
    int efConstruction = 40;
    std::vector<int> ef {64, 128};
    double hnswBuildLimit = 600;
    bool hnsw = true;
    std::uint64_t seed = 0;
    int intrinsicDim = 0; // 0: uniform on the sphere
    std::string hnswFile; // prefix of saved HNSW indexes to reuse
};

std::vector<std::int64_t> parseList(const char* text)
{
    std::vector<std::int64_t> out;
    for (const char* p = text; *p;) {
        char* end = nullptr;
        out.push_back(std::strtoll(p, &end, 10));
        PICTOR_CHECK(end != p, "cannot parse the list '", text, "'");
        p = *end == ',' ? end + 1 : end;
    }
    return out;
}

Options parseOptions(int argc, char** argv)
{
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> const char* {
            PICTOR_CHECK(i + 1 < argc, arg, " needs a value");
            return argv[++i];
        };
        if (arg == "--n")
            options.sizes = parseList(value());
        else if (arg == "--d")
            options.d = std::atoi(value());
        else if (arg == "--queries")
            options.queries = std::atoi(value());
        else if (arg == "--k")
            options.k = std::atoi(value());
        else if (arg == "--threads")
            options.threads = std::atoi(value());
        else if (arg == "--M")
            options.m = std::atoi(value());
        else if (arg == "--ef-construction")
            options.efConstruction = std::atoi(value());
        else if (arg == "--ef") {
            options.ef.clear();
            for (const auto ef : parseList(value()))
                options.ef.push_back(static_cast<int>(ef));
        } else if (arg == "--hnsw-build-limit")
            options.hnswBuildLimit = std::atof(value());
        else if (arg == "--no-hnsw")
            options.hnsw = false;
        else if (arg == "--seed")
            options.seed = std::strtoull(value(), nullptr, 10);
        else if (arg == "--hnsw-file")
            options.hnswFile = value();
        else if (arg == "--intrinsic-dim")
            options.intrinsicDim = std::atoi(value());
        else
            PICTOR_FAIL("unknown option ", arg, " (see the comment at the top of bench/search_bench.cpp)");
    }
    return options;
}

// Gaussian coordinates then L2 normalisation: uniform on the sphere (intrinsicDim 0), or a random
// low-dimensional subspace plus noise (see the top comment). Two threads, one stream each.
std::vector<float> unitVectors(std::int64_t n, int d, std::uint64_t seed, int intrinsicDim)
{
    std::vector<float> basis; // d x intrinsicDim, the same for data and queries
    if (intrinsicDim > 0) {
        std::mt19937_64 rng(12345);
        std::normal_distribution<float> normal;
        basis.resize(static_cast<std::size_t>(d) * static_cast<std::size_t>(intrinsicDim));
        for (auto& value : basis)
            value = normal(rng) / std::sqrt(static_cast<float>(intrinsicDim));
    }
    std::vector<float> out(static_cast<std::size_t>(n) * static_cast<std::size_t>(d));
    const auto fill = [&](std::int64_t begin, std::int64_t end, std::uint64_t stream) {
        std::mt19937_64 rng(seed * 1000003 + stream);
        std::normal_distribution<float> normal;
        std::vector<float> z(static_cast<std::size_t>(std::max(intrinsicDim, 1)));
        for (std::int64_t i = begin; i < end; ++i) {
            float* v = out.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(d);
            if (intrinsicDim > 0) {
                for (auto& value : z)
                    value = normal(rng);
                for (int j = 0; j < d; ++j) {
                    const float* a
                        = basis.data() + static_cast<std::size_t>(j) * static_cast<std::size_t>(intrinsicDim);
                    float sum = 0;
                    for (int r = 0; r < intrinsicDim; ++r)
                        sum += a[r] * z[static_cast<std::size_t>(r)];
                    v[j] = sum + 0.1f * normal(rng) / std::sqrt(static_cast<float>(d));
                }
            } else {
                for (int j = 0; j < d; ++j)
                    v[j] = normal(rng);
            }
            double norm2 = 0;
            for (int j = 0; j < d; ++j)
                norm2 += double(v[j]) * v[j];
            const auto scale = static_cast<float>(1.0 / std::sqrt(norm2));
            for (int j = 0; j < d; ++j)
                v[j] *= scale;
        }
    };
    std::thread second(fill, n / 2, n, 2);
    fill(0, n / 2, 1);
    second.join();
    return out;
}

struct Latency {
    double p50 = 0;
    double p99 = 0;
    double mean = 0;
};

template <typename Search> Latency latencyMs(int queries, Search search)
{
    std::vector<double> times;
    for (int q = 0; q < queries; ++q) {
        const auto start = Clock::now();
        search(q);
        times.push_back(secondsSince(start) * 1e3);
    }
    std::vector<double> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    const auto percentile = [&](double p) {
        // numpy's default (linear interpolation), as the peer reports.
        const double rank = p / 100 * static_cast<double>(sorted.size() - 1);
        const auto lo = static_cast<std::size_t>(std::floor(rank));
        const auto hi = std::min(lo + 1, sorted.size() - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - static_cast<double>(lo));
    };
    double sum = 0;
    for (const double t : times)
        sum += t;
    return {percentile(50), percentile(99), sum / static_cast<double>(times.size())};
}

double round3(double value)
{
    return std::round(value * 1000) / 1000;
}

double recallAtK(const std::vector<std::vector<pictor::VectorHit>>& found,
    const std::vector<std::vector<pictor::VectorHit>>& exact)
{
    std::size_t hits = 0;
    std::size_t total = 0;
    for (std::size_t q = 0; q < exact.size(); ++q) {
        std::set<std::int64_t> truth;
        for (const auto& hit : exact[q])
            truth.insert(hit.id);
        for (const auto& hit : found[q])
            hits += truth.count(hit.id);
        total += exact[q].size();
    }
    return std::round(static_cast<double>(hits) / static_cast<double>(total) * 1e4) / 1e4;
}

double availableBytes()
{
    std::FILE* file = std::fopen("/proc/meminfo", "r");
    if (!file)
        return 0;
    char line[256];
    double bytes = 0;
    while (std::fgets(line, sizeof line, file))
        if (std::strncmp(line, "MemAvailable:", 13) == 0)
            bytes = std::atof(line + 13) * 1024;
    std::fclose(file);
    return bytes;
}

void emit(const nlohmann::json& record)
{
    std::printf("%s\n", record.dump().c_str());
    std::fflush(stdout);
}

nlohmann::json withLatency(nlohmann::json record, const Latency& latency)
{
    record["latency_ms_p50"] = round3(latency.p50);
    record["latency_ms_p99"] = round3(latency.p99);
    record["latency_ms_mean"] = round3(latency.mean);
    return record;
}

// Filtered single queries: 1% of the ids (exact scan of the subset) and 50% (HNSW: graph + selector).
void filteredLatencies(const pictor::VectorIndex& index, const std::vector<float>& queries,
    const Options& options, nlohmann::json base)
{
    const auto n = index.size();
    const auto d = static_cast<std::size_t>(options.d);
    for (const double fraction : {0.01, 0.5}) {
        std::vector<std::int64_t> allowed;
        const auto step = static_cast<std::int64_t>(std::llround(1 / fraction));
        for (std::int64_t id = 0; id < n; id += step)
            allowed.push_back(id);
        const auto latency = latencyMs(options.queries, [&](int q) {
            index.search(std::span(queries).subspan(static_cast<std::size_t>(q) * d, d), options.k, allowed);
        });
        base["filter_fraction"] = fraction;
        emit(withLatency(base, latency));
    }
}

// Returns the HNSW build seconds, or a negative value when it was skipped.
double runOne(std::int64_t n, const Options& options, std::int64_t previousN, double previousBuild)
{
    const int d = options.d;
    const auto du = static_cast<std::size_t>(d);
    nlohmann::json base {{"tool", "search_bench"}, {"n", n}, {"d", d}, {"k", options.k},
        {"queries", options.queries}, {"threads", pictor::VectorIndex::threadCount()},
        {"omp_wait_policy_passive", pictor::VectorIndex::openMpWaitPolicyIsPassive()},
        {"data",
            options.intrinsicDim > 0 ? "intrinsic-dim " + std::to_string(options.intrinsicDim) : "uniform"}};
    // data + the index's copy + (HNSW) links; the exact index is freed before HNSW is built
    const double need = static_cast<double>(n) * d * 4 * 2 + static_cast<double>(n) * options.m * 2 * 4 * 1.5;
    if (need > 0.8 * availableBytes()) {
        base["index"] = "all";
        base["skipped"] = "needs " + std::to_string(need / 1e9) + " GB";
        emit(base);
        return -1;
    }

    auto start = Clock::now();
    const auto data
        = unitVectors(n, d, options.seed * 7919 + static_cast<std::uint64_t>(n), options.intrinsicDim);
    const auto queries = unitVectors(options.queries, d, options.seed * 7919 + 1, options.intrinsicDim);
    const double generateSeconds = secondsSince(start);
    std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
        ids[static_cast<std::size_t>(i)] = i;
    const auto query
        = [&](int q) { return std::span(queries).subspan(static_cast<std::size_t>(q) * du, du); };

    std::vector<std::vector<pictor::VectorHit>> exactHits;
    {
        pictor::VectorIndexConfig config;
        config.modelId = "bench";
        config.dimension = d;
        config.factory = pictor::VectorIndex::kExactFactory;
        pictor::VectorIndex exact(config);
        start = Clock::now();
        exact.add(ids, data);
        const double build = secondsSince(start);
        const auto latency = latencyMs(options.queries, [&](int q) { exact.search(query(q), options.k); });
        start = Clock::now();
        exactHits = exact.searchBatch(queries, options.k);
        const double batchSeconds = secondsSince(start);
        // The same batch through the scan (below FAISS's BLAS threshold of 20 queries at a time).
        start = Clock::now();
        for (int q = 0; q + 10 <= options.queries; q += 10)
            exact.searchBatch(
                std::span(queries).subspan(static_cast<std::size_t>(q) * du, 10 * du), options.k);
        const double scanBatchSeconds = secondsSince(start);
        auto record = base;
        record["index"] = "VectorIndex IDMap2,Flat";
        record["seconds_generate_data"] = std::round(generateSeconds * 100) / 100;
        record["seconds_build"] = round3(build);
        record = withLatency(record, latency);
        record["batch_queries_per_s"] = std::round(options.queries / batchSeconds * 10) / 10;
        record["batch10_scan_queries_per_s"]
            = std::round(options.queries / 10 * 10 / scanBatchSeconds * 10) / 10;
        emit(record);
        auto filtered = base;
        filtered["index"] = "VectorIndex IDMap2,Flat";
        filteredLatencies(exact, queries, options, filtered);
    }
    if (!options.hnsw)
        return -1;

    const std::string factory = "IDMap2,HNSW" + std::to_string(options.m);
    auto hnswBase = base;
    hnswBase["index"] = "VectorIndex " + factory;
    hnswBase["M"] = options.m;
    hnswBase["efConstruction"] = options.efConstruction;
    if (previousN > 0 && previousBuild > 0) {
        const double projected = previousBuild * (static_cast<double>(n) / static_cast<double>(previousN))
            * (std::log(static_cast<double>(n)) / std::log(static_cast<double>(previousN)));
        if (projected > 2 * options.hnswBuildLimit) {
            hnswBase["skipped"] = "projected build " + std::to_string(static_cast<int>(projected))
                + " s (from n=" + std::to_string(previousN) + ") > 2 x limit";
            emit(hnswBase);
            return -1;
        }
    }
    pictor::VectorIndexConfig config;
    config.modelId = "bench";
    config.dimension = d;
    config.factory = factory;
    config.efConstruction = options.efConstruction;
    // --hnsw-file: reuse an index a previous run saved for the same data (same n, d, seed, M), else
    // build it and save it there. Also times save and load.
    const std::string cached = options.hnswFile.empty() ? std::string()
                                                        : options.hnswFile + "." + std::to_string(n) + "."
            + std::to_string(d) + "." + std::to_string(options.seed) + "." + std::to_string(options.m) + "."
            + std::to_string(options.intrinsicDim);
    std::optional<pictor::VectorIndex> loaded;
    if (!cached.empty() && std::filesystem::exists(cached)) {
        start = Clock::now();
        loaded.emplace(pictor::VectorIndex::load(cached));
        hnswBase["seconds_load"] = round3(secondsSince(start));
    }
    pictor::VectorIndex hnsw = loaded ? std::move(*loaded) : pictor::VectorIndex(config);
    double build = 0;
    if (!loaded) {
        const std::int64_t chunk = std::max<std::int64_t>(10000, n / 20);
        start = Clock::now();
        for (std::int64_t s = 0; s < n; s += chunk) {
            const std::int64_t count = std::min(chunk, n - s);
            hnsw.add(std::span(ids).subspan(static_cast<std::size_t>(s), static_cast<std::size_t>(count)),
                std::span(data).subspan(
                    static_cast<std::size_t>(s) * du, static_cast<std::size_t>(count) * du));
            const double elapsed = secondsSince(start);
            if (elapsed > options.hnswBuildLimit && s + count < n) {
                hnswBase["skipped"] = "build passed "
                    + std::to_string(static_cast<int>(options.hnswBuildLimit)) + " s after "
                    + std::to_string(s + count) + " of " + std::to_string(n) + " vectors (projected ~"
                    + std::to_string(static_cast<int>(elapsed * n / (s + count))) + " s)";
                emit(hnswBase);
                return -1;
            }
        }
        build = secondsSince(start);
        hnswBase["seconds_build"] = std::round(build * 100) / 100;
        if (!cached.empty()) {
            start = Clock::now();
            hnsw.save(cached);
            hnswBase["seconds_save"] = round3(secondsSince(start));
        }
    }
    for (const int ef : options.ef) {
        hnsw.setEfSearch(ef);
        const auto latency = latencyMs(options.queries, [&](int q) { hnsw.search(query(q), options.k); });
        start = Clock::now();
        const auto found = hnsw.searchBatch(queries, options.k);
        const double batchSeconds = secondsSince(start);
        auto record = hnswBase;
        record["efSearch"] = ef;
        record = withLatency(record, latency);
        record["batch_queries_per_s"] = std::round(options.queries / batchSeconds * 10) / 10;
        record["recall_at_k"] = recallAtK(found, exactHits);
        emit(record);
    }
    hnswBase["efSearch"] = options.ef.front();
    hnsw.setEfSearch(options.ef.front());
    filteredLatencies(hnsw, queries, options, hnswBase);
    return build;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        const Options options = parseOptions(argc, argv);
        pictor::VectorIndex::setThreadCount(options.threads);
        std::int64_t previousN = 0;
        double previousBuild = -1;
        for (const auto n : options.sizes) {
            const double build = runOne(n, options, previousN, previousBuild);
            if (build > 0) {
                previousN = n;
                previousBuild = build;
            }
        }
    } catch (const pictor::Error& e) {
        std::fprintf(stderr, "search_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
