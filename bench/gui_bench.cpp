// The desktop window's responsiveness, measured on the real MainWindow (offscreen, unless
// QT_QPA_PLATFORM says otherwise) over synthetic catalogs written without any image file. One JSON line
// per measurement:
//   setup    the models (ids, dimensions, load time through the model module, as the window loads them)
//   type     type-to-results on an N-photo library (default 10,000) per model (the clip-tiny-a fixture and
//            a ViT-B/32-shaped random CLIP): ~30 queries typed key by key with QTest::keyClicks, timed
//            from the last key press to the window's searchFinished, which it emits after repainting the
//            gallery with the hits (a paint of the gallery's viewport in between is checked). Median,
//            p90, max in ms, raw and less the search field's debounce; the window's own figure
//            (lastSearchLatencyMs: textEdited -> painted) and the worker's time (the status label)
//   scroll   a 100,000-photo library without image files (placeholders; thumbnail jobs fail) and, with
//            --cached-fraction F, one where that fraction has a cached thumbnail: show -> first paint of
//            the gallery, show -> listing shown; then the grid scrolled top to bottom in ~--steps strides
//            and --steps page-downs from the top, each step a scroll + synchronous repaint of the viewport
//            followed by 16 ms of event loop; per-step paint ms, the longest gap of a 10 ms heartbeat
//            timer (a GUI-thread stall), the longest single event, RSS before the window, after the
//            listing and after scrolling
//
//   gui_bench [--part all|type|scroll] [--photos 10000] [--queries 30] [--models tiny,vit]
//             [--scroll-photos 100000] [--steps 200] [--cached-fraction 0.25] [--runs 1]
//             [--work DIR] [--keep] [--fixtures DIR] [--seed 0] [--log-events MS]
// --keep keeps the work folder and reuses its catalogs on the next run (give the same --photos and --seed);
// without it the work folder must be new or empty. --log-events MS writes every GUI-thread event of MS or
// more to stderr (receiver, type, phase).
// Run it with OMP_WAIT_POLICY=PASSIVE (as the tests do; libgomp reads it when the process starts). Every
// line carries the load averages: the machine is often shared, compare runs made under the same load.
#include <QApplication>
#include <QEventLoop>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QRegularExpression>
#include <QScrollBar>
#include <QTest>
#include <QTimer>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "app/model_module.h"
#include "bench/support/bench_measures.h"
#include "bench/support/synthetic_catalog.h"
#include "bench/support/vit_b32_folder.h"
#include "core/embedder.h"
#include "core/error.h"
#include "indexer/library.h"
#include "indexer/thumbnail_cache.h"
#include "ui/app_settings.h"
#include "ui/gallery_model.h"
#include "ui/gallery_view.h"
#include "ui/main_window.h"
#include "ui/search_bar.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using pictor::bench::Clock;
using pictor::bench::currentRssMb;
using pictor::bench::quantile;
using pictor::bench::round3;
using pictor::ui::MainWindow;

struct Options {
    std::string part = "all";
    std::int64_t photos = 10000;
    int queries = 30;
    std::vector<std::string> models {"tiny", "vit"};
    std::int64_t scrollPhotos = 100000;
    int steps = 200;
    double cachedFraction = 0.25;
    int runs = 1;
    double logEventsMs = 0;
    fs::path work;
    bool keep = false;
    fs::path fixtures;
    std::uint64_t seed = 0;
};

Options parseOptions(int argc, char** argv)
{
    Options options;
    const char* fixtures = std::getenv("PICTOR_FIXTURES");
    options.fixtures = fixtures && *fixtures ? fixtures : PICTOR_DEFAULT_FIXTURES_DIR;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> std::string {
            PICTOR_CHECK(i + 1 < argc, arg, " needs a value");
            return argv[++i];
        };
        if (arg == "--part")
            options.part = value();
        else if (arg == "--photos")
            options.photos = std::stoll(value());
        else if (arg == "--queries")
            options.queries = std::stoi(value());
        else if (arg == "--models") {
            options.models.clear();
            std::string list = value();
            for (std::size_t start = 0; start <= list.size();) {
                const std::size_t comma = std::min(list.find(',', start), list.size());
                if (comma > start)
                    options.models.push_back(list.substr(start, comma - start));
                start = comma + 1;
            }
        } else if (arg == "--scroll-photos")
            options.scrollPhotos = std::stoll(value());
        else if (arg == "--steps")
            options.steps = std::stoi(value());
        else if (arg == "--cached-fraction")
            options.cachedFraction = std::stod(value());
        else if (arg == "--runs")
            options.runs = std::stoi(value());
        else if (arg == "--log-events")
            options.logEventsMs = std::stod(value());
        else if (arg == "--work")
            options.work = value();
        else if (arg == "--keep")
            options.keep = true;
        else if (arg == "--fixtures")
            options.fixtures = value();
        else if (arg == "--seed")
            options.seed = std::stoull(value());
        else
            PICTOR_FAIL(
                "unknown option ", arg, " (the options are listed at the top of bench/gui_bench.cpp)");
    }
    PICTOR_CHECK(options.part == "all" || options.part == "type" || options.part == "scroll",
        "--part is all, type or scroll");
    for (const auto& model : options.models)
        PICTOR_CHECK(model == "tiny" || model == "vit", "--models lists tiny and/or vit, not ", model);
    return options;
}

double msBetween(Clock::time_point from, Clock::time_point to)
{
    return std::chrono::duration<double, std::milli>(to - from).count();
}

json loadAverages()
{
    double load[3] = {-1, -1, -1};
    getloadavg(load, 3);
    return {round3(load[0]), round3(load[1]), round3(load[2])};
}

void print(const json& line)
{
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
}

// Times every event the GUI thread dispatches from its event loop and keeps the longest one: what a
// heartbeat gap is made of.
class TimedApplication : public QApplication {
public:
    using QApplication::QApplication;
    struct Longest {
        double ms = 0;
        int type = 0;
        std::string receiver;
    };
    bool notify(QObject* receiver, QEvent* event) override
    {
        if (depth_ > 0)
            return QApplication::notify(receiver, event);
        ++depth_;
        // Named before dispatch: a DeferredDelete (or any handler) may delete the receiver.
        const std::string name = std::string(receiver->metaObject()->className()) + " \""
            + receiver->objectName().toStdString() + "\"";
        const auto start = Clock::now();
        const int type = static_cast<int>(event->type());
        const bool result = QApplication::notify(receiver, event);
        const double ms = msBetween(start, Clock::now());
        --depth_;
        if (logAtMs > 0 && ms >= logAtMs)
            std::fprintf(stderr, "gui_bench: %s: event %d to %s took %.1f ms\n", phase.c_str(), type,
                name.c_str(), ms);
        if (ms > longest_.ms)
            longest_ = {ms, type, name};
        return result;
    }
    json takeLongest()
    {
        const json out {
            {"ms", round3(longest_.ms)}, {"type", longest_.type}, {"receiver", longest_.receiver}};
        longest_ = {};
        return out;
    }

    double logAtMs = 0; // --log-events: events this long are written to stderr
    std::string phase; // named in those lines

private:
    int depth_ = 0;
    Longest longest_;
};

// A 10 ms timer on the GUI thread: the longest gap between its ticks is the longest stall of the loop.
class Heartbeat {
public:
    Heartbeat()
    {
        timer_.setTimerType(Qt::PreciseTimer);
        timer_.setInterval(10);
        QObject::connect(&timer_, &QTimer::timeout, [this] {
            const auto now = Clock::now();
            const double gap = msBetween(last_, now);
            longest_ = std::max(longest_, gap);
            if (gap > 50)
                ++over50_;
            last_ = now;
        });
        reset();
        timer_.start();
    }
    void reset()
    {
        last_ = Clock::now();
        longest_ = 0;
        over50_ = 0;
    }
    double longestMs() const { return std::max(longest_, msBetween(last_, Clock::now())); }
    int gapsOver50() const { return over50_; }

private:
    QTimer timer_;
    Clock::time_point last_;
    double longest_ = 0;
    int over50_ = 0;
};

// Records the time of every event of one type a widget receives (paints of the gallery, key presses).
class EventClock : public QObject {
public:
    EventClock(QObject* watched, QEvent::Type type) : type_(type) { watched->installEventFilter(this); }
    std::vector<Clock::time_point> times;

protected:
    bool eventFilter(QObject*, QEvent* event) override
    {
        if (event->type() == type_)
            times.push_back(Clock::now());
        return false;
    }

private:
    QEvent::Type type_;
};

// Runs the event loop (as the application does) until `done` or `ms` have passed; true when done.
template <class Done> bool runEventLoopUntil(Done done, int ms)
{
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    QEventLoop loop;
    QTimer poll;
    poll.setInterval(1);
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (done() || Clock::now() >= deadline)
            loop.quit();
    });
    if (done())
        return true;
    poll.start();
    loop.exec();
    return done();
}

void runEventLoopFor(int ms)
{
    runEventLoopUntil([] { return false; }, ms);
}

MainWindow::Options windowOptions(const fs::path& libraryDir)
{
    return {libraryDir, [](pictor::ModelRegistry& registry) { pictor::app::loadModelFamilies(registry); }};
}

struct ModelSpec {
    std::string name; // tiny, vit
    fs::path dir;
    std::string id;
    int dimension = 0;
};

// --- type-to-results

const char* const kQueries[] = {"sunset over the sea", "a dog on the beach", "birthday cake with candles",
    "snowy mountain", "city lights at night", "green forest path", "red car", "child playing football",
    "cat sleeping on a sofa", "wedding dance", "old church", "boats in a harbour", "autumn leaves",
    "breakfast table", "train station", "desert road", "waterfall", "fireworks", "skiing", "garden flowers",
    "lighthouse", "horse in a field", "bridge in fog", "family picnic", "museum hall", "rainy street",
    "mountain lake", "concert crowd", "bicycle", "baby smiling", "kitchen", "market stall", "airplane wing",
    "graduation", "tent under stars", "surfing", "christmas tree", "library shelves", "sheep", "tulips"};

struct TypedQuery {
    double lastKeyToShownMs = 0; // last key press -> searchFinished (after the synchronous repaint)
    double lastKeyToPaintMs = 0; // last key press -> the last paint of the viewport that began before it
    double windowMs = 0; // the window's own figure: textEdited -> painted
    double workerMs = 0; // the search on the worker (the status label)
    int hits = 0;
};

TypedQuery typeQuery(MainWindow& window, const QString& text, EventClock& paints, EventClock& keys)
{
    window.searchBar()->clear(); // back to browsing at once
    runEventLoopFor(200); // the grid repaints and the machine settles before the next query
    bool finished = false;
    Clock::time_point finishedAt;
    const auto connection = QObject::connect(&window, &MainWindow::searchFinished, &window, [&] {
        finished = true;
        finishedAt = Clock::now();
    });
    keys.times.clear();
    paints.times.clear();
    QTest::keyClicks(window.searchBar()->lineEdit(), text);
    PICTOR_CHECK(!keys.times.empty(), "the search field received no key press");
    const Clock::time_point lastKey = keys.times.back();
    const bool done = runEventLoopUntil([&] { return finished; }, 120'000);
    QObject::disconnect(connection);
    PICTOR_CHECK(done, "no results within 120 s for '", text.toStdString(), "'");
    PICTOR_CHECK(
        window.searchMessage().isEmpty(), "the search failed: ", window.searchMessage().toStdString());
    TypedQuery out;
    out.lastKeyToShownMs = msBetween(lastKey, finishedAt);
    Clock::time_point paint {};
    for (const auto& at : paints.times)
        if (at > lastKey && at <= finishedAt)
            paint = at;
    PICTOR_CHECK(
        paint != Clock::time_point {}, "the gallery was not painted between the last key and the results");
    out.lastKeyToPaintMs = msBetween(lastKey, paint);
    out.windowMs = window.lastSearchLatencyMs();
    const auto* label = window.findChild<QLabel*>(QStringLiteral("resultLabel"));
    const auto match
        = QRegularExpression(QStringLiteral("in (\\d+) ms")).match(label ? label->text() : QString());
    out.workerMs = match.hasMatch() ? match.captured(1).toDouble() : -1;
    out.hits = window.galleryModel()->totalRows();
    return out;
}

json summary(const std::vector<double>& values, double less = 0)
{
    std::vector<double> shifted;
    for (double v : values)
        shifted.push_back(v - less);
    return {{"median", round3(quantile(shifted, 0.5))}, {"p90", round3(quantile(shifted, 0.9))},
        {"max", round3(quantile(shifted, 1.0))}};
}

json typeToResults(const ModelSpec& model, const Options& options, int run)
{
    const fs::path libraryDir = options.work / ("library-" + model.name);
    const fs::path photos = options.work / ("photos-" + model.name);
    auto start = Clock::now();
    if (!fs::exists(libraryDir)) { // written once, reused by later runs
        fs::create_directories(photos);
        auto library = pictor::Library::openForWriting(libraryDir);
        pictor::bench::SyntheticCatalogOptions synthetic;
        synthetic.root = photos;
        synthetic.photos = options.photos;
        synthetic.modelId = model.id;
        synthetic.dimension = model.dimension;
        synthetic.seed = options.seed;
        pictor::bench::fillSyntheticCatalog(library.catalog(), synthetic);
    }
    const double catalogSeconds = pictor::bench::secondsSince(start);
    {
        pictor::ui::AppSettings settings;
        settings.setModelDir(QString::fromStdString(model.dir.string()));
        settings.sync();
    }

    MainWindow window(windowOptions(libraryDir));
    bool ready = false;
    QString status;
    QObject::connect(window.engine(), &pictor::ui::SearchEngine::modelStatusChanged, &window,
        [&](const QString& text, bool isReady) {
            status = text;
            ready = isReady;
        });
    EventClock paints(window.gallery()->viewport(), QEvent::Paint);
    EventClock keys(window.searchBar()->lineEdit(), QEvent::KeyPress);
    window.resize(1280, 800);
    start = Clock::now();
    window.show();
    PICTOR_CHECK(QTest::qWaitForWindowExposed(&window), "the window was not exposed");
    PICTOR_CHECK(runEventLoopUntil([&] { return ready && window.listingLoaded(); }, 600'000),
        "the model did not load within 600 s: ", status.toStdString());
    const double readySeconds = pictor::bench::secondsSince(start);

    // The first search reads (or builds) the vector index: timed on its own, not in the figures.
    const TypedQuery first = typeQuery(window, QStringLiteral("warm up"), paints, keys);
    std::vector<double> shown, painted, own, worker;
    int minHits = 1 << 30;
    const int count = std::min<int>(options.queries, static_cast<int>(std::size(kQueries)));
    for (int q = 0; q < count; ++q) {
        const TypedQuery typed = typeQuery(window, QString::fromLatin1(kQueries[q]), paints, keys);
        shown.push_back(typed.lastKeyToShownMs);
        painted.push_back(typed.lastKeyToPaintMs);
        own.push_back(typed.windowMs);
        worker.push_back(typed.workerMs);
        minHits = std::min(minHits, typed.hits);
    }
    window.close();
    const double debounce = pictor::ui::SearchBar::kDebounceMs;
    return {{"event", "type"}, {"run", run}, {"model", model.name}, {"model_id", model.id},
        {"photos", options.photos}, {"queries", count}, {"min_hits", minHits},
        {"seconds_catalog", round3(catalogSeconds)}, {"seconds_show_to_model_ready", round3(readySeconds)},
        {"first_search_ms", round3(first.lastKeyToShownMs)}, {"debounce_ms", debounce},
        {"last_key_to_results_painted_ms", summary(shown)},
        {"last_key_to_results_painted_less_debounce_ms", summary(shown, debounce)},
        {"last_key_to_viewport_paint_ms", summary(painted)}, {"window_latency_ms", summary(own)},
        {"worker_search_ms", summary(worker)}, {"rss_mb", round3(currentRssMb())},
        {"load_avg", loadAverages()}};
}

// --- scrolling 100,000 photos

// Cached thumbnails for `fraction` of the photos: hard links to a few small JPEGs (no decode of any photo).
int placeThumbnails(const Options& options, double fraction)
{
    const pictor::ThumbnailCache cache;
    std::error_code error;
    fs::remove_all(cache.dir(), error);
    if (fraction <= 0)
        return 0;
    const fs::path templates = options.work / "thumbnail-templates";
    fs::create_directories(templates);
    std::vector<fs::path> files;
    for (int t = 0; t < 8; ++t) {
        QImage image(320, 240, QImage::Format_RGB32);
        image.fill(QColor::fromHsv(t * 45, 120, 200));
        QPainter painter(&image);
        painter.setBrush(QColor::fromHsv((t * 45 + 180) % 360, 200, 230));
        painter.drawEllipse(QRect(60 + t * 10, 40, 160, 140));
        painter.end();
        files.push_back(templates / ("t" + std::to_string(t) + ".jpg"));
        PICTOR_CHECK(image.save(QString::fromStdString(files.back().string()), "JPEG", 85), "cannot write ",
            files.back().string());
    }
    const auto every = std::max<std::int64_t>(1, std::llround(1.0 / fraction));
    int placed = 0;
    for (std::int64_t i = 0; i < options.scrollPhotos; i += every) {
        const fs::path target = cache.pathFor(pictor::bench::syntheticContentHash(options.seed, i));
        fs::create_directories(target.parent_path());
        fs::create_hard_link(files[static_cast<std::size_t>(i % 8)], target);
        ++placed;
    }
    return placed;
}

struct StepFigures {
    std::vector<double> paintMs;
    double longestStallMs = 0;
    int stallsOver50 = 0;
    json longestEvent;
};

json stepsJson(const StepFigures& figures)
{
    return {{"steps", figures.paintMs.size()}, {"step_paint_ms", summary(figures.paintMs)},
        {"longest_stall_ms", round3(figures.longestStallMs)}, {"stalls_over_50ms", figures.stallsOver50},
        {"longest_event", figures.longestEvent}};
}

// Scrolls with `next(bar)` giving each step's target until it returns -1.
template <class Next>
StepFigures scrollSteps(MainWindow& window, TimedApplication& app, Heartbeat& heartbeat, Next next)
{
    QScrollBar* bar = window.gallery()->verticalScrollBar();
    StepFigures figures;
    heartbeat.reset();
    app.takeLongest();
    for (int target = next(bar); target >= 0; target = next(bar)) {
        const auto start = Clock::now();
        bar->setValue(target);
        window.gallery()->viewport()->repaint();
        figures.paintMs.push_back(msBetween(start, Clock::now()));
        if (app.logAtMs > 0 && figures.paintMs.back() >= app.logAtMs)
            std::fprintf(stderr, "gui_bench: %s: step %zu to %d of %d (%d rows fetched) took %.1f ms\n",
                app.phase.c_str(), figures.paintMs.size(), target, bar->maximum(),
                window.galleryModel()->rowCount(), figures.paintMs.back());
        runEventLoopFor(16); // one frame: thumbnails arrive, rows are fetched and laid out
    }
    figures.longestStallMs = heartbeat.longestMs();
    figures.stallsOver50 = heartbeat.gapsOver50();
    figures.longestEvent = app.takeLongest();
    return figures;
}

json scrollRun(const Options& options, TimedApplication& app, double cachedFraction, int run)
{
    const fs::path libraryDir = options.work / "library-scroll";
    const fs::path photos = options.work / "photos-scroll";
    if (!fs::exists(libraryDir)) {
        fs::create_directories(photos);
        auto library = pictor::Library::openForWriting(libraryDir);
        pictor::bench::SyntheticCatalogOptions synthetic;
        synthetic.root = photos;
        synthetic.photos = options.scrollPhotos;
        synthetic.seed = options.seed;
        synthetic.perTransaction = 10000;
        pictor::bench::fillSyntheticCatalog(library.catalog(), synthetic);
    }
    const int cached = placeThumbnails(options, cachedFraction);
    {
        pictor::ui::AppSettings settings;
        settings.setModelDir({}); // browsing only
        settings.sync();
    }

    Heartbeat heartbeat;
    const double rssBefore = currentRssMb();
    auto window = std::make_unique<MainWindow>(windowOptions(libraryDir));
    EventClock paints(window->gallery()->viewport(), QEvent::Paint);
    bool listed = false;
    Clock::time_point listedAt;
    QObject::connect(window.get(), &MainWindow::listingReloaded, window.get(), [&] {
        if (!listed)
            listedAt = Clock::now();
        listed = true;
    });
    window->resize(1280, 800);
    heartbeat.reset();
    app.takeLongest();
    app.phase = "scroll: show and listing";
    const auto shownAt = Clock::now();
    window->show();
    PICTOR_CHECK(runEventLoopUntil([&] { return listed; }, 300'000), "the listing did not arrive in 300 s");
    runEventLoopFor(500); // the first rows are laid out and painted
    PICTOR_CHECK(!paints.times.empty(), "the gallery was never painted");
    Clock::time_point firstRowsPaint {};
    for (const auto& at : paints.times)
        if (at > listedAt) {
            firstRowsPaint = at;
            break;
        }
    const double loadStall = heartbeat.longestMs();
    const json loadEvent = app.takeLongest();
    const double rssListed = currentRssMb();
    pictor::ui::GalleryModel* model = window->galleryModel();
    PICTOR_CHECK(model->totalRows() == options.scrollPhotos, "the gallery lists ", model->totalRows(), " of ",
        options.scrollPhotos, " photos");

    // Top to bottom in about `steps` strides, following the scroll bar as pages of rows are fetched.
    QWidget* viewport = window->gallery()->viewport();
    const QSize grid = window->gallery()->gridSize();
    const int columns = std::max(1, viewport->width() / std::max(1, grid.width()));
    const double contentHeight
        = std::ceil(static_cast<double>(options.scrollPhotos) / columns) * grid.height() - viewport->height();
    const int stride = std::max(viewport->height(), static_cast<int>(contentHeight / options.steps));
    int atBottom = 0;
    app.phase = "scroll: top to bottom";
    const StepFigures jump = scrollSteps(*window, app, heartbeat, [&](QScrollBar* bar) {
        const bool bottom = bar->value() >= bar->maximum() && !model->canFetchMore({});
        atBottom = bottom ? atBottom + 1 : 0;
        return atBottom >= 3 ? -1 : std::min(bar->value() + stride, bar->maximum()); // bottom, settled
    });
    const bool reachedEnd = model->rowCount() == options.scrollPhotos;
    const double rssScrolled = currentRssMb();

    // A user paging down from the top: `steps` pages.
    window->gallery()->verticalScrollBar()->setValue(0);
    runEventLoopFor(200);
    int pages = 0;
    app.phase = "scroll: page down";
    const StepFigures paging = scrollSteps(*window, app, heartbeat,
        [&](QScrollBar* bar) { return pages++ < options.steps ? bar->value() + bar->pageStep() : -1; });
    const double rssPaged = currentRssMb();
    window.reset();
    runEventLoopFor(100);

    return {{"event", "scroll"}, {"run", run}, {"photos", options.scrollPhotos},
        {"cached_thumbnails", cached}, {"cached_fraction", cachedFraction}, {"columns", columns},
        {"ms_show_to_first_gallery_paint", round3(msBetween(shownAt, paints.times.front()))},
        {"ms_show_to_listing_shown", round3(msBetween(shownAt, listedAt))},
        {"ms_show_to_first_rows_painted",
            firstRowsPaint == Clock::time_point {} ? -1.0 : round3(msBetween(shownAt, firstRowsPaint))},
        {"load_longest_stall_ms", round3(loadStall)}, {"load_longest_event", loadEvent},
        {"top_to_bottom", stepsJson(jump)}, {"reached_last_row", reachedEnd},
        {"page_down", stepsJson(paging)}, {"rss_before_window_mb", round3(rssBefore)},
        {"rss_after_listing_mb", round3(rssListed)}, {"rss_after_top_to_bottom_mb", round3(rssScrolled)},
        {"rss_after_page_down_mb", round3(rssPaged)}, {"rss_after_close_mb", round3(currentRssMb())},
        {"load_avg", loadAverages()}};
}

int run(Options options, int argc, char** argv)
{
    // The bench deletes what it made: only a folder it created, never one the user named that held files.
    bool createdWork = false;
    if (options.work.empty())
        options.work = fs::temp_directory_path() / ("pictor-gui-bench-" + std::to_string(getpid()));
    options.work = fs::absolute(options.work); // relative XDG_* variables would be ignored (the user's cache)
    if (fs::exists(options.work) && !fs::is_empty(options.work) && !options.keep) {
        std::fprintf(stderr, "gui_bench: %s is not empty: pass --keep to reuse it (it is then kept)\n",
            options.work.c_str());
        return 2;
    }
    createdWork = fs::create_directories(options.work);
    const bool typing = options.part != "scroll";
    const bool vit
        = typing && std::find(options.models.begin(), options.models.end(), "vit") != options.models.end();
    const fs::path vitDir = options.work / "model-vit-b-32";
    auto start = Clock::now();
    if (vit && !fs::exists(vitDir / "config.json")) // forked before Qt and LibTorch start any thread
        pictor::bench::writeVitB32FolderInChild(
            vitDir, options.fixtures / "clip-tiny-a", options.seed, false);
    const double writeSeconds = pictor::bench::secondsSince(start);

    // The window's settings, library and thumbnail cache live in the work folder.
    for (const char* variable : {"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"})
        setenv(variable, (options.work / ("xdg-" + std::string(variable))).c_str(), 1);
    if (!std::getenv("QT_QPA_PLATFORM"))
        setenv("QT_QPA_PLATFORM", "offscreen", 1);
    TimedApplication app(argc, argv);
    app.logAtMs = options.logEventsMs;

    // The ids the window will search with: loaded through the model module, as the window loads them.
    std::vector<ModelSpec> models;
    json setupModels = json::array();
    if (typing) {
        pictor::ModelRegistry registry;
        pictor::app::loadModelFamilies(registry);
        for (const auto& name : options.models) {
            ModelSpec spec {name, name == "vit" ? vitDir : options.fixtures / "clip-tiny-a", {}, 0};
            pictor::EmbedderOptions embedderOptions;
            embedderOptions.device = "cpu";
            start = Clock::now();
            const auto embedder = registry.loadEmbedder(spec.dir, embedderOptions);
            spec.id = embedder->modelId();
            spec.dimension = embedder->dimension();
            setupModels.push_back({{"name", name}, {"dir", spec.dir.string()}, {"id", spec.id},
                {"dimension", spec.dimension}, {"seconds_load", round3(pictor::bench::secondsSince(start))}});
            models.push_back(spec);
        }
    }
    const char* omp = std::getenv("OMP_WAIT_POLICY");
    print({{"event", "setup"}, {"bench", "gui_bench"},
        {"platform", QApplication::platformName().toStdString()}, {"nproc", sysconf(_SC_NPROCESSORS_ONLN)},
        {"omp_wait_policy", omp ? omp : ""}, {"seconds_write_vit_folder", round3(writeSeconds)},
        {"models", setupModels}, {"work", options.work.string()}, {"load_avg", loadAverages()}});

    for (int r = 1; r <= options.runs; ++r) {
        if (typing)
            for (const auto& model : models)
                print(typeToResults(model, options, r));
        if (options.part != "type") {
            print(scrollRun(options, app, 0, r));
            if (options.cachedFraction > 0)
                print(scrollRun(options, app, options.cachedFraction, r));
        }
    }
    if (!options.keep && createdWork)
        fs::remove_all(options.work);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        return run(parseOptions(argc, argv), argc > 0 ? 1 : 0, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gui_bench: %s\n", e.what());
        return 1;
    }
}
