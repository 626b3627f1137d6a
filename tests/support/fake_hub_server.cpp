#include "tests/support/fake_hub_server.h"

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>
#include <algorithm>

namespace pictor::test {
namespace {

QByteArray statusLine(int status)
{
    switch (status) {
    case 200:
        return "HTTP/1.1 200 OK\r\n";
    case 206:
        return "HTTP/1.1 206 Partial Content\r\n";
    case 302:
        return "HTTP/1.1 302 Found\r\n";
    case 307:
        return "HTTP/1.1 307 Temporary Redirect\r\n";
    case 401:
        return "HTTP/1.1 401 Unauthorized\r\n";
    case 404:
        return "HTTP/1.1 404 Not Found\r\n";
    case 416:
        return "HTTP/1.1 416 Range Not Satisfiable\r\n";
    default:
        return "HTTP/1.1 400 Bad Request\r\n";
    }
}

// Headers plus body (nothing for HEAD), then the connection closes once written.
void send(QTcpSocket& socket, const QByteArray& method, int status, QByteArray headers,
    const QByteArray& body, qint64 contentLength = -1)
{
    QByteArray out = statusLine(status) + headers;
    out += "Content-Length: " + QByteArray::number(contentLength >= 0 ? contentLength : body.size()) + "\r\n";
    out += "Connection: close\r\n\r\n";
    if (method != "HEAD")
        out += body;
    socket.write(out);
    socket.disconnectFromHost();
}

// As the hub reports errors: X-Error-Code (may be empty) and X-Error-Message, and a JSON body.
void sendError(QTcpSocket& socket, const QByteArray& method, int status, const QByteArray& code,
    const QByteArray& message)
{
    const QByteArray body = R"({"error":")" + message + R"("})";
    QByteArray headers = "Content-Type: application/json\r\nX-Error-Message: " + message + "\r\n";
    if (!code.isEmpty())
        headers += "X-Error-Code: " + code + "\r\n";
    send(socket, method, status, headers, body);
}

QString hex(const QByteArray& bytes)
{
    return QString::fromLatin1(bytes.toHex());
}

} // namespace

FakeHubServer::FakeHubServer(const QString& repoId, const QString& folder, QObject* parent)
    : QObject(parent), repoId_(repoId)
{
    QDirIterator it(folder, QDir::Files, QDirIterator::Subdirectories);
    QStringList names;
    while (it.hasNext())
        names << QDir(folder).relativeFilePath(it.next());
    std::sort(names.begin(), names.end());
    for (const QString& name : names) {
        QFile in(folder + '/' + name);
        if (in.open(QIODevice::ReadOnly))
            addFile(name, in.readAll(), name.endsWith(QLatin1String(".safetensors")));
    }
    for (QTcpServer* server : {&server_, &cdn_})
        connect(server, &QTcpServer::newConnection, this, [this, server] { onNewConnection(*server); });
}

void FakeHubServer::addFile(const QString& name, const QByteArray& content, bool lfs)
{
    File file {name, content, lfs, hex(QCryptographicHash::hash(content, QCryptographicHash::Sha256)),
        hex(QCryptographicHash::hash(
            "blob " + QByteArray::number(content.size()) + '\0' + content, QCryptographicHash::Sha1))};
    files_.append(file);
    // The commit changes with the content, as a new commit would.
    QCryptographicHash commit(QCryptographicHash::Sha1);
    for (const File& each : files_)
        commit.addData((each.name + ':' + each.gitSha1 + '\n').toUtf8());
    commit_ = hex(commit.result());
}

const FakeHubServer::File* FakeHubServer::file(const QString& name) const
{
    for (const File& each : files_)
        if (each.name == name)
            return &each;
    return nullptr;
}

bool FakeHubServer::listen()
{
    return server_.listen(QHostAddress::LocalHost, 0) && cdn_.listen(QHostAddress::LocalHost, 0);
}

QString FakeHubServer::cdnOrigin() const
{
    return QStringLiteral("http://127.0.0.1:%1").arg(cdn_.serverPort());
}

QString FakeHubServer::endpoint() const
{
    return QStringLiteral("http://127.0.0.1:%1").arg(server_.serverPort());
}

void FakeHubServer::dropNextTransferAfter(const QString& name, qint64 bytes)
{
    dropAfter_[name] = bytes;
}

void FakeHubServer::setCorrupted(const QString& name, bool corrupted)
{
    corrupted_[name] = corrupted;
}

QList<FakeHubServer::Request> FakeHubServer::requestsTo(const QString& pathPrefix) const
{
    QList<Request> out;
    for (const Request& request : requests_)
        if (request.path.startsWith(pathPrefix))
            out.append(request);
    return out;
}

void FakeHubServer::onNewConnection(QTcpServer& server)
{
    while (QTcpSocket* socket = server.nextPendingConnection()) {
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            pending_.remove(socket);
            socket->deleteLater();
        });
    }
}

void FakeHubServer::onReadyRead(QTcpSocket* socket)
{
    QByteArray& buffer = pending_[socket];
    buffer += socket->readAll();
    const qsizetype end = buffer.indexOf("\r\n\r\n");
    if (end < 0)
        return;
    const QList<QByteArray> lines = buffer.left(end).split('\n');
    buffer.clear();
    const QList<QByteArray> requestLine = lines.front().trimmed().split(' ');
    if (requestLine.size() < 2) {
        socket->disconnectFromHost();
        return;
    }
    Request request;
    request.method = requestLine[0];
    const QByteArray target = requestLine[1];
    const qsizetype question = target.indexOf('?');
    request.path = QUrl::fromPercentEncoding(question < 0 ? target : target.left(question));
    request.query = question < 0 ? QByteArray() : target.mid(question + 1);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        const QByteArray name = line.left(colon).trimmed().toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (name == "range")
            request.range = value;
        else if (name == "authorization")
            request.authorization = value;
    }
    requests_.append(request);
    respond(*socket, request);
}

bool FakeHubServer::knownRevision(const QString& revision) const
{
    return revision == QLatin1String("main") || revision == commit_;
}

void FakeHubServer::respond(QTcpSocket& socket, const Request& request)
{
    const QString path = request.path;
    if (path.startsWith(QLatin1String("/cdn/"))) {
        const QString hash = path.mid(5);
        for (const File& file : files_)
            if (file.sha256 == hash || file.gitSha1 == hash)
                return serveContent(socket, request, file, {});
        return sendError(socket, request.method, 404, "EntryNotFound", "Entry not found");
    }
    if (redirectRenamed(socket, request))
        return;
    const QString api = QStringLiteral("/api/models/");
    const QString resolve = '/' + repoId_ + QStringLiteral("/resolve/");
    const bool listing = path.startsWith(api + repoId_ + QStringLiteral("/revision/"));
    // The hub tells anonymous users that a repository they cannot see does not exist, with a 401.
    if (!listing && !path.startsWith(resolve))
        return sendError(socket, request.method, 401, "RepoNotFound", "Repository not found");
    if (!requiredToken_.isEmpty() && request.authorization != "Bearer " + requiredToken_) {
        if (!request.authorization.isEmpty())
            return sendError(socket, request.method, 401, {}, "Invalid credentials in Authorization header");
        return sendError(socket, request.method, 401, "GatedRepo",
            "Access to model " + repoId_.toUtf8()
                + " is restricted. You must have access to it and be "
                  "authenticated to access it. Please log in.");
    }
    if (listing)
        return serveListing(socket, repoId_, path.mid(api.size() + repoId_.size() + 10));
    serveResolve(socket, request, path.mid(resolve.size()));
}

bool FakeHubServer::redirectRenamed(QTcpSocket& socket, const Request& request)
{
    if (renamedFrom_.isEmpty())
        return false;
    const QString api = QStringLiteral("/api/models/");
    QString path = request.path;
    if (path.startsWith(api + renamedFrom_ + '/'))
        path.replace(api.size(), renamedFrom_.size(), repoId_);
    else if (path.startsWith('/' + renamedFrom_ + QStringLiteral("/resolve/")))
        path.replace(1, renamedFrom_.size(), repoId_);
    else
        return false;
    QByteArray location = QUrl::toPercentEncoding(path, "/");
    if (!request.query.isEmpty())
        location += '?' + request.query;
    send(socket, request.method, 307, "Location: " + location + "\r\n", {});
    return true;
}

void FakeHubServer::serveListing(QTcpSocket& socket, const QString& repo, const QString& revision)
{
    if (!knownRevision(revision))
        return sendError(socket, "GET", 404, "RevisionNotFound", "Invalid rev id: " + revision.toUtf8());
    QJsonArray siblings;
    for (const File& file : files_) {
        QJsonObject sibling {{"rfilename", file.name}, {"size", file.content.size()}};
        if (file.lfs) {
            sibling.insert("blobId", QStringLiteral("%1").arg(file.gitSha1)); // the pointer's id on the hub
            sibling.insert("lfs",
                QJsonObject {{"sha256", file.sha256}, {"size", file.content.size()}, {"pointerSize", 134}});
        } else {
            sibling.insert("blobId", file.gitSha1);
        }
        siblings.append(sibling);
    }
    const QJsonObject listing {{"_id", "0123"}, {"id", repo}, {"modelId", repo}, {"sha", commit_},
        {"private", false}, {"siblings", siblings}};
    send(socket, "GET", 200, "Content-Type: application/json\r\n",
        QJsonDocument(listing).toJson(QJsonDocument::Compact));
}

void FakeHubServer::serveResolve(QTcpSocket& socket, const Request& request, const QString& rest)
{
    const qsizetype slash = rest.indexOf('/');
    if (slash < 0 || !knownRevision(rest.left(slash)))
        return sendError(
            socket, request.method, 404, "RevisionNotFound", "Invalid rev id: " + rest.left(slash).toUtf8());
    const File* file = this->file(rest.mid(slash + 1));
    if (!file)
        return sendError(socket, request.method, 404, "EntryNotFound", "Entry not found");
    const QByteArray commitHeader = "X-Repo-Commit: " + commit_.toLatin1() + "\r\n";
    if (redirectPlainDownloads_ && !file->lfs && request.method == "GET")
        return send(socket, request.method, 302,
            commitHeader + "Location: " + cdnOrigin().toLatin1() + "/cdn/" + file->gitSha1.toLatin1()
                + "\r\n",
            {});
    if (file->lfs) {
        // The hub's answer for LFS files: the blob's identity in X-Linked-*, the bytes at the CDN.
        const QByteArray headers = commitHeader + "X-Linked-Etag: \"" + file->sha256.toLatin1() + "\"\r\n"
            + "X-Linked-Size: " + QByteArray::number(file->content.size()) + "\r\n" + "ETag: \""
            + file->gitSha1.toLatin1() + "\"\r\n" + "Location: " + cdnOrigin().toLatin1() + "/cdn/"
            + file->sha256.toLatin1() + "\r\n";
        return send(socket, request.method, 302, headers, {});
    }
    serveContent(socket, request, *file, commitHeader + "ETag: \"" + file->gitSha1.toLatin1() + "\"\r\n");
}

void FakeHubServer::serveContent(
    QTcpSocket& socket, const Request& request, const File& file, QByteArray extraHeaders)
{
    QByteArray content = file.content;
    if (corrupted_.value(file.name) && !content.isEmpty())
        content[content.size() / 2] = static_cast<char>(content[content.size() / 2] ^ 0x5a);
    const qint64 size = content.size();
    int status = 200;
    qint64 from = 0;
    if (!request.range.isEmpty() && !ignoreRanges_) {
        // Only the form clients resume with: "bytes=N-".
        const QByteArray spec = request.range.mid(6);
        if (!request.range.startsWith("bytes=") || !spec.endsWith('-'))
            return sendError(socket, request.method, 400, {}, "Bad range");
        from = spec.chopped(1).toLongLong();
        if (from >= size)
            return send(socket, request.method, 416,
                "Content-Range: bytes */" + QByteArray::number(size) + "\r\n", {});
        status = 206;
        extraHeaders += "Content-Range: bytes " + QByteArray::number(from) + '-'
            + QByteArray::number(size - 1) + '/' + QByteArray::number(size) + "\r\n";
    }
    extraHeaders += "Accept-Ranges: bytes\r\nContent-Type: application/octet-stream\r\n";
    const QByteArray body = content.mid(from);
    const auto drop = dropAfter_.constFind(file.name);
    if (request.method == "GET" && drop != dropAfter_.constEnd() && *drop < body.size()) {
        // Announce the whole body, send part of it, hang up.
        const qint64 bytes = *drop;
        dropAfter_.remove(file.name);
        QByteArray out = statusLine(status) + extraHeaders + "Content-Length: "
            + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body.left(bytes);
        socket.write(out);
        // Hang up a while after the bytes left: Qt's client drops what it has not read yet when the
        // connection closes, and the test wants the bytes on disk.
        connect(&socket, &QTcpSocket::bytesWritten, &socket, [&socket] {
            if (socket.bytesToWrite() == 0)
                QTimer::singleShot(300, &socket, [&socket] { socket.disconnectFromHost(); });
        });
        return;
    }
    send(socket, request.method, status, extraHeaders, body);
}

} // namespace pictor::test
