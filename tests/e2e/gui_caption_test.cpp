// Caption and Ask in the desktop app under Qt Test (QT_QPA_PLATFORM=offscreen), with the
// llava-tiny-qwen2 fixture as the captioning model and clip-tiny-a as the embedding model: the context
// menu's Caption / Ask items exist only with a llava model configured; Caption runs as a job, stores a
// caption the viewer's info panel shows and the quoted-word search finds; Ask streams (several text
// updates before the end), Stop ends an answer early, and the greedy answer equals `pictor ask --greedy`;
// a search typed while an answer streams runs between its slices, and the sliced answer equals the CLI's
// uninterrupted one; each photo keeps its conversation, sent as history with the next question.
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QDate>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMenu>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <algorithm>
#include <filesystem>

#include "app/model_module.h"
#include "core/imageio/decode.h"
#include "indexer/catalog.h"
#include "tests/support/paths.h"
#include "ui/app_settings.h"
#include "ui/ask_panel.h"
#include "ui/caption_actions.h"
#include "ui/chat_engine.h"
#include "ui/gallery_model.h"
#include "ui/indexing_jobs.h"
#include "ui/main_window.h"
#include "ui/photo_context.h"
#include "ui/photo_viewer.h"
#include "ui/search_bar.h"

using namespace pictor;
using namespace pictor::ui;

namespace {

constexpr int kJobTimeoutMs = 240'000;

MainWindow::Options optionsFor(const QString& library)
{
    return {std::filesystem::path(library.toStdString()),
        [](ModelRegistry& registry) { app::loadModelFamilies(registry); }};
}

QString fixture(const char* name)
{
    return QString::fromStdString(test::fixtureDir(name).string());
}

// The fixture's three photos in a folder of their own.
QString copyPhotos(const QString& dir)
{
    QDir().mkpath(dir);
    for (const char* name : {"img_640x480.jpg", "img_336x336.png", "img_200x500.png"})
        QFile::copy(fixture("llava-tiny-qwen2") + "/images/" + name, dir + '/' + name);
    return dir;
}

bool hasAction(QMenu* menu, const char* name)
{
    return menu->findChild<QAction*>(QString::fromLatin1(name)) != nullptr;
}

QString firstPlainWord(const QString& caption)
{
    for (const QString& word : caption.split(' ', Qt::SkipEmptyParts))
        if (word.size() >= 4 && std::all_of(word.begin(), word.end(), [](QChar c) {
                return c.isLetter() && c.unicode() < 128;
            }))
            return word;
    return {};
}

} // namespace

class GuiCaptionTest : public QObject {
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void actionsOnlyWithLlavaModel();
    void captionIsShownAndSearchable();
    void askStreamsStopsAndMatchesCli();
    void searchRunsWhileAnAnswerStreams();
    void conversationsArePerPhotoWithHistory();

private:
    std::unique_ptr<MainWindow> openIndexed(const QString& captionModel);
    AskPanel* openAskPanel(MainWindow& window, int row);
    std::unique_ptr<QTemporaryDir> scratch_;
};

void GuiCaptionTest::init()
{
    scratch_ = std::make_unique<QTemporaryDir>();
    QVERIFY(scratch_->isValid());
    AppSettings settings;
    settings.setModelDir(fixture("clip-tiny-a"));
    settings.setDevice(QStringLiteral("cpu"));
}

void GuiCaptionTest::cleanup()
{
    AppSettings().setCaptionModelDir({});
}

std::unique_ptr<MainWindow> GuiCaptionTest::openIndexed(const QString& captionModel)
{
    AppSettings().setCaptionModelDir(captionModel);
    auto window = std::make_unique<MainWindow>(optionsFor(scratch_->filePath("library")));
    window->show();
    if (!QTest::qWaitForWindowExposed(window.get()))
        return nullptr;
    window->addFolders({copyPhotos(scratch_->filePath("photos"))});
    QElapsedTimer timer;
    timer.start();
    while ((window->jobs()->busy() || window->galleryModel()->rowCount() < 3
               || window->galleryModel()->idAt(0) <= 0)
        && timer.elapsed() < kJobTimeoutMs)
        QTest::qWait(20);
    for (const JobInfo& job : window->jobs()->jobs())
        if (job.state != JobInfo::State::Done) {
            qWarning() << job.label << job.message;
            return nullptr;
        }
    return window;
}

void GuiCaptionTest::actionsOnlyWithLlavaModel()
{
    auto window = openIndexed({});
    QVERIFY(window);
    CaptionActions* captions = window->captions();
    QMenu* menu = window->contextMenuFor(0);
    QVERIFY(hasAction(menu, "findSimilar"));
    QVERIFY(!hasAction(menu, "caption"));
    QVERIFY(!hasAction(menu, "askAboutPhoto"));
    QVERIFY(!captions->captionAllAction()->isVisible());
    QVERIFY(captions->statusLabel()->isHidden());

    // A folder that is not a llava model (the CLIP fixture): still no actions, and the status bar says why.
    captions->setModel(fixture("clip-tiny-a"), QStringLiteral("cpu"), 0);
    QTRY_VERIFY_WITH_TIMEOUT(
        captions->statusLabel()->text().contains(QStringLiteral("not a llava model")), 10'000);
    QVERIFY(!captions->chat()->available());
    menu = window->contextMenuFor(0);
    QVERIFY(!hasAction(menu, "caption"));

    captions->setModel(fixture("llava-tiny-qwen2"), QStringLiteral("cpu"), 0);
    QTRY_VERIFY_WITH_TIMEOUT(captions->chat()->available(), 10'000);
    menu = window->contextMenuFor(0);
    QVERIFY(hasAction(menu, "caption"));
    QVERIFY(hasAction(menu, "askAboutPhoto"));
    QVERIFY(captions->captionAllAction()->isVisible());

    // A broken llava folder: the load error reaches the status bar (loaded on the worker at first use).
    const QString broken = scratch_->filePath("broken-llava");
    QDir().mkpath(broken);
    QFile::copy(fixture("llava-tiny-qwen2") + "/config.json", broken + "/config.json");
    captions->setModel(broken, QStringLiteral("cpu"), 0);
    QTRY_VERIFY_WITH_TIMEOUT(captions->chat()->available(), 10'000);
    const int job = captions->caption({window->galleryModel()->idAt(0)});
    QTRY_VERIFY_WITH_TIMEOUT(window->jobs()->job(job)->finished(), kJobTimeoutMs);
    QCOMPARE(window->jobs()->job(job)->state, JobInfo::State::Failed);
    QVERIFY2(captions->statusLabel()->text().contains(QStringLiteral("not loaded")),
        qPrintable(captions->statusLabel()->text()));
}

void GuiCaptionTest::captionIsShownAndSearchable()
{
    auto window = openIndexed(fixture("llava-tiny-qwen2"));
    QVERIFY(window);
    CaptionActions* captions = window->captions();
    QTRY_VERIFY_WITH_TIMEOUT(captions->chat()->available(), 10'000);
    const qint64 id = window->galleryModel()->idAt(0);
    window->openViewer(0);
    QTRY_VERIFY_WITH_TIMEOUT(window->viewer()->infoText().contains(QStringLiteral("Captions")), 10'000);
    QVERIFY(window->viewer()->infoText().contains(QStringLiteral("none")));

    QMenu* menu = window->contextMenuFor(0);
    QAction* caption = menu->findChild<QAction*>(QStringLiteral("caption"));
    QVERIFY(caption && caption->isEnabled());
    caption->trigger();
    QVERIFY(window->jobs()->busy());
    QTRY_VERIFY_WITH_TIMEOUT(!window->jobs()->busy(), kJobTimeoutMs);
    const JobInfo& job = window->jobs()->jobs().back();
    QVERIFY2(job.state == JobInfo::State::Done, qPrintable(job.message));
    QVERIFY2(job.message.contains(QStringLiteral("captioned 1")), qPrintable(job.message));

    std::vector<CaptionRecord> stored;
    {
        const Catalog catalog
            = Catalog::open(scratch_->filePath("library").toStdString(), Catalog::OpenMode::ReadOnly);
        stored = catalog.captions(id);
    }
    QCOMPARE(stored.size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(stored[0].prompt), QString::fromUtf8(captionPrompt().data()));
    const QString text = QString::fromStdString(stored[0].text);
    QVERIFY(captions->statusLabel()->text().contains(QString::fromStdString(stored[0].modelId)));
    // The info panel updates itself: caption, model and date.
    QTRY_VERIFY_WITH_TIMEOUT(window->viewer()->infoText().contains(text), 10'000);
    QVERIFY(window->viewer()->infoText().contains(QString::fromStdString(stored[0].modelId)));
    QVERIFY(
        window->viewer()->infoText().contains(QDate::currentDate().toString(QStringLiteral("yyyy-MM-dd"))));

    const QString word = firstPlainWord(text);
    QVERIFY2(!word.isEmpty(), qPrintable(text));
    window->closeViewer();
    int finished = 0;
    connect(window.get(), &MainWindow::searchFinished, this, [&finished] { ++finished; });
    window->searchBar()->setText('"' + word + '"');
    QTRY_VERIFY_WITH_TIMEOUT(finished > 0 && !window->searchRunning(), 60'000);
    QList<qint64> ids;
    for (int row = 0; row < window->galleryModel()->rowCount(); ++row)
        ids.append(window->galleryModel()->idAt(row));
    QVERIFY2(ids.contains(id), qPrintable(word + ": " + window->searchMessage()));

    // The index run, the caption and the search were served by one model host: both models are in it,
    // once each, and the status bar counts them against its budget.
    const auto loaded = window->host()->loaded();
    QCOMPARE(loaded.size(), std::size_t(2));
    QStringList kinds;
    for (const auto& model : loaded)
        kinds << QString::fromStdString(model.key.substr(0, model.key.find('|')));
    kinds.sort();
    QCOMPARE(kinds, (QStringList {QStringLiteral("chat"), QStringLiteral("embedding")}));
    QLabel* memory = window->findChild<QLabel*>(QStringLiteral("modelMemory"));
    QVERIFY(memory);
    QTRY_VERIFY(memory->toolTip().contains(QStringLiteral("(captions and questions, CPU ")));
    // (the search model's format is this CPU's: bfloat16 where native, float32 elsewhere)
    QVERIFY(memory->toolTip().contains(QStringLiteral("(embedding, CPU ")));
    QVERIFY2(memory->text().startsWith(QStringLiteral("Models: ")), qPrintable(memory->text()));
}

void GuiCaptionTest::askStreamsStopsAndMatchesCli()
{
    auto window = openIndexed(fixture("llava-tiny-qwen2"));
    QVERIFY(window);
    CaptionActions* captions = window->captions();
    QTRY_VERIFY_WITH_TIMEOUT(captions->chat()->available(), 10'000);
    QMenu* menu = window->contextMenuFor(0);
    menu->findChild<QAction*>(QStringLiteral("askAboutPhoto"))->trigger();
    AskPanel* panel = captions->askPanel();
    QVERIFY(panel->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(panel->ready(), 10'000);
    QCOMPARE(panel->path(), window->galleryModel()->pathAt(0));
    panel->greedyBox()->setChecked(true);
    // The Ask panel beside the details leaves them a readable column (not one word per line).
    auto* info = window->viewer()->findChild<QWidget*>(QStringLiteral("info"));
    QVERIFY(info);
    QVERIFY2(info->width() >= 20 * info->fontMetrics().averageCharWidth(),
        qPrintable(QString::number(info->width())));

    QSignalSpy updates(panel, &AskPanel::answerUpdated);
    QSignalSpy finished(panel, &AskPanel::answerFinished);
    const QString question = QStringLiteral("What is in this photo?");
    panel->ask(question);
    QVERIFY(panel->answering());
    QVERIFY(finished.wait(120'000));
    const QString answer = finished.front().at(0).toString();
    QVERIFY(!finished.front().at(1).toBool());
    QVERIFY2(updates.size() > 1, qPrintable(QString::number(updates.size())));
    QCOMPARE(updates.back().at(0).toString(), answer);
    // The transcript shows the turn (the tiny model's answer is random text: compared below, not here).
    QVERIFY(panel->transcriptText().contains(QStringLiteral("You: ") + question));

    QProcess cli;
    cli.start(QStringLiteral(PICTOR_BINARY),
        {QStringLiteral("ask"), QStringLiteral("--model"), fixture("llava-tiny-qwen2"),
            QStringLiteral("--device"), QStringLiteral("cpu"), QStringLiteral("--image"), panel->path(),
            QStringLiteral("--greedy"),
            QString::fromStdString(questionWithContext(panel->contextLine(), question.toStdString()))});
    QVERIFY(cli.waitForFinished(120'000));
    QCOMPARE(cli.exitCode(), 0);
    QCOMPARE(QString::fromUtf8(cli.readAllStandardOutput()), answer + '\n');

    // A second turn (with the first as history), stopped at its first piece.
    updates.clear();
    finished.clear();
    connect(panel, &AskPanel::answerUpdated, panel, &AskPanel::stop, Qt::SingleShotConnection);
    panel->ask(QStringLiteral("Tell me more, in detail, about every part of it."));
    QVERIFY(finished.wait(120'000));
    QVERIFY(finished.front().at(1).toBool());
    QVERIFY(!panel->answering());
    QVERIFY(panel->transcriptText().contains(QStringLiteral("[stopped]")));
    QVERIFY(panel->transcriptText().contains(question));
}

AskPanel* GuiCaptionTest::openAskPanel(MainWindow& window, int row)
{
    window.contextMenuFor(row)->findChild<QAction*>(QStringLiteral("askAboutPhoto"))->trigger();
    AskPanel* panel = window.captions()->askPanel();
    QElapsedTimer timer;
    timer.start();
    while (!panel->ready() && timer.elapsed() < 10'000)
        QTest::qWait(10);
    return panel->ready() && panel->path() == window.galleryModel()->pathAt(row) ? panel : nullptr;
}

void GuiCaptionTest::searchRunsWhileAnAnswerStreams()
{
    auto window = openIndexed(fixture("llava-tiny-qwen2"));
    QVERIFY(window);
    QTRY_VERIFY_WITH_TIMEOUT(window->captions()->chat()->available(), 10'000);
    AskPanel* panel = openAskPanel(*window, 0);
    QVERIFY(panel);
    panel->greedyBox()->setChecked(true);
    const int maxTokens = 300; // seconds of decoding for the tiny model: many slices
    panel->setMaxNewTokens(maxTokens);

    QElapsedTimer clock;
    clock.start();
    QSignalSpy updates(panel, &AskPanel::answerUpdated);
    QSignalSpy finished(panel, &AskPanel::answerFinished);
    qint64 searchSent = -1, searchDone = -1, answerDone = -1;
    qsizetype updatesAtSearch = -1;
    bool answeringAtSearch = false;
    std::size_t hits = 0;
    // At the first piece the answer is on the worker; the search (an Interactive job) goes there now.
    connect(
        panel, &AskPanel::answerUpdated, this,
        [&] {
            SearchRequest request;
            request.text = "a photo";
            searchSent = clock.elapsed();
            window->engine()->search(request).then(this, [&](const SearchResults& results) {
                searchDone = clock.elapsed();
                updatesAtSearch = updates.size();
                answeringAtSearch = panel->answering();
                hits = results.hits.size();
            });
        },
        Qt::SingleShotConnection);
    connect(panel, &AskPanel::answerFinished, this, [&] { answerDone = clock.elapsed(); });
    const QString question = QStringLiteral("Describe everything in this photo.");
    panel->ask(question);
    QVERIFY(finished.wait(kJobTimeoutMs));
    QTRY_VERIFY_WITH_TIMEOUT(searchDone >= 0, 60'000);
    const QString answer = finished.front().at(0).toString();
    qInfo("search sent at %lld ms, done at %lld ms; answer done at %lld ms after %lld updates",
        static_cast<long long>(searchSent), static_cast<long long>(searchDone),
        static_cast<long long>(answerDone), static_cast<long long>(updates.size()));
    QVERIFY(hits > 0);
    // The search finished while the answer was still streaming: more pieces came after it.
    QVERIFY2(answeringAtSearch && searchDone < answerDone && updatesAtSearch < updates.size(),
        qPrintable(QStringLiteral("search done at %1 ms after %2 of %3 updates; answer done at %4 ms")
                       .arg(searchDone)
                       .arg(updatesAtSearch)
                       .arg(updates.size())
                       .arg(answerDone)));

    // The sliced answer is the uninterrupted one of `pictor ask` with the same budget.
    QProcess cli;
    cli.start(QStringLiteral(PICTOR_BINARY),
        {QStringLiteral("ask"), QStringLiteral("--model"), fixture("llava-tiny-qwen2"),
            QStringLiteral("--device"), QStringLiteral("cpu"), QStringLiteral("--image"), panel->path(),
            QStringLiteral("--greedy"), QStringLiteral("--max-tokens"), QString::number(maxTokens),
            QString::fromStdString(questionWithContext(panel->contextLine(), question.toStdString()))});
    QVERIFY(cli.waitForFinished(kJobTimeoutMs));
    QCOMPARE(cli.exitCode(), 0);
    QCOMPARE(QString::fromUtf8(cli.readAllStandardOutput()), answer + '\n');
}

void GuiCaptionTest::conversationsArePerPhotoWithHistory()
{
    auto window = openIndexed(fixture("llava-tiny-qwen2"));
    QVERIFY(window);
    QTRY_VERIFY_WITH_TIMEOUT(window->captions()->chat()->available(), 10'000);
    auto askAndWait = [&](AskPanel* panel, const QString& question) {
        QSignalSpy finished(panel, &AskPanel::answerFinished);
        panel->ask(question);
        return finished.wait(kJobTimeoutMs) ? finished.front().at(0).toString() : QString();
    };
    // The model's own answer, computed here on the worker, for comparison.
    const std::shared_ptr<VisionChat> model = window->captions()->chat()->modelForJobs();
    auto expected
        = [&](const QString& path, const std::string& question, const std::vector<ChatTurn>& history) {
              const RgbImage image = decodeImageFile(path.toStdString()).image;
              AnswerOptions options;
              options.maxNewTokens = 24;
              const ChatAnswer answer = window->host()->worker().run(
                  JobPriority::Interactive, [&] { return model->ask({image}, question, history, options); });
              return QString::fromStdString(answer.text);
          };

    AskPanel* panel = openAskPanel(*window, 0);
    QVERIFY(panel);
    panel->greedyBox()->setChecked(true);
    panel->setMaxNewTokens(24);
    const QString photoA = panel->path();
    const std::string firstA = questionWithContext(panel->contextLine(), "What is in this photo?");
    const QString answerA1 = askAndWait(panel, QStringLiteral("What is in this photo?"));
    QVERIFY(!answerA1.isEmpty());
    QCOMPARE(answerA1, expected(photoA, firstA, {}));
    const QString answerA2 = askAndWait(panel, QStringLiteral("And what colour is it?"));
    const std::vector<ChatTurn> historyA {
        {ChatTurn::Role::User, firstA}, {ChatTurn::Role::Assistant, answerA1.toStdString()}};
    QCOMPARE(answerA2, expected(photoA, "And what colour is it?", historyA));
    // The history made a difference (without it the model answers otherwise).
    QVERIFY(answerA2 != expected(photoA, "And what colour is it?", {}));

    // Another photo starts its own conversation (with its own context line, no history).
    panel = openAskPanel(*window, 1);
    QVERIFY(panel);
    const QString photoB = panel->path();
    QVERIFY(photoB != photoA);
    QVERIFY(!panel->transcriptText().contains(QStringLiteral("What is in this photo?")));
    const std::string firstB = questionWithContext(panel->contextLine(), "Where was this taken?");
    const QString answerB1 = askAndWait(panel, QStringLiteral("Where was this taken?"));
    QCOMPARE(answerB1, expected(photoB, firstB, {}));

    // Back to the first photo: its transcript and history are still there, and the next question uses them.
    panel = openAskPanel(*window, 0);
    QVERIFY(panel);
    QCOMPARE(panel->path(), photoA);
    const QString transcript = panel->transcriptText();
    QVERIFY2(transcript.contains(QStringLiteral("You: What is in this photo?"))
            && transcript.contains(QStringLiteral("You: And what colour is it?"))
            && !transcript.contains(QStringLiteral("Where was this taken?")),
        qPrintable(transcript));
    const QString answerA3 = askAndWait(panel, QStringLiteral("Is it indoors?"));
    std::vector<ChatTurn> historyA2 = historyA;
    historyA2.push_back({ChatTurn::Role::User, "And what colour is it?"});
    historyA2.push_back({ChatTurn::Role::Assistant, answerA2.toStdString()});
    QCOMPARE(answerA3, expected(photoA, "Is it indoors?", historyA2));
}

int main(int argc, char** argv)
{
    QTemporaryDir home;
    for (const char* variable : {"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"})
        qputenv(variable, (home.path() + '/' + QString::fromLatin1(variable)).toLocal8Bit());
    QApplication app(argc, argv);
    GuiCaptionTest test;
    return QTest::qExec(&test, argc, argv);
}
#include "gui_caption_test.moc"
