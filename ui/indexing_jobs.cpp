#include "ui/indexing_jobs.h"

#include <QElapsedTimer>
#include <QMetaObject>

#include <sys/resource.h>
#include <unistd.h>

#include "core/error.h"
#include "indexer/library.h"
#include "ui/search_engine.h"

namespace pictor::ui {
namespace {

QString summaryText(const IndexSummary& s)
{
    QString text = QObject::tr("indexed %1, unchanged %2, moved %3, deleted %4, failed %5")
                       .arg(s.indexed)
                       .arg(s.unchanged)
                       .arg(s.moved)
                       .arg(s.deleted)
                       .arg(s.failures.size());
    // First line (the status bar shows it): what the user must know about before the counts' details.
    for (const auto& root : s.offlineRoots)
        text += QObject::tr("; %1 is offline (its photos are kept)")
                    .arg(QString::fromStdString(root.string()));
    for (const auto& root : s.otherDriveRoots)
        text += QObject::tr(
            "; %1 is on another drive, without some of its photos: offline (its photos are kept)")
                    .arg(QString::fromStdString(root.string()));
    if (s.deletionsHeld > 0)
        text += QObject::tr("; %1 photos vanished at once from a folder: kept").arg(s.deletionsHeld);
    for (std::size_t i = 0; i < s.failures.size() && i < 5; ++i)
        text += QStringLiteral("\n%1: %2")
                    .arg(QString::fromStdString(s.failures[i].path.string()),
                        QString::fromStdString(s.failures[i].reason));
    return text;
}

std::filesystem::path canonicalFolder(const QString& folder)
{
    std::error_code error;
    auto path = std::filesystem::canonical(folder.toStdString(), error);
    PICTOR_CHECK(!error, "cannot add ", folder.toStdString(), ": ", error.message());
    PICTOR_CHECK(std::filesystem::is_directory(path), "cannot add ", path.string(), ": not a folder");
    return path;
}

} // namespace

IndexingJobs::IndexingJobs(SearchEngine& engine, ModelHost& host, QObject* parent)
    : QObject(parent), engine_(engine), host_(host)
{
    pool_.setMaxThreadCount(1);
    pool_.setExpiryTimeout(-1);
}

IndexingJobs::~IndexingJobs()
{
    cancelAll();
    pool_.waitForDone();
}

const JobInfo* IndexingJobs::job(int id) const
{
    for (const JobInfo& info : jobs_)
        if (info.id == id)
            return &info;
    return nullptr;
}

const JobInfo* IndexingJobs::running() const
{
    for (const JobInfo& info : jobs_)
        if (info.state == JobInfo::State::Running)
            return &info;
    return nullptr;
}

bool IndexingJobs::busy() const
{
    for (const JobInfo& info : jobs_)
        if (!info.finished())
            return true;
    return false;
}

void IndexingJobs::waitForIdle()
{
    pool_.waitForDone();
}

int IndexingJobs::addFolders(const QStringList& folders)
{
    std::vector<std::filesystem::path> roots;
    QStringList names;
    for (const QString& folder : folders) {
        roots.push_back(folder.toStdString());
        names.append(QString::fromStdString(roots.back().filename().string()));
    }
    return enqueue(Kind::Index, tr("Add and index %1").arg(names.join(", ")), std::move(roots), {});
}

int IndexingJobs::rescan(const std::vector<std::filesystem::path>& roots)
{
    const QString label = roots.empty()
        ? tr("Re-scan every folder")
        : tr("Re-scan %1").arg(QString::fromStdString(roots.front().filename().string()));
    return enqueue(Kind::Index, label, roots, {});
}

int IndexingJobs::reindexForModel(const std::filesystem::path& modelDir)
{
    if (const JobInfo* pending = job(reindexJob_);
        pending && !pending->finished() && !pending->cancel.cancelled()) {
        if (reindexModel_ == modelDir)
            return reindexJob_;
        cancel(reindexJob_);
    }
    reindexModel_ = modelDir;
    reindexJob_ = enqueue(Kind::Index,
        tr("Re-index for model %1").arg(QString::fromStdString(modelDir.filename().string())), {}, {});
    return reindexJob_;
}

int IndexingJobs::removeFolder(const std::filesystem::path& root)
{
    return enqueue(Kind::RemoveFolder,
        tr("Remove %1 from the library").arg(QString::fromStdString(root.string())), {root}, {});
}

int IndexingJobs::forgetVanishedPhotos(const std::vector<std::filesystem::path>& roots)
{
    QStringList names;
    for (const auto& root : roots)
        names << QString::fromStdString(root.filename().string());
    return enqueue(
        Kind::Index, tr("Forget the photos gone from %1").arg(names.join(", ")), roots, {}, {}, true);
}

int IndexingJobs::removePhotos(const std::vector<std::int64_t>& ids, const QString& label)
{
    return enqueue(Kind::RemovePhotos, label, {}, ids);
}

int IndexingJobs::enqueueWork(const QString& label, Work work)
{
    return enqueue(Kind::Work, label, {}, {}, std::move(work));
}

int IndexingJobs::track(const QString& label, std::function<void()> cancel)
{
    JobInfo info;
    info.id = nextId_++;
    info.label = label;
    info.state = JobInfo::State::Running;
    info.cancelTracked = std::move(cancel);
    jobs_.append(info);
    emit jobChanged(info.id);
    return info.id;
}

void IndexingJobs::updateTracked(
    int id, JobInfo::State state, std::int64_t done, std::int64_t total, const QString& message)
{
    for (JobInfo& info : jobs_)
        if (info.id == id && info.tracked() && !info.finished()) {
            info.state = state;
            info.progress.phase = IndexProgress::Phase::Indexing;
            info.progress.done = done;
            info.progress.total = total;
            info.message = message;
            emit jobChanged(id);
        }
}

void IndexingJobs::cancel(int id)
{
    for (JobInfo& info : jobs_)
        if (info.id == id && !info.finished()) {
            if (info.tracked()) {
                info.cancelTracked(); // it reports its end through updateTracked
                continue;
            }
            info.cancel.cancel();
            if (info.state == JobInfo::State::Queued) {
                info.state = JobInfo::State::Cancelled;
                info.message = tr("cancelled before it started");
            }
            emit jobChanged(id);
        }
}

void IndexingJobs::cancelAll()
{
    for (const JobInfo& info : jobs_)
        if (!info.finished())
            cancel(info.id);
}

int IndexingJobs::enqueue(Kind kind, QString label, std::vector<std::filesystem::path> roots,
    std::vector<std::int64_t> ids, Work work, bool allowMassDelete)
{
    JobInfo info;
    info.id = nextId_++;
    info.label = std::move(label);
    info.roots = roots;
    info.indexesFolders = kind == Kind::Index || kind == Kind::RemoveFolder;
    jobs_.append(info);
    const int id = info.id;
    JobInput input;
    input.kind = kind;
    input.libraryDir = libraryDir_;
    for (const QString& pattern : excluded_)
        input.excludePatterns.push_back(pattern.toStdString());
    input.roots = std::move(roots);
    input.ids = std::move(ids);
    input.cancel = info.cancel;
    input.work = std::move(work);
    input.allowMassDelete = allowMassDelete;
    pool_.start([this, id, input = std::move(input)]() mutable { run(id, std::move(input)); });
    emit jobChanged(id);
    return id;
}

// On the job thread. Reports through queued calls; touches no GUI-thread state.
void IndexingJobs::run(int id, JobInput input)
{
    const Kind kind = input.kind;
    auto& roots = input.roots;
    const auto& ids = input.ids;
    const CancelToken& cancel = input.cancel;
    if (cancel.cancelled())
        return;
    // The decode threads indexLibrary starts inherit this: bulk work yields to the GUI and to queries.
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
    report(id, JobInfo::State::Running, {}, {});
    try {
        Library library = Library::openForWriting(input.libraryDir);
        if (kind == Kind::RemoveFolder) {
            for (const auto& root : roots)
                if (const auto record = library.catalog().findRoot(root))
                    library.catalog().removeRoot(record->id);
            report(id, JobInfo::State::Done, {}, tr("removed from the library; the files are untouched"));
            return;
        }
        if (kind == Kind::Work) {
            const JobOutcome outcome = input.work(library, *cancel.flag(),
                [&](const IndexProgress& progress) { report(id, JobInfo::State::Running, progress, {}); });
            report(id, outcome.cancelled ? JobInfo::State::Cancelled : JobInfo::State::Done, {},
                outcome.message);
            return;
        }
        if (kind == Kind::RemovePhotos) {
            library.catalog().deletePhotos(ids);
            report(id, JobInfo::State::Done, {},
                tr("%1 photos removed from the library; the files are untouched").arg(ids.size()));
            return;
        }
        for (auto& root : roots)
            root = canonicalFolder(QString::fromStdString(root.string()));
        SearchEngine::IndexingModel model;
        try {
            model = engine_.modelForIndexing();
        } catch (const Error& e) {
            // Without a model the folders are still added: the gallery browses them.
            for (const auto& root : roots)
                library.catalog().addRoot(root);
            report(id, JobInfo::State::Failed, {},
                tr("folders added but not indexed: %1").arg(QString::fromUtf8(e.what())));
            return;
        }
        const ThumbnailCache thumbnails;
        IndexOptions options;
        options.scan.excludePatterns = input.excludePatterns;
        options.modelDir = model.dir;
        options.cancel = cancel.flag();
        options.allowMassDelete = input.allowMassDelete;
        options.worker = &host_.worker();
        options.thumbnails = &thumbnails;
        QElapsedTimer throttle;
        throttle.start();
        options.progress = [&](const IndexProgress& progress) {
            if (throttle.elapsed() >= 100 || progress.done == progress.total) {
                throttle.restart();
                report(id, JobInfo::State::Running, progress, {});
            }
        };
        const IndexSummary summary = indexLibrary(library, *model.model, roots, options);
        reportHeld(id, summary);
        IndexProgress last;
        last.phase = IndexProgress::Phase::Finishing;
        last.done = last.total = summary.indexed + static_cast<std::int64_t>(summary.failures.size());
        report(id, summary.cancelled ? JobInfo::State::Cancelled : JobInfo::State::Done, last,
            summaryText(summary));
    } catch (const std::exception& e) {
        report(id, JobInfo::State::Failed, {}, QString::fromUtf8(e.what()));
    }
}

void IndexingJobs::reportHeld(int id, const IndexSummary& summary)
{
    if (summary.deletionsHeld == 0 && summary.otherDriveRoots.empty())
        return;
    QMetaObject::invokeMethod(
        this,
        [this, id, held = summary.deletionsHeld, mass = summary.massDeletionRoots,
            other = summary.otherDriveRoots] {
            for (JobInfo& info : jobs_)
                if (info.id == id) {
                    info.deletionsHeld = held;
                    info.massDeletionRoots = mass;
                    info.otherDriveRoots = other;
                }
        },
        Qt::QueuedConnection);
}

void IndexingJobs::report(int id, JobInfo::State state, const IndexProgress& progress, const QString& message)
{
    QMetaObject::invokeMethod(
        this,
        [this, id, state, progress, message] {
            for (JobInfo& info : jobs_) {
                if (info.id != id)
                    continue;
                if (info.state == JobInfo::State::Cancelled && state == JobInfo::State::Running)
                    return; // a late progress report of a cancelled job
                info.state = state;
                if (state == JobInfo::State::Running || progress.total > 0)
                    info.progress = progress;
                if (!message.isEmpty())
                    info.message = message;
                emit jobChanged(id);
                if (info.finished())
                    emit jobFinished(id);
                return;
            }
        },
        Qt::QueuedConnection);
}

} // namespace pictor::ui
