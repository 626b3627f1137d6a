// What a feature of the window (captions and Ask today, Create next) may use of it: the photos shown and
// selected, the viewer's side panel and current photo, the status bar, the job queue and the model host.
// Features get this, never MainWindow (digiKam's DInfoInterface), so adding one touches its own files and
// the one line of MainWindow that creates it.
#pragma once

#include <QList>
#include <QString>
#include <QtGlobal>
#include <filesystem>
#include <functional>
#include <optional>

class QAction;
class QDockWidget;
class QMenu;
class QObject;
class QWidget;

namespace pictor {
class ModelHost;
} // namespace pictor

namespace pictor::ui {

class IndexingJobs;

class FeatureHost {
public:
    struct Photo {
        qint64 id = 0; // 0: shown but not indexed yet
        QString path;
    };
    // A composed search: one photo and words ("this one, but in snow"), the words' weight against it.
    struct ComposedSearch {
        QString photoPath;
        QString words;
        double textWeight = 0.5;
    };

    virtual ~FeatureHost() = default;

    virtual QWidget* windowWidget() = 0; // the parent of a feature's objects and dialogs
    virtual ModelHost& models() = 0;
    virtual IndexingJobs& jobQueue() = 0;
    virtual const std::filesystem::path& libraryDir() const = 0;

    // The photos shown (the gallery or the search results), by row.
    virtual int photoCount() const = 0;
    virtual Photo photoAt(int row) const = 0;
    virtual QList<int> selectedRows() const = 0; // ascending

    // The viewer.
    virtual void openPhoto(int row) = 0;
    virtual int viewerRow() const = 0; // -1 while the viewer is closed
    virtual void refreshPhotoDetails() = 0; // its info panel reads the photo again
    virtual void addViewerSidePanel(QWidget* panel) = 0; // beside the photo; the viewer takes ownership
    // `handler` runs (on the GUI thread, while `context` lives) whenever the viewer shows another row.
    virtual void onViewerRowChanged(QObject* context, std::function<void(int row)> handler) = 0;

    virtual void addStatusWidget(QWidget* widget) = 0; // a permanent widget of the status bar
    // A panel docked at the window's side, hidden at first; `toggle` (View menu) shows and hides it.
    virtual void addDockPanel(QDockWidget* dock, QAction* toggle) = 0;
    // `addActions` adds a feature's entries to the context menu of the photo at `row` (gallery and viewer).
    virtual void addPhotoMenuActions(std::function<void(QMenu* menu, int row)> addActions) = 0;

    // The search bar: the composed search shown now (none: no photo chip, several, or no words), and a
    // feature's button beside the bar.
    virtual std::optional<ComposedSearch> composedSearch() const = 0;
    virtual void addSearchAction(QAction* action) = 0;

    virtual void openModelManager() = 0; // File › Models…: find, download, verify and choose models
};

} // namespace pictor::ui
