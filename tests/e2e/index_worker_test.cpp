// The indexing job in process: with a compute worker, a query's text embedding waits at most one
// indexing batch, not the rest of the job (DESIGN.md "Threads and jobs"); files that vanish while the
// job runs are failures of their own, never of the run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/generation_record.h"
#include "core/imageio/encode.h"
#include "core/imageio/png_text.h"
#include "indexer/compute_worker.h"
#include "indexer/index_job.h"
#include "plugins/clip/clip_family.h"
#include "tests/support/paths.h"
#include "tests/support/wrapped_embedder.h"

namespace pictor {
namespace {

using Clock = std::chrono::steady_clock;
using test::WrappedEmbedder;
constexpr auto kBatchTime = std::chrono::milliseconds(80);

void writePhotos(const std::filesystem::path& dir, int count)
{
    std::mt19937 rng(7);
    for (int i = 0; i < count; ++i) {
        RgbImage image(48, 40);
        for (auto& value : image.pixels)
            value = static_cast<std::uint8_t>(rng() % 256);
        const auto bytes = encodeImage(image, ImageFormat::Png);
        std::FILE* file = std::fopen((dir / ("p" + std::to_string(i) + ".png")).c_str(), "wb");
        ASSERT_NE(file, nullptr);
        std::fwrite(bytes.data(), 1, bytes.size(), file);
        std::fclose(file);
    }
}

// A bfloat16 model on the CPU costs about what decoding does: the run gives each half of the cores, the
// image batches run under the model's cap while photos remain to decode, and the last one on every core.
// A float32 model, or decode threads named by the caller, keep every core for both (no cap).
TEST(IndexWithWorker, DecodingAndABfloat16ModelShareTheCores)
{
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const IndexOptions automatic;
    const CoreSplit bf16 = splitCores(automatic, "CPU bfloat16");
    if (cores >= 2) {
        EXPECT_EQ(bf16.modelThreads, cores / 2);
        EXPECT_EQ(bf16.decodeThreads + bf16.modelThreads, cores);
    }
    EXPECT_EQ(splitCores(automatic, "CPU float32").modelThreads, 0);
    EXPECT_EQ(splitCores(automatic, "CPU float32").decodeThreads, cores);
    EXPECT_EQ(splitCores(automatic, "CUDA:0 float16").modelThreads, 0);
    IndexOptions named;
    named.decodeThreads = 3;
    EXPECT_EQ(splitCores(named, "CPU bfloat16").decodeThreads, 3);
    EXPECT_EQ(splitCores(named, "CPU bfloat16").modelThreads, 0);

    const auto photos = test::scratchDir("split-photos");
    constexpr int kPhotos = 44; // five full batches of 8 and a last one of 4
    writePhotos(photos, kPhotos);
    auto model = clip::loadClipEmbedder(test::fixtureDir("clip-tiny-a"), {});
    WrappedEmbedder bfloat16(*model, std::chrono::milliseconds(0));
    bfloat16.pretendDevice("CPU bfloat16");
    Library library = Library::openForWriting(test::scratchDir("split-library"));
    ComputeWorker worker;
    IndexOptions options;
    options.worker = &worker;
    const IndexSummary summary = indexLibrary(library, bfloat16, {photos}, options);
    EXPECT_EQ(summary.indexed, kPhotos) << "the model's thread decodes photos too, none twice or lost";
    const std::vector<int>& caps = bfloat16.threadCaps();
    ASSERT_EQ(caps.size(), 6u);
    EXPECT_EQ(caps.back(), 0) << "the last batch, every photo decoded, runs on every core";
    // When the first batch commits, at most its 8 photos, the queue's 24 and one per decode thread have
    // been claimed: photos remain, so it runs under the model's share.
    if (bf16.modelThreads > 0 && 8 + 24 + bf16.decodeThreads < kPhotos) {
        EXPECT_EQ(caps.front(), bf16.modelThreads);
    }
    for (const int cap : caps)
        EXPECT_TRUE(cap == 0 || cap == bf16.modelThreads) << cap;
    EXPECT_EQ(ModelThreadCap::current(), 0) << "the cap ends with the batch";
}

TEST(IndexWithWorker, AQueryDuringIndexingWaitsAtMostOneBatch)
{
    const auto photos = test::scratchDir("worker-photos");
    writePhotos(photos, 160); // 20 batches of 8: at least 1.6 s of model time
    auto model = clip::loadClipEmbedder(test::fixtureDir("clip-tiny-a"), {});
    WrappedEmbedder slow(*model, kBatchTime);
    const auto expected = model->embedTexts({"a dog on a beach"});

    Library library = Library::openForWriting(test::scratchDir("worker-library"));
    ComputeWorker worker;
    std::atomic<std::int64_t> done {0};
    // The longest time between two batches as this run saw it: on a loaded machine a batch takes longer
    // than its 80 ms of sleep, and a query's wait is bounded by a batch, whatever it takes.
    double longestBatchMs = 0;
    Clock::time_point lastBatch {};
    IndexOptions options;
    options.worker = &worker;
    options.progress = [&](const IndexProgress& progress) {
        if (progress.phase != IndexProgress::Phase::Indexing || progress.done == done)
            return;
        const auto now = Clock::now();
        if (lastBatch != Clock::time_point {})
            longestBatchMs = std::max(
                longestBatchMs, std::chrono::duration<double, std::milli>(now - lastBatch).count());
        lastBatch = now;
        done = progress.done;
    };
    IndexSummary summary;
    std::thread indexing([&] { summary = indexLibrary(library, slow, {photos}, options); });

    while (done < 16) // a few batches in: the worker is busy with bulk work
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::vector<double> waitsMs;
    for (int query = 0; query < 5; ++query) {
        const auto start = Clock::now();
        const auto embedding
            = worker.submit(JobPriority::Interactive, [&] { return model->embedTexts({"a dog on a beach"}); })
                  .get();
        waitsMs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        EXPECT_EQ(embedding.values, expected.values);
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    const std::int64_t doneWhenQueriesEnded = done;
    indexing.join();

    const double longest = *std::max_element(waitsMs.begin(), waitsMs.end());
    std::printf("query waits during indexing (ms):");
    for (const double wait : waitsMs)
        std::printf(" %.1f", wait);
    std::printf("; one batch takes >= %lld ms, the longest took %.1f ms\n",
        static_cast<long long>(kBatchTime.count()), longestBatchMs);
    EXPECT_EQ(summary.indexed, 160);
    EXPECT_LT(doneWhenQueriesEnded, 160) << "the queries ran after indexing, not during it";
    // One batch plus scheduling slack; waiting for the rest of the job would take over a second.
    const double batchMs = std::max(static_cast<double>(kBatchTime.count()), longestBatchMs);
    EXPECT_LT(longest, 2.0 * batchMs + 40.0);
    EXPECT_LT(batchMs, 1000.0) << "a batch took longer than the whole job should";
}

TEST(IndexJob, AFileDeletedBetweenScanAndDecodeIsListedAndTheRestIsIndexed)
{
    const auto photos = test::scratchDir("vanishing-photos");
    writePhotos(photos, 120);
    auto model = clip::loadClipEmbedder(test::fixtureDir("clip-tiny-a"), {});
    WrappedEmbedder slow(*model, kBatchTime); // keeps the decoders far enough ahead to delete behind them
    Library library = Library::openForWriting(test::scratchDir("vanishing-library"));
    const auto victim = photos / "p99.png"; // decoded long after the first batch (files go in order)
    bool deleted = false;
    IndexOptions options;
    options.decodeThreads = 1;
    options.progress = [&](const IndexProgress& progress) {
        if (progress.phase == IndexProgress::Phase::Indexing && !deleted) {
            deleted = std::filesystem::remove(victim); // after the scan and the plan, before its decode
        }
    };
    const IndexSummary summary = indexLibrary(library, slow, {photos}, options);
    ASSERT_TRUE(deleted);
    EXPECT_EQ(summary.indexed, 119);
    ASSERT_EQ(summary.failures.size(), 1u);
    EXPECT_EQ(summary.failures[0].path, victim);
    EXPECT_NE(summary.failures[0].reason.find("No such file"), std::string::npos)
        << summary.failures[0].reason;
    EXPECT_FALSE(library.catalog().findByPath(victim));

    // The next run forgets the failure of a file that is gone for good, and changes nothing else.
    const IndexSummary again = indexLibrary(library, slow, {}, {});
    EXPECT_EQ(again.indexed, 0);
    EXPECT_EQ(again.unchanged, 119);
    EXPECT_TRUE(again.failures.empty());
}

// An embedder that fails after some batches (a GPU lost, a model file gone): the run ends with that error,
// never with std::terminate from its decoding threads, the batches committed before stay, and the next run
// indexes only the rest.
TEST(IndexJob, AnEmbedderFailingMidRunEndsTheRunAndKeepsWhatWasCommitted)
{
    const auto photos = test::scratchDir("failing-photos");
    writePhotos(photos, 60);
    auto model = clip::loadClipEmbedder(test::fixtureDir("clip-tiny-a"), {});
    Library library = Library::openForWriting(test::scratchDir("failing-library"));
    for (const bool withWorker : {false, true}) {
        WrappedEmbedder failing(*model, std::chrono::milliseconds(0), {}, 2);
        ComputeWorker worker;
        IndexOptions options;
        options.decodeThreads = 2;
        options.worker = withWorker ? &worker : nullptr;
        try {
            indexLibrary(library, failing, {photos}, options);
            FAIL() << "the embedder's failure was swallowed";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("the accelerator was lost"), std::string::npos) << e.what();
        }
    }
    EXPECT_TRUE(library.catalog().photosWithoutEmbedding(model->modelId()).empty())
        << "a photo is written with its embedding in one transaction";
    // Each run committed its first two batches of 8 before the failure; the next run does the rest.
    const IndexSummary resumed = indexLibrary(library, *model, {}, {});
    EXPECT_EQ(resumed.unchanged, 32);
    EXPECT_EQ(resumed.indexed, 28);
}

// A library searches with the model of its last run that left every photo with that model's embedding:
// a cancelled run with a new model keeps the old one (its index is complete).
TEST(IndexJob, TheLibrarySwitchesModelOnlyWhenEveryPhotoHasItsEmbedding)
{
    const auto first = test::scratchDir("switch-first");
    const auto second = test::scratchDir("switch-second");
    writePhotos(first, 4);
    writePhotos(second, 4);
    auto model = clip::loadClipEmbedder(test::fixtureDir("clip-tiny-a"), {});
    WrappedEmbedder other(*model, std::chrono::milliseconds(0), "clip-second-model");
    const std::filesystem::path modelA = "/models/a", modelB = "/models/b";
    Library library = Library::openForWriting(test::scratchDir("switch-library"));

    std::atomic<bool> cancel {true};
    IndexOptions options;
    options.modelDir = modelA;
    options.cancel = &cancel;
    EXPECT_TRUE(indexLibrary(library, *model, {first, second}, options).cancelled);
    EXPECT_EQ(library.modelDir(), modelA) << "a library without a model takes the first at once";
    cancel = false;
    EXPECT_EQ(indexLibrary(library, *model, {}, options).indexed, 8);

    options.modelDir = modelB;
    cancel = true;
    EXPECT_TRUE(indexLibrary(library, other, {}, options).cancelled);
    EXPECT_EQ(library.modelDir(), modelA);
    EXPECT_EQ(library.catalog().photosWithoutEmbedding("clip-second-model").size(), 8u);
    cancel = false;
    EXPECT_EQ(indexLibrary(library, other, {}, options).indexed, 8);
    EXPECT_EQ(library.modelDir(), modelB);
    EXPECT_TRUE(library.catalog().photosWithoutEmbedding("clip-second-model").empty());

    // Back to the first model, whose embeddings are all there: a run that embeds nothing completes the
    // switch.
    options.modelDir = modelA;
    EXPECT_EQ(indexLibrary(library, *model, {second}, options).indexed, 0);
    EXPECT_EQ(library.modelDir(), modelA);
}

} // namespace
} // namespace pictor

namespace pictor {
namespace {

// A generated picture in a library folder carries its provenance in its "pictor" PNG chunk: indexing
// records it (prompt, model, the query, the source photo found by path); another program's chunk or a
// damaged one leaves a plain photo.
TEST(IndexJob, AGeneratedPictureIsCataloguedWithItsProvenance)
{
    const auto photos = test::scratchDir("generated-photos");
    writePhotos(photos, 1); // p0.png: the source
    RgbImage picture(32, 32);
    GenerationRecord record;
    record.prompt = "in snow";
    record.modelId = "unclip-abc";
    record.sourceImage = photos / "p0.png";
    record.query = "this one, but in snow";
    record.settings.seed = 42;
    writePngWithText(photos / "variation.png", picture, generationTextChunks(record));
    writePngWithText(photos / "other-program.png", picture, {{"pictor", "not json"}});

    auto model = clip::loadClipEmbedder(test::fixtureDir("clip-tiny-a"), {});
    Library library = Library::openForWriting(test::scratchDir("generated-library"));
    const IndexSummary summary = indexLibrary(library, *model, {photos}, {});
    EXPECT_EQ(summary.indexed, 3);
    const Catalog& catalog = library.catalog();
    const auto source = catalog.findByPath(photos / "p0.png");
    const auto variation = catalog.findByPath(photos / "variation.png");
    const auto other = catalog.findByPath(photos / "other-program.png");
    ASSERT_TRUE(source && variation && other);
    const auto generation = catalog.generationOf(variation->id);
    ASSERT_TRUE(generation);
    EXPECT_EQ(generation->prompt, "in snow");
    EXPECT_EQ(generation->modelId, "unclip-abc");
    EXPECT_EQ(generation->query, "this one, but in snow");
    EXPECT_EQ(generation->sourcePhotoId, source->id);
    const auto back = readGenerationJson(generation->paramsJson);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->settings.seed, 42u);
    EXPECT_FALSE(catalog.generationOf(other->id));
    ASSERT_EQ(catalog.generationsFrom(source->id).size(), 1u);
}

} // namespace
} // namespace pictor
