#include "ui/photo_delegate.h"

#include <QApplication>
#include <QPainter>
#include <QPainterPath>

#include "ui/gallery_model.h"

namespace pictor::ui {
namespace {
constexpr int kMargin = 6;
}

PhotoDelegate::PhotoDelegate(QObject* parent) : QStyledItemDelegate(parent) { }

QSize PhotoDelegate::cellSize(const QFontMetrics& metrics) const
{
    return {size_ + 2 * kMargin, size_ + 3 * kMargin + metrics.height()};
}

QSize PhotoDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const
{
    return cellSize(option.fontMetrics);
}

void PhotoDelegate::paint(
    QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    painter->save();
    const QPalette& palette = option.palette;
    const QRect cell = option.rect.adjusted(2, 2, -2, -2);
    const bool selected = option.state & QStyle::State_Selected;
    if (selected) {
        painter->setRenderHint(QPainter::Antialiasing);
        QPainterPath frame;
        frame.addRoundedRect(cell, 6, 6);
        painter->fillPath(frame,
            palette.color(QPalette::Highlight).lighter(option.state & QStyle::State_HasFocus ? 100 : 115));
    } else if (option.state & QStyle::State_MouseOver) {
        painter->fillRect(cell, palette.color(QPalette::AlternateBase));
    }

    const QRect imageArea(cell.center().x() - size_ / 2, cell.top() + kMargin - 2, size_, size_);
    // Where the photo is drawn: it stands on the bottom of the square area, so its name sits right below
    // it whatever its shape (a landscape thumbnail leaves the top of the square empty).
    QRect photoArea = imageArea;
    const QVariant decoration = index.data(Qt::DecorationRole);
    if (decoration.canConvert<QPixmap>() && !decoration.value<QPixmap>().isNull()) {
        const QPixmap pixmap = decoration.value<QPixmap>();
        const QSize shown
            = pixmap.deviceIndependentSize().toSize().scaled(imageArea.size(), Qt::KeepAspectRatio);
        const QRect target(imageArea.left() + (imageArea.width() - shown.width()) / 2,
            imageArea.bottom() + 1 - shown.height(), shown.width(), shown.height());
        painter->drawPixmap(target, pixmap);
        photoArea = target;
    } else {
        const QRect placeholder = imageArea.adjusted(size_ / 10, size_ / 10, -size_ / 10, -size_ / 10);
        painter->fillRect(placeholder, palette.color(QPalette::Midlight));
        if (index.data(GalleryModel::ThumbnailStateRole).toInt() == 2) {
            painter->setPen(QPen(palette.color(QPalette::Mid), 2));
            painter->drawLine(placeholder.topLeft(), placeholder.bottomRight());
            painter->drawLine(placeholder.topRight(), placeholder.bottomLeft());
        }
    }

    const QVariant score = index.data(GalleryModel::ScoreRole);
    if (score.isValid()) {
        const QString text = QString::number(score.toDouble(), 'f', 3);
        QFont font = option.font;
        font.setPointSizeF(font.pointSizeF() * 0.85);
        font.setBold(true);
        painter->setFont(font);
        const QRect badge = QFontMetrics(font).boundingRect(text).adjusted(-5, -2, 5, 2);
        const QRect placed = badge.translated(photoArea.topLeft() - badge.topLeft() + QPoint(4, 4));
        painter->setRenderHint(QPainter::Antialiasing);
        QPainterPath pill;
        pill.addRoundedRect(placed, 4, 4);
        painter->fillPath(pill, palette.color(QPalette::ToolTipBase));
        painter->setPen(palette.color(QPalette::ToolTipText));
        painter->drawText(placed, Qt::AlignCenter, text);
    }

    painter->setFont(option.font);
    painter->setPen(palette.color(selected ? QPalette::HighlightedText : QPalette::Text));
    const QRect textArea(cell.left() + kMargin, imageArea.bottom() + kMargin, cell.width() - 2 * kMargin,
        option.fontMetrics.height());
    painter->drawText(textArea, Qt::AlignHCenter | Qt::AlignVCenter,
        option.fontMetrics.elidedText(
            index.data(Qt::DisplayRole).toString(), Qt::ElideMiddle, textArea.width()));
    painter->restore();
}

} // namespace pictor::ui
