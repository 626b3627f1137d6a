// The desktop app end to end under Qt Test (QT_QPA_PLATFORM=offscreen): a generated photo folder is
// added through the window, indexed with the clip-tiny-a fixture, and searched by text, by a dropped
// photo and by photo + text; the ids must equal `pictor search --json` for the same queries. Also: cutoff
// and date sort, the context-menu actions, settings persistence, the event loop's longest stall while a
// large folder indexes, time to first paint and type-to-results latency (printed).
#include <QAbstractButton>
#include <QAbstractItemView>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDesktopServices>
#include <QDialog>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QImage>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QPainter>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QScopeGuard>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSlider>
#include <QStackedWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QTimer>
#include <QToolButton>
#include <QTreeWidget>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <optional>
#include <thread>

#include <execinfo.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "app/model_module.h"
#include "indexer/library.h"
#include "tests/support/crafted_images.h"
#include "tests/support/paths.h"
#include "tests/support/wrapped_embedder.h"
#include "ui/app_settings.h"
#include "ui/appearance.h"
#include "ui/auto_tag_dialog.h"
#include "ui/duplicates_dialog.h"
#include "ui/filter_bar.h"
#include "ui/folder_watcher.h"
#include "ui/gallery_model.h"
#include "ui/gallery_view.h"
#include "ui/indexing_jobs.h"
#include "ui/job_status_widget.h"
#include "ui/library_sidebar.h"
#include "ui/main_window.h"
#include "ui/photo_viewer.h"
#include "ui/search_bar.h"
#include "ui/welcome_page.h"

using namespace pictor;
using namespace pictor::ui;

namespace {

constexpr int kIndexTimeoutMs = 240'000;

// SIGUSR2 handler while explaining stalls: prints the interrupted thread's stack.
void printStack(int)
{
    void* frames[48];
    const int count = backtrace(frames, 48);
    backtrace_symbols_fd(frames, count, 2);
}

// Distinct photos: a colour field, a shape and a stripe pattern that vary with `seed`; the file's
// modification time steps back one day per seed so date sorting has something to order.
void makePhotos(const QString& dir, int count, QSize size, int firstSeed = 0)
{
    QDir().mkpath(dir);
    for (int i = 0; i < count; ++i) {
        const int seed = firstSeed + i;
        QImage image(size, QImage::Format_RGB32);
        image.fill(QColor::fromHsv((seed * 47) % 360, 90 + seed * 13 % 160, 120 + seed * 29 % 130));
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setBrush(QColor::fromHsv((seed * 97 + 180) % 360, 220, 230));
        const int w = size.width(), h = size.height();
        if (seed % 3 == 0)
            painter.drawEllipse(QRect(w / 5 + seed % 7 * 5, h / 5, w / 2, h / 2));
        else if (seed % 3 == 1)
            painter.drawRect(QRect(w / 4, h / 4 + seed % 5 * 6, w / 2, h / 3));
        else
            painter.drawPolygon(
                QPolygon({QPoint(w / 2, h / 8), QPoint(w / 8, h * 7 / 8), QPoint(w * 7 / 8, h * 7 / 8)}));
        painter.setPen(QPen(QColor::fromHsv(seed * 31 % 360, 255, 80), 3 + seed % 4));
        for (int x = 0; x < w; x += 16 + seed % 9 * 4)
            painter.drawLine(x, 0, x + h / 3, h);
        painter.end();
        const QString file = QStringLiteral("%1/photo_%2.jpg").arg(dir).arg(seed, 4, 10, QLatin1Char('0'));
        QVERIFY(image.save(file, "JPEG", 90));
        const time_t when = 1'600'000'000 - static_cast<time_t>(seed) * 86'400;
        const timeval times[2] = {{when, 0}, {when, 0}};
        QCOMPARE(utimes(file.toLocal8Bit().constData(), times), 0);
    }
}

QList<qint64> cliIds(const QStringList& args)
{
    QProcess process;
    process.start(QStringLiteral(PICTOR_BINARY), args);
    if (!process.waitForFinished(120'000) || process.exitCode() != 0) {
        qWarning() << "pictor" << args << "failed:" << process.readAllStandardError();
        return {};
    }
    QList<qint64> ids;
    for (const QJsonValue& hit : QJsonDocument::fromJson(process.readAllStandardOutput()).array())
        ids.append(hit.toObject().value(QStringLiteral("id")).toInteger());
    return ids;
}

QList<qint64> shownIds(MainWindow& window)
{
    GalleryModel* model = window.galleryModel();
    while (model->canFetchMore({}))
        model->fetchMore({});
    QList<qint64> ids;
    for (int row = 0; row < model->rowCount(); ++row)
        ids.append(model->idAt(row));
    return ids;
}

// Waits until `signal` of `window` has been emitted once more than when called.
template <class Signal> bool waitForSignal(MainWindow& window, Signal signal, int timeoutMs = 60'000)
{
    int count = 0;
    const auto connection = QObject::connect(&window, signal, &window, [&count] { ++count; });
    QElapsedTimer timer;
    timer.start();
    while (count == 0 && timer.elapsed() < timeoutMs)
        QTest::qWait(5);
    QObject::disconnect(connection);
    return count > 0;
}

bool waitForSearch(MainWindow& window)
{
    return waitForSignal(window, &MainWindow::searchFinished);
}

void dropFile(QWidget* target, const QString& file)
{
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(file)});
    const QPoint at = target->rect().center();
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &drop);
}

MainWindow::Options optionsFor(const QString& library)
{
    return {std::filesystem::path(library.toStdString()),
        [](ModelRegistry& registry) { app::loadModelFamilies(registry); }};
}

class UrlRecorder : public QObject {
    Q_OBJECT
public:
    QList<QUrl> urls;
public slots:
    void open(const QUrl& url) { urls.append(url); }
};

// A second CLIP model: the fixture's weights under a config with one more key, so its model id (a hash
// of config and tensors) differs and the library needs its embeddings.
QString copyAsNewModel(const QString& fixture, const QString& dir)
{
    QDir().mkpath(dir);
    for (const QFileInfo& file : QDir(fixture).entryInfoList(QDir::Files))
        QFile::copy(file.filePath(), dir + QLatin1Char('/') + file.fileName());
    QFile config(dir + QStringLiteral("/config.json"));
    if (!config.open(QIODevice::ReadOnly))
        return {};
    QJsonObject json = QJsonDocument::fromJson(config.readAll()).object();
    config.close();
    json.insert(QStringLiteral("_name_or_path"), QFileInfo(dir).fileName());
    if (!config.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return {};
    config.write(QJsonDocument(json).toJson());
    return dir;
}

} // namespace

class GuiTest : public QObject {
    Q_OBJECT
private slots:
    void init();
    void firstPaintIsQuick();
    void browsesWithoutModelAndSaysWhatIsMissing();
    void searchesLikeTheCli();
    void contextMenuActions();
    void settingsPersist();
    void staysResponsiveWhileIndexing();
    void changingTheModelReindexesInTheBackground();
    void foldersDroppedOnTheWindowJoinTheLibrary();
    void aFailingIndexRunEndsWithItsErrorAndTheNextResumes();
    void aFolderAddedBeforeTheModelIsIndexedOnceOneIsChosen();
    void aFolderThatReadsEmptyIsOfflineNotDeleted();
    void aDamagedCatalogIsShownAndNeverWritten();
    void aFoldersFilesNotIndexedAreShownWithTheirReasons();
    void photosVanishedAtOnceAreKeptUntilTheUserForgetsThem();
    void aBusyCatalogFailsTheJobClearlyAndLosesNothing();
    void aFullDiskFailsTheJobClearlyAndLosesNothing();
    void theWindowFollowsItsFoldersByItself();
    void changesMadeWhileClosedAreFoundAtStart();
    void tagsFromTheContextMenuAreListedAndFilter();
    void duplicatesAreGroupedAndTheBestKept();
    void aFinishingJobLeavesTheViewerOpen();
    void theCameraFilterIsLiveAndLabelsAreDistinct();
    void helpMenuAndDarkMode();
    void theFilterRowStaysPutWhenNothingMatches();
    void escapeInAPopUpClosesThePopUpOnly();
    void cameraRawPhotosAreShownAndPairedWithTheirJpeg();
    void autoTagsArePreviewedAppliedAnsweredAndFollowNewPhotos();

private:
    void waitForIndexing(MainWindow& window);
    // `count` generated photos in `photos`, added through the window on `library` and indexed with the
    // fixture model (the model chosen in the settings first).
    void openIndexedWindow(std::optional<MainWindow>& window, const QString& photos, const QString& library,
        int count, QSize size);
    void waitForIndexingAllowingCancelled(MainWindow& window);
    QString fixtureModel() const { return QString::fromStdString(test::fixtureDir("clip-tiny-a").string()); }
    std::unique_ptr<QTemporaryDir> scratch_;
};

void GuiTest::init()
{
    scratch_ = std::make_unique<QTemporaryDir>();
    QVERIFY(scratch_->isValid());
}

void GuiTest::waitForIndexing(MainWindow& window)
{
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobs()->busy(), kIndexTimeoutMs);
    QTimer::singleShot(0, &window, &MainWindow::reloadLibrary);
    QVERIFY(waitForSignal(window, &MainWindow::listingReloaded));
    for (const JobInfo& job : window.jobs()->jobs())
        QVERIFY2(job.state == JobInfo::State::Done, qPrintable(job.label + ": " + job.message));
}

// The time from process start to the window's first paint, as `pictor` prints it with PICTOR_REPORT_STARTUP;
// -1 when it never painted (the output then goes to the log).
static int timeToFirstPaint(const QString& library)
{
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("PICTOR_REPORT_STARTUP"), QStringLiteral("1"));
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(PICTOR_BINARY), {QStringLiteral("--library"), library});
    QByteArray err;
    QElapsedTimer timer;
    timer.start();
    while (
        !err.contains("first paint") && timer.elapsed() < 20'000 && process.state() != QProcess::NotRunning) {
        process.waitForReadyRead(100);
        err += process.readAllStandardError();
    }
    process.terminate();
    process.waitForFinished(10'000);
    const auto at = err.indexOf("first paint ");
    if (at < 0) {
        qWarning() << err;
        return -1;
    }
    return err.mid(at + 12).split(' ').front().toInt();
}

// Best of up to three starts: on the shared 2-core machine a start that coincides with a compiler or another
// test's indexing can take longer than the window needs on its own (seen: 1000 ms at load 5.7).
void GuiTest::openIndexedWindow(
    std::optional<MainWindow>& window, const QString& photos, const QString& library, int count, QSize size)
{
    makePhotos(photos, count, size);
    AppSettings().setModelDir(fixtureModel());
    window.emplace(optionsFor(library));
    window->show();
    QVERIFY(QTest::qWaitForWindowExposed(&*window));
    window->addFolders({photos});
    waitForIndexing(*window);
}

void GuiTest::waitForIndexingAllowingCancelled(MainWindow& window)
{
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobs()->busy(), kIndexTimeoutMs);
    for (const JobInfo& job : window.jobs()->jobs())
        QVERIFY2(job.state == JobInfo::State::Done || job.state == JobInfo::State::Cancelled,
            qPrintable(job.label + ": " + job.message));
}

void GuiTest::firstPaintIsQuick()
{
    int best = -1;
    for (int attempt = 0; attempt < 3 && (best < 0 || best >= 1000); ++attempt) {
        const int ms = timeToFirstPaint(scratch_->filePath("library"));
        QVERIFY2(ms >= 0, "the window never painted");
        std::printf("time to first paint of `pictor` (process start -> window painted): %d ms\n", ms);
        best = best < 0 ? ms : std::min(best, ms);
    }
    QVERIFY2(best < 1000, "the window must appear within a second");
}

void GuiTest::browsesWithoutModelAndSaysWhatIsMissing()
{
    const QString photos = scratch_->filePath("photos");
    makePhotos(photos, 12, {320, 240});
    MainWindow window(optionsFor(scratch_->filePath("library")));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.windowTitle().contains(QStringLiteral("Pictor")));
    QTRY_VERIFY_WITH_TIMEOUT(window.listingLoaded(), 10'000);
    QCOMPARE(window.findChild<QStackedWidget*>()->currentWidget()->objectName(), QStringLiteral("welcome"));

    window.addFolders({photos});
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobs()->busy(), 60'000);
    QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->librarySize(), std::size_t(12), 30'000);
    // Browsing works without a model: newest first by file date.
    qint64 previous = std::numeric_limits<qint64>::max();
    for (int row = 0; row < window.galleryModel()->rowCount(); ++row) {
        const qint64 date = window.galleryModel()->index(row).data(GalleryModel::DateRole).toLongLong();
        QVERIFY(date <= previous);
        previous = date;
    }
    QVERIFY(window.galleryModel()->pathAt(0).endsWith(QStringLiteral("photo_0000.jpg")));
    QVERIFY(window.jobs()->jobs().back().message.contains(QStringLiteral("embedding model")));

    window.searchBar()->setText(QStringLiteral("a red circle"));
    QVERIFY(waitForSearch(window));
    QVERIFY2(window.searchMessage().contains(QStringLiteral("needs an embedding model")),
        qPrintable(window.searchMessage()));
    QVERIFY(window.searchMessage().contains(QStringLiteral("Settings")));
}

void GuiTest::searchesLikeTheCli()
{
    const QString photos = scratch_->filePath("photos");
    const QString library = scratch_->filePath("library");
    const QString outside = scratch_->filePath("outside");
    makePhotos(outside, 1, {400, 300}, 1000);
    const QString dropped = outside + QStringLiteral("/photo_1000.jpg");
    std::optional<MainWindow> opened;
    openIndexedWindow(opened, photos, library, 40, {400, 300});
    if (QTest::currentTestFailed())
        return;
    MainWindow& window = *opened;
    QCOMPARE(window.galleryModel()->librarySize(), std::size_t(40));
    // The status bar names the number format picked for this CPU, and why.
    QFile cpuinfo(QStringLiteral("/proc/cpuinfo"));
    QVERIFY(cpuinfo.open(QIODevice::ReadOnly));
    const bool nativeBfloat16 = cpuinfo.readAll().contains(" avx512_bf16");
    const QString modelStatus = window.findChild<QLabel*>(QStringLiteral("modelLabel"))->text();
    QVERIFY2(
        modelStatus.contains(nativeBfloat16 ? QStringLiteral("CPU bfloat16: native on this CPU")
                                            : QStringLiteral("CPU float32: this CPU has no native bfloat16")),
        qPrintable(modelStatus));

    const QStringList base {QStringLiteral("search"), QStringLiteral("--library"), library,
        QStringLiteral("--json"), QStringLiteral("--limit"), QStringLiteral("200")};
    // Text.
    window.searchBar()->setText(QStringLiteral("a blue circle on a red background"));
    QVERIFY(waitForSearch(window));
    QVERIFY2(window.searchMessage().isEmpty(), qPrintable(window.searchMessage()));
    const QList<qint64> text
        = cliIds(base + QStringList {QStringLiteral("a blue circle on a red background")});
    QCOMPARE(text.size(), 40);
    QCOMPARE(shownIds(window), text);
    QVERIFY(window.galleryModel()
                ->index(0)
                .data(GalleryModel::WhyRole)
                .toString()
                .contains(QStringLiteral("score")));
    QVERIFY(window.galleryModel()
                ->index(0)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("vector score")));

    // Cutoff: the same ids as --min-score, every score above it.
    // (the slider has steps of 0.01: take the lowest-ranked of the first ten hits that leaves a positive
    // cutoff)
    double cutoff = 0;
    for (int row = 10; row > 0 && cutoff <= 0; --row)
        cutoff = std::floor(window.galleryModel()->index(row).data(GalleryModel::ScoreRole).toDouble() * 100)
            / 100;
    QVERIFY2(cutoff > 0, "the best hits of the fixture model score above 0.01");
    window.filterBar()->setMinScore(cutoff);
    QVERIFY(waitForSearch(window));
    const QList<qint64> cut = cliIds(base
        + QStringList {QStringLiteral("--min-score"), QString::number(window.filterBar()->minScore()),
            QStringLiteral("a blue circle on a red background")});
    QVERIFY(cut.size() < 40 && !cut.isEmpty());
    for (int row = 0; row < window.galleryModel()->rowCount(); ++row)
        QVERIFY(window.galleryModel()->index(row).data(GalleryModel::ScoreRole).toDouble() >= cutoff);
    QCOMPARE(shownIds(window), cut);
    window.filterBar()->setMinScore(0);
    QVERIFY(waitForSearch(window));

    // Date sort: newest first, as --sort date.
    window.filterBar()->setSortByDate(true);
    QVERIFY(waitForSearch(window));
    const QList<qint64> byDate = cliIds(base
        + QStringList {QStringLiteral("--sort"), QStringLiteral("date"),
            QStringLiteral("a blue circle on a red background")});
    QCOMPARE(shownIds(window), byDate);
    for (int row = 1; row < window.galleryModel()->rowCount(); ++row)
        QVERIFY(window.galleryModel()->index(row - 1).data(GalleryModel::DateRole).toLongLong()
            >= window.galleryModel()->index(row).data(GalleryModel::DateRole).toLongLong());
    window.filterBar()->setSortByDate(false);
    QVERIFY(waitForSearch(window));

    // A photo dropped from outside the library: the same as --image.
    window.searchBar()->clear(); // back to browsing at once
    dropFile(window.searchBar(), dropped);
    QVERIFY(waitForSearch(window));
    QCOMPARE(shownIds(window), cliIds(base + QStringList {QStringLiteral("--image"), dropped}));

    // Photo + text with the weight slider: the same as --image F --weight W TEXT.
    window.searchBar()->setTextWeight(0.3);
    window.searchBar()->setText(QStringLiteral("at night"));
    QVERIFY(waitForSearch(window));
    QCOMPARE(shownIds(window),
        cliIds(base
            + QStringList {QStringLiteral("--image"), dropped, QStringLiteral("--weight"),
                QStringLiteral("0.3"), QStringLiteral("at night")}));

    // Type-to-results: keystrokes in the field until the results are painted (debounce included).
    std::vector<double> latencies;
    for (const char* query : {"sunset", "a dog", "green field", "red", "snow", "city at night", "beach",
             "cat", "tree", "blue sky", "car"}) {
        window.searchBar()->clear();
        QTest::keyClicks(window.searchBar()->lineEdit(), QString::fromLatin1(query));
        QVERIFY(waitForSearch(window));
        latencies.push_back(window.lastSearchLatencyMs());
    }
    std::sort(latencies.begin(), latencies.end());
    std::printf(
        "type-to-results (last key -> results painted, %d ms debounce included), %zu queries, %zu photos: "
        "median %.1f ms, max %.1f ms\n",
        SearchBar::kDebounceMs, latencies.size(), window.galleryModel()->librarySize(),
        latencies[latencies.size() / 2], latencies.back());
    QVERIFY(latencies[latencies.size() / 2] < 1000);
}

void GuiTest::contextMenuActions()
{
    const QString photos = scratch_->filePath("photos");
    const QString library = scratch_->filePath("library");
    std::optional<MainWindow> opened;
    openIndexedWindow(opened, photos, library, 16, {320, 240});
    if (QTest::currentTestFailed())
        return;
    MainWindow& window = *opened;
    const int row = 3;
    const QString path = window.galleryModel()->pathAt(row);
    const qint64 id = window.galleryModel()->idAt(row);
    QVERIFY(id > 0);

    auto action = [&](const char* name) {
        QMenu* menu = window.contextMenuFor(row);
        QAction* found = nullptr;
        for (QAction* candidate : menu->actions())
            if (candidate->objectName() == QLatin1String(name))
                found = candidate;
        if (found)
            found->trigger();
        menu->deleteLater();
        return found != nullptr;
    };

    QVERIFY(action("copyPath"));
    QCOMPARE(QApplication::clipboard()->text(), path);

    UrlRecorder recorder;
    QDesktopServices::setUrlHandler(QStringLiteral("file"), &recorder, "open");
    QVERIFY(action("openFolder"));
    QDesktopServices::unsetUrlHandler(QStringLiteral("file"));
    QCOMPARE(recorder.urls, QList<QUrl> {QUrl::fromLocalFile(QFileInfo(path).absolutePath())});

    QVERIFY(action("revealInViewer"));
    QCOMPARE(window.findChild<QStackedWidget*>()->currentWidget(), window.viewer());
    QCOMPARE(window.viewer()->path(), path);
    QTRY_VERIFY_WITH_TIMEOUT(window.viewer()->infoText().contains(QStringLiteral("Dimensions")), 10'000);
    QVERIFY(window.viewer()->infoText().contains(QStringLiteral("320 × 240")));
    QVERIFY(window.viewer()->infoText().contains(path));
    window.viewer()->next();
    QCOMPARE(window.viewer()->row(), row + 1);
    window.viewer()->previous();
    QCOMPARE(window.viewer()->path(), path);
    window.viewer()->setFitToWindow(false);
    QVERIFY(!window.viewer()->fitToWindow());
    QTest::keyClick(window.viewer(), Qt::Key_Escape);
    QCOMPARE(window.findChild<QStackedWidget*>()->currentWidget()->objectName(),
        window.gallery()->parentWidget()->objectName());

    // Find similar: the photo itself comes first, as `pictor search --photo ID`.
    QSignalSpy finished(&window, &MainWindow::searchFinished);
    QVERIFY(action("findSimilar"));
    QTRY_VERIFY_WITH_TIMEOUT(!window.searchRunning() && finished.count() > 0, 60'000);
    QCOMPARE(window.galleryModel()->idAt(0), id);
    QCOMPARE(shownIds(window),
        cliIds({QStringLiteral("search"), QStringLiteral("--library"), library, QStringLiteral("--json"),
            QStringLiteral("--limit"), QStringLiteral("200"), QStringLiteral("--photo"),
            QString::number(id)}));

    // Search with this photo + text: a chip plus words.
    window.searchBar()->clear(); // back to browsing at once
    QVERIFY(action("searchWithPhoto"));
    QCOMPARE(window.searchBar()->photos().size(), std::size_t(1));
    QCOMPARE(window.searchBar()->photos().front().photoId.value_or(0), id);
    QVERIFY(window.searchBar()->lineEdit()->hasFocus() || !window.isActiveWindow());

    // Ctrl+C copies the selected paths; Delete removes from the library after confirmation, never the file.
    window.searchBar()->clear(); // back to browsing at once
    window.gallery()->setFocus();
    window.gallery()->setCurrentIndex(window.galleryModel()->index(0));
    const QString first = window.galleryModel()->pathAt(0);
    QTest::keyClick(window.gallery(), Qt::Key_C, Qt::ControlModifier);
    QCOMPARE(QApplication::clipboard()->text(), first);
    QTimer::singleShot(200, [] {
        if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget()))
            box->button(QMessageBox::Yes)->click();
    });
    QTest::keyClick(window.gallery(), Qt::Key_Delete);
    waitForIndexing(window);
    QCOMPARE(window.galleryModel()->librarySize(), std::size_t(15));
    QVERIFY(QFileInfo::exists(first));
}

void GuiTest::settingsPersist()
{
    {
        AppSettings settings;
        settings.setLibraryDir(QStringLiteral("/srv/photos-library"));
        settings.setModelsDir(QStringLiteral("/srv/models"));
        settings.setModelDir(fixtureModel());
        settings.setDevice(QStringLiteral("cpu"));
        settings.setNumberFormat(QStringLiteral("bfloat16"));
        settings.setCpuThreads(3);
        settings.setModelMemoryGB(6);
        settings.setModelIdleMinutes(3);
        settings.setExcludedPatterns({QStringLiteral("2019/raw"), QStringLiteral("*.tmp.jpg")});
        settings.setThumbnailSize(200);
        settings.setSavedSearches({{QStringLiteral("Beach"), QStringLiteral("sunset on a beach")}});
        settings.sync();
    }
    AppSettings again;
    QCOMPARE(again.libraryDir(), QStringLiteral("/srv/photos-library"));
    QCOMPARE(again.modelsDir(), QStringLiteral("/srv/models"));
    QCOMPARE(again.modelDir(), fixtureModel());
    QCOMPARE(again.device(), QStringLiteral("cpu"));
    QCOMPARE(again.numberFormat(), QStringLiteral("bfloat16"));
    QCOMPARE(again.cpuThreads(), 3);
    QCOMPARE(again.modelMemoryGB(), 6);
    QCOMPARE(again.modelIdleMinutes(), 3);
    QCOMPARE(
        again.excludedPatterns(), (QStringList {QStringLiteral("2019/raw"), QStringLiteral("*.tmp.jpg")}));
    QCOMPARE(again.thumbnailSize(), 200);
    QCOMPARE(again.savedSearches().size(), 1);
    QVERIFY(
        QFileInfo(qEnvironmentVariable("XDG_CONFIG_HOME") + QStringLiteral("/pictor/pictor.ini")).isFile());

    // Window geometry comes back.
    QRect geometry;
    {
        MainWindow window(optionsFor(scratch_->filePath("library")));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.resize(1013, 677);
        QTest::qWait(50);
        geometry = window.geometry();
        window.close();
    }
    MainWindow window(optionsFor(scratch_->filePath("library")));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.size(), geometry.size());
    QCOMPARE(window.host()->budget(), std::uint64_t {6'000'000'000}); // the model host's memory budget
    QCOMPARE(window.host()->idleTime(), std::chrono::seconds(180));
    QLabel* memory = window.findChild<QLabel*>(QStringLiteral("modelMemory"));
    QVERIFY(memory && memory->text().endsWith(QStringLiteral("of 6.0 GB")));
}

void GuiTest::staysResponsiveWhileIndexing()
{
    const QString photos = scratch_->filePath("photos");
    const QString library = scratch_->filePath("library");
    const int count = qEnvironmentVariableIntValue("PICTOR_GUI_STALL_PHOTOS") > 0
        ? qEnvironmentVariableIntValue("PICTOR_GUI_STALL_PHOTOS")
        : 400;
    makePhotos(photos, count, {1600, 1200});
    AppSettings().setModelDir(fixtureModel());
    MainWindow window(optionsFor(library));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTRY_VERIFY_WITH_TIMEOUT(window.listingLoaded(), 10'000);

    // A 10 ms heartbeat: the longest gap between two beats is the longest stall of the event loop.
    QElapsedTimer clock;
    clock.start();
    qint64 last = 0, longest = 0, longestOwn = 0, beats = 0;
    QTimer heartbeat;
    heartbeat.setTimerType(Qt::PreciseTimer);
    heartbeat.setInterval(10);
    const bool explain = qEnvironmentVariableIsSet("PICTOR_GUI_STALL_LOG");
    rusage lastUsage {};
    std::atomic<bool> measuring {false};
    std::atomic<qint64> lastBeat {0};
    long long lastRunDelayNs = 0;
    auto runDelayNs = [] {
        // /proc/thread-self/schedstat: on-CPU ns, ns waiting for a CPU while runnable, timeslices.
        long long onCpu = 0, waiting = 0;
        if (FILE* file = std::fopen("/proc/thread-self/schedstat", "r")) {
            if (std::fscanf(file, "%lld %lld", &onCpu, &waiting) != 2)
                waiting = 0;
            std::fclose(file);
        }
        return waiting;
    };
    QObject::connect(&heartbeat, &QTimer::timeout, [&] {
        const qint64 now = clock.elapsed();
        rusage usage {};
        getrusage(RUSAGE_THREAD, &usage);
        const long long runDelay = runDelayNs();
        if (measuring) {
            longest = std::max(longest, now - last);
            // The part of the gap this process is answerable for: the time the kernel kept the runnable GUI
            // thread off the CPUs (other processes on a loaded machine) is not the app blocking.
            const qint64 runnableMs = (runDelay - lastRunDelayNs) / 1'000'000;
            longestOwn = std::max(longestOwn, now - last - runnableMs);
            ++beats;
            // What a long gap was made of: this thread's CPU time, and how often it waited (voluntary
            // switches) or was preempted (involuntary ones).
            if (explain && now - last >= 30) {
                auto cpuUs = [](const rusage& u) {
                    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1'000'000LL + u.ru_utime.tv_usec
                        + u.ru_stime.tv_usec;
                };
                std::fprintf(stderr,
                    "gap %lld ms: GUI thread cpu %lld ms, runnable without a CPU %lld ms, %ld waits, %ld "
                    "preemptions\n",
                    static_cast<long long>(now - last), (cpuUs(usage) - cpuUs(lastUsage)) / 1000,
                    (runDelay - lastRunDelayNs) / 1'000'000, usage.ru_nvcsw - lastUsage.ru_nvcsw,
                    usage.ru_nivcsw - lastUsage.ru_nivcsw);
            }
        }
        last = now;
        lastBeat = now;
        lastUsage = usage;
        lastRunDelayNs = runDelay;
    });
    // A watchdog thread says where the GUI thread sleeps during a long gap (kernel wait channel and the
    // system call it is blocked in).
    std::atomic<bool> watching {explain};
    const pid_t guiThread = gettid();
    if (explain) {
        void* warmUp[1];
        backtrace(warmUp, 1);
        std::signal(SIGUSR2, printStack);
    }
    std::thread watchdog([&] {
        qint64 reported = -1;
        while (watching) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            const qint64 beat = lastBeat;
            if (!measuring || clock.elapsed() - beat < 40 || beat == reported)
                continue;
            reported = beat;
            auto readProc = [&](const char* name) {
                QFile file(QStringLiteral("/proc/self/task/%1/%2").arg(guiThread).arg(QLatin1String(name)));
                return file.open(QIODevice::ReadOnly) ? file.readAll().trimmed() : QByteArray();
            };
            std::fprintf(stderr, "GUI thread silent for 40 ms: wchan %s, syscall %s\n",
                readProc("wchan").constData(), readProc("syscall").left(40).constData());
            tgkill(getpid(), guiThread, SIGUSR2); // its handler prints the GUI thread's stack
        }
    });
    auto stopWatchdog = qScopeGuard([&] {
        watching = false;
        watchdog.join();
    });
    // Meanwhile the user scrolls and searches.
    QTimer user;
    user.setInterval(250);
    int step = 0;
    QObject::connect(&user, &QTimer::timeout, [&] {
        QScrollBar* bar = window.gallery()->verticalScrollBar();
        bar->setValue((bar->value() + bar->pageStep()) % (bar->maximum() + 1));
        if (++step % 4 == 0)
            window.searchBar()->setText(QStringLiteral("query %1").arg(step));
    });
    window.addFolders({photos});
    heartbeat.start();
    user.start();
    QTest::qWait(20);
    last = clock.elapsed(); // the wait above is the test's, not the app's
    measuring = true;
    QElapsedTimer job;
    job.start();
    // A real event loop, as the app's: QTRY_VERIFY's qWait sleeps 10 ms between event batches, and that
    // sleep (not the app) made the longest gaps when the machine is loaded.
    QEventLoop loop;
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (!window.jobs()->busy() || job.elapsed() > kIndexTimeoutMs)
            loop.quit();
    });
    poll.start(50);
    loop.exec();
    poll.stop();
    QVERIFY(!window.jobs()->busy());
    measuring = false;
    user.stop();
    heartbeat.stop();
    std::printf(
        "longest event-loop stall while indexing %d photos of 1600x1200 (%.1f s, %lld heartbeats of 10 ms, "
        "scrolling and searching meanwhile): %lld ms; without the time the GUI thread waited for a CPU: "
        "%lld ms\n",
        count, job.elapsed() / 1000.0, static_cast<long long>(beats), static_cast<long long>(longest),
        static_cast<long long>(longestOwn));
    QCOMPARE(window.jobs()->jobs().front().state, JobInfo::State::Done);
    QVERIFY(beats > 50);
    QVERIFY2(longestOwn < 50, "the GUI thread stalled for 50 ms or more");
}

// Choosing another embedding model re-indexes the library in the background; searches keep using the old
// model and its index until the new one is complete, then switch. A cancelled re-index switches nothing.
void GuiTest::changingTheModelReindexesInTheBackground()
{
    const QString photos = scratch_->filePath("photos");
    const QString library = scratch_->filePath("library");
    std::optional<MainWindow> opened;
    openIndexedWindow(opened, photos, library, 12, {320, 240});
    if (QTest::currentTestFailed())
        return;
    MainWindow& window = *opened;
    const std::filesystem::path libraryDir = library.toStdString();
    QCOMPARE(Library::rememberedModelDir(libraryDir).value_or(std::filesystem::path()),
        std::filesystem::path(fixtureModel().toStdString()));

    const QString modelB = copyAsNewModel(fixtureModel(), scratch_->filePath("clip-tiny-b"));
    QVERIFY(!modelB.isEmpty());
    // Hold the job thread, so the re-index stays queued while the window searches.
    std::atomic<bool> release {false};
    auto hold = [&release](Library&, const std::atomic<bool>& cancel, const auto&) {
        while (!release && !cancel)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return JobOutcome {};
    };
    window.jobs()->enqueueWork(QStringLiteral("hold"), hold);
    window.useEmbeddingModel(modelB);
    const auto reindexJob = [&window]() -> const JobInfo* {
        for (const JobInfo& job : window.jobs()->jobs())
            if (job.label.contains(QStringLiteral("Re-index for model clip-tiny-b")))
                return &job;
        return nullptr;
    };
    QVERIFY(reindexJob() && !reindexJob()->finished());
    window.useEmbeddingModel(modelB); // no second job for the same change
    QCOMPARE(std::count_if(window.jobs()->jobs().begin(), window.jobs()->jobs().end(),
                 [](const JobInfo& job) { return job.label.startsWith(QStringLiteral("Re-index")); }),
        1);

    // Meanwhile the old model and its index serve searches.
    window.searchBar()->setText(QStringLiteral("a red circle"));
    QVERIFY(waitForSearch(window));
    QVERIFY2(window.searchMessage().isEmpty(), qPrintable(window.searchMessage()));
    QCOMPARE(shownIds(window).size(), 12);
    QTRY_VERIFY_WITH_TIMEOUT(
        window.modelLabel()->text().contains(QStringLiteral("switches to clip-tiny-b")), 10'000);
    QVERIFY2(window.modelLabel()->text().contains(QStringLiteral("clip-tiny-a")),
        qPrintable(window.modelLabel()->text()));
    QCOMPARE(Library::rememberedModelDir(libraryDir).value_or(std::filesystem::path()),
        std::filesystem::path(fixtureModel().toStdString()));

    // The re-index completes: the library and the searches switch to the new model.
    release = true;
    waitForIndexing(window);
    QCOMPARE(Library::rememberedModelDir(libraryDir).value_or(std::filesystem::path()),
        std::filesystem::path(modelB.toStdString()));
    QVERIFY2(
        reindexJob()->message.startsWith(QStringLiteral("indexed 12,")), qPrintable(reindexJob()->message));
    window.searchBar()->setText(QStringLiteral("a blue square"));
    QVERIFY(waitForSearch(window));
    QVERIFY2(window.searchMessage().isEmpty(), qPrintable(window.searchMessage()));
    QCOMPARE(shownIds(window).size(), 12);
    QTRY_VERIFY_WITH_TIMEOUT(window.modelLabel()->text().contains(QStringLiteral("clip-tiny-b")), 10'000);
    QVERIFY2(!window.modelLabel()->text().contains(QStringLiteral("switches")),
        qPrintable(window.modelLabel()->text()));

    // Back to the first model, re-index cancelled before it ran: the library keeps the second.
    release = false;
    window.jobs()->enqueueWork(QStringLiteral("hold"), hold);
    window.useEmbeddingModel(fixtureModel());
    const JobInfo* back = &window.jobs()->jobs().back();
    QVERIFY(back->label.contains(QStringLiteral("Re-index for model clip-tiny-a")));
    window.jobs()->cancel(back->id);
    release = true;
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobs()->busy(), kIndexTimeoutMs);
    QCOMPARE(Library::rememberedModelDir(libraryDir).value_or(std::filesystem::path()),
        std::filesystem::path(modelB.toStdString()));

    // A change of mind while a re-index waits: the pending one is cancelled, the last choice wins.
    const QString modelC = copyAsNewModel(fixtureModel(), scratch_->filePath("clip-tiny-c"));
    release = false;
    window.jobs()->enqueueWork(QStringLiteral("hold"), hold);
    window.useEmbeddingModel(fixtureModel());
    const int abandoned = window.jobs()->jobs().back().id;
    window.useEmbeddingModel(modelC);
    QVERIFY(window.jobs()->jobs().back().label.contains(QStringLiteral("Re-index for model clip-tiny-c")));
    release = true;
    waitForIndexingAllowingCancelled(window);
    QCOMPARE(window.jobs()->job(abandoned)->state, JobInfo::State::Cancelled);
    QCOMPARE(Library::rememberedModelDir(libraryDir).value_or(std::filesystem::path()),
        std::filesystem::path(modelC.toStdString()));

    // An unreadable library.json: no crash, no job, and searching names the file.
    QFile settingsFile(library + QStringLiteral("/library.json"));
    QVERIFY(settingsFile.open(QIODevice::WriteOnly | QIODevice::Truncate));
    settingsFile.write("{\"model\": ");
    settingsFile.close();
    const auto jobCount = window.jobs()->jobs().size();
    window.useEmbeddingModel(modelB);
    QCOMPARE(window.jobs()->jobs().size(), jobCount);
    window.searchBar()->setText(QStringLiteral("a green triangle"));
    // (the search the last job's end queued for the previous text may report first)
    QTRY_VERIFY2_WITH_TIMEOUT(window.searchMessage().contains(QStringLiteral("library.json")),
        qPrintable(window.searchMessage()), 30'000);
}

// A folder dropped anywhere on the window (here the welcome page) joins the library; a file does not.
void GuiTest::foldersDroppedOnTheWindowJoinTheLibrary()
{
    const QString photos = scratch_->filePath("dropped photos");
    makePhotos(photos, 3, {160, 120});
    MainWindow window(optionsFor(scratch_->filePath("library")));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTRY_VERIFY_WITH_TIMEOUT(window.listingLoaded(), 10'000);
    QWidget* welcome = window.findChild<QStackedWidget*>()->currentWidget();
    QCOMPARE(welcome->objectName(), QStringLiteral("welcome"));
    auto drop = [welcome](const QString& path) {
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(path)});
        const QPoint at = welcome->rect().center();
        QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(welcome, &enter);
        if (!enter.isAccepted())
            return false;
        QDropEvent dropEvent(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(welcome, &dropEvent);
        return dropEvent.isAccepted();
    };
    QVERIFY(!drop(photos + QStringLiteral("/photo_0000.jpg")));
    QVERIFY(window.jobs()->jobs().isEmpty());
    QVERIFY(drop(photos));
    QCOMPARE(window.jobs()->jobs().size(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobs()->busy(), 60'000);
    QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->librarySize(), std::size_t(3), 30'000);
}

// Settings, thumbnails and the default library stay in a folder of this process: the variables are set
// before QApplication exists (Qt reads the config location once).
// With PICTOR_GUI_STALL_LOG set, every event that takes 10 ms or more on the GUI thread is logged with
// its receiver and type: the way to find what a stall is made of.
class TimedApplication : public QApplication {
public:
    using QApplication::QApplication;
    bool notify(QObject* receiver, QEvent* event) override
    {
        if (!logging_ || depth_ > 0)
            return QApplication::notify(receiver, event);
        ++depth_;
        QElapsedTimer timer;
        timer.start();
        const QEvent::Type type = event->type();
        const bool result = QApplication::notify(receiver, event);
        const qint64 ms = timer.elapsed();
        --depth_;
        if (ms >= 10)
            std::fprintf(stderr, "stall %lld ms: event %d to %s \"%s\"\n", static_cast<long long>(ms),
                static_cast<int>(type), receiver->metaObject()->className(),
                qPrintable(receiver->objectName()));
        return result;
    }

private:
    bool logging_ = qEnvironmentVariableIsSet("PICTOR_GUI_STALL_LOG");
    int depth_ = 0;
};

int main(int argc, char** argv)
{
    QTemporaryDir home;
    for (const char* variable : {"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"})
        qputenv(variable, (home.path() + '/' + QString::fromLatin1(variable)).toLocal8Bit());
    TimedApplication app(argc, argv);
    GuiTest test;
    return QTest::qExec(&test, argc, argv);
}
#include "gui_test.moc"

// The embedding model fails after two batches (a GPU lost mid-run): the job ends as failed with the model's
// error in the status line, the window goes on (browsing, searching what was committed), and a re-scan
// indexes the rest.
void GuiTest::aFailingIndexRunEndsWithItsErrorAndTheNextResumes()
{
    const QString photos = scratch_->filePath("photos");
    makePhotos(photos, 40, {48, 40});
    AppSettings().setModelDir(fixtureModel());
    MainWindow::Options options = optionsFor(scratch_->filePath("library"));
    options.loadFamilies = [](ModelRegistry& registry) {
        auto real = std::make_shared<ModelRegistry>();
        app::loadModelFamilies(*real);
        app::loadModelFamilies(registry);
        registry.registerEmbedder(
            "clip", [real](const std::filesystem::path& dir, const EmbedderOptions& opts) {
                return std::make_unique<test::WrappedEmbedder>(real->loadEmbedder(dir, opts), 2);
            });
    };
    MainWindow window(std::move(options));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTRY_VERIFY_WITH_TIMEOUT(window.listingLoaded(), 10'000);
    const int job = window.jobs()->addFolders({photos});
    QTRY_VERIFY_WITH_TIMEOUT(window.jobs()->job(job)->finished(), kIndexTimeoutMs);
    const JobInfo failed = *window.jobs()->job(job);
    QCOMPARE(failed.state, JobInfo::State::Failed);
    QVERIFY2(failed.message.contains(QStringLiteral("the accelerator was lost")), qPrintable(failed.message));
    auto* status = window.findChild<JobStatusWidget*>(QStringLiteral("jobStatus"));
    QVERIFY(status);
    QTRY_VERIFY2(
        status->text().contains(QStringLiteral("the accelerator was lost")), qPrintable(status->text()));

    // The window goes on: the committed photos are listed and searchable.
    QTimer::singleShot(0, &window, &MainWindow::reloadLibrary);
    QVERIFY(waitForSignal(window, &MainWindow::listingReloaded));
    QCOMPARE(window.galleryModel()->librarySize(), std::size_t(40)); // every photo was catalogued
    window.searchBar()->setText(QStringLiteral("a photo"));
    QVERIFY(waitForSignal(window, &MainWindow::searchFinished));
    const int found = window.galleryModel()->rowCount();
    QVERIFY2(found > 0 && found < 40, qPrintable(QString::number(found)));

    // A re-scan indexes the rest.
    const int again = window.jobs()->rescan();
    QTRY_VERIFY_WITH_TIMEOUT(window.jobs()->job(again)->finished(), kIndexTimeoutMs);
    QCOMPARE(window.jobs()->job(again)->state, JobInfo::State::Done);
    window.searchBar()->setText(QStringLiteral("another photo"));
    QVERIFY(waitForSignal(window, &MainWindow::searchFinished));
    QCOMPARE(window.galleryModel()->rowCount(), 40);
}

// The first run in the other order: a folder added while no model is chosen is listed but not indexed;
// choosing the model then indexes it, and search finds its photos (it used to stay "No photos matched").
void GuiTest::aFolderAddedBeforeTheModelIsIndexedOnceOneIsChosen()
{
    const QString photos = scratch_->filePath("photos");
    makePhotos(photos, 6, {64, 48});
    AppSettings().setModelDir({});
    MainWindow window(optionsFor(scratch_->filePath("library")));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTRY_VERIFY_WITH_TIMEOUT(window.listingLoaded(), 10'000);
    const int added = window.jobs()->addFolders({photos});
    QTRY_VERIFY_WITH_TIMEOUT(window.jobs()->job(added)->finished(), kIndexTimeoutMs);
    QVERIFY2(window.jobs()->job(added)->message.contains(QStringLiteral("not indexed")),
        qPrintable(window.jobs()->job(added)->message));

    window.useEmbeddingModel(fixtureModel());
    QTRY_VERIFY_WITH_TIMEOUT(
        window.jobs()->jobs().size() == 2 && window.jobs()->jobs().back().finished(), kIndexTimeoutMs);
    QCOMPARE(window.jobs()->jobs().back().state, JobInfo::State::Done);
    QTimer::singleShot(0, &window, &MainWindow::reloadLibrary);
    QVERIFY(waitForSignal(window, &MainWindow::listingReloaded));
    window.searchBar()->setText(QStringLiteral("a photo"));
    QVERIFY(waitForSignal(window, &MainWindow::searchFinished));
    QVERIFY2(window.searchMessage().isEmpty(), qPrintable(window.searchMessage()));
    QCOMPARE(window.galleryModel()->rowCount(), 6);
}

// An unmounted drive in the window: the re-scan says the folder is offline and its photos stay listed.
void GuiTest::aFolderThatReadsEmptyIsOfflineNotDeleted()
{
    const QString photos = scratch_->filePath("photos");
    std::optional<MainWindow> window;
    openIndexedWindow(window, photos, scratch_->filePath("library"), 5, {64, 48});
    QCOMPARE(window->galleryModel()->librarySize(), std::size_t(5));
    const QString away = scratch_->filePath("away");
    QVERIFY(QDir().rename(photos, away) && QDir().mkpath(photos)); // the mount point, empty
    const int rescan = window->jobs()->rescan();
    QTRY_VERIFY_WITH_TIMEOUT(window->jobs()->job(rescan)->finished(), kIndexTimeoutMs);
    const JobInfo job = *window->jobs()->job(rescan);
    QCOMPARE(job.state, JobInfo::State::Done);
    QVERIFY2(job.message.section('\n', 0, 0).contains(QStringLiteral("offline")), qPrintable(job.message));
    QTimer::singleShot(0, &*window, &MainWindow::reloadLibrary);
    QVERIFY(waitForSignal(*window, &MainWindow::listingReloaded));
    QCOMPARE(window->galleryModel()->librarySize(), std::size_t(5));
}

// A library whose catalog is damaged: the window says what is wrong and how to recover (it used to show an
// empty first-run library), and adding a folder fails without writing to it.
void GuiTest::aDamagedCatalogIsShownAndNeverWritten()
{
    const QString library = scratch_->filePath("library");
    QVERIFY(QDir().mkpath(library));
    const QByteArray garbage = QByteArray("this is not a database, ").repeated(200);
    QFile catalog(library + QStringLiteral("/catalog.sqlite3"));
    QVERIFY(catalog.open(QIODevice::WriteOnly) && catalog.write(garbage) == garbage.size());
    catalog.close();
    MainWindow window(optionsFor(library));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* welcome = window.findChild<WelcomePage*>();
    QVERIFY(welcome);
    QTRY_VERIFY_WITH_TIMEOUT(!welcome->libraryProblem().isEmpty(), 10'000);
    QVERIFY2(welcome->libraryProblem().contains(QStringLiteral("cannot be read"))
            && welcome->libraryProblem().contains(QStringLiteral("library recover")),
        qPrintable(welcome->libraryProblem()));

    const QString photos = scratch_->filePath("photos");
    makePhotos(photos, 2, {64, 48});
    const int job = window.jobs()->addFolders({photos});
    QTRY_VERIFY_WITH_TIMEOUT(window.jobs()->job(job)->finished(), kIndexTimeoutMs);
    QCOMPARE(window.jobs()->job(job)->state, JobInfo::State::Failed);
    QVERIFY(catalog.open(QIODevice::ReadOnly));
    QCOMPARE(catalog.readAll(), garbage);
}

// The folder's context menu lists the files that could not be indexed with the reasons, copyable; they
// used to be visible from the command line only.
void GuiTest::aFoldersFilesNotIndexedAreShownWithTheirReasons()
{
    const QString photos = scratch_->filePath("photos");
    QVERIFY(QDir().mkpath(photos));
    QFile broken(photos + QStringLiteral("/broken.jpg"));
    QVERIFY(broken.open(QIODevice::WriteOnly) && broken.write("not a jpeg at all") > 0);
    broken.close();
    std::optional<MainWindow> window;
    openIndexedWindow(window, photos, scratch_->filePath("library"), 3, {64, 48});
    const QString folder = QFileInfo(photos).canonicalFilePath();
    QMenu* menu = window->sidebar()->folderMenu(folder);
    QAction* show = menu->findChild<QAction*>(QStringLiteral("showFailures"));
    QVERIFY(show && menu->findChild<QAction*>(QStringLiteral("removeFolder")));
    show->trigger();
    delete menu;
    QDialog* dialog = nullptr;
    QTRY_VERIFY(
        (dialog = window->findChild<QDialog*>(QStringLiteral("failuresDialog"))) && dialog->isVisible());
    const QString text = dialog->findChild<QPlainTextEdit*>(QStringLiteral("failures"))->toPlainText();
    QVERIFY2(
        text.contains(QStringLiteral("broken.jpg: ")) && text.section(QStringLiteral(": "), 1).size() > 3,
        qPrintable(text));
    QCOMPARE(text.count('\n'), 0); // one failure, one line
    dialog->close();

    // The viewer of the file's placeholder says why too.
    int brokenRow = -1;
    for (int row = 0; row < window->galleryModel()->rowCount(); ++row)
        if (window->photoAt(row).path.endsWith(QStringLiteral("broken.jpg")))
            brokenRow = row;
    QVERIFY(brokenRow >= 0);
    window->openViewer(brokenRow);
    auto* info = window->viewer()->findChild<QTextBrowser*>(QStringLiteral("info"));
    QVERIFY(info);
    const QString reason = text.section(QStringLiteral(": "), 1);
    QTRY_VERIFY2(info->toPlainText().contains(QStringLiteral("not indexed: ") + reason),
        qPrintable(info->toPlainText()));
}

// More than half of a folder's photos vanishing at once (a drive being copied back, a mistaken move) are
// kept, and the window asks; only "Forget them" forgets them.
void GuiTest::photosVanishedAtOnceAreKeptUntilTheUserForgetsThem()
{
    const QString photos = scratch_->filePath("photos");
    const QString library = scratch_->filePath("library");
    std::optional<MainWindow> window;
    openIndexedWindow(window, photos, library, 12, {64, 48});
    auto photoCount
        = [&] { return Catalog::open(library.toStdString(), Catalog::OpenMode::ReadOnly).countPhotos(); };
    QCOMPARE(photoCount(), 12);
    const QStringList files = QDir(photos).entryList({QStringLiteral("*.jpg")}, QDir::Files, QDir::Name);
    for (int i = 1; i < files.size(); ++i)
        QVERIFY(QFile::remove(photos + '/' + files[i]));
    window->jobs()->rescan();
    waitForIndexing(*window);
    QMessageBox* question = nullptr;
    QTRY_VERIFY((question = window->findChild<QMessageBox*>(QStringLiteral("vanishedPhotosQuestion")))
        && question->isVisible());
    QVERIFY2(
        question->text().contains(
            QStringLiteral("11 photos vanished at once from %1").arg(QFileInfo(photos).canonicalFilePath())),
        qPrintable(question->text()));
    QCOMPARE(photoCount(), 12); // kept while the question is open, and if the answer is Keep
    question->findChild<QAbstractButton*>(QStringLiteral("forgetVanished"))->click();
    QTRY_VERIFY(window->jobs()->busy() || photoCount() == 1);
    waitForIndexing(*window);
    QCOMPARE(photoCount(), 1);
    QVERIFY(!window->findChild<QMessageBox*>(QStringLiteral("vanishedPhotosQuestion")));
}

// Another program holding the catalog's write lock past the busy timeout: the job fails with a message
// that says so, the photos already indexed stay, and the next run does the rest.
void GuiTest::aBusyCatalogFailsTheJobClearlyAndLosesNothing()
{
    const QString photos = scratch_->filePath("photos");
    const QString library = scratch_->filePath("library");
    std::optional<MainWindow> window;
    openIndexedWindow(window, photos, library, 3, {64, 48});
    makePhotos(photos, 2, {64, 48}, 100);
    sqlite3* other = nullptr;
    QCOMPARE(sqlite3_open((library + QStringLiteral("/catalog.sqlite3")).toLocal8Bit().constData(), &other),
        SQLITE_OK);
    auto release = qScopeGuard([&] {
        sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
        sqlite3_close(other);
    });
    QCOMPARE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    const int job = window->jobs()->rescan();
    QTRY_VERIFY_WITH_TIMEOUT(window->jobs()->job(job)->finished(), 60'000);
    QCOMPARE(window->jobs()->job(job)->state, JobInfo::State::Failed);
    QVERIFY2(
        window->jobs()->job(job)->message.contains(QStringLiteral("another program is using the catalog")),
        qPrintable(window->jobs()->job(job)->message));
    release.dismiss();
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    auto indexed
        = [&] { return Catalog::open(library.toStdString(), Catalog::OpenMode::ReadOnly).countPhotos(); };
    QCOMPARE(indexed(), 3); // what was indexed is still there

    const int again = window->jobs()->rescan();
    QTRY_VERIFY_WITH_TIMEOUT(window->jobs()->job(again)->finished(), kIndexTimeoutMs);
    QCOMPARE(window->jobs()->job(again)->state, JobInfo::State::Done);
    QCOMPARE(indexed(), 5);
}

// A disk that fills during a run (files may not grow past a limit, as on a full disk: writes fail with
// EFBIG): the job fails with the catalog's error, the photos committed before stay, the next run resumes.
void GuiTest::aFullDiskFailsTheJobClearlyAndLosesNothing()
{
    const QString photos = scratch_->filePath("photos");
    const QString library = scratch_->filePath("library");
    std::optional<MainWindow> window;
    openIndexedWindow(window, photos, library, 3, {64, 48});
    makePhotos(photos, 60, {64, 48}, 100);
    std::uintmax_t largest = 0;
    for (const auto& entry : std::filesystem::directory_iterator(library.toStdString()))
        if (entry.is_regular_file())
            largest = std::max(largest, entry.file_size());
    rlimit saved {};
    QCOMPARE(getrlimit(RLIMIT_FSIZE, &saved), 0);
    const auto savedHandler = signal(SIGXFSZ, SIG_IGN);
    auto restore = qScopeGuard([&] {
        setrlimit(RLIMIT_FSIZE, &saved);
        signal(SIGXFSZ, savedHandler);
    });
    const rlimit full {static_cast<rlim_t>(largest + 48 * 1024), saved.rlim_max};
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &full), 0);
    const int job = window->jobs()->rescan();
    QTRY_VERIFY_WITH_TIMEOUT(window->jobs()->job(job)->finished(), kIndexTimeoutMs);
    restore.dismiss();
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, savedHandler);
    const JobInfo failed = *window->jobs()->job(job);
    QCOMPARE(failed.state, JobInfo::State::Failed);
    std::printf("the failed job says: %s\n", qPrintable(failed.message));
    QVERIFY2(failed.message.contains(QStringLiteral("catalog.sqlite3"))
            && failed.message.contains(QStringLiteral("what was saved is kept")),
        qPrintable(failed.message));
    auto indexed
        = [&] { return Catalog::open(library.toStdString(), Catalog::OpenMode::ReadOnly).countPhotos(); };
    const auto kept = indexed();
    QVERIFY2(kept >= 3 && kept < 63, qPrintable(QString::number(kept)));

    const int again = window->jobs()->rescan();
    QTRY_VERIFY_WITH_TIMEOUT(window->jobs()->job(again)->finished(), kIndexTimeoutMs);
    QVERIFY2(window->jobs()->job(again)->state == JobInfo::State::Done,
        qPrintable(window->jobs()->job(again)->message));
    QCOMPARE(indexed(), 63);
}

// While the window is open, photos added to and deleted from a library folder are followed without
// Re-scan; a burst (a camera import) becomes one re-scan, and a new subfolder filled after the re-scan
// read it is read again.
void GuiTest::theWindowFollowsItsFoldersByItself()
{
    const QString photos = scratch_->filePath("photos");
    const QString library = scratch_->filePath("library");
    std::optional<MainWindow> window;
    openIndexedWindow(window, photos, library, 3, {64, 48});
    QTRY_VERIFY(window->folderWatcher()->watchedFolders() >= 1);
    waitForIndexing(*window); // the start-up check
    auto indexedNames = [&] {
        QStringList names;
        const Catalog catalog = Catalog::open(library.toStdString(), Catalog::OpenMode::ReadOnly);
        for (const auto& root : catalog.roots())
            for (const auto& photo : catalog.listPhotosUnder(root.id))
                names << QString::fromStdString(photo.path.lexically_relative(root.path).string());
        names.sort();
        return names;
    };
    const QStringList before = indexedNames();
    QCOMPARE(before.size(), 3);

    QVERIFY(QFile::remove(photos + '/' + before.front()));
    makePhotos(photos, 1, {64, 48}, 50);
    QTRY_VERIFY_WITH_TIMEOUT(
        indexedNames() == (QStringList {before[1], before[2], QStringLiteral("photo_0050.jpg")}), 30'000);

    waitForIndexing(*window);
    const qsizetype jobsBefore = window->jobs()->jobs().size();
    makePhotos(photos, 120, {32, 24}, 100); // a burst
    QTRY_VERIFY_WITH_TIMEOUT(indexedNames().size() == 123, 60'000);
    waitForIndexing(*window);
    QCOMPARE(window->jobs()->jobs().size() - jobsBefore, 1); // one re-scan for the burst

    makePhotos(photos + QStringLiteral("/import"), 20, {32, 24}, 300); // a new folder, filled at once
    QTRY_VERIFY_WITH_TIMEOUT(indexedNames().size() == 143, 60'000);
}

// Photos added and deleted while the window was closed are found by the background re-scan at start.
void GuiTest::changesMadeWhileClosedAreFoundAtStart()
{
    const QString photos = scratch_->filePath("photos");
    const QString library = scratch_->filePath("library");
    {
        std::optional<MainWindow> window;
        openIndexedWindow(window, photos, library, 3, {64, 48});
    }
    const QStringList files = QDir(photos).entryList({QStringLiteral("*.jpg")}, QDir::Files, QDir::Name);
    QVERIFY(QFile::remove(photos + '/' + files.front()));
    makePhotos(photos, 2, {64, 48}, 70);
    MainWindow window(optionsFor(library));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto indexed
        = [&] { return Catalog::open(library.toStdString(), Catalog::OpenMode::ReadOnly).countPhotos(); };
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobs()->jobs().isEmpty(), 10'000);
    waitForIndexing(window);
    QCOMPARE(indexed(), 4);
    QCOMPARE(window.galleryModel()->librarySize(), std::size_t(4));
}

// Tags from the photo context menu: added to the selection (a dialog), listed with their counts in the
// sidebar and the filter bar, a tag alone shows its photos, and removed again from the menu.
void GuiTest::tagsFromTheContextMenuAreListedAndFilter()
{
    const QString photos = scratch_->filePath("photos");
    std::optional<MainWindow> window;
    openIndexedWindow(window, photos, scratch_->filePath("library"), 4, {64, 48});
    auto* selection = window->gallery()->selectionModel();
    selection->select(window->galleryModel()->index(0), QItemSelectionModel::ClearAndSelect);
    selection->select(window->galleryModel()->index(2), QItemSelectionModel::Select);
    const qint64 first = window->photoAt(0).id, third = window->photoAt(2).id;

    QMenu* menu = window->contextMenuFor(2);
    QAction* add = menu->findChild<QAction*>(QStringLiteral("addTag"));
    QVERIFY(add && add->isEnabled());
    QCOMPARE(add->text(), QStringLiteral("Add tag to 2 photos…"));
    add->trigger();
    delete menu;
    QInputDialog* dialog = nullptr;
    QTRY_VERIFY(
        (dialog = window->findChild<QInputDialog*>(QStringLiteral("addTagDialog"))) && dialog->isVisible());
    dialog->setTextValue(QStringLiteral("  Beach  "));
    dialog->accept();
    waitForIndexing(*window);

    QTreeWidgetItem* tagItem = nullptr;
    const auto found = window->sidebar()->tree()->findItems(
        QStringLiteral("Beach"), Qt::MatchExactly | Qt::MatchRecursive);
    QCOMPARE(found.size(), 1);
    tagItem = found.front();
    QCOMPARE(tagItem->text(1), QStringLiteral("2"));
    emit window->sidebar()->tree()->itemActivated(tagItem, 0);
    QVERIFY(waitForSignal(*window, &MainWindow::searchFinished));
    QCOMPARE(window->filterBar()->tag(), QStringLiteral("Beach"));
    QCOMPARE(window->galleryModel()->rowCount(), 2);
    QList<qint64> shown {window->photoAt(0).id, window->photoAt(1).id};
    std::sort(shown.begin(), shown.end());
    QCOMPARE(shown, (QList<qint64> {std::min(first, third), std::max(first, third)}));

    menu = window->contextMenuFor(0);
    selection->select(window->galleryModel()->index(0), QItemSelectionModel::ClearAndSelect);
    delete menu;
    menu = window->contextMenuFor(0);
    QAction* remove = menu->findChild<QAction*>(QStringLiteral("removeTag:Beach"));
    QVERIFY(remove);
    remove->trigger();
    delete menu;
    waitForIndexing(*window);
    QTRY_COMPARE(window->galleryModel()->rowCount(), 1);
    const auto left = window->sidebar()->tree()->findItems(
        QStringLiteral("Beach"), Qt::MatchExactly | Qt::MatchRecursive);
    QCOMPARE(left.size(), 1);
    QCOMPARE(left.front()->text(1), QStringLiteral("1"));

    // The keyboard: T tags the photo shown in the viewer.
    window->filterBar()->setTag({});
    QTRY_COMPARE(window->galleryModel()->rowCount(), 4); // all photos again
    window->openViewer(3);
    const qint64 viewed = window->photoAt(3).id;
    window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&*window));
    QTest::keyClick(window->viewer(), Qt::Key_T);
    auto shownDialog = [&]() -> QInputDialog* {
        for (auto* asked : window->findChildren<QInputDialog*>(QStringLiteral("addTagDialog")))
            if (asked->isVisible())
                return asked;
        return nullptr;
    };
    QTRY_VERIFY((dialog = shownDialog()) != nullptr);
    dialog->setTextValue(QStringLiteral("Sea"));
    dialog->accept();
    waitForIndexing(*window);
    const auto sea
        = window->sidebar()->tree()->findItems(QStringLiteral("Sea"), Qt::MatchExactly | Qt::MatchRecursive);
    QCOMPARE(sea.size(), 1);
    QCOMPARE(sea.front()->text(1), QStringLiteral("1"));
    QCOMPARE(window->photoAt(window->viewerRow()).id, viewed);
    // ... and the viewer's info takes it away again.
    auto* info = window->viewer()->findChild<QTextBrowser*>(QStringLiteral("info"));
    QTRY_VERIFY2(info->toHtml().contains(QStringLiteral("tag-remove:Sea")), qPrintable(info->toPlainText()));
    emit info->anchorClicked(QUrl(QStringLiteral("tag-remove:Sea")));
    waitForIndexing(*window);
    QTRY_VERIFY(window->sidebar()
                    ->tree()
                    ->findItems(QStringLiteral("Sea"), Qt::MatchExactly | Qt::MatchRecursive)
                    .isEmpty());
}

// View › Duplicates groups a copy with its original, best first, and "Keep best" removes the other from
// the library while its file stays.
void GuiTest::duplicatesAreGroupedAndTheBestKept()
{
    const QString photos = scratch_->filePath("photos");
    const QString library = scratch_->filePath("library");
    makePhotos(photos, 3, {64, 48});
    QVERIFY(QFile::copy(photos + QStringLiteral("/photo_0000.jpg"), photos + QStringLiteral("/copy.jpg")));
    std::optional<MainWindow> window;
    openIndexedWindow(window, photos, library, 0, {64, 48});
    auto indexed
        = [&] { return Catalog::open(library.toStdString(), Catalog::OpenMode::ReadOnly).countPhotos(); };
    QCOMPARE(indexed(), 4);
    QAction* open = window->findChild<QAction*>(QStringLiteral("showDuplicates"));
    QVERIFY(open);
    open->trigger();
    DuplicatesDialog* dialog = nullptr;
    QTRY_VERIFY((dialog = window->findChild<DuplicatesDialog*>(QStringLiteral("duplicatesDialog")))
        && dialog->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(dialog->groups().size() == 1, 30'000);
    const auto& group = dialog->groups().front();
    QVERIFY(group.exact);
    QCOMPARE(group.photos.size(), std::size_t(2));
    QCOMPARE(dialog->tree()->topLevelItem(0)->childCount(), 2);
    const auto other = group.photos[1].path;
    dialog->findChild<QPushButton*>(QStringLiteral("keepBest"))->click();
    QVERIFY(dialog->groups().empty());
    waitForIndexing(*window);
    QCOMPARE(indexed(), 3);
    QVERIFY2(std::filesystem::exists(other), "the file stays where it is");
}

// A background job that finishes (a re-scan, a caption job, the watcher's) leaves the photo the user is
// looking at open, in search results and in the browsed gallery alike; and a job that is not an index run
// does not show the folders as "indexing".
void GuiTest::aFinishingJobLeavesTheViewerOpen()
{
    const QString photos = scratch_->filePath("photos");
    std::optional<MainWindow> window;
    openIndexedWindow(window, photos, scratch_->filePath("library"), 3, {64, 48});
    for (const bool searching : {true, false}) {
        window->searchBar()->setText(searching ? QStringLiteral("a photo") : QString());
        if (searching)
            QVERIFY(waitForSignal(*window, &MainWindow::searchFinished));
        QTRY_COMPARE(window->galleryModel()->showingResults(), searching);
        window->openViewer(1);
        QVERIFY(window->viewer()->isVisible());
        const QString shown = window->photoAt(window->viewer()->row()).path;
        window->jobs()->rescan();
        waitForIndexing(*window);
        QTest::qWait(300); // the search a finished job re-runs
        QVERIFY2(window->viewer()->isVisible(), searching ? "in search results" : "in the gallery");
        QCOMPARE(window->photoAt(window->viewer()->row()).path, shown);
        window->closeViewer();
    }

    std::atomic<bool> release {false};
    const int work = window->jobs()->enqueueWork(QStringLiteral("Caption 10 photos"),
        [&](Library&, const std::atomic<bool>&, const std::function<void(const IndexProgress&)>& progress) {
            IndexProgress p;
            p.phase = IndexProgress::Phase::Indexing;
            p.done = 1;
            p.total = 10;
            progress(p);
            while (!release)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            return JobOutcome {false, QStringLiteral("captioned 10")};
        });
    QTRY_VERIFY(window->jobs()->job(work)->progress.done == 1);
    QTest::qWait(100);
    const auto items = window->sidebar()->tree()->findItems(
        QStringLiteral("photos"), Qt::MatchExactly | Qt::MatchRecursive);
    QCOMPARE(items.size(), 1);
    QVERIFY2(
        !items.front()->text(1).contains(QStringLiteral("indexing")), qPrintable(items.front()->text(1)));
    release = true;
    waitForIndexing(*window);
}

// The camera filter applies as the user types (no Enter), like every other filter; the results' date sort
// and the browse order no longer share the label "Newest first".
void GuiTest::theCameraFilterIsLiveAndLabelsAreDistinct()
{
    std::optional<MainWindow> window;
    openIndexedWindow(window, scratch_->filePath("photos"), scratch_->filePath("library"), 3, {64, 48});
    window->searchBar()->setText(QStringLiteral("a photo"));
    QVERIFY(waitForSignal(*window, &MainWindow::searchFinished));
    QCOMPARE(window->galleryModel()->rowCount(), 3);
    auto* camera = window->filterBar()->findChild<QLineEdit*>(QStringLiteral("cameraFilter"));
    QVERIFY(camera);
    QTest::keyClicks(camera, QStringLiteral("NoSuchCamera"));
    QTRY_COMPARE_WITH_TIMEOUT(window->galleryModel()->rowCount(), 0, 5'000);
    camera->clear();
    QTRY_COMPARE_WITH_TIMEOUT(window->galleryModel()->rowCount(), 3, 5'000);

    auto* byDate = window->filterBar()->findChild<QAbstractButton*>(QStringLiteral("sortByDate"));
    auto* browse = window->findChild<QComboBox*>(QStringLiteral("browseOrder"));
    QVERIFY(byDate && browse);
    for (int i = 0; i < browse->count(); ++i)
        QVERIFY2(browse->itemText(i) != byDate->text(), qPrintable(byDate->text()));
}

// Help: About (version, library, models folders), keyboard shortcuts, the README; Settings' appearance
// switches to a dark palette and back to the desktop's.
void GuiTest::helpMenuAndDarkMode()
{
    const QString library = scratch_->filePath("library");
    MainWindow window(optionsFor(library));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.findChild<QAction*>(QStringLiteral("about"))->trigger();
    QMessageBox* about = nullptr;
    QTRY_VERIFY(
        (about = window.findChild<QMessageBox*>(QStringLiteral("aboutDialog"))) && about->isVisible());
    QVERIFY2(about->text().contains(QStringLiteral("Pictor 0.")) && about->text().contains(library),
        qPrintable(about->text()));
    QVERIFY(about->text().contains(QStringLiteral("Hugging Face cache")));
    about->close();
    window.findChild<QAction*>(QStringLiteral("shortcuts"))->trigger();
    QMessageBox* shortcuts = nullptr;
    QTRY_VERIFY((shortcuts = window.findChild<QMessageBox*>(QStringLiteral("shortcutsDialog")))
        && shortcuts->isVisible());
    QVERIFY(shortcuts->text().contains(QStringLiteral("Ctrl+F")));
    shortcuts->close();
    QVERIFY(window.findChild<QAction*>(QStringLiteral("openReadme"))->isEnabled()); // the source tree's

    const bool darkBefore = isDarkPalette();
    AppSettings().setColorScheme(QStringLiteral("dark"));
    applyColorScheme(AppSettings().colorScheme());
    QVERIFY(isDarkPalette());
    AppSettings().setColorScheme(QStringLiteral("light"));
    applyColorScheme(AppSettings().colorScheme());
    QVERIFY(!isDarkPalette());
    AppSettings().setColorScheme(QStringLiteral("system"));
    applyColorScheme(AppSettings().colorScheme());
    QCOMPARE(isDarkPalette(), darkBefore);
}

// "No photos matched" appearing under the search bar must not push the filter row down under the pointer.
void GuiTest::theFilterRowStaysPutWhenNothingMatches()
{
    std::optional<MainWindow> window;
    openIndexedWindow(window, scratch_->filePath("photos"), scratch_->filePath("library"), 3, {64, 48});
    window->searchBar()->setText(QStringLiteral("a photo"));
    QVERIFY(waitForSignal(*window, &MainWindow::searchFinished));
    QVERIFY(window->searchMessage().isEmpty());
    const int before = window->filterBar()->mapTo(&*window, QPoint(0, 0)).y();
    window->filterBar()->setMinScore(0.99);
    QTRY_VERIFY(window->searchMessage().contains(QStringLiteral("No photos matched")));
    QTest::qWait(50); // the layout settles
    QCOMPARE(window->filterBar()->mapTo(&*window, QPoint(0, 0)).y(), before);
}

// Esc that closes a filter's drop-down closes the drop-down only: the query and its photo chip stay.
void GuiTest::escapeInAPopUpClosesThePopUpOnly()
{
    std::optional<MainWindow> window;
    openIndexedWindow(window, scratch_->filePath("photos"), scratch_->filePath("library"), 3, {64, 48});
    window->searchBar()->setText(QStringLiteral("a photo"));
    QVERIFY(waitForSignal(*window, &MainWindow::searchFinished));
    auto* types = window->filterBar()->findChild<QComboBox*>(QStringLiteral("folderFilter"));
    QVERIFY(types);
    types->setFocus();
    types->showPopup();
    QTRY_VERIFY(QApplication::activePopupWidget());
    QTest::keyClick(types->view(), Qt::Key_Escape); // the list in the drop-down has the keyboard
    QTRY_VERIFY(!QApplication::activePopupWidget());
    QTest::keyClick(types, Qt::Key_Escape); // the second Esc some users press
    QTest::qWait(100);
    QCOMPARE(window->searchBar()->text(), QStringLiteral("a photo"));
}

// A RAW alone is a photo, shown through LibRaw; a RAW beside the camera's JPEG is named in that
// photo's details, not listed twice. The type filter takes several types at once.
void GuiTest::cameraRawPhotosAreShownAndPairedWithTheirJpeg()
{
    const QString photos = scratch_->filePath("photos");
    QVERIFY(QDir().mkpath(photos));
    const test::DngContent redScene;
    test::writeDng((photos + QStringLiteral("/shot.dng")).toStdString(), redScene);
    test::writeDng((photos + QStringLiteral("/pair.CR2")).toStdString(), redScene);
    QImage jpeg(64, 48, QImage::Format_RGB888);
    jpeg.fill(QColor(30, 160, 60));
    QVERIFY(jpeg.save(photos + QStringLiteral("/pair.JPG"), "JPEG"));
    std::optional<MainWindow> window;
    openIndexedWindow(window, photos, scratch_->filePath("library"), 2, {64, 48});
    QCOMPARE(window->galleryModel()->rowCount(), 4); // two made photos, shot.dng, pair.JPG

    auto rowOf = [&](const QString& name) {
        for (int row = 0; row < window->galleryModel()->rowCount(); ++row)
            if (QFileInfo(window->photoAt(row).path).fileName() == name)
                return row;
        return -1;
    };
    QVERIFY(rowOf(QStringLiteral("pair.CR2")) < 0);
    const int raw = rowOf(QStringLiteral("shot.dng"));
    QVERIFY(raw >= 0);
    window->openViewer(raw);
    auto* info = window->viewer()->findChild<QTextBrowser*>(QStringLiteral("info"));
    QVERIFY(info);
    QTRY_VERIFY2(info->toPlainText().contains(QStringLiteral("32 × 24")), qPrintable(info->toPlainText()));
    QVERIFY2(info->toPlainText().contains(QStringLiteral("Test Camera")), qPrintable(info->toPlainText()));

    window->openViewer(rowOf(QStringLiteral("pair.JPG")));
    QTRY_VERIFY2(info->toPlainText().contains(QStringLiteral("RAW file")), qPrintable(info->toPlainText()));
    QVERIFY2(info->toPlainText().contains(QStringLiteral("pair.CR2")), qPrintable(info->toPlainText()));
    window->closeViewer();

    // The type filter takes several types at once, ticked in a menu that stays open.
    window->searchBar()->setText(QStringLiteral("a photo"));
    QVERIFY(waitForSignal(*window, &MainWindow::searchFinished));
    QCOMPARE(window->galleryModel()->rowCount(), 4);
    auto* types = window->filterBar()->findChild<QToolButton*>(QStringLiteral("typeFilter"));
    QVERIFY(types && types->menu());
    QMenu* menu = types->menu();
    menu->popup(types->mapToGlobal(QPoint(0, types->height()))); // as a click shows it, without its loop
    QTRY_VERIFY(menu->isVisible());
    auto tick = [&](const QString& name) {
        for (QAction* action : menu->actions())
            if (action->text() == name) {
                QTest::mouseClick(menu, Qt::LeftButton, {}, menu->actionGeometry(action).center());
                return;
            }
        QFAIL(qPrintable(name));
    };
    tick(QStringLiteral("RAW"));
    QTRY_COMPARE_WITH_TIMEOUT(window->galleryModel()->rowCount(), 1, 5'000);
    QVERIFY(menu->isVisible());
    tick(QStringLiteral("JPEG"));
    QTRY_COMPARE_WITH_TIMEOUT(window->galleryModel()->rowCount(), 4, 5'000);
    QCOMPARE(types->text(), QStringLiteral("JPEG, RAW"));
    menu->close();
    window->filterBar()->setFileTypes({QStringLiteral("png")});
    QTRY_COMPARE_WITH_TIMEOUT(window->galleryModel()->rowCount(), 0, 5'000);
}

// View › Auto tags: the photos are scored as the words are typed, the slider previews the count live,
// Apply tags them as the model's; the viewer offers confirm and remove; the rule tags a new photo.
void GuiTest::autoTagsArePreviewedAppliedAnsweredAndFollowNewPhotos()
{
    const QString photos = scratch_->filePath("photos");
    std::optional<MainWindow> window;
    openIndexedWindow(window, photos, scratch_->filePath("library"), 6, {64, 48});
    window->findChild<QAction*>(QStringLiteral("showAutoTags"))->trigger();
    AutoTagDialog* dialog = nullptr;
    QTRY_VERIFY((dialog = window->findChild<AutoTagDialog*>()) && dialog->isVisible());
    QSignalSpy scored(dialog, &AutoTagDialog::scored);
    QTest::keyClicks(dialog->findChild<QLineEdit*>(QStringLiteral("autoTagName")), QStringLiteral("sky"));
    dialog->findChild<QPlainTextEdit*>(QStringLiteral("autoTagPrompts"))
        ->setPlainText(QStringLiteral("a photo of the sky\na blue sky"));
    QVERIFY(scored.wait(kIndexTimeoutMs)); // once the typing pauses
    QCOMPARE(dialog->scores().size(), std::size_t {6});
    QVERIFY(std::is_sorted(dialog->scores().begin(), dialog->scores().end(),
        [](const PhotoScore& a, const PhotoScore& b) { return a.score > b.score; }));

    // The best three: the count follows the slider at once, the preview once it rests.
    dialog->setThreshold(std::floor(dialog->scores()[2].score * 1000) / 1000);
    const QString status = dialog->findChild<QLabel*>(QStringLiteral("autoTagStatus"))->text();
    QVERIFY2(status.startsWith(QStringLiteral("3 of 6 photos")), qPrintable(status));
    auto* preview = dialog->findChild<QListWidget*>(QStringLiteral("autoTagPreview"));
    auto passes = [&](int row) { return preview->item(row)->data(Qt::UserRole).toBool(); };
    // (the preview of the first scoring, at the default threshold, may land first)
    QTRY_VERIFY_WITH_TIMEOUT(
        preview->count() == 6 && passes(2) && !passes(3), 5'000); // three pass, three below
    QVERIFY(!preview->item(0)->icon().isNull());

    QSignalSpy listed(dialog, &AutoTagDialog::rulesListed);
    dialog->findChild<QPushButton*>(QStringLiteral("autoTagApply"))->click();
    waitForIndexing(*window);
    QVERIFY(listed.count() > 0 || listed.wait(5'000));
    auto* rules = dialog->findChild<QTreeWidget*>(QStringLiteral("autoTagRules"));
    QTRY_COMPARE(rules->topLevelItemCount(), 1);
    QCOMPARE(rules->topLevelItem(0)->text(0), QStringLiteral("sky"));
    auto skyCount = [&] {
        const auto found = window->sidebar()->tree()->findItems(
            QStringLiteral("sky"), Qt::MatchExactly | Qt::MatchRecursive);
        return found.isEmpty() ? QString() : found.front()->text(1);
    };
    QTRY_COMPARE(skyCount(), QStringLiteral("3"));
    dialog->close();

    // The viewer marks the model's tag and takes the person's answer.
    const qint64 best = dialog->scores().front().photoId;
    int bestRow = -1;
    for (int row = 0; row < window->galleryModel()->rowCount(); ++row)
        if (window->photoAt(row).id == best)
            bestRow = row;
    QVERIFY(bestRow >= 0);
    const QString bestPath = window->photoAt(bestRow).path;
    window->openViewer(bestRow);
    auto* info = window->viewer()->findChild<QTextBrowser*>(QStringLiteral("info"));
    QTRY_VERIFY2(info->toHtml().contains(QStringLiteral("tag-remove:sky")), qPrintable(info->toPlainText()));
    QVERIFY2(
        info->toPlainText().contains(QStringLiteral("sky (auto: clip-")), qPrintable(info->toPlainText()));
    emit info->anchorClicked(QUrl(QStringLiteral("tag-remove:sky")));
    waitForIndexing(*window);
    QTRY_COMPARE(skyCount(), QStringLiteral("2"));
    window->closeViewer();

    // A copy of the best photo is new: the rule tags it while it is indexed.
    QVERIFY(QFile::copy(bestPath, photos + QStringLiteral("/sky-again.jpg")));
    window->jobs()->addFolders({photos});
    waitForIndexing(*window);
    QTRY_COMPARE(skyCount(), QStringLiteral("3"));
}
