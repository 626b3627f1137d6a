// Downloading a Hugging Face repository (HubDownload, the model manager's "Download…") against a local
// server that serves the clip-tiny-a fixture the way the hub does (tests/support/fake_hub_server.h): the
// cache layout huggingface_hub writes (so discovery lists the model), resuming with a Range request,
// starting over when the range is ignored, cancel, SHA-256 checks of LFS files, the errors (unknown repo,
// gated repo, no server), pickle files never fetched, and the dialog's download path.
#include <QApplication>
#include <QCryptographicHash>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLockFile>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <filesystem>
#include <memory>

#include "app/model_module.h"
#include "core/model_discovery.h"
#include "tests/support/fake_hub_server.h"
#include "tests/support/paths.h"
#include "ui/app_settings.h"
#include "ui/gallery_model.h"
#include "ui/hub_download.h"
#include "ui/indexing_jobs.h"
#include "ui/main_window.h"
#include "ui/model_manager_dialog.h"
#include "ui/search_bar.h"
#include "ui/search_engine.h"

using namespace pictor;
using namespace pictor::ui;
using pictor::test::FakeHubServer;

namespace {

constexpr int kTimeoutMs = 60'000;
constexpr int kVerifyTimeoutMs = 180'000;
const QString kRepo = QStringLiteral("test-org/clip-tiny");
const QString kWeights = QStringLiteral("model.safetensors");

// What a model folder needs from clip-tiny-a: not README.md, not the cases/ subfolder.
const QStringList kWantedFiles {"config.json", "merges.txt", "model.safetensors", "preprocessor_config.json",
    "special_tokens_map.json", "tokenizer_config.json", "vocab.json"};

QString fixture(const QString& file = {})
{
    const QString dir = QString::fromStdString(test::fixtureDir("clip-tiny-a").string());
    return file.isEmpty() ? dir : dir + '/' + file;
}

QByteArray readAll(const QString& path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

struct Outcome {
    bool ok = false;
    QString message;
};

// Runs one download to its end.
Outcome download(HubDownload& hub, const QString& repo = kRepo, const QString& revision = "main")
{
    QSignalSpy finished(&hub, &HubDownload::finished);
    hub.start(repo, revision);
    if (!finished.wait(kTimeoutMs) || finished.size() != 1)
        return {false, QStringLiteral("no finished() signal")};
    return {finished.front().at(0).toBool(), finished.front().at(1).toString()};
}

} // namespace

class HubDownloadTest : public QObject {
    Q_OBJECT
private slots:
    void init();
    void downloadsIntoTheCacheLayout();
    void resumesAnInterruptedDownload();
    void startsOverWhenTheRangeIsIgnored();
    void cancelKeepsThePartialFile();
    void interruptedDownloadIsNotListed();
    void anotherDownloaderHoldsTheLock();
    void corruptedLfsFileFailsTheChecksum();
    void corruptedPlainFileFailsTheGitChecksum();
    void unknownRepoIsAClearError();
    void gatedRepoNeedsTheToken();
    void readsTheSavedLoginToken();
    void redirectsNeverCarryTheTokenToAnotherHost();
    void followsARenamedRepository();
    void skipsPickleFiles();
    void dialogDownloadsAndListsTheModel();
    void downloadsADiffusersPipeline();
    void theCliDownloadsLikeTheWindow();
    void oneClickDownloadsTheRecommendedModelAndSearchWorks();

private:
    QString repoDir() const { return cache_ + "/models--test-org--clip-tiny"; }
    QString snapshot() const { return repoDir() + "/snapshots/" + server_->commit(); }
    QString blobOf(const QString& file) const;
    QStringList blobs() const;
    QStringList listedModels() const;

    std::unique_ptr<QTemporaryDir> scratch_;
    std::unique_ptr<FakeHubServer> server_;
    QString cache_;
};

void HubDownloadTest::init()
{
    scratch_ = std::make_unique<QTemporaryDir>();
    QVERIFY(scratch_->isValid());
    cache_ = scratch_->filePath("hub");
    qputenv("HF_HUB_CACHE", cache_.toLocal8Bit());
    for (const char* variable : {"HF_TOKEN", "HF_TOKEN_PATH", "HF_HOME"})
        qunsetenv(variable);
    server_ = std::make_unique<FakeHubServer>(kRepo, fixture());
    QVERIFY(server_->file(kWeights));
    QVERIFY(server_->listen());
    qputenv("HF_ENDPOINT", server_->endpoint().toLocal8Bit());
}

QString HubDownloadTest::blobOf(const QString& file) const
{
    const FakeHubServer::File* served = server_->file(file);
    return repoDir() + "/blobs/" + (served->lfs ? served->sha256 : served->gitSha1);
}

QStringList HubDownloadTest::blobs() const
{
    return QDir(repoDir() + "/blobs").entryList(QDir::Files, QDir::Name);
}

QStringList HubDownloadTest::listedModels() const
{
    ModelDiscoveryOptions options;
    options.hubCache = huggingFaceHubCache();
    QStringList names;
    for (const DiscoveredModel& model : discoverModels(options))
        names << QString::fromStdString(model.name);
    return names;
}

void HubDownloadTest::downloadsIntoTheCacheLayout()
{
    HubDownload hub;
    QSignalSpy progress(&hub, &HubDownload::progress);
    const Outcome outcome = download(hub);
    QVERIFY2(outcome.ok, qPrintable(outcome.message));
    QVERIFY2(outcome.message.contains(kRepo), qPrintable(outcome.message));
    QCOMPARE(hub.snapshotDir(), snapshot());

    QCOMPARE(readAll(repoDir() + "/refs/main"), server_->commit().toLatin1());
    QCOMPARE(QDir(snapshot()).entryList(QDir::Files | QDir::System, QDir::Name), kWantedFiles);
    qint64 total = 0;
    for (const QString& name : kWantedFiles) {
        const QString link = snapshot() + '/' + name;
        QVERIFY2(QFileInfo(link).isSymLink(), qPrintable(link));
        // Relative, as huggingface_hub links them; LFS blobs named by SHA-256, others by git blob sha1.
        const QString blob = QFileInfo(blobOf(name)).fileName();
        QCOMPARE(QString::fromStdString(std::filesystem::read_symlink(link.toStdString()).string()),
            "../../blobs/" + blob);
        QCOMPARE(readAll(link), readAll(fixture(name)));
        total += QFileInfo(fixture(name)).size();
    }
    QCOMPARE(QFileInfo(blobOf(kWeights)).fileName(), server_->file(kWeights)->sha256);
    QCOMPARE(blobs().size(), kWantedFiles.size()); // no .incomplete left

    // Model discovery lists it as a CLIP model of the cache, the bytes of the blobs.
    ModelDiscoveryOptions options;
    options.hubCache = huggingFaceHubCache();
    const std::vector<DiscoveredModel> models = discoverModels(options);
    QCOMPARE(models.size(), std::size_t {1});
    QCOMPARE(QString::fromStdString(models.front().name), kRepo);
    QCOMPARE(models.front().family, std::string("clip"));
    QCOMPARE(models.front().source, ModelSource::HuggingFaceCache);
    QCOMPARE(static_cast<qint64>(models.front().bytesOnDisk), total);
    QCOMPARE(QString::fromStdString(models.front().dir.string()), snapshot());

    // Progress over the whole repository, never backwards, ending at the total.
    QVERIFY(progress.size() > kWantedFiles.size());
    qint64 previous = 0;
    for (const QList<QVariant>& report : progress) {
        QCOMPARE(report.at(1).toLongLong(), total);
        QVERIFY(report.at(0).toLongLong() >= previous);
        previous = report.at(0).toLongLong();
    }
    QCOMPARE(progress.back().at(0).toLongLong(), total);

    // The weights came from the CDN once, whole; the files a model does not need were never asked for.
    const auto cdn = server_->requestsTo("/cdn/");
    QCOMPARE(cdn.size(), 1);
    QCOMPARE(cdn.front().method, QByteArray("GET"));
    QVERIFY(cdn.front().range.isEmpty());
    for (const FakeHubServer::Request& request : server_->requests())
        QVERIFY2(
            !request.path.contains("README") && !request.path.contains("/cases/"), qPrintable(request.path));

    // Again: every blob is there, so only the listing and the HEAD requests go out.
    const qsizetype before = server_->requests().size();
    const Outcome again = download(hub);
    QVERIFY2(again.ok, qPrintable(again.message));
    const QList<FakeHubServer::Request> all = server_->requests();
    QCOMPARE(all.size() - before, 1 + kWantedFiles.size());
    for (qsizetype i = before + 1; i < all.size(); ++i)
        QCOMPARE(all[i].method, QByteArray("HEAD"));
    QCOMPARE(readAll(snapshot() + '/' + kWeights), readAll(fixture(kWeights)));
}

void HubDownloadTest::resumesAnInterruptedDownload()
{
    constexpr qint64 kCut = 5'000'000;
    server_->dropNextTransferAfter(kWeights, kCut);
    HubDownload hub;
    const Outcome first = download(hub);
    QVERIFY(!first.ok);
    QVERIFY2(first.message.contains(kRepo + '/' + kWeights) && first.message.contains("resume"),
        qPrintable(first.message));
    const QString partial = blobOf(kWeights) + ".incomplete";
    // What reached the disk before the hang-up (Qt drops what it had not handed over yet).
    const qint64 kept = QFileInfo(partial).size();
    QVERIFY2(kept > 0 && kept <= kCut, qPrintable(QString::number(kept)));
    QVERIFY(!QFileInfo::exists(blobOf(kWeights)));

    const Outcome second = download(hub);
    QVERIFY2(second.ok, qPrintable(second.message));
    const auto cdn = server_->requestsTo("/cdn/");
    QCOMPARE(cdn.size(), 2);
    QVERIFY(cdn.front().range.isEmpty());
    QCOMPARE(cdn.back().range, "bytes=" + QByteArray::number(kept) + '-');
    QCOMPARE(readAll(snapshot() + '/' + kWeights), readAll(fixture(kWeights)));
    QVERIFY(!QFileInfo::exists(partial));
    // The files finished before the cut (listed first) were not fetched again.
    qsizetype configGets = 0;
    for (const auto& request :
        server_->requestsTo('/' + kRepo + "/resolve/" + server_->commit() + "/config.json"))
        configGets += request.method == "GET";
    QCOMPARE(configGets, 1);
}

void HubDownloadTest::startsOverWhenTheRangeIsIgnored()
{
    server_->dropNextTransferAfter(kWeights, 3'000'000);
    HubDownload hub;
    QVERIFY(!download(hub).ok);
    const qint64 kept = QFileInfo(blobOf(kWeights) + ".incomplete").size();
    QVERIFY(kept > 0);
    server_->setIgnoreRanges(true); // a 200 with the whole file: appending it would corrupt the blob
    const Outcome second = download(hub);
    QVERIFY2(second.ok, qPrintable(second.message));
    QCOMPARE(server_->requestsTo("/cdn/").back().range, "bytes=" + QByteArray::number(kept) + '-');
    QCOMPARE(readAll(snapshot() + '/' + kWeights), readAll(fixture(kWeights)));
}

void HubDownloadTest::cancelKeepsThePartialFile()
{
    HubDownload hub;
    qint64 weightsStart = -1;
    connect(&hub, &HubDownload::progress, &hub, [&](qint64 done, qint64, const QString& file) {
        if (file != kWeights)
            return;
        if (weightsStart < 0)
            weightsStart = done;
        else if (done > weightsStart)
            hub.cancel(); // the first bytes of the weights are on disk
    });
    const Outcome cancelled = download(hub);
    QVERIFY(!cancelled.ok);
    QVERIFY2(cancelled.message.contains("cancelled"), qPrintable(cancelled.message));
    QVERIFY(!hub.isRunning());
    const qint64 kept = QFileInfo(blobOf(kWeights) + ".incomplete").size();
    QVERIFY(kept > 0);
    QVERIFY(kept < server_->file(kWeights)->content.size());

    disconnect(&hub, &HubDownload::progress, &hub, nullptr);
    const Outcome resumed = download(hub);
    QVERIFY2(resumed.ok, qPrintable(resumed.message));
    QCOMPARE(server_->requestsTo("/cdn/").back().range, "bytes=" + QByteArray::number(kept) + '-');
    QCOMPARE(readAll(snapshot() + '/' + kWeights), readAll(fixture(kWeights)));
}

void HubDownloadTest::interruptedDownloadIsNotListed()
{
    // Cancelled in the weights, after config.json and merges.txt are complete: nothing in snapshots/ or
    // refs/, so discovery does not list a model without weights; the finished blobs stay.
    HubDownload hub;
    connect(&hub, &HubDownload::progress, &hub, [&](qint64, qint64, const QString& file) {
        if (file == kWeights && QFileInfo(blobOf(kWeights) + ".incomplete").size() > 0)
            hub.cancel();
    });
    const Outcome cancelled = download(hub);
    QVERIFY2(!cancelled.ok && cancelled.message.contains("cancelled"), qPrintable(cancelled.message));
    disconnect(&hub, &HubDownload::progress, &hub, nullptr);
    QVERIFY(QFileInfo::exists(blobOf("config.json")));
    QVERIFY(!QFileInfo::exists(snapshot() + "/config.json"));
    QVERIFY(!QFileInfo::exists(repoDir() + "/refs/main"));
    QCOMPARE(listedModels(), QStringList());

    // Failed in the weights (the connection drops): still not listed.
    server_->dropNextTransferAfter(kWeights, 1'000'000);
    const Outcome failed = download(hub);
    QVERIFY2(!failed.ok && failed.message.contains(kWeights), qPrintable(failed.message));
    QVERIFY(!QFileInfo::exists(snapshot() + "/config.json"));
    QVERIFY(!QFileInfo::exists(repoDir() + "/refs/main"));
    QCOMPARE(listedModels(), QStringList());

    // A download that completes lists it, with every file linked.
    const Outcome complete = download(hub);
    QVERIFY2(complete.ok, qPrintable(complete.message));
    QCOMPARE(listedModels(), QStringList {kRepo});
    QCOMPARE(QDir(snapshot()).entryList(QDir::Files | QDir::System, QDir::Name), kWantedFiles);
    QCOMPARE(readAll(repoDir() + "/refs/main"), server_->commit().toLatin1());
}

void HubDownloadTest::anotherDownloaderHoldsTheLock()
{
    server_->dropNextTransferAfter(kWeights, 2'000'000);
    HubDownload hub;
    QVERIFY(!download(hub).ok);
    const QString partial = blobOf(kWeights) + ".incomplete";
    const QByteArray kept = readAll(partial);
    QVERIFY(!kept.isEmpty());

    // Another downloader (huggingface_hub's lock path) is writing the same blob.
    const QString lockPath
        = cache_ + "/.locks/models--test-org--clip-tiny/" + server_->file(kWeights)->sha256 + ".lock";
    QVERIFY(QDir().mkpath(QFileInfo(lockPath).absolutePath()));
    QLockFile other(lockPath);
    QVERIFY(other.tryLock(0));
    const qsizetype cdnBefore = server_->requestsTo("/cdn/").size();
    const Outcome locked = download(hub);
    QVERIFY(!locked.ok);
    QVERIFY2(locked.message.contains(kRepo + '/' + kWeights) && locked.message.contains("another program")
            && locked.message.contains(lockPath),
        qPrintable(locked.message));
    QCOMPARE(readAll(partial), kept); // neither resumed, truncated nor deleted
    QCOMPARE(server_->requestsTo("/cdn/").size(), cdnBefore);
    QVERIFY(!QFileInfo::exists(blobOf(kWeights)));
    QCOMPARE(listedModels(), QStringList());

    // Once it lets go, the download resumes the part and releases the lock when done.
    other.unlock();
    const Outcome resumed = download(hub);
    QVERIFY2(resumed.ok, qPrintable(resumed.message));
    QCOMPARE(server_->requestsTo("/cdn/").back().range, "bytes=" + QByteArray::number(kept.size()) + '-');
    QCOMPARE(readAll(snapshot() + '/' + kWeights), readAll(fixture(kWeights)));
    QVERIFY(other.tryLock(0));
}

void HubDownloadTest::corruptedLfsFileFailsTheChecksum()
{
    server_->setCorrupted(kWeights, true);
    QByteArray corrupted = server_->file(kWeights)->content;
    corrupted[corrupted.size() / 2] = static_cast<char>(corrupted[corrupted.size() / 2] ^ 0x5a);
    const QString actual = QCryptographicHash::hash(corrupted, QCryptographicHash::Sha256).toHex();

    HubDownload hub;
    const Outcome outcome = download(hub);
    QVERIFY(!outcome.ok);
    QVERIFY2(outcome.message.contains(kRepo + '/' + kWeights) && outcome.message.contains("SHA-256")
            && outcome.message.contains(server_->file(kWeights)->sha256) && outcome.message.contains(actual),
        qPrintable(outcome.message));
    QVERIFY(!QFileInfo::exists(blobOf(kWeights)));
    QVERIFY(!QFileInfo::exists(blobOf(kWeights) + ".incomplete"));
    QVERIFY(!QFileInfo(snapshot() + '/' + kWeights).isSymLink());

    server_->setCorrupted(kWeights, false);
    const Outcome retry = download(hub);
    QVERIFY2(retry.ok, qPrintable(retry.message));
    QCOMPARE(readAll(snapshot() + '/' + kWeights), readAll(fixture(kWeights)));
}

void HubDownloadTest::corruptedPlainFileFailsTheGitChecksum()
{
    // A plain file's ETag is its git blob id; one changed byte (same size) must not become a blob.
    const QString name = QStringLiteral("vocab.json");
    const FakeHubServer::File* served = server_->file(name);
    QVERIFY(served && !served->lfs);
    server_->setCorrupted(name, true);
    QByteArray corrupted = served->content;
    corrupted[corrupted.size() / 2] = static_cast<char>(corrupted[corrupted.size() / 2] ^ 0x5a);
    const QString actual = QCryptographicHash::hash(
        "blob " + QByteArray::number(corrupted.size()) + '\0' + corrupted, QCryptographicHash::Sha1)
                               .toHex();

    HubDownload hub;
    const Outcome outcome = download(hub);
    QVERIFY(!outcome.ok);
    QVERIFY2(outcome.message.contains(kRepo + '/' + name) && outcome.message.contains("git blob SHA-1")
            && outcome.message.contains(served->gitSha1) && outcome.message.contains(actual),
        qPrintable(outcome.message));
    QVERIFY(!QFileInfo::exists(blobOf(name)));
    QVERIFY(!QFileInfo::exists(blobOf(name) + ".incomplete"));
    QCOMPARE(listedModels(), QStringList());

    // Resumed after a drop, the kept part is hashed with the git header first.
    server_->setCorrupted(name, false);
    server_->dropNextTransferAfter(name, served->content.size() / 3);
    // Qt may report the cut-short body as a success; the part must still be kept, not checked and deleted.
    const Outcome dropped = download(hub);
    QVERIFY2(!dropped.ok && dropped.message.contains(name) && dropped.message.contains("kept to resume"),
        qPrintable(dropped.message));
    const qint64 kept = QFileInfo(blobOf(name) + ".incomplete").size();
    QVERIFY2(kept > 0, qPrintable(dropped.message));
    const Outcome retry = download(hub);
    QVERIFY2(retry.ok, qPrintable(retry.message));
    QCOMPARE(server_->requestsTo('/' + kRepo + "/resolve/" + server_->commit() + '/' + name).back().range,
        "bytes=" + QByteArray::number(kept) + '-');
    QCOMPARE(readAll(snapshot() + '/' + name), readAll(fixture(name)));
}

void HubDownloadTest::unknownRepoIsAClearError()
{
    HubDownload hub;
    const Outcome missing = download(hub, "nobody/missing");
    QVERIFY(!missing.ok);
    // The hub answers 401 with X-Error-Code RepoNotFound: not found, not "gated".
    QVERIFY2(missing.message.contains("nobody/missing") && missing.message.contains("not found")
            && missing.message.contains("check the id") && missing.message.contains("token")
            && !missing.message.contains("gated"),
        qPrintable(missing.message));
    QVERIFY(!QFileInfo::exists(cache_ + "/models--nobody--missing"));

    const Outcome revision = download(hub, kRepo, "no-such-branch");
    QVERIFY(!revision.ok);
    QVERIFY2(revision.message.contains("revision 'no-such-branch'") && revision.message.contains(kRepo)
            && revision.message.contains("not found"),
        qPrintable(revision.message));

    const Outcome invalid = download(hub, "not a/repo id");
    QVERIFY(!invalid.ok);
    QVERIFY2(invalid.message.contains("not a Hugging Face repository id"), qPrintable(invalid.message));
    QVERIFY(!download(hub, "org--x/name").ok);
    QVERIFY(!download(hub, kRepo, "../../etc").ok);

    server_.reset(); // nothing listens there any more
    const Outcome offline = download(hub);
    QVERIFY(!offline.ok);
    QVERIFY2(offline.message.contains(kRepo) && offline.message.contains("network error"),
        qPrintable(offline.message));
}

void HubDownloadTest::gatedRepoNeedsTheToken()
{
    server_->setRequiredToken("secret-token");
    HubDownload hub;
    const Outcome denied = download(hub);
    QVERIFY(!denied.ok);
    QVERIFY2(denied.message.contains(kRepo) && denied.message.contains("gated")
            && denied.message.contains("accept") && denied.message.contains("HF_TOKEN"),
        qPrintable(denied.message));

    qputenv("HF_TOKEN", "wrong-token");
    const Outcome refused = download(hub);
    QVERIFY(!refused.ok);
    QVERIFY2(refused.message.contains(kRepo) && refused.message.contains("token was refused")
            && refused.message.contains("Invalid credentials"),
        qPrintable(refused.message));

    qputenv("HF_TOKEN", "secret-token");
    const Outcome allowed = download(hub);
    qunsetenv("HF_TOKEN");
    QVERIFY2(allowed.ok, qPrintable(allowed.message));
    // The token goes to the hub, never to the CDN.
    for (const FakeHubServer::Request& request : server_->requestsTo("/" + kRepo + "/resolve/"))
        QCOMPARE(request.authorization, QByteArray("Bearer secret-token"));
    const auto cdn = server_->requestsTo("/cdn/");
    QCOMPARE(cdn.size(), 1);
    QVERIFY(cdn.front().authorization.isEmpty());
}

void HubDownloadTest::readsTheSavedLoginToken()
{
    // Where `huggingface-cli login` saves it, when HF_TOKEN is unset: $HF_TOKEN_PATH, else $HF_HOME/token,
    // else ~/.cache/huggingface/token; the first line, trimmed.
    auto writeToken = [](const QString& path, const QByteArray& token) {
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile file(path);
        return file.open(QIODevice::WriteOnly) && file.write(token + "\n") > 0;
    };
    server_->setRequiredToken("secret-token");
    HubDownload hub;

    const QString userToken = QDir::homePath() + "/.cache/huggingface/token";
    QVERIFY(writeToken(userToken, "  secret-token "));
    const Outcome fromHome = download(hub);
    QFile::remove(userToken);
    QVERIFY2(fromHome.ok, qPrintable(fromHome.message));

    const QString hfHome = scratch_->filePath("hf-home");
    QVERIFY(writeToken(hfHome + "/token", "secret-token"));
    qputenv("HF_HOME", hfHome.toLocal8Bit());
    QDir(repoDir()).removeRecursively(); // so every request goes out again
    const Outcome fromHfHome = download(hub);
    QVERIFY2(fromHfHome.ok, qPrintable(fromHfHome.message));
    QCOMPARE(server_->requests().back().authorization, QByteArray("Bearer secret-token"));

    // HF_TOKEN_PATH wins over HF_HOME (here with a token the hub refuses), and HF_TOKEN over both.
    const QString tokenPath = scratch_->filePath("elsewhere/token");
    QVERIFY(writeToken(tokenPath, "stale-token"));
    qputenv("HF_TOKEN_PATH", tokenPath.toLocal8Bit());
    const Outcome stale = download(hub);
    QVERIFY2(!stale.ok && stale.message.contains("token was refused"), qPrintable(stale.message));
    QCOMPARE(server_->requests().back().authorization, QByteArray("Bearer stale-token"));
    qputenv("HF_TOKEN", "secret-token");
    const Outcome fromVariable = download(hub);
    QVERIFY2(fromVariable.ok, qPrintable(fromVariable.message));

    qunsetenv("HF_TOKEN");
    qunsetenv("HF_TOKEN_PATH");
    qunsetenv("HF_HOME");
    const Outcome none = download(hub);
    QVERIFY2(!none.ok && none.message.contains("gated"), qPrintable(none.message));
    QVERIFY(server_->requests().back().authorization.isEmpty());
}

void HubDownloadTest::redirectsNeverCarryTheTokenToAnotherHost()
{
    // The GET of each plain file (sent to the endpoint, with the token) is redirected to the CDN host.
    server_->setRequiredToken("secret-token");
    server_->setRedirectPlainDownloads(true);
    qputenv("HF_TOKEN", "secret-token");
    HubDownload hub;
    const Outcome outcome = download(hub);
    qunsetenv("HF_TOKEN");
    QVERIFY2(outcome.ok, qPrintable(outcome.message));
    for (const QString& name : kWantedFiles)
        QCOMPARE(readAll(snapshot() + '/' + name), readAll(fixture(name)));
    const auto cdn = server_->requestsTo("/cdn/");
    QCOMPARE(cdn.size(), kWantedFiles.size()); // every file's bytes came from the CDN
    for (const FakeHubServer::Request& request : cdn)
        QVERIFY2(request.authorization.isEmpty(), qPrintable(request.path));
    for (const FakeHubServer::Request& request : server_->requestsTo("/" + kRepo + "/resolve/"))
        QCOMPARE(request.authorization, QByteArray("Bearer secret-token"));
}

void HubDownloadTest::followsARenamedRepository()
{
    // The hub answers a renamed repository's listing and files with a relative 307 to the new name; the
    // token still goes along, since the redirect stays on the endpoint.
    const QString oldName = QStringLiteral("old-org/clip-tiny");
    server_->addRenamedRepo(oldName);
    server_->setRequiredToken("secret-token");
    qputenv("HF_TOKEN", "secret-token");
    HubDownload hub;
    const Outcome outcome = download(hub, oldName);
    qunsetenv("HF_TOKEN");
    QVERIFY2(outcome.ok, qPrintable(outcome.message));
    // Stored under the name asked for, as huggingface_hub does.
    const QString snapshotDir = cache_ + "/models--old-org--clip-tiny/snapshots/" + server_->commit();
    QCOMPARE(hub.snapshotDir(), snapshotDir);
    for (const QString& name : kWantedFiles)
        QCOMPARE(readAll(snapshotDir + '/' + name), readAll(fixture(name)));
    QCOMPARE(server_->requestsTo("/api/models/" + oldName + "/").size(), 1);
    QCOMPARE(server_->requestsTo("/api/models/" + kRepo + "/").size(), 1);
    QCOMPARE(server_->requestsTo("/api/models/" + kRepo + "/").front().query, QByteArray("blobs=true"));
    // One HEAD per file under the old name; the GETs go where the HEAD ended.
    const auto oldResolves = server_->requestsTo('/' + oldName + "/resolve/");
    QCOMPARE(oldResolves.size(), kWantedFiles.size());
    for (const FakeHubServer::Request& request : oldResolves)
        QCOMPARE(request.method, QByteArray("HEAD"));
    for (const FakeHubServer::Request& request : server_->requestsTo('/' + kRepo + "/resolve/"))
        QCOMPARE(request.authorization, QByteArray("Bearer secret-token"));
    QVERIFY(!QFileInfo::exists(repoDir()));
}

void HubDownloadTest::skipsPickleFiles()
{
    const QByteArray pickle("\x80\x04\x95 not to be loaded", 22);
    for (const char* name : {"pytorch_model.bin", "weights.pt", "weights.pth", "model.ckpt",
             "flax_model.msgpack", "tf_model.h5", "model.onnx", "onnx/model.onnx"})
        server_->addFile(QString::fromLatin1(name), pickle, true);
    HubDownload hub;
    const Outcome outcome = download(hub);
    QVERIFY2(outcome.ok, qPrintable(outcome.message));
    QCOMPARE(QDir(snapshot())
                 .entryList(QDir::Files | QDir::System | QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name),
        kWantedFiles);
    for (const FakeHubServer::Request& request : server_->requests())
        QVERIFY2(!request.path.endsWith(".bin") && !request.path.contains("onnx")
                && !request.path.endsWith(".pt") && !request.path.endsWith(".h5"),
            qPrintable(request.path));
    QCOMPARE(server_->requestsTo("/cdn/").size(), 1); // the safetensors weights only

    // A repository with pickle weights only is refused rather than downloaded without weights.
    QTemporaryDir pickleOnly;
    QFile config(pickleOnly.filePath("config.json"));
    QVERIFY(config.open(QIODevice::WriteOnly) && config.write(R"({"model_type": "clip"})") > 0);
    config.close();
    FakeHubServer old("old/pickle-only", pickleOnly.path());
    old.addFile("pytorch_model.bin", pickle, true);
    QVERIFY(old.listen());
    qputenv("HF_ENDPOINT", old.endpoint().toLocal8Bit());
    const Outcome refused = download(hub, "old/pickle-only");
    QVERIFY(!refused.ok);
    QVERIFY2(
        refused.message.contains("old/pickle-only") && refused.message.contains("no safetensors weights"),
        qPrintable(refused.message));
}

void HubDownloadTest::dialogDownloadsAndListsTheModel()
{
    ModelHost host([](ModelRegistry& registry) { app::loadModelFamilies(registry); });
    ModelManagerDialog dialog(host);
    QSignalSpy listed(&dialog, &ModelManagerDialog::modelsListed);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QVERIFY(listed.size() > 0 || listed.wait(kTimeoutMs)); // the first listing, without the repository
    QCOMPARE(dialog.rowOfName(kRepo), -1);

    // The button's prompt: OK only for a valid id; filled and accepted from inside its event loop.
    auto* downloadButton = dialog.findChild<QPushButton*>("downloadModel");
    QVERIFY(downloadButton && downloadButton->isEnabled());
    bool prompted = false;
    QTimer::singleShot(0, &dialog, [&] {
        auto* prompt = qobject_cast<QDialog*>(QApplication::activeModalWidget());
        if (!prompt)
            return;
        auto* repo = prompt->findChild<QLineEdit*>("hubRepoId");
        QPushButton* ok = prompt->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
        repo->setText("not a repo");
        prompted = !ok->isEnabled();
        repo->setText(kRepo);
        prompted = prompted && ok->isEnabled();
        ok->click();
    });
    QSignalSpy finished(&dialog, &ModelManagerDialog::downloadFinished);
    downloadButton->click(); // returns once the prompt is accepted; the download runs on
    QVERIFY(prompted);
    QVERIFY(!downloadButton->isEnabled());
    QVERIFY(dialog.downloadProgress()->isVisible());
    QVERIFY(dialog.findChild<QPushButton*>("cancelDownload")->isVisible());

    QVERIFY(finished.wait(kTimeoutMs));
    QVERIFY2(finished.front().at(0).toBool(), qPrintable(finished.front().at(1).toString()));
    QVERIFY(dialog.downloadStatus()->text().startsWith("Downloaded " + kRepo));
    QVERIFY(!dialog.downloadProgress()->isVisible());
    QVERIFY(downloadButton->isEnabled());

    // The list is refreshed with the new model selected, and it verifies.
    QVERIFY(QTest::qWaitFor([&] { return dialog.rowOfName(kRepo) >= 0; }, kTimeoutMs));
    const int row = dialog.rowOfName(kRepo);
    QTableWidget* table = dialog.table();
    QCOMPARE(table->item(row, ModelManagerDialog::FamilyColumn)->text(), QStringLiteral("clip"));
    QCOMPARE(QString::fromStdString(dialog.models()[static_cast<std::size_t>(row)].dir.string()), snapshot());
    QCOMPARE(table->selectedItems().front()->row(), row);
    QSignalSpy verified(&dialog, &ModelManagerDialog::verified);
    dialog.verifySelected();
    QVERIFY(verified.size() == 1 || verified.wait(kVerifyTimeoutMs));
    QVERIFY2(verified.front().at(1).toBool(), qPrintable(verified.front().at(2).toString()));
    QVERIFY(table->item(row, ModelManagerDialog::StatusColumn)->text().startsWith("OK · clip-"));
}

// `pictor models download` is the window's downloader: the same cache layout, listed by `models list`;
// a bad id is a usage error, an unknown repository a clear one.
void HubDownloadTest::theCliDownloadsLikeTheWindow()
{
    auto run = [](const QStringList& arguments) {
        QProcess process;
        process.start(QStringLiteral(PICTOR_BINARY), arguments);
        // The server answers from this thread's event loop: wait without blocking it.
        const bool ended
            = QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, kTimeoutMs);
        return std::make_tuple(ended ? process.exitCode() : -1,
            QString::fromUtf8(process.readAllStandardOutput() + process.readAllStandardError()));
    };
    const auto [status, output] = run({"models", "download", "--json", kRepo});
    QVERIFY2(status == 0, qPrintable(output));
    const QJsonObject result = QJsonDocument::fromJson(output.toUtf8()).object();
    QCOMPARE(result.value("ok").toBool(), true);
    QCOMPARE(result.value("dir").toString(), snapshot());
    QCOMPARE(QDir(snapshot()).entryList(QDir::Files | QDir::System, QDir::Name), kWantedFiles);
    QCOMPARE(readAll(snapshot() + '/' + kWeights), readAll(fixture(kWeights)));
    const auto [listStatus, listed] = run({"models", "list", "--json"});
    QCOMPARE(listStatus, 0);
    QVERIFY2(listed.contains(QStringLiteral("\"name\": \"%1\"").arg(kRepo)), qPrintable(listed));

    const auto [badStatus, badOutput] = run({"models", "download", "not a repo"});
    QCOMPARE(badStatus, 2);
    QVERIFY2(badOutput.contains(QStringLiteral("not a Hugging Face repository id")), qPrintable(badOutput));
    const auto [unknownStatus, unknownOutput] = run({"models", "download", "test-org/no-such-model"});
    QCOMPARE(unknownStatus, 1);
    QVERIFY2(unknownOutput.contains(QStringLiteral("test-org/no-such-model")), qPrintable(unknownOutput));
}

// The first run with the download: a folder added first is listed, not indexed; one click (above the
// photos, as on the welcome page) downloads the recommended model with its progress, makes it the search
// model and indexes the folder.
void HubDownloadTest::oneClickDownloadsTheRecommendedModelAndSearchWorks()
{
    const QString recommended = QStringLiteral("openai/clip-vit-base-patch32");
    FakeHubServer hub(recommended, fixture());
    QVERIFY(hub.listen());
    qputenv("HF_ENDPOINT", hub.endpoint().toLocal8Bit());
    const QString photos = scratch_->filePath("photos");
    QVERIFY(QDir().mkpath(photos));
    for (int i = 0; i < 3; ++i) {
        QImage image(64, 48, QImage::Format_RGB32);
        image.fill(QColor::fromHsv(i * 100, 200, 200));
        QVERIFY(image.save(QStringLiteral("%1/photo_%2.jpg").arg(photos).arg(i)));
    }
    AppSettings().setModelDir({});
    MainWindow window({std::filesystem::path(scratch_->filePath("library").toStdString()),
        [](ModelRegistry& registry) { app::loadModelFamilies(registry); }});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTRY_VERIFY_WITH_TIMEOUT(window.listingLoaded(), 10'000);
    const int added = window.jobs()->addFolders({photos});
    QTRY_VERIFY_WITH_TIMEOUT(window.jobs()->job(added)->finished(), kTimeoutMs);

    // The photos are listed; above them, search says it needs a model and offers the download.
    QTRY_VERIFY(window.findChild<QWidget*>(QStringLiteral("modelNeededBar"))->isVisible());
    auto* download = window.findChild<QPushButton*>(QStringLiteral("galleryDownloadModel"));
    QVERIFY(download && download->isVisible());
    QVERIFY(download->text().contains(recommended));
    QVERIFY(
        window.findChild<QPushButton*>(QStringLiteral("welcomeDownloadModel"))); // and on the welcome page
    download->click();
    auto* progress = window.findChild<QProgressBar*>(QStringLiteral("galleryDownloadProgress"));
    QVERIFY(progress && progress->isVisible() && !download->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(!progress->isVisible(), kTimeoutMs);
    auto* status = window.findChild<QLabel*>(QStringLiteral("galleryDownloadStatus"));
    QVERIFY2(
        status->text().startsWith(QStringLiteral("Downloaded ") + recommended), qPrintable(status->text()));
    QCOMPARE(AppSettings().modelDir(),
        cache_ + "/models--openai--clip-vit-base-patch32/snapshots/" + hub.commit());

    QTRY_VERIFY_WITH_TIMEOUT(
        window.jobs()->jobs().size() == 2 && window.jobs()->jobs().back().finished(), kVerifyTimeoutMs);
    QCOMPARE(window.jobs()->jobs().back().state, JobInfo::State::Done);
    QTimer::singleShot(0, &window, &MainWindow::reloadLibrary);
    QVERIFY(QSignalSpy(&window, &MainWindow::listingReloaded).wait(kTimeoutMs));
    QSignalSpy searched(&window, &MainWindow::searchFinished);
    window.searchBar()->setText(QStringLiteral("a photo"));
    QVERIFY(searched.wait(kTimeoutMs));
    QVERIFY2(window.searchMessage().isEmpty(), qPrintable(window.searchMessage()));
    QCOMPARE(window.galleryModel()->rowCount(), 3);
    QVERIFY(!window.findChild<QWidget*>(QStringLiteral("modelNeededBar"))->isVisible());
}

int main(int argc, char** argv)
{
    QTemporaryDir home;
    for (const char* variable : {"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"})
        qputenv(variable, (home.path() + '/' + QString::fromLatin1(variable)).toLocal8Bit());
    qputenv("HOME", home.path().toLocal8Bit()); // no ~/models of the user in the model list
    QApplication app(argc, argv);
    HubDownloadTest test;
    return QTest::qExec(&test, argc, argv);
}
#include "hub_download_test.moc"

// A diffusers pipeline (Karlo's layout): model_index.json first, then the files of the component folders
// it names, one level down; not the fixture's golden cases/, not its image_variation/ pipeline, not pickle
// weights, not a float16 copy of a weight. The snapshot links from each folder to the blobs, and discovery
// lists it as an unCLIP pipeline. A pipeline whose components have pickle weights only is refused.
void HubDownloadTest::downloadsADiffusersPipeline()
{
    const QString unclip = QString::fromStdString(test::fixtureDir("unclip-tiny").string());
    FakeHubServer karlo(QStringLiteral("test-org/karlo-tiny"), unclip);
    const QByteArray pickle("\x80\x04\x95 not to be loaded", 22);
    karlo.addFile(QStringLiteral("decoder/diffusion_pytorch_model.bin"), pickle, true);
    karlo.addFile(QStringLiteral("prior/diffusion_pytorch_model.fp16.safetensors"),
        readAll(unclip + QStringLiteral("/prior/diffusion_pytorch_model.safetensors")), true);
    QVERIFY(karlo.listen());
    qputenv("HF_ENDPOINT", karlo.endpoint().toLocal8Bit());
    HubDownload hub;
    const Outcome outcome = download(hub, QStringLiteral("test-org/karlo-tiny"));
    QVERIFY2(outcome.ok, qPrintable(outcome.message));
    const QString snapshotDir = cache_ + "/models--test-org--karlo-tiny/snapshots/" + karlo.commit();
    QCOMPARE(hub.snapshotDir(), snapshotDir);

    QStringList expected;
    for (const FakeHubServer::File& file : karlo.files()) {
        const bool component = !file.name.startsWith(QStringLiteral("cases/"))
            && !file.name.startsWith(QStringLiteral("image_variation/"))
            && file.name != QStringLiteral("README.md") && !file.name.endsWith(QStringLiteral(".bin"))
            && !file.name.contains(QStringLiteral(".fp16."));
        if (component)
            expected << file.name;
    }
    expected.sort();
    QStringList got;
    QDirIterator it(snapshotDir, QDir::Files | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        got << QDir(snapshotDir).relativeFilePath(path);
        QVERIFY2(QFileInfo(path).isSymLink(), qPrintable(path));
        QCOMPARE(readAll(path), readAll(unclip + '/' + got.back()));
    }
    got.sort();
    QCOMPARE(got, expected);
    QVERIFY(got.contains(QStringLiteral("prior/config.json")));
    QVERIFY(got.contains(QStringLiteral("decoder_scheduler/scheduler_config.json")));
    QCOMPARE(QString::fromStdString(
                 std::filesystem::read_symlink((snapshotDir + "/prior/config.json").toStdString()).string()),
        "../../../blobs/" + karlo.file(QStringLiteral("prior/config.json"))->gitSha1);
    for (const FakeHubServer::Request& request : karlo.requests())
        QVERIFY2(!request.path.contains("/cases/") && !request.path.endsWith(".bin")
                && !request.path.contains(".fp16.") && !request.path.contains("image_variation"),
            qPrintable(request.path));

    ModelDiscoveryOptions options;
    options.hubCache = huggingFaceHubCache();
    const std::vector<DiscoveredModel> models = discoverModels(options);
    QCOMPARE(models.size(), std::size_t {1});
    QCOMPARE(models.front().family, std::string("unclip"));
    QCOMPARE(roleOfFamily(models.front().family), ModelRole::Generation);

    // Components with pickle weights only: explained, not downloaded.
    QTemporaryDir pickleOnly;
    QVERIFY(QDir().mkpath(pickleOnly.filePath("prior")));
    QFile index(pickleOnly.filePath("model_index.json"));
    QVERIFY(index.open(QIODevice::WriteOnly)
        && index.write(R"({"_class_name": "UnCLIPPipeline", "prior": ["diffusers", "PriorTransformer"]})")
            > 0);
    index.close();
    FakeHubServer old(QStringLiteral("old/karlo-bin"), pickleOnly.path());
    old.addFile(QStringLiteral("prior/config.json"), "{}", false);
    old.addFile(QStringLiteral("prior/diffusion_pytorch_model.bin"), pickle, true);
    old.addFile(QStringLiteral("cases/x.safetensors"), "not a component", true);
    QVERIFY(old.listen());
    qputenv("HF_ENDPOINT", old.endpoint().toLocal8Bit());
    const Outcome refused = download(hub, QStringLiteral("old/karlo-bin"));
    QVERIFY(!refused.ok);
    QVERIFY2(refused.message.contains(QStringLiteral("no safetensors weights"))
            && refused.message.contains(QStringLiteral("prior")),
        qPrintable(refused.message));
}
