#include "ui/folder_watcher.h"

#include <QPointer>
#include <QSet>
#include <QStringList>
#include <QtConcurrent>
#include <system_error>

#include "indexer/scanner.h"

namespace pictor::ui {
namespace {

// The folders under the roots, as the scanner would enter them (hidden and NAS folders left out).
QStringList foldersUnder(const std::vector<std::filesystem::path>& roots)
{
    QStringList folders;
    for (const auto& root : roots) {
        std::error_code error;
        if (!std::filesystem::is_directory(root, error))
            continue;
        folders << QString::fromStdString(root.string());
        std::filesystem::recursive_directory_iterator it(
            root, std::filesystem::directory_options::skip_permission_denied, error);
        for (; !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
            if (!it->is_directory(error) || it->is_symlink(error))
                continue;
            if (isExcludedByDefault(it->path().filename().native())) {
                it.disable_recursion_pending();
                continue;
            }
            folders << QString::fromStdString(it->path().string());
        }
    }
    return folders;
}

} // namespace

FolderWatcher::FolderWatcher(int quietMs, int longestMs, QObject* parent)
    : QObject(parent), longestMs_(longestMs)
{
    quiet_.setSingleShot(true);
    quiet_.setInterval(quietMs);
    connect(&quiet_, &QTimer::timeout, this, &FolderWatcher::report);
    connect(&watcher_, &QFileSystemWatcher::directoryChanged, this, &FolderWatcher::onDirectoryChanged);
}

void FolderWatcher::watch(const std::vector<std::filesystem::path>& roots)
{
    roots_ = roots;
    const quint64 generation = ++generation_;
    QPointer<FolderWatcher> self(this);
    QtConcurrent::run([roots] {
        return foldersUnder(roots);
    }).then(this, [self, generation](const QStringList& folders) {
        if (!self || generation != self->generation_)
            return; // a newer watch() call, or the window went away
        // Only the difference: removing and re-adding every folder would lose the events in between.
        const QStringList watched = self->watcher_.directories();
        const QSet<QString> known(watched.begin(), watched.end());
        const QSet<QString> wanted(folders.begin(), folders.end());
        QStringList gone, added;
        for (const QString& folder : watched)
            if (!wanted.contains(folder))
                gone << folder;
        for (const QString& folder : folders)
            if (!known.contains(folder))
                added << folder;
        if (!gone.isEmpty())
            self->watcher_.removePaths(gone);
        if (!added.isEmpty())
            self->watcher_.addPaths(added);
        // A folder that appeared since the last watch() may have been filled after the re-scan read it
        // (a camera import into a new folder): once more for its root, with nothing new the second time.
        if (!known.isEmpty())
            for (const QString& folder : added)
                self->onDirectoryChanged(folder);
        emit self->watching(static_cast<int>(self->watcher_.directories().size()));
    });
}

void FolderWatcher::stop()
{
    ++generation_;
    roots_.clear();
    pending_.clear();
    quiet_.stop();
    if (const QStringList old = watcher_.directories(); !old.isEmpty())
        watcher_.removePaths(old);
}

void FolderWatcher::onDirectoryChanged(const QString& folder)
{
    const std::filesystem::path path = folder.toStdString();
    for (const auto& root : roots_)
        if (isUnder(path, root))
            pending_.insert(root);
    if (pending_.empty())
        return;
    if (!firstPending_.isValid())
        firstPending_.start();
    // Each event restarts the quiet period, but a burst that never stops is reported all the same.
    if (firstPending_.elapsed() >= longestMs_)
        report();
    else
        quiet_.start();
}

void FolderWatcher::report()
{
    quiet_.stop();
    firstPending_.invalidate();
    if (pending_.empty())
        return;
    const std::vector<std::filesystem::path> roots(pending_.begin(), pending_.end());
    pending_.clear();
    emit rootsChanged(roots);
}

} // namespace pictor::ui
