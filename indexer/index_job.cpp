#include "indexer/index_job.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <sys/stat.h>

#include "core/error.h"
#include "core/imageio/decode.h"
#include "core/log.h"
#include "core/preprocess.h"
#include "indexer/auto_tags.h"
#include "indexer/change_detection.h"
#include "indexer/file_hash.h"
#include "indexer/generation_provenance.h"
#include "indexer/memory_budget.h"

namespace pictor {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kBatchSize = 8; // the embedder's best CPU batch (bench/clip_bench)

} // namespace

CoreSplit splitCores(const IndexOptions& options, const std::string& deviceDescription)
{
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (options.decodeThreads > 0)
        return {options.decodeThreads, 0};
    if (deviceDescription.starts_with("CPU bfloat16") && cores >= 2) {
        const int model = cores / 2;
        return {cores - model, model};
    }
    return {cores, 0};
}

namespace {

struct WorkItem {
    std::filesystem::path path;
    std::int64_t rootId = 0;
    std::int64_t mtimeNs = 0;
    std::string fileType;
};

// One photo after the CPU stage: its catalog record and model input, or why it failed.
struct DecodedPhoto {
    PhotoRecord record;
    std::vector<float> pixelValues;
    std::optional<std::string> generationChunk; // a generated picture's provenance (its "pictor" PNG chunk)
    std::string error;
};

// Decoders block when the compute side is `capacity` photos behind, so memory stays flat.
class BoundedQueue {
public:
    explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) { }

    bool push(DecodedPhoto photo)
    {
        std::unique_lock lock(mutex_);
        notFull_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
        if (closed_)
            return false;
        items_.push_back(std::move(photo));
        notEmpty_.notify_one();
        return true;
    }
    // False when the queue is closed or every producer is done and it is empty.
    bool pop(DecodedPhoto& photo)
    {
        std::unique_lock lock(mutex_);
        notEmpty_.wait(lock, [&] { return !items_.empty() || closed_ || producers_ == 0; });
        return takeFront(photo);
    }
    // Takes a photo only when one is ready.
    bool tryPop(DecodedPhoto& photo)
    {
        std::lock_guard lock(mutex_);
        return takeFront(photo);
    }
    void setProducers(int count) { producers_ = count; }
    void producerDone()
    {
        std::lock_guard lock(mutex_);
        --producers_;
        notEmpty_.notify_all();
    }
    void close()
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        notFull_.notify_all();
        notEmpty_.notify_all();
    }

private:
    // With the lock held.
    bool takeFront(DecodedPhoto& photo)
    {
        if (items_.empty() || closed_)
            return false;
        photo = std::move(items_.front());
        items_.pop_front();
        notFull_.notify_one();
        return true;
    }

    std::mutex mutex_;
    std::condition_variable notFull_, notEmpty_;
    std::deque<DecodedPhoto> items_;
    std::size_t capacity_;
    int producers_ = 0;
    bool closed_ = false;
};

bool cancelled(const IndexOptions& options)
{
    return options.cancel && options.cancel->load();
}

std::filesystem::path absoluteRoot(const std::filesystem::path& root)
{
    std::error_code error;
    auto canonical = std::filesystem::weakly_canonical(std::filesystem::absolute(root), error);
    return error ? std::filesystem::absolute(root) : canonical;
}

class RootLookup {
public:
    explicit RootLookup(std::vector<RootRecord> roots) : roots_(std::move(roots))
    {
        // Deepest first, so nested roots claim their own photos.
        std::sort(roots_.begin(), roots_.end(),
            [](const auto& a, const auto& b) { return a.path.native().size() > b.path.native().size(); });
    }
    std::int64_t rootOf(const std::filesystem::path& path) const
    {
        for (const auto& root : roots_)
            if (isUnder(path, root.path))
                return root.id;
        return 0;
    }
    std::vector<std::filesystem::path> paths() const
    {
        std::vector<std::filesystem::path> out;
        for (const auto& root : roots_)
            out.push_back(root.path);
        return out;
    }

private:
    std::vector<RootRecord> roots_;
};

// The CPU stage for one file: read once, hash those bytes, decode (reduced when allowed), preprocess.
// Within `budget`: the file's bytes are leased before they are read, the decode's pixels before it runs.
DecodedPhoto decodeForIndex(const WorkItem& item, const ImagePreprocessConfig& preprocess,
    const IndexOptions& options, MemoryBudget& budget)
{
    DecodedPhoto result;
    try {
        struct stat info { };
        MemoryBudget::Lease lease = budget.acquire(
            ::stat(item.path.c_str(), &info) == 0 ? static_cast<std::int64_t>(info.st_size) : 0);
        const std::vector<std::uint8_t> bytes = readImageFileBytes(item.path);
        DecodeOptions decodeOptions;
        decodeOptions.maxPixels = options.maxPixels;
        if (options.reducedDecode) {
            decodeOptions.targetShortEdge = preprocess.doResize && preprocess.resizeHeight == 0
                ? preprocess.shortestEdge
                : std::max(preprocess.resizeHeight, preprocess.resizeWidth);
            if (options.thumbnails) // a short edge >= the thumbnail size keeps its long edge sharp too
                decodeOptions.targetShortEdge
                    = std::max(decodeOptions.targetShortEdge, options.thumbnails->size());
        }
        lease.grow(estimateDecodeBytes(bytes, decodeOptions, item.path));
        DecodedImage decoded = decodeImageBytes(bytes, item.path, decodeOptions);
        result.pixelValues = preprocessImage(decoded.image, preprocess);
        result.generationChunk = generationChunkOf(bytes, item.path);
        const std::uint64_t contentHash = hashBytes(bytes.data(), bytes.size());
        if (options.thumbnails && !options.thumbnails->contains(contentHash)) {
            try {
                options.thumbnails->store(contentHash, decoded.image);
            } catch (const Error& e) {
                PICTOR_LOG_WARN("no thumbnail for ", item.path.string(), ": ", e.what());
            }
        }

        PhotoRecord& record = result.record;
        record.rootId = item.rootId;
        record.path = item.path;
        record.size = static_cast<std::int64_t>(bytes.size());
        record.mtimeNs = item.mtimeNs;
        record.contentHash = contentHash;
        record.width = decoded.fileWidth;
        record.height = decoded.fileHeight;
        record.orientation = decoded.exifOrientation;
        record.takenAt = decoded.takenAt;
        record.cameraMake = decoded.cameraMake;
        record.cameraModel = decoded.cameraModel;
        record.gpsLat = decoded.gpsLatitude;
        record.gpsLon = decoded.gpsLongitude;
        record.fileType = item.fileType;
    } catch (const std::exception& e) {
        // Any failure (pictor::Error, out of memory, ...) is this file's alone; it never escapes the decoding
        // thread. The failure is listed with its path, so the reason drops the "<path>: " the decoder starts
        // with.
        const std::string prefix = item.path.string() + ": ";
        const std::string message = e.what();
        result.record.path = item.path;
        result.error = message.starts_with(prefix) ? message.substr(prefix.size()) : message;
    }
    return result;
}

// Deletes, moves and metadata-only updates, in the order change detection asks for, in one transaction.
void applyCatalogChanges(Catalog& catalog, const ChangePlan& plan, const RootLookup& roots)
{
    Catalog::Transaction transaction(catalog);
    std::vector<std::int64_t> deleted;
    for (const auto& file : plan.deleted)
        deleted.push_back(file.id);
    catalog.deletePhotos(deleted);
    auto refresh = [&](std::int64_t id, const ScannedFile& file) {
        auto photo = catalog.photo(id);
        if (!photo)
            return;
        photo->size = file.size;
        photo->mtimeNs = file.mtimeNs;
        catalog.upsertPhoto(*photo);
    };
    for (const auto& move : plan.moved) {
        catalog.movePhoto(move.id, move.file.path, roots.rootOf(move.file.path));
        refresh(move.id, move.file);
    }
    for (const auto& touched : plan.touched)
        refresh(touched.id, touched.file);
    transaction.commit();
}

std::vector<KnownFile> knownFiles(const Catalog& catalog)
{
    std::vector<KnownFile> known;
    for (const auto& root : catalog.roots())
        for (const auto& photo : catalog.listPhotosUnder(root.id))
            known.push_back({photo.id, photo.path, photo.size, photo.mtimeNs, photo.contentHash});
    return known;
}

// A scanned root that holds no file while the catalog has photos under it reads like an unmounted drive's
// mount point: it becomes an unscanned folder, so change detection keeps its photos. Returns those roots.
std::vector<std::filesystem::path> treatEmptyRootsAsOffline(
    ScanResult& scan, const std::vector<KnownFile>& known)
{
    std::vector<std::filesystem::path> offline;
    for (auto it = scan.scannedRoots.begin(); it != scan.scannedRoots.end();) {
        const auto& root = *it;
        const bool hasFiles = std::any_of(scan.files.begin(), scan.files.end(),
            [&](const ScannedFile& file) { return isUnder(file.path, root); });
        const bool hadPhotos = std::any_of(
            known.begin(), known.end(), [&](const KnownFile& file) { return isUnder(file.path, root); });
        if (!hasFiles && hadPhotos) {
            PICTOR_LOG_WARN(
                root.string(), " reads as empty but held photos: treated as offline, its photos kept");
            offline.push_back(root);
            scan.unscannedFolders.push_back(root);
            it = scan.scannedRoots.erase(it);
        } else {
            ++it;
        }
    }
    return offline;
}

// Deletions of a root that lost more than half of its photos (and at least kMassDeleteMinimum) at once are
// held: those photos move to the kept ones. Returns how many were held; `heldRoots` gets their roots.
std::int64_t holdMassDeletions(ChangePlan& plan, const std::vector<KnownFile>& known,
    const std::vector<std::filesystem::path>& roots, std::vector<std::filesystem::path>& heldRoots)
{
    std::int64_t held = 0;
    for (const auto& root : roots) {
        const auto under = [&](const KnownFile& file) { return isUnder(file.path, root); };
        const auto before = std::count_if(known.begin(), known.end(), under);
        const auto gone = std::count_if(plan.deleted.begin(), plan.deleted.end(), under);
        if (gone < kMassDeleteMinimum || 2 * gone <= before)
            continue;
        PICTOR_LOG_WARN(gone, " of the ", before, " photos of ", root.string(),
            " are gone: kept until a run allows the deletion (--allow-mass-delete)");
        const auto split = std::stable_partition(
            plan.deleted.begin(), plan.deleted.end(), [&](const KnownFile& file) { return !under(file); });
        plan.unreachable.insert(plan.unreachable.end(), split, plan.deleted.end());
        plan.deleted.erase(split, plan.deleted.end());
        held += gone;
        heldRoots.push_back(root);
    }
    return held;
}

std::optional<std::int64_t> deviceOf(const std::filesystem::path& folder)
{
    struct stat info { };
    if (::stat(folder.c_str(), &info) != 0)
        return std::nullopt;
    return static_cast<std::int64_t>(info.st_dev);
}

// A root now on another file system than the one it was indexed on (another drive mounted at its
// folder) that lacks some of its photos is offline as a whole: nothing under it is added or deleted, so
// its photos stay (and are still found) until the drive is back or a run allows the change. A drive
// copied to a new one has every photo: then nothing is missing and it is indexed as usual. Returns those
// roots.
std::vector<std::filesystem::path> treatRootsOnAnotherDriveAsOffline(
    ScanResult& scan, const std::vector<KnownFile>& known, const std::vector<RootRecord>& roots)
{
    std::vector<std::filesystem::path> offline;
    std::set<std::filesystem::path> found;
    for (const auto& file : scan.files)
        found.insert(file.path);
    for (const auto& root : roots) {
        const auto now = deviceOf(root.path);
        const auto scanned = std::find(scan.scannedRoots.begin(), scan.scannedRoots.end(), root.path);
        if (!root.deviceId || !now || *now == *root.deviceId || scanned == scan.scannedRoots.end())
            continue;
        const auto missing = std::count_if(known.begin(), known.end(),
            [&](const KnownFile& file) { return isUnder(file.path, root.path) && !found.count(file.path); });
        if (missing == 0)
            continue;
        PICTOR_LOG_WARN(root.path.string(), " is on another drive than when it was indexed and ", missing,
            " of its photos are not there: treated as offline, its photos kept (--allow-mass-delete accepts "
            "the new drive)");
        std::erase_if(scan.files, [&](const ScannedFile& file) { return isUnder(file.path, root.path); });
        scan.unscannedFolders.push_back(root.path);
        scan.scannedRoots.erase(scanned);
        offline.push_back(root.path);
    }
    return offline;
}

// Records the drive of each root read in full this time (not those offline: they stay tied to the drive
// their photos are on).
void rememberRootDrives(Catalog& catalog, const std::vector<std::filesystem::path>& scanned)
{
    for (const auto& root : catalog.roots()) {
        if (std::find(scanned.begin(), scanned.end(), root.path) == scanned.end())
            continue;
        if (const auto now = deviceOf(root.path); now && root.deviceId != now)
            catalog.setRootDevice(root.id, *now);
    }
}

// New and modified files, plus catalog photos that lack this model's embedding (a new model, or an
// interrupted run), as long as they are still on disk.
std::vector<WorkItem> workList(const Catalog& catalog, const ChangePlan& plan, const ScanResult& scan,
    const RootLookup& roots, const std::string& modelId, const std::set<std::filesystem::path>& skip)
{
    std::vector<WorkItem> items;
    std::set<std::filesystem::path> queued;
    auto add = [&](const ScannedFile& file) {
        if (queued.insert(file.path).second)
            items.push_back(
                {file.path, roots.rootOf(file.path), file.mtimeNs, std::string(fileTypeName(file.type))});
    };
    for (const auto& file : plan.added)
        if (!skip.count(file.file.path))
            add(file.file);
    for (const auto& file : plan.modified)
        add(file.file);
    std::map<std::filesystem::path, const ScannedFile*> onDisk;
    for (const auto& file : scan.files)
        onDisk[file.path] = &file;
    for (std::int64_t id : catalog.photosWithoutEmbedding(modelId)) {
        const auto photo = catalog.photo(id);
        if (!photo)
            continue;
        auto it = onDisk.find(photo->path);
        if (it != onDisk.end())
            add(*it->second);
    }
    return items;
}

// Whether every photo of the catalog has an embedding of `modelId`, but the ones that failed (no model can
// read them). Photos under a folder that is unreachable now (an unplugged drive) count as lacking it, so
// the library keeps searching them with its old model.
bool everyPhotoEmbedded(
    const Catalog& catalog, const std::string& modelId, const std::vector<FailureRecord>& failures)
{
    std::set<std::filesystem::path> failed;
    for (const auto& failure : failures)
        failed.insert(failure.path);
    for (std::int64_t id : catalog.photosWithoutEmbedding(modelId)) {
        const auto photo = catalog.photo(id);
        if (photo && !failed.count(photo->path))
            return false;
    }
    return true;
}

// The decoding threads of a run: stopAndJoin() (also from the destructor) tells them to stop, wakes any
// blocked on the queue and joins them.
class DecoderThreads {
public:
    DecoderThreads(std::atomic<bool>& stop, BoundedQueue& queue) : stop_(stop), queue_(queue) { }
    ~DecoderThreads() { stopAndJoin(); }
    DecoderThreads(const DecoderThreads&) = delete;
    DecoderThreads& operator=(const DecoderThreads&) = delete;

    template <class Body> void start(Body body) { threads_.emplace_back(std::move(body)); }
    void stopAndJoin()
    {
        stop_ = true;
        queue_.close();
        for (auto& thread : threads_)
            if (thread.joinable())
                thread.join();
    }

private:
    std::atomic<bool>& stop_;
    BoundedQueue& queue_;
    std::vector<std::thread> threads_;
};

class IndexRun {
public:
    IndexRun(Library& library, ImageTextEmbedder& embedder, const IndexOptions& options)
        : catalog_(library.catalog()),
          embedder_(embedder),
          options_(options),
          modelId_(embedder.modelId()),
          autoTagger_(catalog_, modelId_, [this](const TagDefinition& definition) {
              auto embed = [&] { return promptEnsemble(embedder_, definition); };
              return options_.worker ? options_.worker->run(JobPriority::Bulk, embed) : embed();
          })
    {
    }

    void embedAll(const std::vector<WorkItem>& items, IndexSummary& summary)
    {
        const CoreSplit split = splitCores(options_, embedder_.deviceDescription());
        const int modelThreads = split.modelThreads;
        const int threads = split.decodeThreads;
        BoundedQueue queue(static_cast<std::size_t>(kBatchSize * 3));
        queue.setProducers(threads);
        std::atomic<std::size_t> next {0};
        std::atomic<bool> stop {false};
        const ImagePreprocessConfig preprocess = embedder_.preprocessing();
        // Declared after what the threads use, so it joins them first on every path out of here: a batch
        // whose commit throws (disk full, the embedder failing) ends the job with its error, never with
        // std::terminate from a joinable thread.
        MemoryBudget budget(options_.decodeMemoryBytes);
        DecoderThreads decoders(stop, queue);
        for (int t = 0; t < threads; ++t)
            decoders.start([&] {
                for (std::size_t i; !stop && (i = next++) < items.size();)
                    if (!queue.push(decodeForIndex(items[i], preprocess, options_, budget)))
                        break;
                queue.producerDone();
            });

        total_ = static_cast<std::int64_t>(items.size());
        start_ = Clock::now();
        // With the cores shared out, the model's share decodes too whenever no decoded photo waits (the
        // first batch fills twice as fast), and the batches after the last photo was claimed run on every
        // core: no core idles at either end of a run.
        const bool modelHelpsDecoding = modelThreads > 0;
        const auto nextPhoto = [&](DecodedPhoto& photo) {
            if (modelHelpsDecoding) {
                if (queue.tryPop(photo))
                    return true;
                if (const std::size_t i = next++; i < items.size()) {
                    photo = decodeForIndex(items[i], preprocess, options_, budget);
                    return true;
                }
            }
            return queue.pop(photo);
        };
        const auto everyPhotoClaimed = [&] { return next.load() >= items.size(); };
        std::vector<DecodedPhoto> batch;
        for (DecodedPhoto photo; nextPhoto(photo);) {
            if (cancelled(options_)) {
                summary.cancelled = true;
                break;
            }
            batch.push_back(std::move(photo));
            if (batch.size() == kBatchSize)
                commitBatch(batch, summary, everyPhotoClaimed() ? 0 : modelThreads);
        }
        if (!summary.cancelled)
            commitBatch(batch, summary, 0);
        decoders.stopAndJoin();
        const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
        summary.imagesPerSecond = seconds > 0 ? summary.indexed / seconds : 0;
    }

private:
    // Embeds the decoded photos of a batch and writes them, with the batch's failures, in one transaction.
    // `modelThreads` caps the model's threads (0: every core).
    void commitBatch(std::vector<DecodedPhoto>& batch, IndexSummary& summary, int modelThreads)
    {
        if (batch.empty())
            return;
        std::vector<const DecodedPhoto*> good;
        std::vector<float> pixels;
        for (const auto& photo : batch) {
            if (!photo.error.empty())
                continue;
            good.push_back(&photo);
            pixels.insert(pixels.end(), photo.pixelValues.begin(), photo.pixelValues.end());
        }
        EmbeddingMatrix embeddings;
        if (!good.empty()) {
            auto embed = [&] {
                const ModelThreadCap cap(modelThreads);
                return embedder_.embedPixelValues(pixels.data(), static_cast<int>(good.size()));
            };
            embeddings = options_.worker ? options_.worker->run(JobPriority::Bulk, embed) : embed();
        }
        normalizeRows(embeddings); // the catalog and the index hold unit vectors: inner product = cosine
        if (!good.empty())
            autoTagger_.prepare(static_cast<std::size_t>(embeddings.dim));
        Catalog::Transaction transaction(catalog_);
        for (std::size_t i = 0; i < good.size(); ++i) {
            const std::int64_t id = catalog_.upsertPhoto(good[i]->record);
            const std::span<const float> embedding(embeddings.row(static_cast<int>(i)), embeddings.dim);
            catalog_.putEmbedding(id, modelId_, embedding);
            summary.autoTagged += autoTagger_.tag(catalog_, id, embedding);
            if (good[i]->generationChunk)
                catalogGeneration(catalog_, id, *good[i]->generationChunk);
        }
        for (const auto& photo : batch)
            if (!photo.error.empty())
                catalog_.recordFailure(photo.record.path, photo.error, kIndexJobKind);
        catalog_.linkGenerationSources();
        transaction.commit();

        summary.indexed += static_cast<std::int64_t>(good.size());
        failed_ += static_cast<std::int64_t>(batch.size() - good.size());
        done_ += static_cast<std::int64_t>(batch.size());
        batch.clear();
        report();
    }

    void report() const
    {
        if (!options_.progress)
            return;
        IndexProgress progress;
        progress.phase = IndexProgress::Phase::Indexing;
        progress.done = done_;
        progress.total = total_;
        progress.failed = failed_;
        const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
        progress.imagesPerSecond = seconds > 0 ? done_ / seconds : 0;
        progress.etaSeconds = progress.imagesPerSecond > 0 ? (total_ - done_) / progress.imagesPerSecond : 0;
        options_.progress(progress);
    }

    Catalog& catalog_;
    ImageTextEmbedder& embedder_;
    const IndexOptions& options_;
    std::string modelId_;
    NewPhotoAutoTagger autoTagger_;
    Clock::time_point start_;
    std::int64_t total_ = 0, done_ = 0, failed_ = 0;
};

void reportPhase(const IndexOptions& options, IndexProgress::Phase phase)
{
    if (options.progress) {
        IndexProgress progress;
        progress.phase = phase;
        options.progress(progress);
    }
}

} // namespace

IndexSummary indexLibrary(Library& library, ImageTextEmbedder& embedder,
    const std::vector<std::filesystem::path>& roots, const IndexOptions& options)
{
    PICTOR_CHECK(library.writable(), "indexing needs the library open for writing");
    const auto start = Clock::now();
    Catalog& catalog = library.catalog();
    IndexSummary summary;
    if (!options.modelDir.empty() && !library.modelDir())
        library.setModelDir(options.modelDir);

    for (const auto& root : roots)
        catalog.addRoot(absoluteRoot(root));
    const RootLookup rootLookup(catalog.roots());
    PICTOR_CHECK(!catalog.roots().empty(), "the library has no folders yet: name one to index");

    reportPhase(options, IndexProgress::Phase::Scanning);
    ScanOptions scanOptions = options.scan;
    scanOptions.cancel = options.cancel;
    ScanResult scan = scanRoots(rootLookup.paths(), scanOptions);
    summary.rawCompanions = static_cast<std::int64_t>(scan.rawCompanions.size());
    const std::vector<KnownFile> known = knownFiles(catalog);
    summary.offlineRoots = treatEmptyRootsAsOffline(scan, known);
    if (!options.allowMassDelete)
        summary.otherDriveRoots = treatRootsOnAnotherDriveAsOffline(scan, known, catalog.roots());
    ChangePlan plan = planChanges(scan, known, hashFile);
    if (!options.allowMassDelete)
        summary.deletionsHeld = holdMassDeletions(plan, known, scan.scannedRoots, summary.massDeletionRoots);

    // A new file that failed in the last run and has not changed since would fail again: its failure is
    // carried over and it is not decoded (an unchanged library does no decoding at all).
    std::map<std::filesystem::path, FailureRecord> lastFailures;
    for (auto& failure : catalog.failures(std::string_view(kIndexJobKind)))
        lastFailures[failure.path] = failure;
    std::set<std::filesystem::path> stillFailing;
    catalog.clearFailures(kIndexJobKind);
    {
        Catalog::Transaction transaction(catalog);
        for (const auto& file : plan.added) {
            auto it = lastFailures.find(file.file.path);
            if (it != lastFailures.end() && file.file.mtimeNs < it->second.at * 1'000'000'000) {
                stillFailing.insert(file.file.path);
                catalog.recordFailure(file.file.path, it->second.reason, kIndexJobKind);
            }
        }
        for (const auto& problem : scan.problems)
            catalog.recordFailure(problem.path, problem.reason, kIndexJobKind);
        for (const auto& problem : plan.problems)
            catalog.recordFailure(problem.path, problem.reason, kIndexJobKind);
        transaction.commit();
    }
    applyCatalogChanges(catalog, plan, rootLookup);
    summary.unchanged = static_cast<std::int64_t>(plan.unchanged.size());
    summary.touched = static_cast<std::int64_t>(plan.touched.size());
    summary.moved = static_cast<std::int64_t>(plan.moved.size());
    summary.deleted = static_cast<std::int64_t>(plan.deleted.size());
    summary.kept = static_cast<std::int64_t>(plan.unreachable.size());

    if (!scan.cancelled && !cancelled(options)) {
        IndexRun run(library, embedder, options);
        run.embedAll(workList(catalog, plan, scan, rootLookup, embedder.modelId(), stillFailing), summary);
    } else {
        summary.cancelled = true;
    }

    reportPhase(options, IndexProgress::Phase::Finishing);
    Library::IndexState state;
    library.vectorIndex(embedder.modelId(), embedder.dimension(), &state);
    summary.vectorIndex = state.rebuilt ? "rebuilt (" + state.reason + ")"
        : state.updated                 ? state.reason
                                        : "up to date";
    summary.failures = catalog.failures(std::string_view(kIndexJobKind));
    if (!summary.cancelled)
        rememberRootDrives(catalog, scan.scannedRoots);
    if (!summary.cancelled && !options.modelDir.empty()
        && everyPhotoEmbedded(catalog, embedder.modelId(), summary.failures))
        library.setModelDir(options.modelDir);
    summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return summary;
}

} // namespace pictor
