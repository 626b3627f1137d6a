// Search in the window: the embedding model (from the model host, loaded lazily on its worker at
// interactive priority) and the search service built on it. The GUI thread asks for results
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
#include "indexer/model_host.h"
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
    // The host's worker runs every search; its models are loaded through it.
    explicit SearchEngine(ModelHost& host, QObject* parent = nullptr);
    ~SearchEngine() override;

    // Called from the GUI thread; the next job on the worker picks the change up.
    void setLibraryDir(const std::filesystem::path& dir);
    // An empty folder means "the model the library was last indexed with".
    void setModel(const std::filesystem::path& modelDir, const EmbedderOptions& options);
    // After the catalog changed (indexing finished, photos removed): the next search reloads the index,
    // and switches model when the library now remembers another one.
    void invalidateIndex();
    // Whether the library must be indexed with `chosenModelDir`: it searches with another model (a model
    // change whose re-index has not completed), or with none yet while it has folders (added before a model
    // was chosen). Reads library.json, and the catalog's folder count when that names no model.
    static bool libraryNeedsReindex(
        const std::filesystem::path& libraryDir, const std::filesystem::path& chosenModelDir);

    // Supersedes the previous search (GUI thread): its job is dropped before it starts or before its vector
    // search and its future then holds an empty result. QFuture::cancel() is not used for that: Qt 6.4 can
    // crash when the GUI thread cancels while the worker finishes and drops the promise.
    QFuture<SearchResults> search(const SearchRequest& request);
    void cancelSearch();
    // Loads the model and opens the library's index on the worker now (after the window is shown, after a
    // job changed the library), so the next query is quick.
    void preload();

    // For the indexing thread: the chosen model (setModel; empty: the library's), loaded through the worker
    // when needed, and its folder. During a model change this is the new model while searches keep using
    // the library's remembered one (its index is complete) until the library switches
    // (IndexOptions::modelDir). Throws pictor::Error saying what is missing. Blocks the calling thread, never
    // call it on the GUI thread.
    struct IndexingModel {
        std::shared_ptr<ImageTextEmbedder> model;
        std::filesystem::path dir;
    };
    IndexingModel modelForIndexing();
    // The folder of the model searches use (loading it when needed); same rules as modelForIndexing().
    std::filesystem::path loadedModelDir();

signals:
    // "clip-0123… · CPU float32", "Loading model…", or what is missing.
    void modelStatusChanged(const QString& status, bool ready);
    // True when no embedding model is chosen and the library remembers none (the window offers the
    // recommended one's download); false once one loads.
    void modelMissing(bool missing);

private:
    void submitSearch(
        std::shared_ptr<QPromise<SearchResults>> promise, CancelToken superseded, SearchQuery query);

    struct Config {
        std::filesystem::path libraryDir;
        std::filesystem::path modelDir;
        EmbedderOptions options;
        std::uint64_t version = 0;
    };
    Config config() const;
    // Worker thread only. `libraryChanged`: an index run may have switched the library's model.
    std::shared_ptr<ImageTextEmbedder> ensureModel(bool libraryChanged = false);
    SearchService& ensureService();
    std::shared_ptr<ImageTextEmbedder> loadModel(const std::filesystem::path& dir, const Config& wanted);

    ModelHost& host_;
    mutable std::mutex mutex_;
    Config config_;
    bool indexStale_ = false; // guarded by mutex_

    // Owned by the worker thread.
    std::shared_ptr<ImageTextEmbedder> model_; // the search model (in use: the host keeps it)
    std::uint64_t modelVersion_ = 0;
    const ImageTextEmbedder* serviceModel_ = nullptr;
    std::uint64_t serviceVersion_ = 0;
    std::filesystem::path modelDir_;
    std::optional<Library> reader_;
    std::unique_ptr<SearchService> service_;

    std::optional<CancelToken> superseded_; // of the latest search; GUI thread only
};

} // namespace pictor::ui
