// The app's side of the models: one ComputeWorker that owns the embedding model (loaded lazily, on the
// worker, at interactive priority) and the search service built on it. The GUI thread asks for results
// as QFutures (continue them with .then(this, ...)); cancelling a future supersedes that query: it is
// dropped before it starts or between its steps.
#pragma once

#include <QFuture>
#include <QObject>
#include <QPromise>
#include <QString>
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "core/embedder.h"
#include "indexer/compute_worker.h"
#include "indexer/library.h"
#include "indexer/search.h"
#include "ui/search_request.h"

namespace pictor::ui {

struct SearchResults {
    std::vector<SearchHit> hits;
    double seconds = 0; // time on the worker, model loading included
};

class SearchEngine : public QObject {
    Q_OBJECT
public:
    // `loadFamilies` fills the model registry; it runs once, on the worker, before the first model loads
    // (it loads LibTorch, which the window must not wait for).
    using FamilyLoader = std::function<void(ModelRegistry&)>;
    explicit SearchEngine(FamilyLoader loadFamilies, QObject* parent = nullptr);
    ~SearchEngine() override;

    // Called from the GUI thread; the next job on the worker picks the change up.
    void setLibraryDir(const std::filesystem::path& dir);
    // An empty folder means "the model the library was last indexed with".
    void setModel(const std::filesystem::path& modelDir, const EmbedderOptions& options);
    // After the catalog changed (indexing finished, photos removed): the next search reloads the index.
    void invalidateIndex();

    // Supersedes the previous search (GUI thread): its job is dropped before it starts or before its vector
    // search and its future then holds an empty result. QFuture::cancel() is not used for that: Qt 6.4 can
    // crash when the GUI thread cancels while the worker finishes and drops the promise.
    QFuture<SearchResults> search(const SearchRequest& request);
    void cancelSearch();
    // Loads the model on the worker now (after the window is shown), so the first query is quick.
    void preload();

    // For the indexing thread: the loaded model (loading it through the worker when needed). Throws
    // pictor::Error saying what is missing. Blocks the calling thread, never call it on the GUI thread.
    std::shared_ptr<ImageTextEmbedder> modelForIndexing();
    ComputeWorker& worker() { return *worker_; }
    // The folder of the loaded model (loading it when needed); same rules as modelForIndexing().
    std::filesystem::path loadedModelDir();
    // Worker thread only: the model registry, its families loaded (LibTorch) on first use. For the other
    // models that live on the worker (the captioning model).
    ModelRegistry& registryOnWorker();

signals:
    // "clip-0123… · CPU float32", "Loading model…", or what is missing.
    void modelStatusChanged(const QString& status, bool ready);

private:
    void submitSearch(std::shared_ptr<QPromise<SearchResults>> promise,
        std::shared_ptr<std::atomic<bool>> superseded, SearchQuery query);

    struct Config {
        std::filesystem::path libraryDir;
        std::filesystem::path modelDir;
        EmbedderOptions options;
        std::uint64_t version = 0;
    };
    Config config() const;
    // Worker thread only.
    std::shared_ptr<ImageTextEmbedder> ensureModel();
    SearchService& ensureService();

    FamilyLoader loadFamilies_;
    mutable std::mutex mutex_;
    Config config_;
    bool indexStale_ = false; // guarded by mutex_

    // Owned by the worker thread.
    ModelRegistry registry_;
    bool familiesLoaded_ = false;
    std::shared_ptr<ImageTextEmbedder> model_;
    std::uint64_t modelVersion_ = 0;
    std::uint64_t serviceVersion_ = 0;
    std::filesystem::path modelDir_;
    std::optional<Library> reader_;
    std::unique_ptr<SearchService> service_;

    std::shared_ptr<std::atomic<bool>> superseded_; // of the latest search; GUI thread only
    std::unique_ptr<ComputeWorker> worker_; // last: stops first
};

} // namespace pictor::ui
