// The sidebar: the library's folders with their indexing state (add with a folder dialog or by dropping
// a folder, remove, re-scan) and the saved searches.
#pragma once

#include <QWidget>

#include "ui/app_settings.h"

class QMenu;
class QMimeData;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace pictor::ui {

struct FolderState {
    QString path;
    QString state; // "1,204 photos", "indexing 45 %", "queued", "12 waiting for a model", …
};

class LibrarySidebar : public QWidget {
    Q_OBJECT
public:
    // The local folders among dropped URLs (files are not folders of a library).
    static QStringList droppedFolders(const QMimeData* mime);
    explicit LibrarySidebar(QWidget* parent = nullptr);

    void setFolders(const QList<FolderState>& folders);
    void setSavedSearches(const QList<SavedSearch>& searches);
    // The library's tags with their photo counts; activating one filters the photos by it.
    void setTags(const QList<QPair<QString, qint64>>& tags);
    QString selectedFolder() const;
    QTreeWidget* tree() const { return tree_; }
    // The context menu of a folder (the right-click shows it): re-scan, files not indexed, remove.
    QMenu* folderMenu(const QString& folder);

signals:
    void addFolderRequested(); // the folder dialog
    void foldersDropped(const QStringList& folders);
    void removeFolderRequested(const QString& folder);
    void rescanRequested(const QString& folder); // empty: every folder
    void folderActivated(const QString& folder); // filter the search to it
    void failuresRequested(const QString& folder); // "Show files not indexed…"
    void savedSearchActivated(const SavedSearch& search);
    void tagActivated(const QString& tag);
    void saveSearchRequested();
    void savedSearchRemoved(const QString& name);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void updateButtons();

    QTreeWidget* tree_;
    QTreeWidgetItem* folders_;
    QTreeWidgetItem* searches_;
    QTreeWidgetItem* tags_;
    QPushButton* remove_;
    QPushButton* rescan_;
    QPushButton* forget_;
};

} // namespace pictor::ui
