#include "ui/photo_chip.h"

#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QPixmap>
#include <QToolButton>

#include <QtConcurrent/QtConcurrentRun>

#include "ui/photo_image.h"

namespace pictor::ui {

PhotoChip::PhotoChip(PhotoTerm term, QWidget* parent)
    : QFrame(parent), term_(std::move(term)), negate_(new QToolButton(this))
{
    setObjectName(QStringLiteral("photoChip"));
    setFrameShape(QFrame::StyledPanel);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(3, 1, 1, 1);
    layout->setSpacing(3);
    auto* image = new QLabel(this);
    image->setFixedSize(22, 22);
    layout->addWidget(image);
    // The preview is decoded on the thread pool; the chip only shows it.
    QtConcurrent::run([file = term_.file] {
        return readPhotoImage(QString::fromStdString(file.string()), QSize(22, 22));
    }).then(this, [image](const QImage& preview) { image->setPixmap(QPixmap::fromImage(preview)); });
    const QString name = QString::fromStdString(term_.file.filename().string());
    auto* label = new QLabel(fontMetrics().elidedText(name, Qt::ElideMiddle, 120), this);
    label->setToolTip(QString::fromStdString(term_.file.string()));
    layout->addWidget(label);
    negate_->setObjectName(QStringLiteral("negate"));
    negate_->setCheckable(true);
    negate_->setText(tr("not"));
    negate_->setToolTip(tr("Not like this: push results away from this photo"));
    connect(negate_, &QToolButton::toggled, this, [this](bool on) {
        term_.negated = on;
        emit changed();
    });
    layout->addWidget(negate_);
    auto* remove = new QToolButton(this);
    remove->setObjectName(QStringLiteral("remove"));
    remove->setText(QStringLiteral("×"));
    remove->setToolTip(tr("Remove this photo from the search"));
    remove->setAutoRaise(true);
    connect(remove, &QToolButton::clicked, this, &PhotoChip::removeClicked);
    layout->addWidget(remove);
}

void PhotoChip::setNegated(bool negated)
{
    negate_->setChecked(negated);
}

} // namespace pictor::ui
