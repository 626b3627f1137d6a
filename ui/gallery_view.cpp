#include "ui/gallery_view.h"

#include <QApplication>
#include <QClipboard>
#include <QKeyEvent>
#include <QMimeData>
#include <QResizeEvent>
#include <QScrollBar>
#include <algorithm>

#include "ui/gallery_model.h"
#include "ui/photo_delegate.h"

namespace pictor::ui {

GalleryView::GalleryView(QWidget* parent) : QListView(parent), delegate_(new PhotoDelegate(this))
{
    setObjectName(QStringLiteral("gallery"));
    // A wrapping list, not IconMode: IconMode keeps a rectangle per item in a BSP tree and rebuilds it
    // for every layout; the list mode with uniform cells lays 100,000 rows out in one cheap pass, so the
    // layout is never batched (batches shrink the scroll range while they run).
    setViewMode(QListView::ListMode);
    setFlow(QListView::LeftToRight);
    setWrapping(true);
    setMovement(QListView::Static);
    setResizeMode(QListView::Adjust);
    setUniformItemSizes(true);
    setLayoutMode(QListView::SinglePass);
    setSelectionMode(QAbstractItemView::ExtendedSelection);
    setSelectionRectVisible(true);
    setDragEnabled(true);
    setDragDropMode(QAbstractItemView::DragOnly);
    setDefaultDropAction(Qt::CopyAction);
    setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    // Always there, so the width the columns share does not change when a listing grows past one screen.
    setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOn);
    setMouseTracking(true);
    setContextMenuPolicy(Qt::CustomContextMenu);
    setItemDelegate(delegate_);
    setThumbnailSize(delegate_->thumbnailSize());
    connect(this, &QListView::activated, this, &GalleryView::openRequested);
}

void GalleryView::setThumbnailSize(int size)
{
    delegate_->setThumbnailSize(size);
    fitGridToWidth();
    verticalScrollBar()->setSingleStep(gridSize().height() / 4);
}

void GalleryView::fitGridToWidth()
{
    const QSize cell = delegate_->cellSize(fontMetrics());
    const int width = viewport()->width() - 1; // a full-width row would wrap
    const int columns = std::max(1, width / cell.width());
    const QSize grid(std::max(cell.width(), width / columns), cell.height());
    if (grid != gridSize())
        setGridSize(grid);
}

void GalleryView::resizeEvent(QResizeEvent* event)
{
    QListView::resizeEvent(event);
    fitGridToWidth();
}

QList<int> GalleryView::selectedRows() const
{
    QList<int> rows;
    for (const QModelIndex& index : selectionModel()->selectedIndexes())
        rows.append(index.row());
    std::sort(rows.begin(), rows.end());
    return rows;
}

QStringList GalleryView::selectedPaths() const
{
    QStringList paths;
    for (int row : selectedRows())
        paths.append(model()->index(row, 0).data(GalleryModel::PathRole).toString());
    return paths;
}

void GalleryView::copySelectedPaths() const
{
    const QStringList paths = selectedPaths();
    if (paths.isEmpty())
        return;
    auto* mime = new QMimeData;
    mime->setText(paths.join('\n'));
    QList<QUrl> urls;
    for (const QString& path : paths)
        urls.append(QUrl::fromLocalFile(path));
    mime->setUrls(urls);
    QApplication::clipboard()->setMimeData(mime);
}

void GalleryView::keyPressEvent(QKeyEvent* event)
{
    if (event->matches(QKeySequence::Copy)) {
        copySelectedPaths();
        return;
    }
    if (event->key() == Qt::Key_Delete && !selectedRows().isEmpty()) {
        emit removeRequested();
        return;
    }
    if (event->key() == Qt::Key_Space && event->modifiers() == Qt::NoModifier && currentIndex().isValid()) {
        emit openRequested(currentIndex());
        return;
    }
    QListView::keyPressEvent(event);
}

} // namespace pictor::ui
