#include "ui/search_bar.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QSlider>
#include <QUrl>
#include <QVBoxLayout>

#include "indexer/scanner.h"
#include "ui/gallery_model.h"
#include "ui/photo_chip.h"

namespace pictor::ui {
namespace {

bool isPhotoFile(const QString& path)
{
    return QFileInfo(path).isFile() && fileTypeFromExtension(path.toStdString()).has_value();
}

} // namespace

SearchBar::SearchBar(QWidget* parent)
    : QWidget(parent),
      edit_(new QLineEdit(this)),
      chips_(new QHBoxLayout),
      weight_(new QSlider(Qt::Horizontal, this)),
      weightLabel_(new QLabel(this)),
      message_(new QLabel(this))
{
    setAcceptDrops(true);
    auto* column = new QVBoxLayout(this);
    column->setContentsMargins(0, 0, 0, 0);
    column->setSpacing(2);
    auto* row = new QHBoxLayout;
    row->setSpacing(4);
    chips_->setSpacing(4);
    row->addLayout(chips_);
    edit_->setObjectName(QStringLiteral("searchField"));
    edit_->setPlaceholderText(tr("Search photos: words, or drop a photo here (Ctrl+F)"));
    edit_->setClearButtonEnabled(true);
    edit_->installEventFilter(this);
    edit_->setAcceptDrops(false); // drops go to the bar: they become chips, not text
    row->addWidget(edit_, 1);
    weight_->setObjectName(QStringLiteral("textWeight"));
    weight_->setRange(0, 100);
    weight_->setValue(50);
    weight_->setFixedWidth(110);
    weight_->setToolTip(tr("Photo ↔ words: how much the words count against the photos"));
    weightLabel_->setMinimumWidth(
        weightLabel_->fontMetrics().horizontalAdvance(QStringLiteral("words 100 %")));
    row->addWidget(weight_);
    row->addWidget(weightLabel_);
    column->addLayout(row);
    message_->setObjectName(QStringLiteral("searchMessage"));
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // One line whose space stays when it is empty: a message appearing must not push the filters down
    // under the pointer. A longer message is cut to the width, whole in its tooltip.
    QSizePolicy policy = message_->sizePolicy();
    policy.setRetainSizeWhenHidden(true);
    policy.setHorizontalPolicy(QSizePolicy::Ignored);
    message_->setSizePolicy(policy);
    message_->setFixedHeight(message_->fontMetrics().height() + 2);
    message_->hide();
    column->addWidget(message_);

    debounce_.setSingleShot(true);
    debounce_.setInterval(kDebounceMs);
    connect(&debounce_, &QTimer::timeout, this, &SearchBar::queryChanged);
    connect(edit_, &QLineEdit::textChanged, this, [this] { debounce_.start(); });
    connect(weight_, &QSlider::valueChanged, this, [this](int value) {
        weightLabel_->setText(tr("words %1 %").arg(value));
        if (!chipWidgets_.isEmpty())
            debounce_.start();
    });
    weightLabel_->setText(tr("words %1 %").arg(weight_->value()));
    chipsChanged();
}

QString SearchBar::text() const
{
    return edit_->text();
}
void SearchBar::setText(const QString& text)
{
    edit_->setText(text);
}

std::vector<PhotoTerm> SearchBar::photos() const
{
    std::vector<PhotoTerm> out;
    for (const PhotoChip* chip : chipWidgets_)
        out.push_back(chip->term());
    return out;
}

double SearchBar::textWeight() const
{
    return weight_->value() / 100.0;
}
void SearchBar::setTextWeight(double weight)
{
    weight_->setValue(qRound(weight * 100));
}

void SearchBar::addPhoto(const PhotoTerm& term)
{
    auto* chip = new PhotoChip(term, this);
    connect(chip, &PhotoChip::changed, this, &SearchBar::queryChanged);
    connect(chip, &PhotoChip::removeClicked, this, [this, chip] {
        chipWidgets_.removeOne(chip);
        chip->deleteLater();
        chipsChanged();
        emit queryChanged();
    });
    chips_->addWidget(chip);
    chipWidgets_.append(chip);
    chipsChanged();
    emit queryChanged();
}

void SearchBar::chipsChanged()
{
    const bool composed = !chipWidgets_.isEmpty();
    weight_->setVisible(composed);
    weightLabel_->setVisible(composed);
    edit_->setPlaceholderText(composed ? tr("…and words to change it (\"at night\")")
                                       : tr("Search photos: words, or drop a photo here (Ctrl+F)"));
}

void SearchBar::clear()
{
    debounce_.stop();
    const QSignalBlocker blocker(edit_);
    edit_->clear();
    qDeleteAll(chipWidgets_);
    chipWidgets_.clear();
    chipsChanged();
    setMessage({});
    emit queryChanged();
}

bool SearchBar::empty() const
{
    return edit_->text().trimmed().isEmpty() && chipWidgets_.isEmpty();
}

void SearchBar::focusSearch()
{
    edit_->setFocus(Qt::ShortcutFocusReason);
    edit_->selectAll();
}

void SearchBar::setMessage(const QString& message)
{
    message_->setText(message_->fontMetrics().elidedText(
        message.simplified(), Qt::ElideRight, qMax(message_->width(), 200)));
    message_->setToolTip(message);
    message_->setVisible(!message.isEmpty());
}

void SearchBar::dragEnterEvent(QDragEnterEvent* event)
{
    for (const QUrl& url : event->mimeData()->urls())
        if (url.isLocalFile() && isPhotoFile(url.toLocalFile())) {
            event->acceptProposedAction();
            return;
        }
}

void SearchBar::dropEvent(QDropEvent* event)
{
    const QMimeData* mime = event->mimeData();
    const QList<QUrl> urls = mime->urls();
    const QStringList ids
        = QString::fromLatin1(mime->data(QString::fromLatin1(GalleryModel::kIdsMimeType))).split(',');
    for (int i = 0; i < urls.size(); ++i) {
        if (!urls[i].isLocalFile() || !isPhotoFile(urls[i].toLocalFile()))
            continue;
        PhotoTerm term;
        term.file = urls[i].toLocalFile().toStdString();
        if (ids.size() == urls.size() && ids[i].toLongLong() > 0)
            term.photoId = ids[i].toLongLong();
        addPhoto(term);
    }
    event->acceptProposedAction();
}

bool SearchBar::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == edit_ && event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        if (key->key() == Qt::Key_Escape && !empty()) {
            clear();
            return true;
        }
        if (key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) {
            debounce_.stop();
            emit queryChanged(); // at once
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace pictor::ui
