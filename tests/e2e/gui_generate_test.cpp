// Generation in the window's engine under Qt Test, with the unclip-tiny fixture: the pictures equal
// `pictor generate`'s for the same seed, progress and previews arrive after every step, Stop ends a run
// between two steps, and a search's model work submitted while a picture is made waits at most about one
// diffusion step.
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QCoreApplication>
#include <QDialog>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QGroupBox>
#include <QImage>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QTimer>
#include <QUrl>
#include <algorithm>
#include <filesystem>

#include "app/model_module.h"
#include "core/generation_record.h"
#include "core/imageio/png_text.h"
#include "indexer/library.h"
#include "indexer/model_host.h"
#include "tests/support/paths.h"
#include "ui/app_settings.h"
#include "ui/create_panel.h"
#include "ui/gallery_model.h"
#include "ui/generation_engine.h"
#include "ui/indexing_jobs.h"
#include "ui/main_window.h"
#include "ui/photo_viewer.h"
#include "ui/search_bar.h"

using namespace pictor;
using namespace pictor::ui;

namespace {

std::filesystem::path fixture(const char* name)
{
    return test::fixtureDir(name);
}

GenerationRequest tinyRequest(int priorSteps, int decoderSteps, int superResSteps)
{
    GenerationRequest request;
    request.prompts = {"a red fox in the snow"};
    request.imagesPerInput = 2;
    request.seed = 42;
    request.priorSteps = priorSteps;
    request.decoderSteps = decoderSteps;
    request.superResSteps = superResSteps;
    return request;
}

// The window on `library`, with these tests' settings (the CPU, one thread), shown; null if it never was.
std::unique_ptr<MainWindow> openWindow(const QString& library)
{
    AppSettings settings;
    settings.setDevice(QStringLiteral("cpu"));
    settings.setCpuThreads(1);
    settings.sync();
    auto window = std::make_unique<MainWindow>(MainWindow::Options {
        library.toStdString(), [](ModelRegistry& registry) { app::loadModelFamilies(registry); }});
    window->show();
    return QTest::qWaitForWindowExposed(window.get()) ? std::move(window) : nullptr;
}

} // namespace

class GuiGenerateTest : public QObject {
    Q_OBJECT
private slots:
    void init()
    {
        host_
            = std::make_unique<ModelHost>([](ModelRegistry& registry) { app::loadModelFamilies(registry); });
        engine_ = std::make_unique<GenerationEngine>(*host_);
        engine_->setModel(fixture("unclip-tiny"), {"cpu", "float32", 1});
    }
    void cleanup()
    {
        engine_->stopAll();
        host_->stopWorker();
        engine_.reset();
        host_.reset();
    }
    void picturesEqualTheCliWithProgressAndPreviews();
    void stopEndsTheRunBetweenSteps();
    void otherModelWorkWaitsAboutOneStep();
    void createPanelPaintsStopsAndSaves();
    void variationsAndGenerateFromSearchKeepTheirSource();
    void resultsMenuPromptHistoryAndJobList();

private:
    std::unique_ptr<ModelHost> host_;
    std::unique_ptr<GenerationEngine> engine_;
};

void GuiGenerateTest::picturesEqualTheCliWithProgressAndPreviews()
{
    QSignalSpy progressed(engine_.get(), &GenerationEngine::progressed);
    QSignalSpy previews(engine_.get(), &GenerationEngine::previewReady);
    QSignalSpy finished(engine_.get(), &GenerationEngine::finished);
    const int id = engine_->generate(tinyRequest(3, 3, 2));
    QVERIFY(finished.wait(60'000));
    QCOMPARE(finished.at(0).at(0).toInt(), id);
    QVERIFY(!finished.at(0).at(2).toBool());
    const auto images = finished.at(0).at(1).value<QList<QImage>>();
    QCOMPARE(images.size(), 2);
    QCOMPARE(progressed.size(), 1 + 3 + 3 + 2);
    QCOMPARE(progressed.last().at(4).toInt(), 9);
    QCOMPARE(previews.size(), 3 + 2 - 1); // after each decoder and super-resolution step but the last
    QCOMPARE(previews.last().at(1).value<QList<QImage>>().at(0).width(), 128);

    QTemporaryDir dir;
    QProcess cli;
    cli.start(QStringLiteral(PICTOR_BINARY),
        {QStringLiteral("generate"), QStringLiteral("--model"),
            QString::fromStdString(fixture("unclip-tiny").string()), QStringLiteral("--prompt"),
            QStringLiteral("a red fox in the snow"), QStringLiteral("--n"), QStringLiteral("2"),
            QStringLiteral("--seed"), QStringLiteral("42"), QStringLiteral("--prior-steps"),
            QStringLiteral("3"), QStringLiteral("--decoder-steps"), QStringLiteral("3"),
            QStringLiteral("--sr-steps"), QStringLiteral("2"), QStringLiteral("--threads"),
            QStringLiteral("1"), QStringLiteral("--dtype"), QStringLiteral("float32"), QStringLiteral("-o"),
            dir.filePath(QStringLiteral("fox.png"))});
    QVERIFY(cli.waitForFinished(60'000));
    QCOMPARE(cli.exitCode(), 0);
    for (int i = 0; i < 2; ++i) {
        const QImage fromCli(dir.filePath(QStringLiteral("fox-%1.png").arg(i)));
        QCOMPARE(fromCli.convertToFormat(QImage::Format_RGB888), images.at(i));
    }
}

void GuiGenerateTest::stopEndsTheRunBetweenSteps()
{
    QSignalSpy progressed(engine_.get(), &GenerationEngine::progressed);
    QSignalSpy finished(engine_.get(), &GenerationEngine::finished);
    const int id = engine_->generate(tinyRequest(25, 25, 7));
    QVERIFY(progressed.wait(60'000)); // the encoding is done
    engine_->stop(id);
    QVERIFY(finished.wait(60'000));
    QVERIFY(finished.at(0).at(2).toBool()); // cancelled
    QVERIFY(finished.at(0).at(1).value<QList<QImage>>().isEmpty());
    QVERIFY2(progressed.size() < 1 + 25 + 25 + 7, "it stopped before the end");
}

void GuiGenerateTest::otherModelWorkWaitsAboutOneStep()
{
    // The search's side: the embedding model loaded before, as a search would have it.
    const auto clip = fixture("clip-tiny-a");
    host_->worker().run(JobPriority::Interactive, [&] { return host_->embedder(clip, {"cpu", 1, 8}); });
    QElapsedTimer clock;
    qint64 lastStep = 0, longestStep = 0;
    connect(engine_.get(), &GenerationEngine::progressed, this, [&] {
        const qint64 now = clock.elapsed();
        longestStep = std::max(longestStep, now - lastStep);
        lastStep = now;
    });
    QSignalSpy finished(engine_.get(), &GenerationEngine::finished);
    clock.start();
    engine_->generate(tinyRequest(25, 25, 7));
    QTest::qWait(200); // well into the decoder's steps
    QElapsedTimer wait;
    wait.start();
    host_->worker().run(JobPriority::Interactive, [&] {
        return host_->embedder(clip, {"cpu", 1, 8})->embedTexts({"a dog on a beach"});
    });
    const qint64 waited = wait.elapsed();
    QVERIFY(finished.wait(120'000));
    qInfo("a search's embedding waited %lld ms while a picture was made (longest step seen %lld ms)",
        static_cast<long long>(waited), static_cast<long long>(longestStep));
    QVERIFY2(waited <= std::max<qint64>(100, 2 * longestStep), "it waited for more than one step");
}

// The Create panel in the window: no model says how to get one; with the tiny pipeline it paints the asked
// number of pictures with the seed shown, Stop ends a run early, and Save all writes them into the
// library's Generated folder with their parameters, the same pixels as `pictor generate` with that seed.
void GuiGenerateTest::createPanelPaintsStopsAndSaves()
{
    QTemporaryDir library;
    AppSettings settings;
    settings.setGenerationModelDir({});
    settings.setModelDir(
        QString::fromStdString(fixture("clip-tiny-a").string())); // saved pictures are indexed
    const auto window = openWindow(library.path());
    QVERIFY(window);
    CreatePanel* panel = window->createPanel();
    QVERIFY(panel);
    QDockWidget* dock = panel->dock();
    QVERIFY(!dock->isVisible());
    QAction* toggle = window->findChild<QAction*>(QStringLiteral("createToggle"));
    QVERIFY(toggle);
    QCOMPARE(toggle->shortcut(), QKeySequence(QStringLiteral("Ctrl+G")));
    toggle->trigger();
    QTRY_VERIFY(dock->isVisible());
    auto* generate = dock->findChild<QPushButton*>(QStringLiteral("createGenerate"));
    auto* status = dock->findChild<QLabel*>(QStringLiteral("createStatus"));
    QVERIFY(!generate->isEnabled());
    QVERIFY2(status->text().contains(QStringLiteral("No picture model")), qPrintable(status->text()));
    auto* models = dock->findChild<QPushButton*>(QStringLiteral("createModels"));
    QVERIFY(models && models->isVisible());
    models->click(); // File › Models…
    QTRY_VERIFY(window->findChild<QDialog*>(QStringLiteral("modelManager"))
        && window->findChild<QDialog*>(QStringLiteral("modelManager"))->isVisible());
    window->findChild<QDialog*>(QStringLiteral("modelManager"))->close();

    panel->setModel(QString::fromStdString(fixture("unclip-tiny").string()), QStringLiteral("cpu"), 1);
    QVERIFY(generate->isEnabled());
    QVERIFY(!models->isVisible());
    dock->findChild<QPlainTextEdit*>(QStringLiteral("createPrompt"))
        ->setPlainText(QStringLiteral("a lighthouse"));
    dock->findChild<QSpinBox*>(QStringLiteral("createCount"))->setValue(2);
    dock->findChild<QCheckBox*>(QStringLiteral("createRandomSeed"))->setChecked(false);
    dock->findChild<QSpinBox*>(QStringLiteral("createSeed"))->setValue(7);
    dock->findChild<QGroupBox*>(QStringLiteral("createAdvanced"))->setChecked(true);
    dock->findChild<QSpinBox*>(QStringLiteral("createPriorSteps"))->setValue(3);
    dock->findChild<QSpinBox*>(QStringLiteral("createDecoderSteps"))->setValue(3);
    dock->findChild<QSpinBox*>(QStringLiteral("createSuperResSteps"))->setValue(2);

    // Stop during a long run: nothing is kept.
    dock->findChild<QSpinBox*>(QStringLiteral("createDecoderSteps"))->setValue(200);
    QSignalSpy finished(panel, &CreatePanel::generationFinished);
    generate->click();
    QVERIFY(!generate->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(status->text().contains(QStringLiteral("decoder")), 60'000);
    dock->findChild<QPushButton*>(QStringLiteral("createStop"))->click();
    QVERIFY(finished.wait(60'000));
    QVERIFY(finished.at(0).at(0).toBool());
    QCOMPARE(panel->resultCount(), 0);

    dock->findChild<QSpinBox*>(QStringLiteral("createDecoderSteps"))->setValue(3);
    generate->click();
    QVERIFY(finished.wait(60'000));
    QVERIFY(!finished.at(1).at(0).toBool());
    QCOMPARE(panel->resultCount(), 2);
    QVERIFY2(status->text().contains(QStringLiteral("seed 7")), qPrintable(status->text()));
    const QStringList files = panel->saveAll();
    QCOMPARE(files.size(), 2);
    QVERIFY(files.at(0).startsWith(library.filePath(QStringLiteral("Generated/"))));
    const auto texts = readPngText(files.at(1).toStdString());
    QVERIFY(
        QString::fromStdString(texts.at("parameters")).startsWith(QStringLiteral("a lighthouse\nSteps: 3")));
    QVERIFY(QString::fromStdString(texts.at("pictor")).contains(QStringLiteral("\"seed\":7")));
    QCOMPARE(panel->saveAll().size(), 0); // already saved

    // Saved pictures are indexed at once: in the catalog with their provenance, found by their prompt.
    QTRY_VERIFY_WITH_TIMEOUT(!window->jobs()->busy() && !window->jobs()->jobs().isEmpty(), 60'000);
    QCOMPARE(window->jobs()->jobs().back().state, JobInfo::State::Done);
    {
        Library indexed = Library::openForReading(library.path().toStdString());
        for (const QString& file : files) {
            const auto photo = indexed.catalog().findByPath(std::filesystem::canonical(file.toStdString()));
            QVERIFY2(photo, qPrintable(file));
            const auto generation = indexed.catalog().generationOf(photo->id);
            QVERIFY(generation);
            QCOMPARE(QString::fromStdString(generation->prompt), QStringLiteral("a lighthouse"));
            QVERIFY(QString::fromStdString(generation->modelId).startsWith(QStringLiteral("unclip-")));
        }
        QCOMPARE(indexed.catalog().matchText("lighthouse", 10).size(), std::size_t(2));
    }

    // The same pictures as the command line with that seed (the window's automatic number format).
    QTemporaryDir dir;
    QProcess cli;
    cli.start(QStringLiteral(PICTOR_BINARY),
        {QStringLiteral("generate"), QStringLiteral("--model"),
            QString::fromStdString(fixture("unclip-tiny").string()), QStringLiteral("--prompt"),
            QStringLiteral("a lighthouse"), QStringLiteral("--n"), QStringLiteral("2"),
            QStringLiteral("--seed"), QStringLiteral("7"), QStringLiteral("--prior-steps"),
            QStringLiteral("3"), QStringLiteral("--decoder-steps"), QStringLiteral("3"),
            QStringLiteral("--sr-steps"), QStringLiteral("2"), QStringLiteral("--threads"),
            QStringLiteral("1"), QStringLiteral("--device"), QStringLiteral("cpu"), QStringLiteral("-o"),
            dir.filePath(QStringLiteral("l.png"))});
    QVERIFY(cli.waitForFinished(60'000));
    QCOMPARE(cli.exitCode(), 0);
    for (int i = 0; i < 2; ++i)
        QCOMPARE(
            QImage(dir.filePath(QStringLiteral("l-%1.png").arg(i))).convertToFormat(QImage::Format_RGB888),
            QImage(files.at(i)).convertToFormat(QImage::Format_RGB888));
}

// Create variations from a photo's context menu, and Generate from a composed search: the pictures equal
// `pictor generate --image` for the seed, are saved into the library with their source and query, and the
// viewer shows the provenance both ways (the picture links to its source, the source lists the picture).
void GuiGenerateTest::variationsAndGenerateFromSearchKeepTheirSource()
{
    QTemporaryDir library, photos;
    QImage photo(64, 48, QImage::Format_RGB888);
    for (int y = 0; y < photo.height(); ++y)
        for (int x = 0; x < photo.width(); ++x)
            photo.setPixelColor(x, y, QColor(4 * x, 5 * y, 128));
    const QString source = photos.filePath(QStringLiteral("beach.png"));
    QVERIFY(photo.save(source));
    AppSettings settings;
    settings.setModelDir(QString::fromStdString(fixture("clip-tiny-a").string()));
    settings.setGenerationModelDir(QString::fromStdString(fixture("unclip-tiny").string()));
    const auto window = openWindow(library.path());
    QVERIFY(window);
    const auto reload = [&] {
        QTRY_VERIFY_WITH_TIMEOUT(!window->jobs()->busy(), 60'000);
        QSignalSpy reloaded(window.get(), &MainWindow::listingReloaded);
        QTimer::singleShot(0, window.get(), &MainWindow::reloadLibrary);
        QVERIFY(reloaded.wait(10'000));
    };
    window->jobs()->addFolders({photos.path()});
    reload();
    QCOMPARE(window->galleryModel()->rowCount(), 1);

    CreatePanel* panel = window->createPanel();
    QDockWidget* dock = panel->dock();
    dock->findChild<QSpinBox*>(QStringLiteral("createCount"))->setValue(1);
    dock->findChild<QCheckBox*>(QStringLiteral("createRandomSeed"))->setChecked(false);
    dock->findChild<QSpinBox*>(QStringLiteral("createSeed"))->setValue(5);
    dock->findChild<QSpinBox*>(QStringLiteral("createDecoderSteps"))->setValue(3);
    dock->findChild<QSpinBox*>(QStringLiteral("createSuperResSteps"))->setValue(2);
    QSignalSpy finished(panel, &CreatePanel::generationFinished);

    // Variations from the context menu.
    QMenu* menu = window->contextMenuFor(0);
    QAction* variations = menu->findChild<QAction*>(QStringLiteral("createVariations"));
    QVERIFY(variations && variations->isEnabled());
    variations->trigger();
    delete menu;
    QVERIFY(finished.wait(60'000));
    QVERIFY(!finished.at(0).at(0).toBool());
    QVERIFY(dock->isVisible());
    QVERIFY(dock->findChild<QLabel*>(QStringLiteral("createSource"))->isVisible());
    const QStringList variationFiles = panel->saveAll();
    QCOMPARE(variationFiles.size(), 1);
    QTemporaryDir cliDir;
    QProcess cli;
    cli.start(QStringLiteral(PICTOR_BINARY),
        {QStringLiteral("generate"), QStringLiteral("--model"),
            QString::fromStdString(fixture("unclip-tiny").string()), QStringLiteral("--image"), source,
            QStringLiteral("--seed"), QStringLiteral("5"), QStringLiteral("--decoder-steps"),
            QStringLiteral("3"), QStringLiteral("--sr-steps"), QStringLiteral("2"),
            QStringLiteral("--threads"), QStringLiteral("1"), QStringLiteral("--device"),
            QStringLiteral("cpu"), QStringLiteral("-o"), cliDir.filePath(QStringLiteral("v.png"))});
    QVERIFY(cli.waitForFinished(60'000));
    QCOMPARE(cli.exitCode(), 0);
    QCOMPARE(QImage(cliDir.filePath(QStringLiteral("v.png"))).convertToFormat(QImage::Format_RGB888),
        QImage(variationFiles.at(0)).convertToFormat(QImage::Format_RGB888));

    // Generate from a composed search: the photo chip and the words, the slider as the strength.
    SearchBar* bar = window->searchBar();
    bar->addPhoto(PhotoTerm {source.toStdString(), window->galleryModel()->idAt(0), false});
    bar->setTextWeight(0.4);
    bar->setText(QStringLiteral("in snow"));
    QTRY_VERIFY_WITH_TIMEOUT(window->composedSearch().has_value(), 5'000);
    QAction* fromSearch = window->findChild<QAction*>(QStringLiteral("generateFromSearch"));
    QVERIFY(fromSearch);
    fromSearch->trigger();
    QVERIFY(finished.wait(60'000));
    const QStringList changedFiles = panel->saveAll();
    QCOMPARE(changedFiles.size(), 1);
    const auto chunk = readGenerationJson(readPngText(changedFiles.at(0).toStdString()).at("pictor"));
    QVERIFY(chunk);
    QCOMPARE(QString::fromStdString(chunk->prompt), QStringLiteral("in snow"));
    QCOMPARE(chunk->settings.changeStrength, 0.4f);
    QVERIFY(QString::fromStdString(chunk->query).startsWith(QStringLiteral("in snow")));
    QCOMPARE(QString::fromStdString(chunk->sourceImage.string()), source);

    // Saved and indexed: the source lists both pictures, each picture links to its source.
    bar->clear();
    reload();
    QCOMPARE(window->galleryModel()->rowCount(), 3);
    int sourceRow = -1, pictureRow = -1;
    for (int row = 0; row < 3; ++row) {
        if (window->galleryModel()->pathAt(row) == source)
            sourceRow = row;
        else if (window->galleryModel()->pathAt(row).endsWith(QFileInfo(changedFiles.at(0)).fileName()))
            pictureRow = row;
    }
    QVERIFY(sourceRow >= 0 && pictureRow >= 0);
    window->openViewer(sourceRow);
    PhotoViewer* viewer = window->viewer();
    QTRY_VERIFY_WITH_TIMEOUT(viewer->infoText().contains(QStringLiteral("Pictures made from it")), 10'000);
    QVERIFY(viewer->infoText().contains(QFileInfo(variationFiles.at(0)).fileName()));
    QVERIFY(viewer->infoText().contains(QFileInfo(changedFiles.at(0)).fileName()));
    window->openViewer(pictureRow);
    QTRY_VERIFY_WITH_TIMEOUT(viewer->infoText().contains(QStringLiteral("made from beach.png")), 10'000);
    QVERIFY(viewer->infoText().contains(QStringLiteral("seed 5")));
    QVERIFY(viewer->infoText().contains(QStringLiteral("“in snow”")));
    // Its link opens the source.
    emit viewer->findChild<QTextBrowser*>(QStringLiteral("info"))
        ->anchorClicked(QUrl(QStringLiteral("photo:%1").arg(window->galleryModel()->idAt(sourceRow))));
    QCOMPARE(viewer->row(), sourceRow);
}

// A result's menu (reuse its seed, copy its parameters and image, save it alone, discard it), the prompt
// history, and the job list: a generation is listed with its progress, and Cancel there stops it.
void GuiGenerateTest::resultsMenuPromptHistoryAndJobList()
{
    QTemporaryDir library;
    AppSettings settings;
    settings.setGenerationModelDir(QString::fromStdString(fixture("unclip-tiny").string()));
    const auto window = openWindow(library.path());
    QVERIFY(window);
    CreatePanel* panel = window->createPanel();
    QDockWidget* dock = panel->dock();
    dock->findChild<QPlainTextEdit*>(QStringLiteral("createPrompt"))
        ->setPlainText(QStringLiteral("a harbour"));
    dock->findChild<QSpinBox*>(QStringLiteral("createCount"))->setValue(2);
    dock->findChild<QSpinBox*>(QStringLiteral("createPriorSteps"))->setValue(200);
    QSignalSpy finished(panel, &CreatePanel::generationFinished);

    // Listed in the job list while it runs; Cancel there stops it.
    panel->generate();
    QTRY_VERIFY_WITH_TIMEOUT(
        window->jobs()->running() && window->jobs()->running()->progress.done > 0, 60'000);
    const JobInfo running = *window->jobs()->running();
    QCOMPARE(running.label, QStringLiteral("Create: a harbour"));
    QVERIFY2(running.message.contains(QStringLiteral("prior")), qPrintable(running.message));
    window->jobs()->cancel(running.id);
    QVERIFY(finished.wait(60'000));
    QVERIFY(finished.at(0).at(0).toBool());
    QCOMPARE(window->jobs()->job(running.id)->state, JobInfo::State::Cancelled);
    QCOMPARE(AppSettings().recentPrompts().value(0), QStringLiteral("a harbour"));

    dock->findChild<QSpinBox*>(QStringLiteral("createPriorSteps"))->setValue(3);
    dock->findChild<QSpinBox*>(QStringLiteral("createDecoderSteps"))->setValue(3);
    dock->findChild<QSpinBox*>(QStringLiteral("createSuperResSteps"))->setValue(2);
    panel->generate();
    QVERIFY(finished.wait(60'000));
    QCOMPARE(panel->resultCount(), 2);
    QCOMPARE(window->jobs()->jobs().back().state, JobInfo::State::Done);

    QMenu* menu = panel->resultMenu(1);
    const auto action
        = [&](const char* name) { return menu->findChild<QAction*>(QString::fromLatin1(name)); };
    QVERIFY(action("createOpenLarge") && action("createSave") && action("createDiscard"));
    QVERIFY(!action("createOpenFolder")->isEnabled()); // not saved yet
    const int seed = dock->findChild<QSpinBox*>(QStringLiteral("createSeed"))->value();
    dock->findChild<QSpinBox*>(QStringLiteral("createSeed"))->setValue(seed + 1);
    action("createReuseSeed")->trigger();
    QCOMPARE(dock->findChild<QSpinBox*>(QStringLiteral("createSeed"))->value(), seed);
    QVERIFY(!dock->findChild<QCheckBox*>(QStringLiteral("createRandomSeed"))->isChecked());
    action("createCopyParameters")->trigger();
    QVERIFY2(QApplication::clipboard()->text().startsWith(QStringLiteral("a harbour\nSteps: 3")),
        qPrintable(QApplication::clipboard()->text()));
    action("createCopyImage")->trigger();
    QCOMPARE(QApplication::clipboard()->image().size(), QSize(128, 128)); // the tiny pipeline's output
    delete menu;

    const QString saved = panel->save(1);
    QVERIFY(QFileInfo::exists(saved));
    QCOMPARE(panel->save(1), saved); // saved once
    menu = panel->resultMenu(1);
    QVERIFY(action("createOpenFolder")->isEnabled());
    QVERIFY(!action("createSave")->isEnabled());
    delete menu;
    panel->discard(0);
    QCOMPARE(panel->resultCount(), 1);
    QCOMPARE(panel->saveAll().size(), 0); // the one left was saved
    QVERIFY(QFileInfo::exists(saved));
}

int main(int argc, char** argv)
{
    QTemporaryDir home;
    for (const char* variable : {"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"})
        qputenv(variable, (home.path() + '/' + QString::fromLatin1(variable)).toLocal8Bit());
    QApplication app(argc, argv);
    GuiGenerateTest test;
    return QTest::qExec(&test, argc, argv);
}
#include "gui_generate_test.moc"
