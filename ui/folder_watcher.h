// Follows the library's folders while the window is open: files added, changed, moved or deleted under a
// root are reported as that root having changed, once things have been quiet for a moment (a camera
// import of 2,000 files is one report, not 2,000). The window answers with an incremental re-scan.
//
// It watches every folder under the roots (QFileSystemWatcher: inotify on Linux), skipping what the
// scanner skips (hidden folders, NAS thumbnail folders); call watch() again after a re-scan so new
// subfolders are followed too. Collecting the folders runs off the GUI thread.
#pragma once

#include <QElapsedTimer>
#include <QFileSystemWatcher>
#include <QObject>
#include <QTimer>
#include <filesystem>
#include <set>
#include <vector>

namespace pictor::ui {

class FolderWatcher : public QObject {
    Q_OBJECT
public:
    // quiet: how long without a new event before reporting; longest: the most a report waits in a burst
    // that does not stop.
    explicit FolderWatcher(int quietMs = 1500, int longestMs = 10000, QObject* parent = nullptr);

    void watch(const std::vector<std::filesystem::path>& roots);
    void stop();
    int watchedFolders() const { return static_cast<int>(watcher_.directories().size()); }

signals:
    void rootsChanged(const std::vector<std::filesystem::path>& roots);
    void watching(int folders); // after watch() has collected and added the folders

private:
    void onDirectoryChanged(const QString& folder);
    void report();

    QFileSystemWatcher watcher_;
    QTimer quiet_;
    QElapsedTimer firstPending_;
    int longestMs_;
    std::vector<std::filesystem::path> roots_;
    std::set<std::filesystem::path> pending_;
    quint64 generation_ = 0;
};

} // namespace pictor::ui
