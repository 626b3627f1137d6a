#include "ui/hub_download.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QLocale>
#include <QLockFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <algorithm>

#include <QtConcurrent/QtConcurrentRun>

#include "core/model_discovery.h"

namespace pictor::ui {
namespace {

constexpr int kTransferTimeoutMs = 60'000; // without a byte for this long, a transfer fails
constexpr qint64 kReadBufferBytes = 1 << 20; // what Qt may hold in memory before we write it
constexpr qint64 kChunkBytes = 1 << 20;
constexpr int kMaxRedirects = 10;

bool isRedirect(const QNetworkReply& reply)
{
    const int status = reply.attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    return status >= 300 && status < 400 && status != 304;
}

bool sameOrigin(const QUrl& a, const QUrl& b)
{
    return a.scheme() == b.scheme() && a.host().compare(b.host(), Qt::CaseInsensitive) == 0
        && a.port() == b.port();
}

// $HF_TOKEN, else the token `huggingface-cli login` saved (as huggingface_hub looks for it): the first
// line of $HF_TOKEN_PATH, else of $HF_HOME/token, else of ~/.cache/huggingface/token.
QByteArray tokenFromEnvironment()
{
    const QByteArray variable = qgetenv("HF_TOKEN").trimmed();
    if (!variable.isEmpty())
        return variable;
    QString path = qEnvironmentVariable("HF_TOKEN_PATH");
    if (path.isEmpty() && !qEnvironmentVariable("HF_HOME").isEmpty())
        path = qEnvironmentVariable("HF_HOME") + QStringLiteral("/token");
    if (path.isEmpty())
        path = QDir::homePath() + QStringLiteral("/.cache/huggingface/token");
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readLine(4096).trimmed();
}

QUrl endpointFromEnvironment()
{
    QString endpoint = qEnvironmentVariable("HF_ENDPOINT").trimmed();
    if (endpoint.isEmpty())
        endpoint = QStringLiteral("https://huggingface.co");
    while (endpoint.endsWith('/'))
        endpoint.chop(1);
    return QUrl(endpoint);
}

// On a worker thread: the partial blob hashed again, so streaming can continue the hash.
bool hashFileInto(const QString& path, QCryptographicHash& hash)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return false;
    while (!file.atEnd()) {
        const QByteArray chunk = file.read(kChunkBytes);
        if (chunk.isEmpty())
            return false;
        hash.addData(chunk);
    }
    return true;
}

QString megabytes(qint64 bytes)
{
    return QLocale().formattedDataSize(bytes);
}

} // namespace

HubDownload::HubDownload(QObject* parent) : QObject(parent), network_(new QNetworkAccessManager(this)) { }

HubDownload::~HubDownload()
{
    stopReply();
}

QString HubDownload::repoDir() const
{
    return hubCache_ + '/' + hub::cacheFolderName(repoId_);
}

QString HubDownload::snapshotDir() const
{
    return commit_.isEmpty() ? QString() : repoDir() + QStringLiteral("/snapshots/") + commit_;
}

QString HubDownload::currentLabel() const
{
    return repoId_ + '/' + currentFile().name;
}

QNetworkRequest HubDownload::requestFor(const QUrl& url) const
{
    QNetworkRequest request(url);
    request.setRawHeader("User-Agent", "pictor");
    // No gzip: Qt would decompress, and byte ranges and sizes would no longer refer to the file.
    request.setRawHeader("Accept-Encoding", "identity");
    // The token is for the hub only, never for the CDN it redirects to. Qt would copy it into a redirected
    // request, so every hop comes back here instead.
    if (!token_.isEmpty() && sameOrigin(url, endpoint_))
        request.setRawHeader("Authorization", "Bearer " + token_);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    request.setTransferTimeout(kTransferTimeoutMs);
    return request;
}

QUrl HubDownload::redirectTarget(QNetworkReply& reply, const QString& what)
{
    // QNetworkRequest::LocationHeader drops relative locations; the hub sends those for renamed repos.
    const QUrl location = QUrl::fromEncoded(reply.rawHeader("Location").trimmed());
    const QUrl target = reply.url().resolved(location);
    if (location.isEmpty() || !target.isValid()
        || (target.scheme() != "https" && target.scheme() != "http")) {
        fail(tr("%1: a redirect without a valid Location").arg(what));
        return {};
    }
    if (reply.url().scheme() == "https" && target.scheme() != "https") {
        fail(tr("%1: refused a redirect from https to %2").arg(what, target.toDisplayString()));
        return {};
    }
    if (++redirects_ > kMaxRedirects) {
        fail(tr("%1: more than %2 redirects").arg(what).arg(kMaxRedirects));
        return {};
    }
    return target;
}

QString HubDownload::describeHttpError(QNetworkReply& reply, const QString& what) const
{
    const int status = reply.attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 0)
        return tr("%1: network error: %2").arg(what, reply.errorString());
    // The hub names the problem in X-Error-Code; huggingface_hub's hf_raise_for_status reads it first.
    const QByteArray code = reply.rawHeader("X-Error-Code");
    const QString message = QString::fromUtf8(reply.rawHeader("X-Error-Message")).trimmed();
    const QString loginHint = tr("set HF_TOKEN or log in with huggingface-cli");
    if (code == "RepoNotFound"
        || (status == 401 && code.isEmpty()
            && message != QLatin1String("Invalid credentials in Authorization header")))
        // Also a private repository seen without a token: the hub does not tell them apart.
        return tr("repository %1: not found (check the id; private repositories need a token: %2)")
            .arg(repoId_, loginHint);
    if (code == "GatedRepo")
        return tr("repository %1 is gated: accept its terms on its page on the hub, then %2 with a token of "
                  "that account")
            .arg(repoId_, loginHint);
    if (code == "RevisionNotFound")
        return tr("repository %1: revision '%2' not found (a branch, tag or commit of the repository)")
            .arg(repoId_, revision_);
    if (code == "EntryNotFound")
        return tr("%1: not found in the repository at revision %2").arg(what, revision_);
    const QString detail = message.isEmpty() ? QString() : QStringLiteral(": ") + message;
    if (status == 401)
        return tr("%1: the token was refused (HTTP 401%2); check HF_TOKEN or log in with huggingface-cli "
                  "again")
            .arg(what, detail);
    if (status == 403)
        return tr("%1: access denied (HTTP 403%2): the repository is gated or private; accept its terms on "
                  "the hub and %3")
            .arg(what, detail, loginHint);
    if (status == 404)
        return tr("%1: not found (HTTP 404%2) at %3").arg(what, detail, endpoint_.toString());
    if (status >= 400)
        return tr("%1: HTTP %2 %3%4")
            .arg(what)
            .arg(status)
            .arg(reply.attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString(), detail);
    return tr("%1: network error: %2").arg(what, reply.errorString());
}

void HubDownload::start(const QString& repoId, const QString& revision)
{
    if (running_)
        cancel();
    ++generation_;
    running_ = true;
    repoId_ = repoId.trimmed();
    revision_ = revision.trimmed().isEmpty() ? QStringLiteral("main") : revision.trimmed();
    commit_.clear();
    files_.clear();
    blobPaths_.clear();
    fileIndex_ = 0;
    totalBytes_ = 0;
    completedBytes_ = 0;
    endpoint_ = endpointFromEnvironment();
    token_ = tokenFromEnvironment();
    hubCache_ = QString::fromStdString(huggingFaceHubCache().string());

    QString problem;
    if (!hub::isValidRepoId(repoId_))
        problem
            = tr("'%1' is not a Hugging Face repository id (like openai/clip-vit-base-patch32)").arg(repoId_);
    else if (!hub::isValidRevision(revision_))
        problem = tr("'%1' is not a revision (a branch, tag or commit)").arg(revision_);
    else if (!endpoint_.isValid() || (endpoint_.scheme() != "https" && endpoint_.scheme() != "http"))
        problem = tr("HF_ENDPOINT '%1' is not an http(s) address").arg(endpoint_.toString());
    else if (hubCache_.isEmpty())
        problem = tr("no Hugging Face cache folder (set HF_HUB_CACHE or HF_HOME)");
    if (!problem.isEmpty()) {
        // Reported from the event loop, like every other outcome, so callers connect after start().
        QMetaObject::invokeMethod(
            this,
            [this, generation = generation_, problem] {
                if (generation == generation_)
                    fail(problem);
            },
            Qt::QueuedConnection);
        return;
    }

    redirects_ = 0;
    requestListing(
        QUrl(endpoint_.toString() + QStringLiteral("/api/models/") + repoId_ + QStringLiteral("/revision/")
            + QString::fromLatin1(QUrl::toPercentEncoding(revision_)) + QStringLiteral("?blobs=true")));
}

void HubDownload::requestListing(const QUrl& url)
{
    reply_ = network_->get(requestFor(url));
    connect(reply_, &QNetworkReply::finished, this, &HubDownload::onListing);
}

void HubDownload::onListing()
{
    QNetworkReply* reply = reply_;
    reply_ = nullptr;
    reply->deleteLater();
    const QString what = tr("repository %1 (revision %2)").arg(repoId_, revision_);
    if (isRedirect(*reply)) { // a renamed repository
        const QUrl target = redirectTarget(*reply, what);
        if (target.isValid())
            requestListing(target);
        return;
    }
    if (reply->error() != QNetworkReply::NoError)
        return fail(describeHttpError(*reply, what));
    QString error;
    const std::optional<hub::RepoListing> listing = hub::parseListing(reply->readAll(), &error);
    if (!listing)
        return fail(tr("%1: %2").arg(what, error));
    commit_ = listing->commit;
    listed_ = listing->files;
    bool pipeline = false;
    for (const hub::RepoFile& file : hub::wantedFiles(listed_)) {
        // A diffusers pipeline's model_index.json comes first: it names the component folders to fetch.
        pipeline = pipeline || file.name == QLatin1String("model_index.json");
        if (file.name == QLatin1String("model_index.json"))
            files_.prepend(file);
        else
            files_.append(file);
        totalBytes_ += qMax<qint64>(file.size, 0);
    }
    const bool hasWeights = std::any_of(listed_.begin(), listed_.end(),
        [](const hub::RepoFile& file) { return file.name.endsWith(QLatin1String(".safetensors")); });
    if (!hasWeights
        || (!pipeline && std::none_of(files_.begin(), files_.end(), [](const hub::RepoFile& file) {
               return file.name.endsWith(QLatin1String(".safetensors"));
           })))
        return fail(tr("%1 has no safetensors weights (pickle checkpoints are never loaded)").arg(what));

    if (!QDir().mkpath(repoDir() + QStringLiteral("/blobs")))
        return fail(tr("%1: cannot create folders under %2").arg(repoId_, repoDir()));
    const quint64 generation = generation_;
    emit progress(0, totalBytes_, QString());
    if (generation == generation_) // a receiver may have cancelled
        nextFile();
}

bool HubDownload::storeSnapshot()
{
    if (!QDir().mkpath(snapshotDir())) {
        fail(tr("%1: cannot create %2").arg(repoId_, snapshotDir()));
        return false;
    }
    // snapshots/<commit>/<file> -> ../../blobs/<etag>, relative like huggingface_hub's links; config.json
    // (what makes discovery list the folder) last.
    QList<qsizetype> order;
    // The folder's markers (config.json, a pipeline's model_index.json) last.
    const auto isMarker = [](const QString& name) {
        return name == QLatin1String("config.json") || name == QLatin1String("model_index.json");
    };
    for (qsizetype i = 0; i < files_.size(); ++i)
        if (!isMarker(files_[i].name))
            order.append(i);
    for (qsizetype i = 0; i < files_.size(); ++i)
        if (isMarker(files_[i].name))
            order.append(i);
    for (const qsizetype i : order) {
        const QString link = snapshotDir() + '/' + files_[i].name;
        const QString folder = QFileInfo(link).absolutePath(); // a pipeline component's folder
        QFile::remove(link);
        if (!QDir().mkpath(folder) || !QFile::link(QDir(folder).relativeFilePath(blobPaths_[i]), link)) {
            fail(tr("%1/%2: cannot create the link %3").arg(repoId_, files_[i].name, link));
            return false;
        }
    }
    // As huggingface_hub does: a branch or tag name maps to its commit in refs/.
    if (revision_ != commit_) {
        QFile ref(repoDir() + QStringLiteral("/refs/") + revision_);
        QDir().mkpath(QFileInfo(ref).absolutePath());
        if (!ref.open(QIODevice::WriteOnly | QIODevice::Truncate)
            || ref.write(commit_.toLatin1()) != commit_.size()) {
            fail(tr("%1: cannot write %2: %3").arg(repoId_, ref.fileName(), ref.errorString()));
            return false;
        }
    }
    return true;
}

void HubDownload::nextFile()
{
    if (fileIndex_ >= files_.size()) {
        if (!storeSnapshot())
            return;
        running_ = false;
        emit progress(totalBytes_, totalBytes_, QString());
        emit finished(true,
            tr("Downloaded %1 (%2 files, %3) into %4")
                .arg(repoId_)
                .arg(files_.size())
                .arg(megabytes(totalBytes_), snapshotDir()));
        return;
    }
    const quint64 generation = generation_;
    emit progress(completedBytes_, totalBytes_, currentFile().name);
    if (generation != generation_) // a receiver cancelled
        return;
    redirects_ = 0;
    requestMetadata(QUrl(endpoint_.toString() + '/' + repoId_ + QStringLiteral("/resolve/") + commit_ + '/'
        + QString::fromLatin1(QUrl::toPercentEncoding(currentFile().name, "/"))));
}

void HubDownload::requestMetadata(const QUrl& url)
{
    reply_ = network_->head(requestFor(url));
    connect(reply_, &QNetworkReply::finished, this, &HubDownload::onMetadata);
}

void HubDownload::onMetadata()
{
    QNetworkReply* reply = reply_;
    reply_ = nullptr;
    reply->deleteLater();
    // As huggingface_hub does: relative redirects (a renamed repository) are followed; the hub's answer
    // then carries the blob's ETag (X-Linked-Etag for LFS files) and, for LFS files, an absolute redirect
    // to the CDN, which is where the GET goes.
    const bool redirected = isRedirect(*reply);
    QUrl target;
    if (redirected) {
        target = redirectTarget(*reply, currentLabel());
        if (!target.isValid())
            return;
        if (QUrl::fromEncoded(reply->rawHeader("Location").trimmed()).host().isEmpty())
            return requestMetadata(target);
    }
    if (reply->error() != QNetworkReply::NoError && !redirected)
        return fail(describeHttpError(*reply, currentLabel()));
    const hub::RepoFile& file = currentFile();
    QByteArray etag = reply->rawHeader("X-Linked-Etag");
    if (etag.isEmpty())
        etag = reply->rawHeader("ETag");
    etag_ = hub::blobNameFromEtag(etag);
    if (etag_.isEmpty())
        return fail(
            tr("%1: the server sent no usable ETag ('%2')").arg(currentLabel(), QString::fromLatin1(etag)));
    if (file.isLfs() && etag_ != file.lfsSha256)
        return fail(tr("%1: the server's ETag %2 is not the listing's sha256 %3")
                        .arg(currentLabel(), etag_, file.lfsSha256));
    downloadUrl_ = redirected ? target : reply->url();

    const QString blob = repoDir() + QStringLiteral("/blobs/") + etag_;
    if (QFileInfo(blob).isFile()) {
        part_.setFileName(blob);
        return completeFile();
    }
    prepareTransfer();
}

void HubDownload::startContentHash()
{
    const hub::RepoFile& file = currentFile();
    static const QRegularExpression gitSha1(QStringLiteral("^[0-9a-f]{40}$"));
    contentHash_.reset();
    if (file.isLfs()) {
        contentHash_ = std::make_shared<QCryptographicHash>(QCryptographicHash::Sha256);
        expectedHash_ = file.lfsSha256;
        hashName_ = QStringLiteral("SHA-256");
    } else if (file.size >= 0 && gitSha1.match(etag_).hasMatch()) {
        // A plain file's ETag is its git blob id: sha1("blob <size>\0" + content).
        contentHash_ = std::make_shared<QCryptographicHash>(QCryptographicHash::Sha1);
        contentHash_->addData("blob " + QByteArray::number(file.size) + '\0');
        expectedHash_ = etag_;
        hashName_ = tr("git blob SHA-1");
    }
}

bool HubDownload::lockBlob()
{
    // huggingface_hub's lock for the same blob, so two downloaders never write one .incomplete file.
    const QString path = hubCache_ + QStringLiteral("/.locks/") + hub::cacheFolderName(repoId_) + '/' + etag_
        + QStringLiteral(".lock");
    QDir().mkpath(QFileInfo(path).absolutePath());
    blobLock_ = std::make_unique<QLockFile>(path);
    if (blobLock_->tryLock(0))
        return true;
    const QLockFile::LockError error = blobLock_->error();
    qint64 pid = 0;
    QString host;
    QString application;
    const bool known = blobLock_->getLockInfo(&pid, &host, &application);
    blobLock_.reset();
    if (error == QLockFile::LockFailedError)
        fail(tr("%1 is being downloaded by another program%2; try again once it is done (lock %3)")
                 .arg(currentLabel(),
                     known ? tr(" (%1, process %2)")
                                 .arg(application.isEmpty() ? tr("unnamed") : application)
                                 .arg(pid)
                           : QString(),
                     path));
    else
        fail(tr("%1: cannot create the lock %2").arg(currentLabel(), path));
    return false;
}

void HubDownload::prepareTransfer()
{
    const hub::RepoFile& file = currentFile();
    if (!lockBlob())
        return;
    const QString blob = repoDir() + QStringLiteral("/blobs/") + etag_;
    if (QFileInfo(blob).isFile()) { // another program finished it while we waited for the lock
        blobLock_.reset();
        part_.setFileName(blob);
        return completeFile();
    }
    part_.setFileName(repoDir() + QStringLiteral("/blobs/") + etag_ + QStringLiteral(".incomplete"));
    startContentHash();
    resumeFrom_ = QFileInfo(part_.fileName()).isFile() ? QFileInfo(part_.fileName()).size() : 0;
    if (file.size >= 0 && resumeFrom_ > file.size) {
        QFile::remove(part_.fileName()); // not a prefix of this file
        resumeFrom_ = 0;
    }
    if (resumeFrom_ == 0 || !contentHash_)
        return startTransfer();

    auto* watcher = new QFutureWatcher<bool>(this);
    connect(watcher, &QFutureWatcher<bool>::finished, this, [this, watcher, generation = generation_] {
        watcher->deleteLater();
        if (generation != generation_)
            return;
        if (!watcher->result())
            return fail(tr("%1: cannot read the partial download %2").arg(currentLabel(), part_.fileName()));
        startTransfer();
    });
    watcher->setFuture(QtConcurrent::run(
        [hash = contentHash_, path = part_.fileName()] { return hashFileInto(path, *hash); }));
}

void HubDownload::startTransfer()
{
    const hub::RepoFile& file = currentFile();
    if (!part_.open(QIODevice::ReadWrite) || !part_.seek(resumeFrom_))
        return fail(tr("%1: cannot write %2: %3").arg(currentLabel(), part_.fileName(), part_.errorString()));
    if (resumeFrom_ > 0 && resumeFrom_ == file.size) { // complete already; only checked and stored
        part_.close();
        return completeFile();
    }
    redirects_ = 0;
    requestContent(downloadUrl_);
}

void HubDownload::requestContent(const QUrl& url)
{
    QNetworkRequest request = requestFor(url);
    if (resumeFrom_ > 0)
        request.setRawHeader("Range", "bytes=" + QByteArray::number(resumeFrom_) + '-');
    bodyStarted_ = false;
    reply_ = network_->get(request);
    reply_->setReadBufferSize(kReadBufferBytes);
    connect(reply_, &QNetworkReply::readyRead, this, &HubDownload::onReadyRead);
    connect(reply_, &QNetworkReply::finished, this, &HubDownload::onTransferFinished);
}

bool HubDownload::beginBody()
{
    if (isRedirect(*reply_)) { // its body is not the file's; the next hop starts over
        const QUrl target = redirectTarget(*reply_, currentLabel());
        if (target.isValid()) {
            stopReply();
            requestContent(target);
        }
        return false;
    }
    bodyStarted_ = true;
    const int status = reply_->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 206) {
        const QByteArray range = reply_->rawHeader("Content-Range");
        if (range.startsWith("bytes " + QByteArray::number(resumeFrom_) + '-'))
            return true;
        fail(tr("%1: the server resumed at the wrong place ('%2', asked for byte %3)")
                 .arg(currentLabel(), QString::fromLatin1(range))
                 .arg(resumeFrom_));
        return false;
    }
    if (status == 200) {
        if (resumeFrom_ > 0) { // the server ignored the range: start over
            resumeFrom_ = 0;
            if (!part_.resize(0) || !part_.seek(0)) {
                fail(
                    tr("%1: cannot write %2: %3").arg(currentLabel(), part_.fileName(), part_.errorString()));
                return false;
            }
            startContentHash();
        }
        return true;
    }
    fail(describeHttpError(*reply_, currentLabel()));
    return false;
}

bool HubDownload::writeAvailable()
{
    const hub::RepoFile& file = currentFile();
    while (reply_->bytesAvailable() > 0) {
        const QByteArray chunk = reply_->read(kChunkBytes);
        if (part_.write(chunk) != chunk.size()) {
            fail(tr("%1: cannot write %2: %3").arg(currentLabel(), part_.fileName(), part_.errorString()));
            return false;
        }
        if (contentHash_)
            contentHash_->addData(chunk);
    }
    if (file.size >= 0 && part_.pos() > file.size) {
        part_.remove();
        fail(tr("%1: the server sent more than the %2 bytes listed").arg(currentLabel()).arg(file.size));
        return false;
    }
    const quint64 generation = generation_;
    emit progress(completedBytes_ + part_.pos(), totalBytes_, file.name);
    return generation == generation_; // false when a receiver cancelled
}

void HubDownload::onReadyRead()
{
    if (!bodyStarted_ && !beginBody())
        return;
    writeAvailable();
}

void HubDownload::onTransferFinished()
{
    if (!bodyStarted_ && !beginBody())
        return;
    if (!writeAvailable())
        return;
    if (reply_->error() != QNetworkReply::NoError)
        return fail(describeHttpError(*reply_, currentLabel())
            + tr(" (%1 downloaded, kept to resume)").arg(megabytes(part_.pos())));
    // Qt can report a body cut short by the server closing the connection as a success: a part that is
    // only short is kept to resume, not checked (and deleted) as if it were complete.
    const qint64 expected = currentFile().size;
    if (expected >= 0 && part_.pos() < expected)
        return fail(tr("%1: the connection ended after %2 of %3 bytes (kept to resume)")
                        .arg(currentLabel())
                        .arg(part_.pos())
                        .arg(expected));
    if (!part_.flush())
        return fail(tr("%1: cannot write %2: %3").arg(currentLabel(), part_.fileName(), part_.errorString()));
    part_.close();
    stopReply();
    completeFile();
}

void HubDownload::completeFile()
{
    const hub::RepoFile& file = currentFile();
    const QString blob = repoDir() + QStringLiteral("/blobs/") + etag_;
    if (part_.fileName() != blob) { // a fresh download: check it, then make it the blob
        const qint64 size = QFileInfo(part_.fileName()).size();
        if (file.size >= 0 && size != file.size) {
            part_.remove();
            return fail(tr("%1: expected %2 bytes, got %3; the download was deleted")
                            .arg(currentLabel())
                            .arg(file.size)
                            .arg(size));
        }
        if (contentHash_) {
            const QString actual = QString::fromLatin1(contentHash_->result().toHex());
            if (actual != expectedHash_) {
                part_.remove();
                return fail(tr("%1: %2 mismatch: expected %3, got %4; the download was deleted")
                                .arg(currentLabel(), hashName_, expectedHash_, actual));
            }
        }
        QFile::remove(blob);
        if (!part_.rename(blob))
            return fail(
                tr("%1: cannot move the download to %2: %3").arg(currentLabel(), blob, part_.errorString()));
        blobLock_.reset(); // unlocks
    }
    blobPaths_.append(blob); // linked once every file is complete
    completedBytes_ += file.size >= 0 ? file.size : QFileInfo(blob).size();
    ++fileIndex_;
    if (file.name == QLatin1String("model_index.json") && !addPipelineComponents(blob))
        return;
    nextFile();
}

bool HubDownload::addPipelineComponents(const QString& modelIndexBlob)
{
    QFile index(modelIndexBlob);
    const QStringList components
        = index.open(QIODevice::ReadOnly) ? hub::pipelineComponents(index.readAll()) : QStringList();
    bool hasWeights = false;
    for (const hub::RepoFile& file : hub::wantedFiles(listed_, components)) {
        if (!file.name.contains('/'))
            continue; // the top-level files are already in the list
        files_.append(file);
        totalBytes_ += qMax<qint64>(file.size, 0);
        hasWeights = hasWeights || file.name.endsWith(QLatin1String(".safetensors"));
    }
    if (!hasWeights) {
        fail(tr("%1 has no safetensors weights in its components %2 (pickle checkpoints are never loaded)")
                 .arg(repoId_, components.join(QStringLiteral(", "))));
        return false;
    }
    return true;
}

void HubDownload::cancel()
{
    if (!running_)
        return;
    fail(tr("Download of %1 cancelled; what was downloaded is kept to resume").arg(repoId_));
}

void HubDownload::fail(const QString& message)
{
    ++generation_;
    stopReply();
    if (part_.isOpen())
        part_.close();
    blobLock_.reset(); // unlocks
    running_ = false;
    emit finished(false, message);
}

void HubDownload::stopReply()
{
    if (!reply_)
        return;
    QNetworkReply* reply = reply_;
    reply_ = nullptr;
    reply->disconnect(this);
    reply->abort();
    reply->deleteLater();
}

} // namespace pictor::ui
