#include "ui/duplicates_dialog.h"

#include <QFile>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSlider>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent>

#include "indexer/library.h"
#include "ui/indexing_jobs.h"
#include "ui/photo_image.h"
#include "ui/search_engine.h"

namespace pictor::ui {
namespace {

QString describe(const PhotoRecord& photo)
{
    return QObject::tr("%1×%2, %3")
        .arg(photo.width)
        .arg(photo.height)
        .arg(QLocale().formattedDataSize(photo.size));
}

// Decoded off the GUI thread (a photo can be 100 megapixels); scaled while decoding where the format can.
QImage preview(const std::filesystem::path& file, QSize box)
{
    return readPhotoImage(QString::fromStdString(file.string()), box);
}

} // namespace

DuplicatesDialog::DuplicatesDialog(
    SearchEngine& engine, IndexingJobs& jobs, std::filesystem::path libraryDir, QWidget* parent)
    : QDialog(parent),
      engine_(engine),
      jobs_(jobs),
      libraryDir_(std::move(libraryDir)),
      threshold_(new QSlider(Qt::Horizontal, this)),
      status_(new QLabel(this)),
      tree_(new QTreeWidget(this)),
      best_(new QLabel(this)),
      other_(new QLabel(this)),
      keep_(new QPushButton(tr("Keep best, remove the others from the library"), this)),
      trash_(new QPushButton(tr("Keep best, move the others to the trash…"), this))
{
    setObjectName(QStringLiteral("duplicatesDialog"));
    setWindowTitle(tr("Duplicates"));
    auto* layout = new QVBoxLayout(this);
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Similarity"), this));
    threshold_->setObjectName(QStringLiteral("duplicateThreshold"));
    threshold_->setRange(80, 100);
    threshold_->setValue(95);
    threshold_->setToolTip(
        tr("How alike two photos must be to count as near-duplicates (exact copies always do)"));
    top->addWidget(threshold_, 1);
    status_->setObjectName(QStringLiteral("duplicatesStatus"));
    top->addWidget(status_);
    layout->addLayout(top);
    tree_->setObjectName(QStringLiteral("duplicateGroups"));
    tree_->setColumnCount(2);
    tree_->setHeaderLabels({tr("Photo"), tr("Size")});
    tree_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    layout->addWidget(tree_, 1);
    auto* compare = new QHBoxLayout;
    for (QLabel* label : {best_, other_}) {
        label->setMinimumSize(240, 180);
        label->setAlignment(Qt::AlignCenter);
        compare->addWidget(label, 1);
    }
    best_->setObjectName(QStringLiteral("compareBest"));
    other_->setObjectName(QStringLiteral("compareOther"));
    layout->addLayout(compare);
    auto* buttons = new QHBoxLayout;
    keep_->setObjectName(QStringLiteral("keepBest"));
    trash_->setObjectName(QStringLiteral("trashOthers"));
    buttons->addWidget(keep_);
    buttons->addWidget(trash_);
    buttons->addStretch(1);
    auto* close = new QPushButton(tr("Close"), this);
    buttons->addWidget(close);
    layout->addLayout(buttons);
    connect(close, &QPushButton::clicked, this, &QDialog::reject);
    connect(threshold_, &QSlider::sliderReleased, this, &DuplicatesDialog::find);
    connect(tree_, &QTreeWidget::currentItemChanged, this, &DuplicatesDialog::compareSelected);
    connect(keep_, &QPushButton::clicked, this, [this] { keepBest(false); });
    connect(trash_, &QPushButton::clicked, this, [this] { keepBest(true); });
    resize(820, 640);
    find();
}

void DuplicatesDialog::find()
{
    const quint64 generation = ++generation_;
    status_->setText(tr("Looking for duplicates…"));
    keep_->setEnabled(false);
    trash_->setEnabled(false);
    DuplicateOptions options;
    options.threshold = threshold_->value() / 100.0;
    QPointer<DuplicatesDialog> self(this);
    SearchEngine* engine = &engine_;
    QtConcurrent::run([engine, dir = libraryDir_, options] {
        const auto model = engine->modelForIndexing(); // the model's embeddings and vector index
        Library library = Library::openForReading(dir);
        return findDuplicates(library, model.model->modelId(), model.model->dimension(), options);
    })
        .then(this,
            [self, generation](std::vector<DuplicateGroup> groups) {
                if (self && generation == self->generation_)
                    self->showGroups(std::move(groups));
            })
        .onFailed(this, [self, generation](const std::exception& e) {
            if (!self || generation != self->generation_)
                return;
            self->status_->setText(tr("Cannot look for duplicates: %1").arg(QString::fromUtf8(e.what())));
            emit self->found();
        });
}

void DuplicatesDialog::showGroups(std::vector<DuplicateGroup> groups)
{
    groups_ = std::move(groups);
    tree_->clear();
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        const auto& group = groups_[g];
        auto* item = new QTreeWidgetItem(tree_,
            {group.exact ? tr("%1 copies of the same photo").arg(group.photos.size())
                         : tr("%1 near-duplicates (similarity ≥ %2)")
                               .arg(group.photos.size())
                               .arg(group.lowestScore, 0, 'f', 3)});
        item->setData(0, Qt::UserRole, static_cast<int>(g));
        for (std::size_t i = 0; i < group.photos.size(); ++i) {
            const auto& photo = group.photos[i];
            auto* child = new QTreeWidgetItem(item,
                {(i == 0 ? tr("best: ") : QString()) + QString::fromStdString(photo.path.string()),
                    describe(photo)});
            child->setData(0, Qt::UserRole, static_cast<int>(g));
            child->setData(1, Qt::UserRole, static_cast<int>(i));
        }
        item->setExpanded(true);
    }
    status_->setText(groups_.empty() ? tr("No duplicates at this similarity")
                                     : tr("%n group(s)", nullptr, static_cast<int>(groups_.size())));
    if (!groups_.empty())
        tree_->setCurrentItem(tree_->topLevelItem(0));
    emit found();
}

int DuplicatesDialog::selectedGroup() const
{
    const QTreeWidgetItem* item = tree_->currentItem();
    return item ? item->data(0, Qt::UserRole).toInt() : -1;
}

void DuplicatesDialog::compareSelected()
{
    const int g = selectedGroup();
    keep_->setEnabled(g >= 0);
    trash_->setEnabled(g >= 0);
    if (g < 0 || g >= static_cast<int>(groups_.size()))
        return;
    const auto& photos = groups_[static_cast<std::size_t>(g)].photos;
    const QTreeWidgetItem* item = tree_->currentItem();
    const int other = item->parent() ? std::max(1, item->data(1, Qt::UserRole).toInt()) : 1;
    const auto& shown
        = photos[static_cast<std::size_t>(std::min<int>(other, static_cast<int>(photos.size()) - 1))];
    best_->setToolTip(tr("Best: %1").arg(QString::fromStdString(photos.front().path.string())));
    other_->setToolTip(QString::fromStdString(shown.path.string()));
    const quint64 request = ++previewRequest_;
    QPointer<DuplicatesDialog> self(this);
    QtConcurrent::run([best = photos.front().path, shown = shown.path, bestBox = best_->size(),
                          shownBox = other_->size()] {
        return std::make_pair(preview(best, bestBox), preview(shown, shownBox));
    }).then(this, [self, request](const std::pair<QImage, QImage>& images) {
        if (!self || request != self->previewRequest_)
            return; // another photo was chosen meanwhile
        self->best_->setPixmap(QPixmap::fromImage(images.first));
        self->other_->setPixmap(QPixmap::fromImage(images.second));
    });
}

void DuplicatesDialog::keepBest(bool moveToTrash)
{
    const int g = selectedGroup();
    if (g < 0 || g >= static_cast<int>(groups_.size()))
        return;
    const auto& photos = groups_[static_cast<std::size_t>(g)].photos;
    std::vector<std::int64_t> others;
    QStringList files;
    for (std::size_t i = 1; i < photos.size(); ++i) {
        others.push_back(photos[i].id);
        files << QString::fromStdString(photos[i].path.string());
    }
    if (moveToTrash) {
        QMessageBox confirm(QMessageBox::Warning, tr("Move to the trash"),
            tr("Move %n file(s) to the trash? The best photo stays:\n%1", nullptr,
                static_cast<int>(files.size()))
                .arg(QString::fromStdString(photos.front().path.string())),
            QMessageBox::Cancel, this);
        confirm.setObjectName(QStringLiteral("confirmTrash"));
        QPushButton* move = confirm.addButton(tr("Move to the trash"), QMessageBox::DestructiveRole);
        confirm.setDefaultButton(QMessageBox::Cancel);
        confirm.exec();
        if (confirm.clickedButton() != move)
            return;
        QStringList failed;
        for (const QString& file : files)
            if (!QFile::moveToTrash(file))
                failed << file;
        if (!failed.isEmpty())
            QMessageBox::warning(this, tr("Move to the trash"),
                tr("These files could not be moved to the trash and stay where they are:\n%1")
                    .arg(failed.join('\n')));
    }
    jobs_.removePhotos(
        others, tr("Remove %n duplicate(s) from the library", nullptr, static_cast<int>(others.size())));
    groups_.erase(groups_.begin() + g);
    showGroups(std::move(groups_));
}

} // namespace pictor::ui
