// The photo grid: a wrapping QListView with uniform cells laid out in one pass (100,000 rows scroll
// smoothly), extended selection, drag out as file URLs, and the desktop keys: Enter/Space open the
// viewer, Ctrl+C copies the selected paths, Delete asks to remove them from the library.
#pragma once

#include <QListView>

namespace pictor::ui {

class PhotoDelegate;

class GalleryView : public QListView {
    Q_OBJECT
public:
    explicit GalleryView(QWidget* parent = nullptr);
    void setThumbnailSize(int size);
    PhotoDelegate* photoDelegate() const { return delegate_; }
    QList<int> selectedRows() const; // ascending
    QStringList selectedPaths() const;
    void copySelectedPaths() const;

signals:
    void openRequested(const QModelIndex& index);
    void removeRequested();

protected:
    void keyPressEvent(QKeyEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    // As many columns as fit, widened to share the viewport's width (no empty band on the right).
    void fitGridToWidth();

    PhotoDelegate* delegate_;
};

} // namespace pictor::ui
