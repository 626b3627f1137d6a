// Downloads a Hugging Face model repository into the user's hub cache, as huggingface_hub's
// snapshot_download does, so model discovery lists it: `models--<org>--<name>/blobs/<etag>`,
// `snapshots/<commit>/<file>` (a relative link to the blob) and `refs/<revision>`.
//
// The endpoint is $HF_ENDPOINT (default https://huggingface.co), the token $HF_TOKEN or the one
// `huggingface-cli login` saved (sent as a Bearer token to the endpoint's host only, never to the CDN it
// redirects to), the cache huggingFaceHubCache(). Errors follow the hub's X-Error-Code (RepoNotFound, also
// a 401 without one; GatedRepo; RevisionNotFound; EntryNotFound).
// Qt follows no redirect: each hop goes through requestFor(), which decides about the token again. Only the
// files a model folder needs are fetched (hub::isWantedFile); pickle checkpoints never are.
//
// Each file is streamed to `blobs/<etag>.incomplete`; a later attempt resumes it with a Range request
// (and starts over when the server answers 200). The snapshot's links and `refs/<revision>` are written
// only once every blob is complete, so an interrupted download is never listed as a model. While a part is
// written, `.locks/models--<org>--<name>/<etag>.lock` is held (huggingface_hub's lock file); when another
// program holds it, that download fails and leaves the part alone. Files are hashed while they stream (the
// part already on disk is hashed again, off the GUI thread, before resuming): LFS files with SHA-256 against
// the listing's sha256, plain files with their git blob SHA-1 against the ETag; with the listing's size, a
// mismatch deletes the partial blob. Cancelling keeps it for the next attempt.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <memory>

#include "ui/hub_repo.h"

class QCryptographicHash;
class QLockFile;
class QNetworkAccessManager;
class QNetworkReply;
class QNetworkRequest;

namespace pictor::ui {

class HubDownload : public QObject {
    Q_OBJECT
public:
    explicit HubDownload(QObject* parent = nullptr);
    ~HubDownload() override;

    // Reads the environment (endpoint, token, cache) now. Ends with finished(); a download that is already
    // running is cancelled first.
    void start(const QString& repoId, const QString& revision = QStringLiteral("main"));
    // Stops now and reports finished(false, …); the partial blob stays for resuming.
    void cancel();
    bool isRunning() const { return running_; }
    QString repoId() const { return repoId_; }
    // The snapshot folder (known once the repository is listed).
    QString snapshotDir() const;

signals:
    // Bytes on disk of the files to download (those already in the cache included) over their total.
    void progress(qint64 bytesDone, qint64 bytesTotal, const QString& file);
    void finished(bool ok, const QString& message);

private:
    void requestListing(const QUrl& url);
    void onListing();
    void nextFile();
    void requestMetadata(const QUrl& url);
    void onMetadata();
    void startContentHash(); // for the current file, when it can be checked
    bool lockBlob(); // false after fail()
    void prepareTransfer();
    void startTransfer();
    void requestContent(const QUrl& url);
    void onReadyRead();
    void onTransferFinished();
    bool beginBody(); // first bytes of a GET: checks the status, handles a refused range
    bool writeAvailable();
    void completeFile();
    // A diffusers pipeline: once its model_index.json is here, the files of the components it names join
    // the download; false after fail() (no safetensors weights).
    bool addPipelineComponents(const QString& modelIndexBlob);
    bool storeSnapshot(); // links and refs once every blob is there; false after fail()
    void fail(const QString& message);
    void stopReply();

    QNetworkRequest requestFor(const QUrl& url) const;
    // The Location of a 3xx answer resolved against its request; an invalid QUrl, after fail(), when there
    // is none, it leaves https, or the chain is longer than kMaxRedirects.
    QUrl redirectTarget(QNetworkReply& reply, const QString& what);
    QString describeHttpError(QNetworkReply& reply, const QString& what) const;
    const hub::RepoFile& currentFile() const { return files_[fileIndex_]; }
    QString currentLabel() const; // "org/name/file"
    QString repoDir() const;

    QNetworkAccessManager* network_;
    QPointer<QNetworkReply> reply_;
    bool running_ = false;
    quint64 generation_ = 0; // stale callbacks (a rehash after cancel) compare it
    int redirects_ = 0; // hops followed for the current request

    QString repoId_;
    QString revision_;
    QUrl endpoint_;
    QByteArray token_;
    QString hubCache_;
    QString commit_;
    QList<hub::RepoFile> files_; // the wanted ones
    QList<hub::RepoFile> listed_; // every file of the repository (a pipeline's components come from it)
    QStringList blobPaths_; // of files_ completed so far, in order
    qsizetype fileIndex_ = 0;
    qint64 totalBytes_ = 0;
    qint64 completedBytes_ = 0; // of the files before the current one

    // The current file.
    QString etag_;
    QUrl downloadUrl_;
    QFile part_;
    std::unique_ptr<QLockFile> blobLock_; // held while part_ is written
    // SHA-256 of LFS files, git blob SHA-1 of plain ones; shared with a running rehash.
    std::shared_ptr<QCryptographicHash> contentHash_;
    QString expectedHash_; // hex
    QString hashName_;
    qint64 resumeFrom_ = 0; // bytes of the partial blob when the request was sent
    bool bodyStarted_ = false;
};

} // namespace pictor::ui
