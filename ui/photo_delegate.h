// Paints one gallery cell: the thumbnail (or a placeholder while it loads, or a broken-photo mark),
// the file name, and for search hits a score badge. Colours come from the palette (light and dark).
#pragma once

#include <QStyledItemDelegate>

namespace pictor::ui {

class PhotoDelegate : public QStyledItemDelegate {
    Q_OBJECT
public:
    explicit PhotoDelegate(QObject* parent = nullptr);
    void setThumbnailSize(int size) { size_ = size; }
    int thumbnailSize() const { return size_; }
    QSize cellSize(const QFontMetrics& metrics) const;

    void paint(
        QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

private:
    int size_ = 160;
};

} // namespace pictor::ui
