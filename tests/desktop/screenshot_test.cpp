// The window's main states as PNGs, for the README and for a look at what users see: the welcome page of an
// empty library, the gallery of an indexed folder, text-query results with their score badges, the viewer
// with its info panel, and the model manager over the window. Under Xvfb with the xcb platform (as CTest
// runs it) the pixels come from the X server; on other platforms from QWidget::grab(). Each image must have
// the window's size, show many colours (photos where there are photos) and differ from the other states.
// Output folder: $PICTOR_SCREENSHOT_DIR, else screenshots/ beside the executable.
#include <QAction>
#include <QApplication>
#include <QDialog>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QGroupBox>
#include <QGuiApplication>
#include <QImage>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QPainter>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QScreen>
#include <QSet>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTableWidget>
#include <QTest>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "tests/desktop/desktop_support.h"
#include "tests/support/paths.h"
#include "ui/app_settings.h"
#include "ui/auto_tag_dialog.h"
#include "ui/create_panel.h"
#include "ui/duplicates_dialog.h"
#include "ui/gallery_model.h"
#include "ui/gallery_view.h"
#include "ui/model_manager_dialog.h"
#include "ui/photo_viewer.h"
#include "ui/search_bar.h"
#include "ui/search_engine.h"

using namespace pictor;
using namespace pictor::ui;
namespace desktop = pictor::test::desktop;

namespace {

constexpr QSize kWindowSize(1280, 800);

int distinctColours(const QImage& image)
{
    const QImage rgb = image.convertToFormat(QImage::Format_RGB32);
    QSet<QRgb> colours;
    for (int y = 0; y < rgb.height(); ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(rgb.constScanLine(y));
        for (int x = 0; x < rgb.width(); ++x)
            colours.insert(line[x]);
    }
    return static_cast<int>(colours.size());
}

double differingFraction(const QImage& a, const QImage& b)
{
    if (a.size() != b.size())
        return 1;
    const QImage left = a.convertToFormat(QImage::Format_RGB32),
                 right = b.convertToFormat(QImage::Format_RGB32);
    qint64 differing = 0;
    for (int y = 0; y < left.height(); ++y) {
        const auto* l = reinterpret_cast<const QRgb*>(left.constScanLine(y));
        const auto* r = reinterpret_cast<const QRgb*>(right.constScanLine(y));
        for (int x = 0; x < left.width(); ++x)
            differing += l[x] != r[x];
    }
    return double(differing) / (double(left.width()) * left.height());
}

QString currentPage(MainWindow& window)
{
    return window.findChild<QStackedWidget*>()->currentWidget()->objectName();
}

// Every cell the gallery shows on screen has its thumbnail.
bool visibleThumbnailsReady(MainWindow& window)
{
    GalleryView* view = window.gallery();
    GalleryModel* model = window.galleryModel();
    int visible = 0;
    for (int row = 0; row < model->rowCount(); ++row) {
        const QModelIndex index = model->index(row);
        if (!view->viewport()->rect().intersects(view->visualRect(index)))
            continue;
        ++visible;
        if (model->data(index, Qt::DecorationRole).value<QPixmap>().isNull())
            return false;
    }
    return visible > 0;
}

} // namespace

class ScreenshotTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void capturesTheMainStates();

private:
    // The window's area as shown: with xcb, read back from the X server (so a dialog over the window is in
    // it too); elsewhere the window's own rendering.
    QImage capture(QWidget& window);
    void keep(const QString& name, const QImage& image);

    QTemporaryDir scratch_;
    QString outDir_;
    std::map<QString, QImage> shots_;
};

void ScreenshotTest::initTestCase()
{
    QVERIFY(scratch_.isValid());
    outDir_ = qEnvironmentVariable("PICTOR_SCREENSHOT_DIR");
    if (outDir_.isEmpty())
        outDir_ = QCoreApplication::applicationDirPath() + QStringLiteral("/screenshots");
    QVERIFY(QDir().mkpath(outDir_));
    AppSettings settings;
    settings.setModelsDir(QString::fromStdString(test::fixturesDir().string()));
    settings.setModelDir(desktop::fixtureModelDir());
    settings.setGenerationModelDir(desktop::fixtureModelDir("unclip-tiny"));
    settings.setDevice(QStringLiteral("cpu"));
    std::printf(
        "platform %s, screenshots to %s\n", qPrintable(QGuiApplication::platformName()), qPrintable(outDir_));
}

QImage ScreenshotTest::capture(QWidget& window)
{
    // Let queued updates paint, then read the pixels.
    window.repaint();
    QTest::qWait(200);
    if (QGuiApplication::platformName() == QLatin1String("xcb")) {
        const QRect area = window.frameGeometry();
        return window.screen()
            ->grabWindow(0, area.x(), area.y(), area.width(), area.height())
            .toImage()
            .convertToFormat(QImage::Format_RGB32);
    }
    // Without a display server to read back from, dialogs are painted over the window where they are.
    QImage image = window.grab().toImage().convertToFormat(QImage::Format_RGB32);
    QPainter painter(&image);
    for (QDialog* dialog : window.findChildren<QDialog*>())
        if (dialog->isVisible())
            painter.drawPixmap(dialog->geometry().topLeft() - window.geometry().topLeft(), dialog->grab());
    return image;
}

void ScreenshotTest::keep(const QString& name, const QImage& image)
{
    const QString file = outDir_ + '/' + name + QStringLiteral(".png");
    // The Create shots show the test pipeline's pictures: random weights paint noise, which no PNG
    // compresses; 256 colours keep those files under the size the repository takes.
    const QImage saved
        = name.startsWith(QStringLiteral("create")) ? image.convertToFormat(QImage::Format_Indexed8) : image;
    QVERIFY2(saved.save(file, "png", 0), qPrintable(file)); // quality 0: the smallest file
    const QImage back(file);
    QCOMPARE(back.size(), image.size());
    std::printf("%-10s %dx%d, %d colours, %lld KB\n", qPrintable(name), image.width(), image.height(),
        distinctColours(image), static_cast<long long>(QFileInfo(file).size() / 1024));
    shots_[name] = image;
}

void ScreenshotTest::capturesTheMainStates()
{
    const QString photos = scratch_.filePath("Photos");
    const QString error = desktop::writeScenePhotos(photos, 22, {1200, 800});
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const QString real = desktop::copyRealPhotos(photos + QStringLiteral("/real"));
    QVERIFY2(real.isEmpty(), qPrintable(real));
    // One photo twice, for the duplicates view.
    const QFileInfo first = QDir(photos).entryInfoList(QDir::Files, QDir::Name).front();
    QVERIFY(QFile::copy(first.filePath(), photos + QStringLiteral("/copy of ") + first.fileName()));

    MainWindow window(desktop::windowOptions(scratch_.filePath("library")));
    bool modelReady = false;
    connect(window.engine(), &SearchEngine::modelStatusChanged, &window,
        [&modelReady](const QString&, bool ready) { modelReady = ready; });
    window.setGeometry(QRect(QPoint(40, 40), kWindowSize));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    // 1. The welcome page of an empty library, once the model is loaded (the page says so).
    QVERIFY(desktop::waitUntil([&] { return window.listingLoaded() && modelReady; }, 60'000));
    QCOMPARE(currentPage(window), QStringLiteral("welcome"));
    keep(QStringLiteral("welcome"), capture(window));

    // 2. The gallery of the indexed folder, thumbnails shown.
    window.addFolders({photos});
    const QString jobs = desktop::waitForJobs(window);
    QVERIFY2(jobs.isEmpty(), qPrintable(jobs));
    QCOMPARE(window.galleryModel()->librarySize(), std::size_t(25));
    QVERIFY(desktop::waitUntil([&] { return visibleThumbnailsReady(window); }, 30'000));
    keep(QStringLiteral("gallery"), capture(window));

    // 3. Results of a text query, each with its score badge.
    window.searchBar()->setText(QStringLiteral("a sunset over a lake"));
    QVERIFY(desktop::waitForSignal(window, &MainWindow::searchFinished));
    QVERIFY2(window.searchMessage().isEmpty(), qPrintable(window.searchMessage()));
    QVERIFY(window.galleryModel()->showingResults());
    QVERIFY(window.galleryModel()->index(0).data(GalleryModel::ScoreRole).isValid());
    QVERIFY(desktop::waitUntil([&] { return visibleThumbnailsReady(window); }, 30'000));
    keep(QStringLiteral("search"), capture(window));

    // 3b. View › Auto tags: a tag by its prompts, the threshold's live preview; applied, the sidebar lists
    // it.
    window.findChild<QAction*>(QStringLiteral("showAutoTags"))->trigger();
    auto* autoTags = window.findChild<AutoTagDialog*>();
    QVERIFY(autoTags);
    bool scored = false;
    connect(autoTags, &AutoTagDialog::scored, &window, [&scored] { scored = true; });
    autoTags->setDefinition(QStringLiteral("sunset"),
        {QStringLiteral("a sunset over a lake"), QStringLiteral("the sun going down over the water")});
    QVERIFY(desktop::waitUntil([&] { return scored; }, 60'000));
    QVERIFY(autoTags->scores().size() == 25);
    autoTags->setThreshold(std::floor(autoTags->scores()[5].score * 1000) / 1000); // the best six
    auto* autoPreview = autoTags->findChild<QListWidget*>(QStringLiteral("autoTagPreview"));
    QVERIFY(desktop::waitUntil(
        [&] {
            return autoPreview->count() == 14 && autoPreview->item(5)->data(Qt::UserRole).toBool()
                && !autoPreview->item(6)->data(Qt::UserRole).toBool();
        },
        30'000));
    autoTags->move(window.geometry().center() - autoTags->rect().center());
    QVERIFY(QTest::qWaitForWindowExposed(autoTags));
    keep(QStringLiteral("auto-tags"), capture(window));
    autoTags->apply();
    const QString tagged = desktop::waitForJobs(window);
    QVERIFY2(tagged.isEmpty(), qPrintable(tagged));
    autoTags->close();

    // 3c. View › Duplicates: the copy beside its original, best first.
    window.findChild<QAction*>(QStringLiteral("showDuplicates"))->trigger();
    auto* duplicates = window.findChild<DuplicatesDialog*>();
    QVERIFY(duplicates);
    QVERIFY(desktop::waitUntil([&] { return !duplicates->groups().empty(); }, 60'000));
    duplicates->move(window.geometry().center() - duplicates->rect().center());
    QVERIFY(desktop::waitUntil(
        [&] { return !duplicates->findChild<QLabel*>(QStringLiteral("compareOther"))->pixmap().isNull(); },
        30'000));
    keep(QStringLiteral("duplicates"), capture(window));
    duplicates->close();
    // The results again (the tag job reloaded the library): the viewer opens on the best hit.
    window.searchBar()->setText(QString());
    QVERIFY(desktop::waitUntil([&] { return !window.galleryModel()->showingResults(); }, 10'000));
    window.searchBar()->setText(QStringLiteral("a sunset over a lake"));
    QVERIFY(desktop::waitUntil([&] { return window.galleryModel()->showingResults(); }, 10'000));

    // 4. The viewer with its info panel, on the best hit (a generated scene: a real photo made the PNG
    // three times larger).
    window.openViewer(0);
    QVERIFY(desktop::waitUntil(
        [&] {
            if (!window.viewer()->infoText().contains(QStringLiteral("Dimensions")))
                return false;
            for (const QLabel* label : window.viewer()->findChildren<QLabel*>())
                if (!label->pixmap().isNull())
                    return true;
            return false;
        },
        20'000));
    QCOMPARE(currentPage(window), window.viewer()->objectName());
    // The photo, fitted, takes most of the viewer's width; the info panel the rest.
    int shownWidth = 0;
    for (const QLabel* label : window.viewer()->findChildren<QLabel*>())
        shownWidth = std::max(shownWidth, label->pixmap().deviceIndependentSize().toSize().width());
    QVERIFY2(shownWidth > window.viewer()->width() / 2, qPrintable(QString::number(shownWidth)));
    keep(QStringLiteral("viewer"), capture(window));
    window.closeViewer();

    // 5. The model manager over the window, the search model verified.
    window.menuBar()->findChild<QAction*>(QStringLiteral("openModelManager"))->trigger();
    auto* dialog = window.findChild<ModelManagerDialog*>();
    QVERIFY(dialog);
    QVERIFY(
        desktop::waitUntil([&] { return dialog->rowOfName(QStringLiteral("clip-tiny-a")) >= 0; }, 20'000));
    bool verified = false;
    connect(dialog, &ModelManagerDialog::verified, &window,
        [&verified](const QString&, bool ok, const QString&) { verified = ok; });
    dialog->selectRow(dialog->rowOfName(QStringLiteral("clip-tiny-a")));
    dialog->verifySelected();
    QVERIFY(desktop::waitUntil([&] { return verified; }, 120'000));
    QVERIFY(QTest::qWaitForWindowExposed(dialog));
    keep(QStringLiteral("models"), capture(window));

    dialog->close();

    // 6-8. The Create panel: ready with a prompt, painting (the preview after a decoder step), and the
    // results strip. The tiny test pipeline has random weights: its pictures are noise by design.
    window.findChild<QAction*>(QStringLiteral("createToggle"))->trigger();
    CreatePanel* panel = window.findChild<CreatePanel*>();
    QVERIFY(panel);
    QDockWidget* dock = panel->dock();
    QVERIFY(desktop::waitUntil([&] { return dock->isVisible(); }, 5'000));
    dock->findChild<QPlainTextEdit*>(QStringLiteral("createPrompt"))
        ->setPlainText(QStringLiteral("a lighthouse on a cliff at dawn, oil painting"));
    dock->findChild<QSpinBox*>(QStringLiteral("createCount"))->setValue(4);
    QTest::qWait(100);
    keep(QStringLiteral("create"), capture(window));
    dock->findChild<QGroupBox*>(QStringLiteral("createAdvanced"))->setChecked(true);
    dock->findChild<QSpinBox*>(QStringLiteral("createPriorSteps"))->setValue(3);
    dock->findChild<QSpinBox*>(QStringLiteral("createDecoderSteps"))->setValue(400);
    dock->findChild<QSpinBox*>(QStringLiteral("createSuperResSteps"))->setValue(2);
    bool done = false;
    connect(panel, &CreatePanel::generationFinished, &window, [&done](bool) { done = true; });
    panel->generate();
    auto* preview = dock->findChild<QLabel*>(QStringLiteral("createPreview"));
    QVERIFY(desktop::waitUntil(
        [&] {
            return !preview->pixmap().isNull()
                && dock->findChild<QLabel*>(QStringLiteral("createStatus"))
                       ->text()
                       .startsWith(QStringLiteral("decoder "));
        },
        60'000));
    keep(QStringLiteral("create-painting"), capture(window));
    panel->stop();
    QVERIFY(desktop::waitUntil([&] { return done; }, 60'000));
    done = false;
    dock->findChild<QSpinBox*>(QStringLiteral("createDecoderSteps"))->setValue(3);
    dock->findChild<QGroupBox*>(QStringLiteral("createAdvanced"))->setChecked(false);
    panel->generate();
    QVERIFY(desktop::waitUntil([&] { return done; }, 60'000));
    QCOMPARE(panel->resultCount(), 4);
    QTest::qWait(100);
    keep(QStringLiteral("create-results"), capture(window));

    // Each image: the window's size, more than a flat colour (photos where photos are shown), and a state
    // of its own.
    for (const auto& [name, image] : shots_) {
        QCOMPARE(image.size(), kWindowSize * window.devicePixelRatio());
        const bool showsPhotos = name != QLatin1String("welcome") && name != QLatin1String("models");
        const int colours = distinctColours(image);
        QVERIFY2(colours >= (showsPhotos ? 2000 : 64),
            qPrintable(QStringLiteral("%1: only %2 colours").arg(name).arg(colours)));
    }
    for (auto a = shots_.begin(); a != shots_.end(); ++a)
        for (auto b = std::next(a); b != shots_.end(); ++b) {
            const double differing = differingFraction(a->second, b->second);
            QVERIFY2(differing > 0.02,
                qPrintable(QStringLiteral("%1 and %2 differ in %3 % of the pixels only")
                               .arg(a->first, b->first)
                               .arg(differing * 100, 0, 'f', 2)));
        }
}

int main(int argc, char** argv)
{
    const auto home = desktop::isolateUserFolders();
    QApplication app(argc, argv);
    ScreenshotTest test;
    return QTest::qExec(&test, argc, argv);
}
#include "screenshot_test.moc"
