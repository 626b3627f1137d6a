// A small HTTP/1.1 server (QTcpServer on 127.0.0.1, a free port) that serves one model folder as one
// Hugging Face repository, the way the hub does, for the download tests:
//   GET  /api/models/{repo}/revision/{rev}?blobs=true  the listing (commit "sha", siblings with size, LFS
//                                                      sha256 for *.safetensors and files added as LFS)
//   HEAD|GET /{repo}/resolve/{rev}/{file}              plain files: 200 with ETag = git blob sha1; LFS files:
//                                                      302 to /cdn/{sha256} with X-Linked-Etag/X-Linked-Size
//   HEAD|GET /cdn/{sha256 or git sha1}                 the content; "Range: bytes=N-" gives 206
// The CDN listens on a port of its own, so it is another origin than the endpoint, as on the real hub.
// Errors carry X-Error-Code and X-Error-Message as the hub's do: an unknown repository is 401 RepoNotFound
// (what the hub tells anonymous users), a missing token 401 GatedRepo, a wrong one 401 "Invalid credentials
// in Authorization header", an unknown revision 404 RevisionNotFound, an unknown file 404 EntryNotFound.
// Every answer closes its connection. Switches make it
// misbehave (drop a transfer, corrupt a file, ignore ranges, want a token, redirect plain files to the CDN,
// answer for a renamed repository) and it records each request.
#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QTcpServer>

class QTcpSocket;

namespace pictor::test {

class FakeHubServer : public QObject {
    Q_OBJECT
public:
    struct File {
        QString name;
        QByteArray content;
        bool lfs = false;
        QString sha256; // of the content
        QString gitSha1; // sha1("blob <size>\0" + content), the hub's ETag of plain files
    };
    struct Request {
        QByteArray method;
        QString path; // decoded, without the query
        QByteArray query; // after '?', as sent
        QByteArray range; // the Range header, empty when none
        QByteArray authorization;
    };

    // Every file under `folder` (subfolders too, as "sub/file"); *.safetensors are LFS files.
    FakeHubServer(const QString& repoId, const QString& folder, QObject* parent = nullptr);

    bool listen(); // 127.0.0.1, free ports for the hub and its CDN
    QString endpoint() const; // http://127.0.0.1:<port>
    QString cdnOrigin() const; // http://127.0.0.1:<another port>
    QString repoId() const { return repoId_; }
    QString commit() const { return commit_; }
    void addFile(const QString& name, const QByteArray& content, bool lfs);
    const File* file(const QString& name) const;
    const QList<File>& files() const { return files_; }

    // The next transfer of `name`'s content sends its headers and the first `bytes`, then closes.
    void dropNextTransferAfter(const QString& name, qint64 bytes);
    // Serve `name` with one byte changed (same size).
    void setCorrupted(const QString& name, bool corrupted);
    // Answer range requests with the whole file (200), as some servers do.
    void setIgnoreRanges(bool ignore) { ignoreRanges_ = ignore; }
    // Listing and resolve requests need "Authorization: Bearer <token>" (401 otherwise), as for gated repos;
    // the CDN does not.
    void setRequiredToken(const QByteArray& token) { requiredToken_ = token; }
    // GETs (not HEADs) of plain files on the endpoint answer 302 to the CDN, which serves them too: a
    // client that follows it with the hub's Authorization header leaks the token to the CDN.
    void setRedirectPlainDownloads(bool redirect) { redirectPlainDownloads_ = redirect; }
    // Requests for `oldId` (listing and resolve) answer 307 with a relative Location naming the repository,
    // as the hub does after a rename.
    void addRenamedRepo(const QString& oldId) { renamedFrom_ = oldId; }

    const QList<Request>& requests() const { return requests_; }
    QList<Request> requestsTo(const QString& pathPrefix) const;

private:
    void onNewConnection(QTcpServer& server);
    void onReadyRead(QTcpSocket* socket);
    void respond(QTcpSocket& socket, const Request& request);
    void serveListing(QTcpSocket& socket, const QString& repo, const QString& revision);
    void serveResolve(QTcpSocket& socket, const Request& request, const QString& rest);
    void serveContent(QTcpSocket& socket, const Request& request, const File& file, QByteArray extraHeaders);
    bool knownRevision(const QString& revision) const;
    bool redirectRenamed(QTcpSocket& socket, const Request& request);

    QString repoId_;
    QString commit_;
    QList<File> files_;
    QTcpServer server_;
    QTcpServer cdn_;
    QHash<QTcpSocket*, QByteArray> pending_; // bytes of a request not complete yet
    QHash<QString, qint64> dropAfter_;
    QHash<QString, bool> corrupted_;
    bool ignoreRanges_ = false;
    QByteArray requiredToken_;
    bool redirectPlainDownloads_ = false;
    QString renamedFrom_;
    QList<Request> requests_;
};

} // namespace pictor::test
