// The model manager under Qt Test (QT_QPA_PLATFORM=offscreen): discovery honours HF_HUB_CACHE over HF_HOME
// over ~/.cache; the dialog (File > Models…) lists the fixture models of the models folder setting and a
// fake Hugging Face cache (snapshot files linked into blobs/, each blob counted once), Verify reports OK
// for the tiny CLIP model and the error for a truncated copy, and "Use for search" / "Use for captions"
// change the settings.
#include <QAction>
#include <QApplication>
#include <QCryptographicHash>
#include <QDesktopServices>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QHash>
#include <QLabel>
#include <QMenuBar>
#include <QPushButton>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <algorithm>
#include <filesystem>
#include <set>

#include "app/model_module.h"
#include "core/model_discovery.h"
#include "tests/support/paths.h"
#include "ui/app_settings.h"
#include "ui/main_window.h"
#include "ui/model_manager_dialog.h"

using namespace pictor;
using namespace pictor::ui;

namespace {

constexpr int kVerifyTimeoutMs = 180'000;

QString fixture(const char* name)
{
    return QString::fromStdString(test::fixtureDir(name).string());
}

bool writeFile(const QString& path, const QByteArray& bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

// A repository in the hub's cache layout: every top-level file of `source` as a blob named by its SHA-256,
// linked from snapshots/<revision>/, plus `aliases` (extra links to the blob of an existing file). Returns
// the bytes of the distinct blobs.
qint64 addCachedRepo(const QString& cache, const QString& repo, const QString& source,
    const QList<QPair<QString, QString>>& aliases = {})
{
    const QString root = cache + "/models--" + QString(repo).replace('/', QStringLiteral("--"));
    const QString revision = QStringLiteral("0123456789abcdef0123456789abcdef01234567");
    const QString snapshot = root + "/snapshots/" + revision;
    QDir().mkpath(snapshot);
    QDir().mkpath(root + "/blobs");
    writeFile(root + "/refs/main", revision.toLatin1());
    qint64 bytes = 0;
    QHash<QString, QString> blobOf;
    for (const QFileInfo& info : QDir(source).entryInfoList(QDir::Files)) {
        QFile in(info.filePath());
        if (!in.open(QIODevice::ReadOnly))
            return -1;
        const QByteArray content = in.readAll();
        const QString blob = QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex();
        if (!QFile::exists(root + "/blobs/" + blob)) {
            if (!writeFile(root + "/blobs/" + blob, content))
                return -1;
            bytes += content.size();
        }
        blobOf[info.fileName()] = blob;
        if (!QFile::link("../../blobs/" + blob, snapshot + '/' + info.fileName()))
            return -1;
    }
    for (const auto& [alias, file] : aliases)
        if (!QFile::link("../../blobs/" + blobOf.value(file), snapshot + '/' + alias))
            return -1;
    return bytes;
}

QString snapshotOf(const QString& cache, const QString& repo)
{
    const QString snapshots
        = cache + "/models--" + QString(repo).replace('/', QStringLiteral("--")) + "/snapshots";
    const QStringList revisions = QDir(snapshots).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    return revisions.isEmpty() ? QString() : snapshots + '/' + revisions.front();
}

qint64 folderBytes(const QString& dir)
{
    qint64 bytes = 0;
    QDirIterator it(dir, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        bytes += QFileInfo(it.next()).size();
    return bytes;
}

// A copy of clip-tiny-a whose model.safetensors lost its second half.
QString brokenCopy(const QString& dir)
{
    QDir().mkpath(dir);
    for (const QFileInfo& info : QDir(fixture("clip-tiny-a")).entryInfoList(QDir::Files))
        QFile::copy(info.filePath(), dir + '/' + info.fileName());
    QFile weights(dir + "/model.safetensors");
    weights.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    weights.resize(weights.size() / 2);
    return dir;
}

void writeConfig(const QString& dir, const QByteArray& json)
{
    writeFile(dir + "/config.json", json);
}

std::vector<DiscoveredModel> discoverInCache(const QString& active = {})
{
    ModelDiscoveryOptions options;
    options.hubCache = huggingFaceHubCache();
    options.activeEmbedding = active.toStdString();
    return discoverModels(options);
}

std::set<std::string> namesIn(const std::vector<DiscoveredModel>& models)
{
    std::set<std::string> names;
    for (const DiscoveredModel& model : models)
        names.insert(model.name);
    return names;
}

class UrlRecorder : public QObject {
    Q_OBJECT
public:
    QList<QUrl> urls;
public slots:
    void open(const QUrl& url) { urls.append(url); }
};

} // namespace

class GuiModelsTest : public QObject {
    Q_OBJECT
private slots:
    void init();
    void discoveryHonoursHfHomeAndHubCache();
    void listsFixtureAndCachedModels();
    void verifyReportsOkAndTheError();
    void useForSearchAndCaptionsSetTheModels();

private:
    std::unique_ptr<MainWindow> openWindow();
    ModelManagerDialog* openManager(MainWindow& window);
    std::unique_ptr<QTemporaryDir> scratch_;
    QString cache_;
    qint64 clipBlobBytes_ = 0;
    qint64 llavaBlobBytes_ = 0;
};

void GuiModelsTest::init()
{
    scratch_ = std::make_unique<QTemporaryDir>();
    QVERIFY(scratch_->isValid());
    cache_ = scratch_->filePath("hub");
    // A second link to the vocabulary's blob: its bytes count once.
    clipBlobBytes_ = addCachedRepo(cache_, "org/clip-tiny", fixture("clip-tiny-a"),
        {{QStringLiteral("vocab-alias.json"), QStringLiteral("vocab.json")}});
    QVERIFY(clipBlobBytes_ > 0);
    llavaBlobBytes_ = addCachedRepo(cache_, "org/llava-tiny", fixture("llava-tiny-qwen2"));
    QVERIFY(llavaBlobBytes_ > 0);
    qputenv("HF_HUB_CACHE", cache_.toLocal8Bit());
    AppSettings settings;
    settings.setModelsDir(QString::fromStdString(test::fixturesDir().string()));
    settings.setExtraModelFolders({});
    settings.setModelDir(fixture("clip-tiny-a"));
    settings.setCaptionModelDir({});
    settings.setDevice(QStringLiteral("cpu"));
}

std::unique_ptr<MainWindow> GuiModelsTest::openWindow()
{
    auto window = std::make_unique<MainWindow>(
        MainWindow::Options {std::filesystem::path(scratch_->filePath("library").toStdString()),
            [](ModelRegistry& registry) { app::loadModelFamilies(registry); }});
    window->show();
    return QTest::qWaitForWindowExposed(window.get()) ? std::move(window) : nullptr;
}

ModelManagerDialog* GuiModelsTest::openManager(MainWindow& window)
{
    auto* action = window.menuBar()->findChild<QAction*>(QStringLiteral("openModelManager"));
    if (!action)
        return nullptr;
    action->trigger();
    auto* dialog = window.findChild<ModelManagerDialog*>();
    if (!dialog || !QTest::qWaitFor([&] { return dialog->rowOfName("org/llava-tiny") >= 0; }, 20'000))
        return nullptr;
    return dialog;
}

void GuiModelsTest::discoveryHonoursHfHomeAndHubCache()
{
    const QString home = scratch_->filePath("home");
    const auto model = [](const QString& cache, const QString& repo) {
        const QString dir
            = cache + "/models--" + QString(repo).replace('/', QStringLiteral("--")) + "/snapshots/abc123";
        writeConfig(dir, R"({"model_type": "clip"})");
        return dir;
    };
    model(home + "/.cache/huggingface/hub", "home/default-model");
    model(scratch_->filePath("hf-home/hub"), "hfhome/model");
    const QString hubModel = model(scratch_->filePath("hub-cache"), "hubcache/model");
    // Two revisions of one repository are told apart by the revision.
    writeConfig(scratch_->filePath("hub-cache/models--hubcache--model/snapshots/def456"),
        R"({"model_type": "clip"})");
    const QByteArray savedHome = qgetenv("HOME");
    const auto restore = qScopeGuard([&] { qputenv("HOME", savedHome); });

    qputenv("HOME", home.toLocal8Bit());
    qunsetenv("HF_HUB_CACHE");
    qunsetenv("HF_HOME");
    QCOMPARE(huggingFaceHubCache(), std::filesystem::path((home + "/.cache/huggingface/hub").toStdString()));
    QCOMPARE(namesIn(discoverInCache()), std::set<std::string> {"home/default-model"});

    qputenv("HF_HOME", scratch_->filePath("hf-home").toLocal8Bit());
    QCOMPARE(namesIn(discoverInCache()), std::set<std::string> {"hfhome/model"});

    qputenv("HF_HUB_CACHE", scratch_->filePath("hub-cache").toLocal8Bit());
    const auto found = discoverInCache(hubModel);
    QCOMPARE(namesIn(found), (std::set<std::string> {"hubcache/model@abc123", "hubcache/model@def456"}));
    QVERIFY(found.front().activeEmbedding);
    QVERIFY(!found.back().activeEmbedding);
    QCOMPARE(found.front().source, ModelSource::HuggingFaceCache);

    // A models folder: its subfolders with a config.json or a model_index.json, unknown families listed as
    // such; a folder that is a model itself; the same folder twice is listed once.
    const QString models = scratch_->filePath("models");
    writeConfig(models + "/bert", R"({"model_type": "bert"})");
    writeConfig(models + "/no-type", R"({"hidden_size": 8})");
    writeConfig(models + "/broken-json", "{");
    writeFile(models + "/karlo/model_index.json", R"({"_class_name": "UnCLIPPipeline"})"); // diffusers layout
    QDir().mkpath(models + "/not-a-model");
    writeConfig(scratch_->filePath("single"), R"({"model_type": "llava"})");
    ModelDiscoveryOptions options;
    options.folders
        = {models.toStdString(), scratch_->filePath("single").toStdString(), models.toStdString()};
    const auto listed = discoverModels(options);
    QCOMPARE(listed.size(), std::size_t {5});
    QCOMPARE(listed[0].name, std::string("bert"));
    QCOMPARE(listed[0].family, std::string("bert"));
    QCOMPARE(roleOfFamily(listed[0].family), ModelRole::Unsupported);
    QCOMPARE(listed[1].name, std::string("broken-json"));
    QCOMPARE(listed[1].family, std::string());
    QCOMPARE(listed[2].name, std::string("karlo"));
    QCOMPARE(listed[2].family, std::string("unclip"));
    QCOMPARE(roleOfFamily(listed[2].family), ModelRole::Generation);
    QCOMPARE(listed[3].name, std::string("no-type"));
    QCOMPARE(listed[4].name, std::string("single"));
    QCOMPARE(roleOfFamily(listed[4].family), ModelRole::Captioning);
    QCOMPARE(listed[4].bytesOnDisk,
        static_cast<std::uint64_t>(QFileInfo(scratch_->filePath("single/config.json")).size()));
}

void GuiModelsTest::listsFixtureAndCachedModels()
{
    auto window = openWindow();
    QVERIFY(window);
    ModelManagerDialog* dialog = openManager(*window);
    QVERIFY(dialog);
    QTableWidget* table = dialog->table();

    const int clip = dialog->rowOfName("clip-tiny-a");
    QVERIFY(clip >= 0);
    QCOMPARE(table->item(clip, ModelManagerDialog::FamilyColumn)->text(), QStringLiteral("clip"));
    QCOMPARE(table->item(clip, ModelManagerDialog::SizeColumn)->data(Qt::UserRole).toLongLong(),
        folderBytes(fixture("clip-tiny-a")));
    QCOMPARE(table->item(clip, ModelManagerDialog::InUseColumn)->text(), QStringLiteral("search"));
    const int qwen = dialog->rowOfName("llava-tiny-qwen2");
    QVERIFY(qwen >= 0);
    QCOMPARE(table->item(qwen, ModelManagerDialog::FamilyColumn)->text(), QStringLiteral("llava"));

    const int cachedClip = dialog->rowOfName("org/clip-tiny");
    QVERIFY(cachedClip >= 0);
    QCOMPARE(table->item(cachedClip, ModelManagerDialog::FamilyColumn)->text(), QStringLiteral("clip"));
    QCOMPARE(table->item(cachedClip, ModelManagerDialog::SizeColumn)->data(Qt::UserRole).toLongLong(),
        clipBlobBytes_);
    QCOMPARE(
        clipBlobBytes_, folderBytes(fixture("clip-tiny-a")) - folderBytes(fixture("clip-tiny-a") + "/cases"));
    QCOMPARE(table->item(cachedClip, ModelManagerDialog::InUseColumn)->text(), QString());
    const int cachedLlava = dialog->rowOfName("org/llava-tiny");
    QCOMPARE(table->item(cachedLlava, ModelManagerDialog::FamilyColumn)->text(), QStringLiteral("llava"));
    QCOMPARE(table->item(cachedLlava, ModelManagerDialog::SizeColumn)->data(Qt::UserRole).toLongLong(),
        llavaBlobBytes_);
    QCOMPARE(QString::fromStdString(dialog->models()[static_cast<std::size_t>(cachedLlava)].dir.string()),
        snapshotOf(cache_, "org/llava-tiny"));

    // Add model folder: listed, and remembered in the settings.
    const QString added = scratch_->filePath("more");
    brokenCopy(added + "/clip-broken");
    QSignalSpy listed(dialog, &ModelManagerDialog::modelsListed);
    dialog->addModelFolder(added);
    QVERIFY(listed.size() == 1 || listed.wait(20'000)); // a quick listing arrives within the call
    QVERIFY(dialog->rowOfName("clip-broken") >= 0);
    QCOMPARE(AppSettings().extraModelFolders(), QStringList {added});
    QVERIFY(ModelManagerDialog::modelFolders().contains(added));

    // Open folder hands the model folder to the desktop.
    UrlRecorder recorder;
    QDesktopServices::setUrlHandler(QStringLiteral("file"), &recorder, "open");
    dialog->selectRow(
        dialog->rowOfName("org/clip-tiny")); // rows moved: the added folder comes before the cache
    dialog->findChild<QPushButton*>(QStringLiteral("openModelFolder"))->click();
    QDesktopServices::unsetUrlHandler(QStringLiteral("file"));
    QCOMPARE(recorder.urls, QList<QUrl> {QUrl::fromLocalFile(snapshotOf(cache_, "org/clip-tiny"))});
}

void GuiModelsTest::verifyReportsOkAndTheError()
{
    const QString added = scratch_->filePath("more");
    brokenCopy(added + "/clip-broken");
    AppSettings().setExtraModelFolders({added});
    auto window = openWindow();
    QVERIFY(window);
    ModelManagerDialog* dialog = openManager(*window);
    QVERIFY(dialog);
    QTableWidget* table = dialog->table();
    auto* verify = dialog->findChild<QPushButton*>(QStringLiteral("verifyModel"));
    QSignalSpy verified(dialog, &ModelManagerDialog::verified);

    const int clip = dialog->rowOfName("org/clip-tiny");
    dialog->selectRow(clip);
    QVERIFY(verify->isEnabled());
    verify->click();
    QCOMPARE(table->item(clip, ModelManagerDialog::StatusColumn)->text(), QStringLiteral("Verifying…"));
    QVERIFY(!verify->isEnabled());
    QVERIFY(verified.size() == 1 || verified.wait(kVerifyTimeoutMs));
    QVERIFY2(verified.front().at(1).toBool(), qPrintable(verified.front().at(2).toString()));
    QVERIFY(
        table->item(clip, ModelManagerDialog::StatusColumn)->text().startsWith(QStringLiteral("OK · clip-")));

    const int broken = dialog->rowOfName("clip-broken");
    QVERIFY(broken >= 0);
    dialog->selectRow(broken);
    verify->click();
    QVERIFY(verified.size() == 2 || verified.wait(kVerifyTimeoutMs));
    QVERIFY(!verified.back().at(1).toBool());
    const QString error = table->item(broken, ModelManagerDialog::StatusColumn)->text();
    QCOMPARE(error, verified.back().at(2).toString());
    QVERIFY2(error.contains(QStringLiteral("[safetensors]"))
            && error.contains(QStringLiteral("model.safetensors")),
        qPrintable(error));
    QVERIFY(!error.contains('\n'));

    // The LLaVA fixture verifies through its own family.
    const int llava = dialog->rowOfName("org/llava-tiny");
    dialog->selectRow(llava);
    verify->click();
    QVERIFY(verified.size() == 3 || verified.wait(kVerifyTimeoutMs));
    QVERIFY2(verified.back().at(1).toBool(), qPrintable(verified.back().at(2).toString()));
    QVERIFY(table->item(llava, ModelManagerDialog::StatusColumn)
                ->text()
                .startsWith(QStringLiteral("OK · llava-")));
}

void GuiModelsTest::useForSearchAndCaptionsSetTheModels()
{
    auto window = openWindow();
    QVERIFY(window);
    ModelManagerDialog* dialog = openManager(*window);
    QVERIFY(dialog);
    auto* useForSearch = dialog->findChild<QPushButton*>(QStringLiteral("useForSearch"));
    auto* useForCaptions = dialog->findChild<QPushButton*>(QStringLiteral("useForCaptions"));

    dialog->selectRow(dialog->rowOfName("clip-tiny-a")); // already the search model
    QVERIFY(!useForSearch->isEnabled());
    QVERIFY(!useForCaptions->isEnabled());

    const int llava = dialog->rowOfName("org/llava-tiny");
    dialog->selectRow(llava);
    QVERIFY(!useForSearch->isEnabled());
    QVERIFY(useForCaptions->isEnabled());
    QSignalSpy listed(dialog, &ModelManagerDialog::modelsListed);
    useForCaptions->click();
    QCOMPARE(AppSettings().captionModelDir(), snapshotOf(cache_, "org/llava-tiny"));
    QVERIFY(listed.size() == 1 || listed.wait(20'000));

    const int clip = dialog->rowOfName("org/clip-tiny");
    dialog->selectRow(clip);
    QVERIFY(useForSearch->isEnabled());
    QVERIFY(!useForCaptions->isEnabled());
    QSignalSpy changed(dialog, &ModelManagerDialog::settingsChanged);
    useForSearch->click();
    QCOMPARE(changed.size(), 1);
    QCOMPARE(AppSettings().modelDir(), snapshotOf(cache_, "org/clip-tiny"));
    QVERIFY(listed.size() == 2 || listed.wait(20'000));
    QTableWidget* table = dialog->table();
    QCOMPARE(table->item(dialog->rowOfName("org/clip-tiny"), ModelManagerDialog::InUseColumn)->text(),
        QStringLiteral("search"));
    QCOMPARE(
        table->item(dialog->rowOfName("clip-tiny-a"), ModelManagerDialog::InUseColumn)->text(), QString());
    QCOMPARE(table->item(dialog->rowOfName("org/llava-tiny"), ModelManagerDialog::InUseColumn)->text(),
        QStringLiteral("captions"));
    QVERIFY(!useForSearch->isEnabled()); // the selection is kept across the refresh
    // A model of the cache is named by its repository, not by its snapshot's commit hash.
    QCOMPARE(QString::fromStdString(modelDisplayName(snapshotOf(cache_, "org/clip-tiny").toStdString())),
        QStringLiteral("org/clip-tiny"));
    QCOMPARE(QString::fromStdString(modelDisplayName(fixture("clip-tiny-a").toStdString() + "/")),
        QStringLiteral("clip-tiny-a"));
    QTRY_VERIFY_WITH_TIMEOUT(window->modelLabel()->text().contains(QStringLiteral("org/clip-tiny")), 30'000);

    // Use for pictures: the unCLIP pipeline becomes the Create panel's model.
    auto* useForPictures = dialog->findChild<QPushButton*>(QStringLiteral("useForPictures"));
    QVERIFY(useForPictures && !useForPictures->isEnabled());
    dialog->selectRow(dialog->rowOfName("unclip-tiny"));
    QVERIFY(useForPictures->isEnabled());
    QVERIFY(!useForCaptions->isEnabled());
    useForPictures->click();
    QCOMPARE(AppSettings().generationModelDir(), fixture("unclip-tiny"));
    QVERIFY(listed.size() == 3 || listed.wait(20'000));
    QCOMPARE(table->item(dialog->rowOfName("unclip-tiny"), ModelManagerDialog::InUseColumn)->text(),
        QStringLiteral("pictures"));

    // A model the host holds says so, with where it runs.
    window->host()->worker().run(JobPriority::Interactive, [&] {
        return window->host()->embedder(fixture("clip-tiny-a").toStdString(), {"cpu", 1, 8, "float32"});
    });
    dialog->refresh();
    QVERIFY(listed.size() == 4 || listed.wait(20'000));
    const QString loaded
        = table->item(dialog->rowOfName("clip-tiny-a"), ModelManagerDialog::InUseColumn)->text();
    QVERIFY2(loaded.startsWith(QStringLiteral("loaded: 0.0 GB, CPU float32")), qPrintable(loaded));
}

int main(int argc, char** argv)
{
    QTemporaryDir home;
    for (const char* variable : {"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"})
        qputenv(variable, (home.path() + '/' + QString::fromLatin1(variable)).toLocal8Bit());
    QApplication app(argc, argv);
    GuiModelsTest test;
    return QTest::qExec(&test, argc, argv);
}
#include "gui_models_test.moc"
