// Shared by the desktop tests: a user's folders kept inside the test, photo-like generated pictures, the
// window wired to the model module, and waits that run the event loop.
#pragma once

#include <QElapsedTimer>
#include <QSize>
#include <QString>
#include <QTemporaryDir>
#include <QTest>
#include <functional>
#include <memory>

#include "ui/main_window.h"

namespace pictor::test::desktop {

// Points XDG_CONFIG_HOME, XDG_CACHE_HOME and XDG_DATA_HOME into a folder of this process (settings and
// thumbnails never touch the user's) and HF_HUB_CACHE at an empty one. Call before QApplication exists:
// Qt reads the config location once.
std::unique_ptr<QTemporaryDir> isolateUserFolders();

// `count` landscape-like JPEGs (sky, sun or moon, ridges, water or meadow, trees) that differ with the
// seed; each file's modification time steps back one day per seed, so the gallery has dates to order.
// Returns an empty string, or what failed.
QString writeScenePhotos(const QString& dir, int count, QSize size, int firstSeed = 0);

// Copies the two upright real photos of the real-inputs set (Landscape_0, Portrait_0) into `dir`.
QString copyRealPhotos(const QString& dir);

QString fixtureModelDir(const char* name = "clip-tiny-a");

// The window on `library`, its model families loaded from the model module on first use.
ui::MainWindow::Options windowOptions(const QString& library);

// Runs the event loop until `done` or the timeout; returns `done()`.
bool waitUntil(const std::function<bool()>& done, int timeoutMs);

// Waits until `signal` of `window` has been emitted once more than when called.
template <class Signal> bool waitForSignal(ui::MainWindow& window, Signal signal, int timeoutMs = 60'000)
{
    int count = 0;
    const auto connection = QObject::connect(&window, signal, &window, [&count] { ++count; });
    waitUntil([&count] { return count > 0; }, timeoutMs);
    QObject::disconnect(connection);
    return count > 0;
}

// Waits for the job queue to empty and the listing to be read again. Returns an empty string, or the
// label and message of a job that did not finish as Done when `mustSucceed`.
QString waitForJobs(ui::MainWindow& window, bool mustSucceed = true);

} // namespace pictor::test::desktop
