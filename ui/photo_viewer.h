// The large view of one photo (a page of the main window): previous/next through the grid's rows, zoom
// to fit or 100 %, and an info panel (path, size, dimensions, date taken, camera, GPS, captions, tags).
// The image and the catalog details are read on the thread pool; this widget only shows them.
#pragma once

#include <QImage>
#include <QWidget>
#include <filesystem>

class QAbstractItemModel;
class QLabel;
class QScrollArea;
class QSplitter;
class QTextBrowser;
class QToolButton;

namespace pictor::ui {

class PhotoViewer : public QWidget {
    Q_OBJECT
public:
    explicit PhotoViewer(QWidget* parent = nullptr);

    void setLibraryDir(const std::filesystem::path& dir) { libraryDir_ = dir; }
    void show(QAbstractItemModel* model, int row);
    int row() const { return row_; }
    QString path() const { return path_; }
    QString infoText() const;
    bool fitToWindow() const { return fit_; }
    void setFitToWindow(bool fit);
    void next();
    void previous();
    // Re-reads the shown photo's catalog details (a caption was added).
    void refreshDetails();
    // A panel beside the image and the info panel (Ask).
    void addSidePanel(QWidget* panel);

signals:
    void closeRequested();
    void rowChanged(int row);
    void photoLinkActivated(qint64 id); // a link in the info panel (a generated picture's source, ...)
    // A tag's link in the info panel: keep a zero-shot tag as the person's, or take a tag away.
    void autoTagAnswered(qint64 photoId, const QString& tag, bool keep);

protected:
    void keyPressEvent(QKeyEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    void load();
    void render();

    std::filesystem::path libraryDir_;
    QAbstractItemModel* model_ = nullptr;
    int row_ = -1;
    QString path_;
    QImage image_;
    bool fit_ = true;
    quint64 request_ = 0;
    QScrollArea* scroll_;
    QLabel* canvas_;
    QTextBrowser* info_;
    QSplitter* split_ = nullptr;
    bool splitPlaced_ = false; // the panes got their first widths (later the user's)
    QToolButton* zoom_;
    QLabel* title_;
};

} // namespace pictor::ui
