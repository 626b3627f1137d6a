// Background library jobs (add folders, re-scan, remove a folder, remove photos), one at a time on a
// thread of their own, each cancellable through its std::atomic<bool>. Indexing runs indexLibrary with
// its forward passes queued on the ComputeWorker at bulk priority (interactive queries go first).
// State lives on the GUI thread; the job thread reports through queued calls only.
#pragma once

#include <QList>
#include <QObject>
#include <QStringList>
#include <QThreadPool>
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "indexer/index_job.h"
#include "indexer/model_host.h"

namespace pictor::ui {

class SearchEngine;

struct JobInfo {
    enum class State { Queued, Running, Done, Failed, Cancelled };
    int id = 0;
    QString label;
    State state = State::Queued;
    IndexProgress progress;
    QString message; // the summary or the error
    std::vector<std::filesystem::path> roots; // the folders it works on (empty: all)
    bool indexesFolders = false; // an index run or a folder's removal (not captions, tags, generations)
    CancelToken cancel;
    // A job run elsewhere and only listed here (a generation on the compute worker): Cancel calls this, and
    // while it runs `message` says where it is ("decoder 3/25").
    std::function<void()> cancelTracked;
    bool tracked() const { return static_cast<bool>(cancelTracked); }
    // An index run that kept photos it would have forgotten (IndexSummary::deletionsHeld, otherDriveRoots):
    // the window asks whether to forget them.
    std::int64_t deletionsHeld = 0;
    std::vector<std::filesystem::path> massDeletionRoots;
    std::vector<std::filesystem::path> otherDriveRoots;

    bool finished() const { return state != State::Queued && state != State::Running; }
};

// What a job of another kind (captioning) hands back: its summary, and whether it stopped on cancel.
struct JobOutcome {
    bool cancelled = false;
    QString message;
};

class IndexingJobs : public QObject {
    Q_OBJECT
public:
    IndexingJobs(SearchEngine& engine, ModelHost& host, QObject* parent = nullptr);
    ~IndexingJobs() override; // cancels everything and waits for the running job

    void setLibraryDir(const std::filesystem::path& dir) { libraryDir_ = dir; }
    void setScanOptions(const QStringList& excludedPatterns) { excluded_ = excludedPatterns; }

    int addFolders(const QStringList& folders);
    int rescan(const std::vector<std::filesystem::path>& roots = {}); // none: every folder
    // Re-indexes every folder with the newly chosen model (a rescan under its own label); the old model
    // keeps serving searches until it completes. A call for the model of the pending re-index returns that
    // job; a call for another model cancels it first (the user changed their mind).
    int reindexForModel(const std::filesystem::path& modelDir);
    int removeFolder(const std::filesystem::path& root);
    // Re-scans these folders allowing what a plain run holds back: forgetting the photos that vanished
    // from a folder at once, taking the drive now at a folder's place as its drive.
    int forgetVanishedPhotos(const std::vector<std::filesystem::path>& roots);
    int removePhotos(const std::vector<std::int64_t>& ids, const QString& label);
    // A job of another kind in the same queue (one writer at a time): `work` runs on the job thread with
    // the library open for writing, reports progress (shown like indexing) and throws to fail.
    using Work = std::function<JobOutcome(Library& library, const std::atomic<bool>& cancel,
        const std::function<void(const IndexProgress&)>& progress)>;
    int enqueueWork(const QString& label, Work work);
    // A job that runs elsewhere (a generation), listed with these, its progress and Cancel like theirs; it
    // never holds the library's writer. GUI thread.
    int track(const QString& label, std::function<void()> cancel);
    void updateTracked(
        int id, JobInfo::State state, std::int64_t done, std::int64_t total, const QString& message);

    void cancel(int id);
    void cancelAll();
    const QList<JobInfo>& jobs() const { return jobs_; }
    const JobInfo* job(int id) const;
    const JobInfo* running() const;
    bool busy() const;
    void waitForIdle();

signals:
    void jobChanged(int id);
    // The catalog may have changed: reload what is shown.
    void jobFinished(int id);

private:
    enum class Kind { Index, RemoveFolder, RemovePhotos, Work };
    int enqueue(Kind kind, QString label, std::vector<std::filesystem::path> roots,
        std::vector<std::int64_t> ids, Work work = {}, bool allowMassDelete = false);
    // Everything a job reads, copied when it is queued on the GUI thread: the job thread never reads
    // members the GUI thread writes (the library folder and the exclude patterns may change meanwhile).
    struct JobInput {
        Kind kind = Kind::Index;
        std::filesystem::path libraryDir;
        std::vector<std::string> excludePatterns;
        std::vector<std::filesystem::path> roots;
        std::vector<std::int64_t> ids;
        CancelToken cancel;
        Work work;
        bool allowMassDelete = false;
    };
    void run(int id, JobInput input);
    void report(int id, JobInfo::State state, const IndexProgress& progress, const QString& message);
    void reportHeld(int id, const IndexSummary& summary);

    SearchEngine& engine_;
    ModelHost& host_;
    std::filesystem::path libraryDir_;
    int reindexJob_ = 0;
    std::filesystem::path reindexModel_;
    QStringList excluded_;
    QList<JobInfo> jobs_;
    int nextId_ = 1;
    QThreadPool pool_; // one thread: one writer at a time
};

} // namespace pictor::ui
