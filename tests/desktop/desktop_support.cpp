#include "tests/desktop/desktop_support.h"

#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QImage>
#include <QLinearGradient>
#include <QPainter>
#include <QPainterPath>
#include <QRadialGradient>
#include <QRandomGenerator>
#include <QTimer>

#include <sys/time.h>

#include "app/model_module.h"
#include "tests/support/paths.h"
#include "ui/indexing_jobs.h"

namespace pictor::test::desktop {
namespace {

// The light of a scene: sky from top to horizon, the sun (or moon) and how ridges and ground are tinted.
struct Light {
    QColor skyTop, horizon, sun, ridge, ground;
    bool night;
};

Light lightFor(int seed)
{
    switch (seed % 4) {
    case 0: // clear day
        return {QColor(46, 112, 196), QColor(170, 208, 236), QColor(255, 250, 225), QColor(92, 120, 150),
            QColor(70, 128, 60), false};
    case 1: // sunset
        return {QColor(62, 48, 120), QColor(250, 150, 70), QColor(255, 214, 120), QColor(110, 60, 90),
            QColor(60, 40, 50), false};
    case 2: // dusk over snow
        return {QColor(120, 150, 200), QColor(236, 220, 230), QColor(255, 240, 240), QColor(180, 190, 215),
            QColor(228, 234, 242), false};
    default: // night
        return {QColor(8, 12, 34), QColor(34, 52, 98), QColor(236, 236, 220), QColor(22, 30, 56),
            QColor(12, 18, 30), true};
    }
}

// A ridge line across the picture: a random walk smoothed into a filled shape down to the bottom edge.
QPainterPath ridge(QRandomGenerator& random, int width, int height, double baseline, double roughness)
{
    QPainterPath path;
    path.moveTo(0, height);
    double y = baseline;
    const int steps = 12;
    for (int i = 0; i <= steps; ++i) {
        y += (random.generateDouble() - 0.5) * roughness;
        y = std::clamp(y, baseline - roughness * 1.5, baseline + roughness * 0.8);
        path.lineTo(width * i / double(steps), y);
    }
    path.lineTo(width, height);
    path.closeSubpath();
    return path;
}

void paintScene(QImage& image, int seed)
{
    QRandomGenerator random(static_cast<quint32>(seed * 7919 + 17));
    const Light light = lightFor(seed);
    const int w = image.width(), h = image.height();
    const double horizon = h * (0.52 + 0.1 * random.generateDouble());
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);

    QLinearGradient sky(0, 0, 0, horizon);
    sky.setColorAt(0, light.skyTop);
    sky.setColorAt(1, light.horizon);
    painter.fillRect(image.rect(), sky);
    if (light.night)
        for (int i = 0; i < 120; ++i) {
            painter.setPen(QColor(255, 255, 240, 80 + random.bounded(170)));
            painter.drawPoint(QPointF(random.bounded(w), random.bounded(int(horizon))));
        }

    // Sun or moon with a glow.
    const QPointF sunAt(
        w * (0.15 + 0.7 * random.generateDouble()), horizon * (0.25 + 0.5 * random.generateDouble()));
    const double radius = h * (0.05 + 0.04 * random.generateDouble());
    QRadialGradient glow(sunAt, radius * 4);
    QColor halo = light.sun;
    halo.setAlpha(110);
    glow.setColorAt(0, halo);
    glow.setColorAt(1, Qt::transparent);
    painter.setPen(Qt::NoPen);
    painter.setBrush(glow);
    painter.drawEllipse(sunAt, radius * 4, radius * 4);
    painter.setBrush(light.sun);
    painter.drawEllipse(sunAt, radius, radius);

    // Clouds: soft white blobs by day.
    if (!light.night)
        for (int c = 0; c < 2 + seed % 3; ++c) {
            const QPointF at(random.bounded(w), horizon * (0.1 + 0.5 * random.generateDouble()));
            for (int puff = 0; puff < 5; ++puff) {
                const QPointF p = at + QPointF((puff - 2) * w * 0.035, (puff % 2) * h * 0.015);
                QRadialGradient cloud(p, w * 0.05);
                cloud.setColorAt(0, QColor(255, 255, 255, 150));
                cloud.setColorAt(1, QColor(255, 255, 255, 0));
                painter.setBrush(cloud);
                painter.drawEllipse(p, w * 0.05, w * 0.05);
            }
        }

    // Three ridges, the farthest first and closest to the horizon's colour (haze).
    for (int layer = 0; layer < 3; ++layer) {
        const double haze = 0.5 - layer * 0.25;
        const QColor colour = QColor::fromRgbF(light.ridge.redF() * (1 - haze) + light.horizon.redF() * haze,
            light.ridge.greenF() * (1 - haze) + light.horizon.greenF() * haze,
            light.ridge.blueF() * (1 - haze) + light.horizon.blueF() * haze);
        painter.setBrush(colour);
        painter.drawPath(
            ridge(random, w, h, horizon - h * (0.16 - layer * 0.06), h * (0.12 - layer * 0.025)));
    }

    // Foreground: water with the sky reflected, or a meadow.
    const QRectF ground(0, horizon, w, h - horizon);
    if (seed % 3 == 0) {
        QLinearGradient water(0, horizon, 0, h);
        water.setColorAt(0, light.horizon.darker(115));
        water.setColorAt(1, light.skyTop.darker(140));
        painter.fillRect(ground, water);
        painter.setPen(QPen(QColor(255, 255, 255, 60), 1.5));
        for (int i = 0; i < 40; ++i) {
            const double y = horizon + (h - horizon) * random.generateDouble();
            const double x = random.bounded(w);
            painter.drawLine(QPointF(x, y), QPointF(x + w * 0.04, y));
        }
        painter.setPen(Qt::NoPen);
    } else {
        QLinearGradient meadow(0, horizon, 0, h);
        meadow.setColorAt(0, light.ground.lighter(115));
        meadow.setColorAt(1, light.ground.darker(160));
        painter.fillRect(ground, meadow);
    }

    // A few pines in front.
    painter.setBrush(light.night ? QColor(4, 8, 12) : light.ground.darker(260));
    for (int t = 0; t < 3 + seed % 5; ++t) {
        const double x = random.bounded(w);
        const double base = horizon + (h - horizon) * (0.3 + 0.6 * random.generateDouble());
        const double tall = h * (0.12 + 0.16 * random.generateDouble());
        painter.drawPolygon(QPolygonF(
            {QPointF(x, base - tall), QPointF(x - tall * 0.22, base), QPointF(x + tall * 0.22, base)}));
    }
}

bool setFileDate(const QString& file, int seed)
{
    const time_t when = 1'600'000'000 - static_cast<time_t>(seed) * 86'400;
    const timeval times[2] = {{when, 0}, {when, 0}};
    return utimes(QFile::encodeName(file).constData(), times) == 0;
}

} // namespace

std::unique_ptr<QTemporaryDir> isolateUserFolders()
{
    auto home = std::make_unique<QTemporaryDir>();
    for (const char* variable : {"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "HF_HUB_CACHE"}) {
        const QString dir = home->path() + '/' + QString::fromLatin1(variable);
        QDir().mkpath(dir);
        qputenv(variable, QFile::encodeName(dir));
    }
    qunsetenv("HF_HOME");
    return home;
}

QString writeScenePhotos(const QString& dir, int count, QSize size, int firstSeed)
{
    QDir().mkpath(dir);
    for (int i = 0; i < count; ++i) {
        const int seed = firstSeed + i;
        QImage image(size, QImage::Format_RGB32);
        paintScene(image, seed);
        const QString file = QStringLiteral("%1/scene_%2.jpg").arg(dir).arg(seed, 4, 10, QLatin1Char('0'));
        if (!image.save(file, "JPEG", 88))
            return QStringLiteral("cannot write ") + file;
        if (!setFileDate(file, seed))
            return QStringLiteral("cannot set the date of ") + file;
    }
    return {};
}

QString copyRealPhotos(const QString& dir)
{
    QDir().mkpath(dir);
    const QString source = QString::fromStdString((realInputsDir() / "exif-orientation").string());
    for (const char* name : {"Landscape_0.jpg", "Portrait_0.jpg"}) {
        const QString target = dir + '/' + QLatin1String(name);
        if (!QFile::copy(source + '/' + QLatin1String(name), target))
            return QStringLiteral("cannot copy %1 from %2").arg(QLatin1String(name), source);
        QFile::setPermissions(target, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    }
    return {};
}

QString fixtureModelDir(const char* name)
{
    return QString::fromStdString(fixtureDir(name).string());
}

ui::MainWindow::Options windowOptions(const QString& library)
{
    return {std::filesystem::path(library.toStdString()),
        [](ModelRegistry& registry) { app::loadModelFamilies(registry); }};
}

bool waitUntil(const std::function<bool()>& done, int timeoutMs)
{
    // A real event loop (not qWait's sleeps), polled every 5 ms.
    QElapsedTimer timer;
    timer.start();
    QEventLoop loop;
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (done() || timer.elapsed() >= timeoutMs)
            loop.quit();
    });
    if (done())
        return true;
    poll.start(5);
    loop.exec();
    return done();
}

QString waitForJobs(ui::MainWindow& window, bool mustSucceed)
{
    if (!waitUntil([&] { return !window.jobs()->busy(); }, 240'000))
        return QStringLiteral("the jobs did not finish in 240 s");
    QTimer::singleShot(0, &window, &ui::MainWindow::reloadLibrary);
    if (!waitForSignal(window, &ui::MainWindow::listingReloaded))
        return QStringLiteral("the listing was not read again");
    if (mustSucceed)
        for (const ui::JobInfo& job : window.jobs()->jobs())
            if (job.state != ui::JobInfo::State::Done)
                return job.label + QStringLiteral(": ") + job.message;
    return {};
}

} // namespace pictor::test::desktop
