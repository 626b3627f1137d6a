#include "ui/search_engine.h"

#include <QElapsedTimer>
#include <QPromise>

#include "core/error.h"
#include "core/log.h"
#include "core/model_discovery.h"
#include "ui/catalog_reader.h"

namespace pictor::ui {
namespace {

constexpr const char* kNoModel
    = "Search needs an embedding model and none is chosen: download the recommended one with the button "
      "above the photos, or open Settings (Ctrl+,) and choose a CLIP model folder (a Hugging Face folder "
      "with config.json, model.safetensors, vocab.json, merges.txt and preprocessor_config.json). The "
      "README's \"Getting real model weights\" says more.";

// "clip-vit-base-patch32 (clip, clip-0123…) · CPU bfloat16: native on this CPU (AVX512_BF16)".
QString describe(const ImageTextEmbedder& model, const std::filesystem::path& dir)
{
    QString status
        = QStringLiteral("%1 (%2, %3) · %4")
              .arg(QString::fromStdString(modelDisplayName(dir)), QString::fromStdString(model.family()),
                  QString::fromStdString(model.modelId()), QString::fromStdString(model.deviceDescription()));
    if (const std::string reason = model.numberFormatReason(); !reason.empty())
        status += QStringLiteral(": ") + QString::fromStdString(reason);
    return status;
}

bool samePath(const std::filesystem::path& a, const std::filesystem::path& b)
{
    std::error_code error;
    const auto canonicalA = std::filesystem::weakly_canonical(a, error);
    const auto canonicalB = std::filesystem::weakly_canonical(b, error);
    return error ? a.lexically_normal() == b.lexically_normal() : canonicalA == canonicalB;
}

} // namespace

SearchEngine::SearchEngine(ModelHost& host, QObject* parent) : QObject(parent), host_(host) { }

SearchEngine::~SearchEngine() = default;

void SearchEngine::setLibraryDir(const std::filesystem::path& dir)
{
    std::lock_guard lock(mutex_);
    if (config_.libraryDir == dir)
        return;
    config_.libraryDir = dir;
    ++config_.version;
}

void SearchEngine::setModel(const std::filesystem::path& modelDir, const EmbedderOptions& options)
{
    std::lock_guard lock(mutex_);
    if (config_.modelDir == modelDir && config_.options.device == options.device
        && config_.options.cpuThreads == options.cpuThreads)
        return;
    config_.modelDir = modelDir;
    config_.options = options;
    ++config_.version;
}

void SearchEngine::invalidateIndex()
{
    std::lock_guard lock(mutex_);
    indexStale_ = true;
}

bool SearchEngine::libraryNeedsReindex(
    const std::filesystem::path& libraryDir, const std::filesystem::path& chosenModelDir)
{
    if (chosenModelDir.empty() || !CatalogReader::hasCatalog(libraryDir))
        return false;
    try {
        if (const auto remembered = Library::rememberedModelDir(libraryDir))
            return !samePath(*remembered, chosenModelDir);
        // No model yet: folders added before one was chosen are indexed with the first.
        return !Catalog::open(libraryDir, Catalog::OpenMode::ReadOnly).roots().empty();
    } catch (const Error& e) {
        // An unreadable library.json: the next index run writes it again; searching says what is wrong.
        PICTOR_LOG_WARN("cannot read the library's model: ", e.what());
        return false;
    }
}

SearchEngine::Config SearchEngine::config() const
{
    std::lock_guard lock(mutex_);
    return config_;
}

std::shared_ptr<ImageTextEmbedder> SearchEngine::loadModel(
    const std::filesystem::path& dir, const Config& wanted)
{
    return host_.embedder(dir, wanted.options); // kept by the host while it fits its memory budget
}

std::shared_ptr<ImageTextEmbedder> SearchEngine::ensureModel(bool libraryChanged)
{
    const Config wanted = config();
    if (model_ && modelVersion_ == wanted.version && !libraryChanged)
        return model_;
    const std::filesystem::path dir = Library::searchModelDir(wanted.libraryDir, wanted.modelDir);
    if (dir.empty()) {
        model_.reset();
        emit modelStatusChanged(QStringLiteral("No embedding model"), false);
        emit modelMissing(true);
        PICTOR_FAIL(kNoModel);
    }
    const bool reload = !model_ || dir != modelDir_ || modelVersion_ != wanted.version;
    if (reload) {
        emit modelStatusChanged(
            QStringLiteral("Loading model %1…").arg(QString::fromStdString(modelDisplayName(dir))), false);
        try {
            model_ = loadModel(dir, wanted);
        } catch (const Error& e) {
            model_.reset();
            emit modelStatusChanged(QStringLiteral("Model not loaded: %1").arg(e.what()), false);
            throw;
        }
    }
    const bool changing = reload || dir != modelDir_;
    modelVersion_ = wanted.version;
    modelDir_ = dir;
    if (changing) {
        QString status = describe(*model_, dir);
        const QString chosen = QString::fromStdString(modelDisplayName(wanted.modelDir));
        if (!wanted.modelDir.empty() && wanted.modelDir != dir)
            status += std::filesystem::exists(wanted.modelDir / "config.json")
                ? tr(" · switches to %1 once the library is indexed with it").arg(chosen)
                : tr(" · the chosen model %1 is missing (%2)")
                      .arg(chosen, QString::fromStdString(wanted.modelDir.string()));
        emit modelStatusChanged(status, true);
        emit modelMissing(false);
    }
    return model_;
}

SearchService& SearchEngine::ensureService()
{
    bool stale = false;
    {
        std::lock_guard lock(mutex_);
        std::swap(stale, indexStale_);
    }
    auto model = ensureModel(stale);
    const Config wanted = config();
    if (service_ && !stale && serviceVersion_ == wanted.version && serviceModel_ == model.get())
        return *service_;
    service_.reset();
    reader_.reset();
    PICTOR_CHECK(CatalogReader::hasCatalog(wanted.libraryDir),
        "The library is empty: add a folder of photos first (Add folder… in the sidebar, or drop a folder on "
        "it).");
    reader_.emplace(Library::openForReading(wanted.libraryDir));
    service_ = std::make_unique<SearchService>(*reader_, *model);
    serviceVersion_ = wanted.version;
    serviceModel_ = model.get();
    return *service_;
}

QFuture<SearchResults> SearchEngine::search(const SearchRequest& request)
{
    auto promise = std::make_shared<QPromise<SearchResults>>();
    QFuture<SearchResults> future = promise->future();
    promise->start();
    SearchQuery query;
    try {
        query = request.toQuery();
    } catch (...) {
        promise->setException(std::current_exception());
        promise->finish();
        return future;
    }
    cancelSearch();
    const CancelToken superseded;
    superseded_ = superseded;
    // The job is queued from the event loop, after the caller has attached its continuation to the
    // future: with Qt 6.4 a continuation attached while the worker finishes the promise can be lost, and
    // the window then waits for a search that never reports back (seen in the GUI tests now and then).
    QMetaObject::invokeMethod(
        this, [this, promise, superseded, query] { submitSearch(promise, superseded, query); },
        Qt::QueuedConnection);
    return future;
}

void SearchEngine::submitSearch(
    std::shared_ptr<QPromise<SearchResults>> promise, CancelToken superseded, SearchQuery query)
{
    host_.worker().submit(JobPriority::Interactive, [this, promise, superseded, query = std::move(query)] {
        SearchResults results;
        if (!superseded.cancelled()) {
            QElapsedTimer timer;
            timer.start();
            try {
                SearchService& service = ensureService();
                if (!superseded.cancelled()) { // superseded while the model loaded
                    results.hits = service.search(query);
                    results.seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
                }
            } catch (...) {
                promise->setException(std::current_exception());
                promise->finish();
                return;
            }
        }
        promise->addResult(std::move(results));
        promise->finish();
    });
}

void SearchEngine::cancelSearch()
{
    if (superseded_)
        superseded_->cancel();
}

void SearchEngine::preload()
{
    host_.worker().submit(JobPriority::Interactive, [this] {
        try {
            ensureService();
        } catch (const std::exception&) {
            // Reported through modelStatusChanged; a search says it again in full.
        }
    });
}

SearchEngine::IndexingModel SearchEngine::modelForIndexing()
{
    return host_.worker().run(JobPriority::Interactive, [this] {
        const Config wanted = config();
        if (wanted.modelDir.empty()
            || wanted.modelDir == Library::searchModelDir(wanted.libraryDir, wanted.modelDir))
            return IndexingModel {ensureModel(), modelDir_};
        return IndexingModel {loadModel(wanted.modelDir, wanted), wanted.modelDir};
    });
}

std::filesystem::path SearchEngine::loadedModelDir()
{
    return host_.worker().run(JobPriority::Interactive, [this] {
        ensureModel();
        return modelDir_;
    });
}

} // namespace pictor::ui
