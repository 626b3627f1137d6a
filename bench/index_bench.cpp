// Indexing speed end to end, as `pictor index` runs it, with a ViT-B/32-shaped CLIP of random weights
// (written as a Hugging Face folder in a temp dir; nothing is downloaded), on N camera-like 12 MP JPEGs,
// next to the model alone on the same number of images, plus a 100k-photo synthetic catalog to show that
// memory stays bounded. One JSON line per measurement:
//   setup        model folder write/load/warm-up times, threads, machine load
//   photos       the photo folder (generated here, or --photos DIR)
//   decode_only  decode + preprocess per photo on one thread (the CPU stage of the pipeline)
//   index        indexLibrary() on a fresh library: images/s, CPU use, peak RSS, and the time split seen
//                from outside (a timing wrapper around the embedder, progress events): seconds_prepare
//                (open, scan, change detection), seconds_decode_wait (the compute thread waiting for
//                decoded photos; seconds_first_batch_wait of it fills the first batch), seconds_model,
//                seconds_catalog_writes (normalise + one transaction per batch), seconds_finish (the
//                vector index)
//   model_only   embedPixelValues() on random batches of 8, same image count; ratio end-to-end/model
//   catalog      --catalog-size fake photos + random 512-d embeddings: insert, index rebuild, a vector
//                search, text queries end to end through SearchService (tokenize, encode, search, hits),
//                and findDuplicates over all of them
//   rescan       --rescan-size photos as sparse files on disk, catalogued with embeddings, then
//                indexLibrary() with nothing changed: what the window's re-scan at start costs
//
//   index_bench [--photos DIR | --n 40] [--threads 2] [--decode-threads 0] [--full-decode]
//               [--catalog-size 100000] [--rescan-size 0] [--work DIR] [--keep] [--fixtures DIR] [--model
//               DIR] [--seed 0] [--dtype auto|float32|bfloat16]
// --n 0 skips the photos and the index run (the model-only line then times 40 images).
// --model DIR uses an existing model folder instead of writing the random ViT-B/32 one; --f16 writes
// that one's weights as F16 (converted to float32 copies at load) instead of F32 (aliasing the mapping).
//
// For a fair comparison with ../shared/peers, index the peer's photos, then run the peers on them in the
// same minutes (2 threads each; each prints images/s and its model's images/s alone):
//   /usr/bin/python3 ../shared/peers/make_photos.py 40 /tmp/bench-photos --seed 0
//   index_bench --photos /tmp/bench-photos --threads 2 --catalog-size 0
//   node ../shared/peers/ort/index_peer_ort.mjs /tmp/bench-photos --threads 2   (Immich-style: sharp + ONNX
//                                                  Runtime; install and model export: its README)
//   /usr/bin/python3 ../shared/peers/index_peer_draft.py /tmp/bench-photos --threads 2   (reduced decode)
//   /usr/bin/python3 ../shared/peers/index_peer.py /tmp/bench-photos --threads 2         (rclip-style)
// (the built-in generator is similar but carries no EXIF). Peak RSS is this process's ru_maxrss: the
// model folder is written by a forked child, so its buffers are not counted. The machine is often shared:
// every line carries the 1-minute load average; compare runs made under the same load only.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/support/bench_measures.h"
#include "bench/support/synthetic_catalog.h"
#include "bench/support/vit_b32_folder.h"
#include "core/embedder.h"
#include "core/error.h"
#include "core/imageio/decode.h"
#include "core/imageio/encode.h"
#include "core/preprocess.h"
#include "indexer/duplicates.h"
#include "indexer/index_job.h"
#include "indexer/library.h"
#include "indexer/search.h"
#include "plugins/clip/clip_family.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using pictor::bench::Clock;
using pictor::bench::cpuSeconds;
using pictor::bench::currentRssMb;
using pictor::bench::loadAverage;
using pictor::bench::peakRssMb;
using pictor::bench::Rng;
using pictor::bench::round3;
using pictor::bench::secondsSince;

struct Options {
    fs::path photos; // empty: generate
    int count = 40;
    int threads = 2;
    int decodeThreads = 0;
    bool fullDecode = false;
    std::int64_t catalogSize = 100000;
    std::int64_t rescanSize = 0;
    fs::path work;
    bool keep = false;
    fs::path fixtures;
    fs::path model; // an existing model folder instead of the generated ViT-B/32
    bool f16 = false; // write the generated weights as F16 instead of F32
    std::string dtype = "auto"; // the embedder's number format (EmbedderOptions::dtype)
    std::uint64_t seed = 0;
};

Options parseOptions(int argc, char** argv)
{
    Options options;
    const char* fixtures = std::getenv("PICTOR_FIXTURES");
    options.fixtures = fixtures && *fixtures ? fixtures : PICTOR_DEFAULT_FIXTURES_DIR;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> std::string {
            PICTOR_CHECK(i + 1 < argc, arg, " needs a value");
            return argv[++i];
        };
        if (arg == "--photos")
            options.photos = value();
        else if (arg == "--n")
            options.count = std::stoi(value());
        else if (arg == "--threads")
            options.threads = std::stoi(value());
        else if (arg == "--decode-threads")
            options.decodeThreads = std::stoi(value());
        else if (arg == "--full-decode")
            options.fullDecode = true;
        else if (arg == "--catalog-size")
            options.catalogSize = std::stoll(value());
        else if (arg == "--rescan-size")
            options.rescanSize = std::stoll(value());
        else if (arg == "--work")
            options.work = value();
        else if (arg == "--keep")
            options.keep = true;
        else if (arg == "--fixtures")
            options.fixtures = value();
        else if (arg == "--model")
            options.model = value();
        else if (arg == "--f16")
            options.f16 = true;
        else if (arg == "--dtype")
            options.dtype = value();
        else if (arg == "--seed")
            options.seed = std::stoull(value());
        else
            PICTOR_FAIL(
                "unknown option ", arg, " (the options are listed at the top of bench/index_bench.cpp)");
    }
    return options;
}

// --- photos: gradient + waves + shapes, slightly blurred, sensor noise (like peers/make_photos.py)

void boxBlur(pictor::RgbImage& image, int radius)
{
    const int w = image.width, h = image.height, window = 2 * radius + 1;
    std::vector<int> line;
    auto blurLine = [&](std::uint8_t* first, int length, std::ptrdiff_t step) {
        line.assign(static_cast<std::size_t>(length), 0);
        for (int i = 0; i < length; ++i)
            line[static_cast<std::size_t>(i)] = first[i * step];
        int sum = 0;
        for (int i = -radius; i <= radius; ++i)
            sum += line[static_cast<std::size_t>(std::clamp(i, 0, length - 1))];
        for (int i = 0; i < length; ++i) {
            first[i * step] = static_cast<std::uint8_t>(sum / window);
            sum += line[static_cast<std::size_t>(std::min(i + radius + 1, length - 1))]
                - line[static_cast<std::size_t>(std::max(i - radius, 0))];
        }
    };
    for (int y = 0; y < h; ++y)
        for (int c = 0; c < 3; ++c)
            blurLine(image.row(y) + c, w, 3);
    for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c)
            blurLine(image.pixels.data() + 3 * x + c, h, static_cast<std::ptrdiff_t>(3) * w);
}

pictor::RgbImage renderPhoto(Rng& rng, int w, int h)
{
    pictor::RgbImage image(w, h);
    std::vector<float> base(static_cast<std::size_t>(w) * h * 3);
    for (int c = 0; c < 3; ++c) {
        const double a = rng.uniform(30, 200), bx = rng.uniform(-80, 80), by = rng.uniform(-80, 80);
        const double amp = rng.uniform(5, 30), fx = rng.uniform(1, 6), fy = rng.uniform(1, 6);
        const double phase = rng.uniform(0, 6.3), tau = 2 * std::numbers::pi;
        // sin(X + Y) = sin X cos Y + cos X sin Y: two tables instead of w*h sines.
        std::vector<float> sx(static_cast<std::size_t>(w)), cx(sx.size());
        for (int x = 0; x < w; ++x) {
            const double u = static_cast<double>(x) / (w - 1);
            sx[static_cast<std::size_t>(x)] = static_cast<float>(amp * std::sin(fx * tau * u + phase));
            cx[static_cast<std::size_t>(x)] = static_cast<float>(amp * std::cos(fx * tau * u + phase));
        }
        for (int y = 0; y < h; ++y) {
            const double v = static_cast<double>(y) / (h - 1);
            const auto sy = static_cast<float>(std::sin(fy * tau * v)),
                       cy = static_cast<float>(std::cos(fy * tau * v));
            const auto rowBase = static_cast<float>(a + by * v);
            float* out = base.data() + (static_cast<std::size_t>(y) * w) * 3 + c;
            for (int x = 0; x < w; ++x)
                out[3 * x] = rowBase + static_cast<float>(bx * x / (w - 1))
                    + sx[static_cast<std::size_t>(x)] * cy + cx[static_cast<std::size_t>(x)] * sy;
        }
    }
    for (std::size_t i = 0; i < base.size(); ++i)
        image.pixels[i] = static_cast<std::uint8_t>(std::clamp(base[i], 0.0f, 255.0f));

    const int scale = std::max(w, h);
    for (int shape = rng.integer(15, 45); shape > 0; --shape) {
        const std::uint8_t color[3] = {static_cast<std::uint8_t>(rng.integer(0, 256)),
            static_cast<std::uint8_t>(rng.integer(0, 256)), static_cast<std::uint8_t>(rng.integer(0, 256))};
        const double cx = rng.uniform(0, w), cy = rng.uniform(0, h);
        const double rx = rng.uniform(0.01, 0.2) * scale, ry = rng.uniform(0.01, 0.2) * scale;
        const bool ellipse = rng.uniform() < 0.5;
        const int y0 = std::max(0, static_cast<int>(cy - ry)),
                  y1 = std::min(h - 1, static_cast<int>(cy + ry));
        for (int y = y0; y <= y1; ++y) {
            double half = rx;
            if (ellipse) {
                const double t = (y - cy) / ry;
                half = rx * std::sqrt(std::max(0.0, 1 - t * t));
            }
            const int x0 = std::max(0, static_cast<int>(cx - half)),
                      x1 = std::min(w - 1, static_cast<int>(cx + half));
            std::uint8_t* row = image.row(y);
            for (int x = x0; x <= x1; ++x)
                std::memcpy(row + 3 * x, color, 3);
        }
    }
    boxBlur(image, rng.integer(1, 3));

    const double sigma = rng.uniform(4.5, 12.0);
    for (std::size_t i = 0; i + 1 < image.pixels.size(); i += 2) {
        const auto [a, b] = rng.normalPair();
        image.pixels[i]
            = static_cast<std::uint8_t>(std::clamp(image.pixels[i] + std::lround(sigma * a), 0L, 255L));
        image.pixels[i + 1]
            = static_cast<std::uint8_t>(std::clamp(image.pixels[i + 1] + std::lround(sigma * b), 0L, 255L));
    }
    return image;
}

// The size mix of make_photos.py (no EXIF orientation here).
std::pair<int, int> pickSize(Rng& rng)
{
    const double r = rng.uniform();
    if (r < 0.72)
        return {4000, 3000};
    if (r < 0.86)
        return {3000, 4000};
    if (r < 0.93)
        return {1920, 1080};
    return {6000, 4000};
}

void generatePhotos(const fs::path& dir, int count, std::uint64_t seed)
{
    fs::create_directories(dir);
    for (int i = 0; i < count; ++i) {
        Rng rng(seed * 1000003 + static_cast<std::uint64_t>(i));
        const auto [w, h] = pickSize(rng);
        const auto bytes = pictor::encodeImage(renderPhoto(rng, w, h), pictor::ImageFormat::Jpeg, 90);
        char name[32];
        std::snprintf(name, sizeof name, "IMG_%05d.jpg", i);
        std::ofstream(dir / name, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
}

std::vector<fs::path> listJpegs(const fs::path& dir)
{
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        std::string ext = entry.path().extension().string();
        std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
        if (entry.is_regular_file() && (ext == ".jpg" || ext == ".jpeg"))
            files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

// --- timing the pipeline from outside: the embedder wrapper times the model, progress events the rest

class TimedEmbedder final : public pictor::ImageTextEmbedder {
public:
    explicit TimedEmbedder(pictor::ImageTextEmbedder& inner) : inner_(inner) { }

    std::string modelId() const override { return inner_.modelId(); }
    std::string family() const override { return inner_.family(); }
    int dimension() const override { return inner_.dimension(); }
    const pictor::ImagePreprocessConfig& preprocessing() const override { return inner_.preprocessing(); }
    std::string deviceDescription() const override { return inner_.deviceDescription(); }
    float logitScale() const override { return inner_.logitScale(); }
    pictor::EmbeddingMatrix embedTexts(const std::vector<std::string>& texts) override
    {
        return inner_.embedTexts(texts);
    }
    pictor::EmbeddingMatrix embedPixelValues(const float* pixelValues, int count) override
    {
        const auto start = Clock::now();
        if (calls == 0)
            firstCall = start;
        auto result = inner_.embedPixelValues(pixelValues, count);
        lastEnd = Clock::now();
        modelSeconds += std::chrono::duration<double>(lastEnd - start).count();
        ++calls;
        images += count;
        return result;
    }

    double modelSeconds = 0;
    int calls = 0;
    int images = 0;
    Clock::time_point firstCall, lastEnd;

private:
    pictor::ImageTextEmbedder& inner_;
};

json decodeOnly(
    const std::vector<fs::path>& files, const pictor::ImagePreprocessConfig& preprocess, bool reduced)
{
    pictor::DecodeOptions decodeOptions;
    if (reduced)
        decodeOptions.targetShortEdge = preprocess.doResize && preprocess.resizeHeight == 0
            ? preprocess.shortestEdge
            : std::max(preprocess.resizeHeight, preprocess.resizeWidth);
    double readSeconds = 0, decodeSeconds = 0, preprocessSeconds = 0;
    for (const auto& file : files) {
        auto start = Clock::now();
        const auto bytes = pictor::readImageFileBytes(file);
        readSeconds += secondsSince(start);
        start = Clock::now();
        const auto decoded = pictor::decodeImageBytes(bytes, file, decodeOptions);
        decodeSeconds += secondsSince(start);
        start = Clock::now();
        const auto pixels = pictor::preprocessImage(decoded.image, preprocess);
        preprocessSeconds += secondsSince(start);
    }
    const double n = std::max<double>(1, static_cast<double>(files.size()));
    return {{"event", "decode_only"}, {"reduced_decode", reduced}, {"photos", files.size()}, {"threads", 1},
        {"ms_read_per_photo", round3(1000 * readSeconds / n)},
        {"ms_decode_per_photo", round3(1000 * decodeSeconds / n)},
        {"ms_preprocess_per_photo", round3(1000 * preprocessSeconds / n)},
        {"photos_per_s_one_thread", round3(n / (readSeconds + decodeSeconds + preprocessSeconds))},
        {"load_avg_1m", loadAverage()}};
}

json indexRun(pictor::ImageTextEmbedder& embedder, const fs::path& photos, const fs::path& libraryDir,
    const Options& options)
{
    TimedEmbedder timed(embedder);
    pictor::IndexOptions indexOptions;
    indexOptions.decodeThreads = options.decodeThreads;
    indexOptions.reducedDecode = !options.fullDecode;
    double catalogSeconds = 0, maxRss = currentRssMb();
    Clock::time_point finishing;
    indexOptions.progress = [&](const pictor::IndexProgress& progress) {
        maxRss = std::max(maxRss, currentRssMb());
        if (progress.phase == pictor::IndexProgress::Phase::Indexing)
            catalogSeconds += secondsSince(timed.lastEnd); // normalise + one transaction after each batch
        else if (progress.phase == pictor::IndexProgress::Phase::Finishing)
            finishing = Clock::now();
    };

    const double rssBefore = currentRssMb(), cpuBefore = cpuSeconds(), load = loadAverage();
    const auto start = Clock::now();
    auto library = pictor::Library::openForWriting(libraryDir);
    const pictor::IndexSummary summary = pictor::indexLibrary(library, timed, {photos}, indexOptions);
    const double total = secondsSince(start), cpu = cpuSeconds() - cpuBefore;

    const double embedPhase = summary.imagesPerSecond > 0 ? summary.indexed / summary.imagesPerSecond : 0;
    const double finish = std::chrono::duration<double>(Clock::now() - finishing).count();
    const double prepare = total - finish - embedPhase; // open, roots, scan, change detection
    // The indexing phase ends just before the Finishing event; its first batch waits for the decoders.
    const auto embedStart
        = finishing - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(embedPhase));
    const double firstBatchWait
        = timed.calls > 0 ? std::chrono::duration<double>(timed.firstCall - embedStart).count() : 0;
    const double decodeWait = embedPhase - timed.modelSeconds - catalogSeconds;
    const pictor::CoreSplit split = pictor::splitCores(indexOptions, embedder.deviceDescription());
    return {{"event", "index"}, {"reduced_decode", !options.fullDecode}, {"threads", options.threads},
        {"decode_threads", split.decodeThreads}, {"model_thread_cap", split.modelThreads},
        {"images", summary.indexed}, {"failed", summary.failures.size()}, {"seconds_total", round3(total)},
        {"images_per_s", round3(summary.indexed / total)},
        {"indexing_phase_images_per_s", round3(summary.imagesPerSecond)},
        {"seconds_prepare", round3(prepare)}, {"seconds_indexing_phase", round3(embedPhase)},
        {"seconds_first_batch_wait", round3(firstBatchWait)}, {"seconds_decode_wait", round3(decodeWait)},
        {"seconds_model", round3(timed.modelSeconds)}, {"seconds_catalog_writes", round3(catalogSeconds)},
        {"seconds_finish", round3(finish)},
        {"model_images_per_s_in_pipeline",
            round3(timed.modelSeconds > 0 ? timed.images / timed.modelSeconds : 0)},
        {"cpu_seconds", round3(cpu)}, {"cpu_cores_used", round3(cpu / total)},
        {"rss_before_mb", round3(rssBefore)}, {"rss_max_during_mb", round3(maxRss)},
        {"peak_rss_mb", round3(peakRssMb())}, {"vector_index", summary.vectorIndex}, {"load_avg_1m", load}};
}

json modelOnly(
    pictor::ImageTextEmbedder& embedder, int images, double endToEndImagesPerSecond, std::uint64_t seed)
{
    constexpr int kBatch = 8; // the pipeline's batch
    const auto& preprocess = embedder.preprocessing();
    const std::size_t perImage
        = static_cast<std::size_t>(3) * preprocess.outputHeight() * preprocess.outputWidth();
    std::vector<float> pixels(perImage * kBatch);
    Rng rng(seed + 77);
    for (std::size_t i = 0; i + 1 < pixels.size(); i += 2) {
        const auto [a, b] = rng.normalPair();
        pixels[i] = a;
        pixels[i + 1] = b;
    }
    const double load = loadAverage();
    double seconds = 0, best = 1e30;
    int done = 0;
    while (done < images) {
        const int count = std::min(kBatch, images - done);
        const auto start = Clock::now();
        embedder.embedPixelValues(pixels.data(), count);
        const double elapsed = secondsSince(start);
        seconds += elapsed;
        if (count == kBatch)
            best = std::min(best, elapsed);
        done += count;
    }
    const double rate = seconds > 0 ? done / seconds : 0;
    return {{"event", "model_only"}, {"images", done}, {"batch", kBatch}, {"seconds", round3(seconds)},
        {"images_per_s", round3(rate)}, {"best_batch_images_per_s", round3(best < 1e30 ? kBatch / best : 0)},
        {"ratio_end_to_end_over_model", round3(rate > 0 ? endToEndImagesPerSecond / rate : 0)},
        {"load_avg_1m", load}};
}

json catalogPart(pictor::ImageTextEmbedder& embedder, const fs::path& libraryDir, std::int64_t size,
    int threads, std::uint64_t seed)
{
    constexpr int kDim = 512;
    constexpr std::int64_t kPerTransaction = 1000;
    PICTOR_CHECK(embedder.dimension() == kDim, "the catalog part needs a 512-d model");
    const std::string modelId = embedder.modelId(); // so that SearchService finds these embeddings
    const double load = loadAverage();
    const double rssStart = currentRssMb();
    auto library = pictor::Library::openForWriting(libraryDir);
    pictor::Catalog& catalog = library.catalog();
    pictor::bench::SyntheticCatalogOptions synthetic;
    synthetic.root = "/bench/synthetic-library";
    synthetic.photos = size;
    synthetic.modelId = modelId;
    synthetic.dimension = kDim;
    synthetic.seed = seed;
    synthetic.perTransaction = kPerTransaction;
    std::vector<double> rssSamples;
    const std::int64_t sampleEvery = std::max<std::int64_t>(1, size / kPerTransaction / 10); // transactions
    std::int64_t transactions = 0;
    synthetic.onCommit = [&](std::int64_t) {
        if (++transactions % sampleEvery == 0)
            rssSamples.push_back(round3(currentRssMb()));
    };
    const auto insertStart = Clock::now();
    pictor::bench::fillSyntheticCatalog(catalog, synthetic);
    const double insertSeconds = secondsSince(insertStart), rssAfterInsert = currentRssMb();
    Rng rng(seed + 4343); // query vectors
    std::vector<float> vector(kDim);

    pictor::VectorIndex::setThreadCount(threads);
    const auto buildStart = Clock::now();
    pictor::Library::IndexState state;
    pictor::VectorIndex index = library.vectorIndex(modelId, kDim, &state);
    const double buildSeconds = secondsSince(buildStart), rssAfterIndex = currentRssMb();

    std::vector<double> searchMs;
    for (int q = 0; q < 20; ++q) {
        double norm = 0;
        for (float& v : vector) {
            v = rng.normalPair().first;
            norm += static_cast<double>(v) * v;
        }
        for (float& v : vector)
            v = static_cast<float>(v / std::sqrt(norm));
        const auto start = Clock::now();
        const auto hits = index.search(vector, 10);
        searchMs.push_back(1000 * secondsSince(start));
        PICTOR_CHECK(hits.size() == 10, "the search returned ", hits.size(), " hits");
    }
    std::sort(searchMs.begin(), searchMs.end());

    // A text query end to end, as `pictor search "..."` runs it once the model is loaded: tokenize,
    // encode, vector search, hits from the catalog. Every text is new (no cache hit), then one repeats.
    pictor::SearchService service(library, embedder);
    std::vector<double> textMs;
    const char* subjects[]
        = {"dog", "cat", "beach", "mountain", "birthday cake", "city", "forest", "car", "child", "snow"};
    for (int q = 0; q < 20; ++q) {
        pictor::SearchQuery query;
        query.text = std::string("a photo of a ") + subjects[q % 10] + (q < 10 ? " at sunset" : " at night");
        query.limit = 20;
        const auto start = Clock::now();
        const auto hits = service.search(query);
        textMs.push_back(1000 * secondsSince(start));
        PICTOR_CHECK(hits.size() == 20, "the text search returned ", hits.size(), " hits");
    }
    std::sort(textMs.begin(), textMs.end());
    pictor::SearchQuery repeated;
    repeated.text = "a photo of a dog at sunset";
    const auto cachedStart = Clock::now();
    service.search(repeated);
    const double cachedMs = 1000 * secondsSince(cachedStart);

    // Duplicates over the whole catalog: each photo's top-k through the vector index, in batches.
    const auto duplicatesStart = Clock::now();
    const auto duplicateGroups = pictor::findDuplicates(library, modelId, kDim);
    const double duplicatesSeconds = secondsSince(duplicatesStart);

    const auto megabytes = [](const fs::path& file) {
        std::error_code error;
        const auto bytes = fs::file_size(file, error);
        return error ? 0.0 : round3(static_cast<double>(bytes) / 1e6);
    };
    return {{"event", "catalog"}, {"seconds_duplicates", round3(duplicatesSeconds)},
        {"duplicate_groups", duplicateGroups.size()}, {"photos", size}, {"dim", kDim},
        {"seconds_insert", round3(insertSeconds)}, {"photos_per_s_insert", round3(size / insertSeconds)},
        {"rss_before_mb", round3(rssStart)}, {"rss_during_insert_mb", rssSamples},
        {"rss_after_insert_mb", round3(rssAfterInsert)}, {"seconds_vector_index", round3(buildSeconds)},
        {"vector_index", state.rebuilt ? "rebuilt (" + state.reason + ")" : "up to date"},
        {"vector_index_factory", index.config().factory},
        {"rss_after_vector_index_mb", round3(rssAfterIndex)},
        {"search_ms_p50", round3(searchMs[searchMs.size() / 2])}, {"search_ms_max", round3(searchMs.back())},
        {"text_query_ms_p50", round3(textMs[textMs.size() / 2])},
        {"text_query_ms_max", round3(textMs.back())}, {"text_query_cached_ms", round3(cachedMs)},
        {"rss_after_search_mb", round3(currentRssMb())}, {"peak_rss_mb", round3(peakRssMb())},
        {"catalog_mb", megabytes(catalog.file())}, {"wal_mb", megabytes(catalog.file().string() + "-wal")},
        {"vector_index_file_mb", megabytes(library.vectorIndexPath(modelId))}, {"load_avg_1m", load}};
}

json rescanPart(
    pictor::ImageTextEmbedder& embedder, const fs::path& work, std::int64_t size, std::uint64_t seed)
{
    const fs::path libraryDir = work / "rescan-library";
    const fs::path root = work / "rescan-photos";
    fs::remove_all(libraryDir);
    fs::remove_all(root);
    fs::create_directories(root);
    const auto setupStart = Clock::now();
    {
        auto library = pictor::Library::openForWriting(libraryDir);
        pictor::bench::SyntheticCatalogOptions synthetic;
        synthetic.root = fs::canonical(root);
        synthetic.photos = size;
        synthetic.modelId = embedder.modelId();
        synthetic.dimension = embedder.dimension();
        synthetic.seed = seed;
        synthetic.createFiles = true;
        pictor::bench::fillSyntheticCatalog(library.catalog(), synthetic);
        library.vectorIndex(embedder.modelId(), embedder.dimension());
    }
    const double setupSeconds = secondsSince(setupStart);
    const double load = loadAverage();
    std::vector<double> seconds;
    pictor::IndexSummary summary;
    for (int run = 0; run < 3; ++run) { // the first may read the folders from disk, the others from cache
        auto library = pictor::Library::openForWriting(libraryDir);
        const auto start = Clock::now();
        summary = pictor::indexLibrary(library, embedder, {}, pictor::IndexOptions {});
        seconds.push_back(secondsSince(start));
        PICTOR_CHECK(summary.unchanged == size && summary.indexed == 0,
            "the re-scan found changes: ", summary.indexed, " indexed, ", summary.unchanged, " unchanged");
    }
    return {{"event", "rescan"}, {"photos", size}, {"setup_s", round3(setupSeconds)},
        {"seconds_first", round3(seconds[0])},
        {"seconds_best", round3(*std::min_element(seconds.begin(), seconds.end()))},
        {"unchanged", summary.unchanged}, {"vector_index", summary.vectorIndex}, {"load_avg_1m", load}};
}

void print(const json& line)
{
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
}

int run(const Options& options)
{
    const fs::path work = options.work.empty()
        ? fs::temp_directory_path() / ("pictor-index-bench-" + std::to_string(getpid()))
        : options.work;
    fs::create_directories(work);

    // Model folder (child process), then load and warm up.
    const fs::path modelDir = options.model.empty() ? work / "model-vit-b-32" : options.model;
    auto start = Clock::now();
    if (options.model.empty())
        pictor::bench::writeVitB32FolderInChild(
            modelDir, options.fixtures / "clip-tiny-a", options.seed, options.f16);
    const double writeSeconds = secondsSince(start);
    pictor::EmbedderOptions embedderOptions;
    embedderOptions.device = "cpu";
    embedderOptions.cpuThreads = options.threads;
    embedderOptions.maxBatch = 8;
    embedderOptions.dtype = options.dtype;
    start = Clock::now();
    auto embedder = pictor::clip::loadClipEmbedder(modelDir, embedderOptions);
    const double loadSeconds = secondsSince(start);
    const auto& preprocess = embedder->preprocessing();
    {
        std::vector<float> warm(
            static_cast<std::size_t>(8) * 3 * preprocess.outputHeight() * preprocess.outputWidth());
        start = Clock::now();
        embedder->embedPixelValues(warm.data(), 8);
    }
    const double warmSeconds = secondsSince(start);
    const char* omp = std::getenv("OMP_WAIT_POLICY");
    print({{"event", "setup"}, {"bench", "index_bench"},
        {"model",
            options.model.empty()
                ? std::string("ViT-B/32 shapes, random ") + (options.f16 ? "F16" : "F32") + " weights"
                : options.model.string()},
        {"model_dir", modelDir.string()}, {"model_id", embedder->modelId()},
        {"device", embedder->deviceDescription()}, {"number_format_reason", embedder->numberFormatReason()},
        {"threads", options.threads}, {"nproc", std::thread::hardware_concurrency()},
        {"omp_wait_policy", omp ? omp : ""}, {"seconds_write_model", round3(writeSeconds)},
        {"seconds_load_model", round3(loadSeconds)}, {"seconds_warmup_batch8", round3(warmSeconds)},
        {"rss_after_load_mb", round3(currentRssMb())}, {"peak_rss_after_warmup_mb", round3(peakRssMb())},
        {"load_avg_1m", loadAverage()}});

    // Photos.
    fs::path photos = options.photos;
    double generateSeconds = 0;
    if (photos.empty() && options.count > 0) {
        photos = work / "photos";
        start = Clock::now();
        generatePhotos(photos, options.count, options.seed);
        generateSeconds = secondsSince(start);
    }
    if (!photos.empty()) {
        const auto files = listJpegs(photos);
        std::uintmax_t bytes = 0;
        for (const auto& file : files)
            bytes += fs::file_size(file);
        print({{"event", "photos"}, {"dir", photos.string()}, {"jpegs", files.size()},
            {"mb", round3(bytes / 1e6)}, {"generated", options.photos.empty()},
            {"seconds_generate", round3(generateSeconds)}});
        PICTOR_CHECK(!files.empty(), "no JPEG files under ", photos.string());

        print(decodeOnly(files, preprocess, !options.fullDecode));
        const fs::path libraryDir = work / "library";
        fs::remove_all(libraryDir);
        const json index = indexRun(*embedder, photos, libraryDir, options);
        print(index);
        print(modelOnly(
            *embedder, index["images"].get<int>(), index["images_per_s"].get<double>(), options.seed));
    } else {
        print(modelOnly(*embedder, 40, 0, options.seed)); // --n 0: the model alone, no photos
    }

    if (options.catalogSize > 0) {
        const fs::path libraryDir = work / "catalog-100k";
        fs::remove_all(libraryDir);
        print(catalogPart(*embedder, libraryDir, options.catalogSize, options.threads, options.seed));
    }

    if (options.rescanSize > 0)
        print(rescanPart(*embedder, work, options.rescanSize, options.seed));

    if (!options.keep)
        fs::remove_all(work);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        return run(parseOptions(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "index_bench: %s\n", e.what());
        return 1;
    }
}
