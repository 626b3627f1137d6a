#include "ui/filter_bar.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateEdit>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMouseEvent>
#include <QSlider>
#include <QTimeZone>
#include <QTimer>
#include <QToolButton>

namespace pictor::ui {
namespace {

// Dates taken are stored as wall-clock time in UTC seconds (as `pictor search --after` reads them).
std::int64_t dayStart(const QDate& date)
{
    return QDateTime(date, QTime(0, 0), QTimeZone::utc()).toSecsSinceEpoch();
}

// A menu of checkboxes that stays open while the user ticks several (a plain QMenu closes on each).
class StayOpenMenu : public QMenu {
public:
    using QMenu::QMenu;

protected:
    void mouseReleaseEvent(QMouseEvent* event) override
    {
        if (QAction* action = activeAction(); action && action->isCheckable() && action->isEnabled()) {
            action->trigger();
            return;
        }
        QMenu::mouseReleaseEvent(event);
    }
};

} // namespace

FilterBar::FilterBar(QWidget* parent)
    : QWidget(parent),
      cutoff_(new QSlider(Qt::Horizontal, this)),
      cutoffLabel_(new QLabel(this)),
      byDate_(new QCheckBox(tr("Results by date"), this)), // "Newest first" is the browse order's
      folder_(new QComboBox(this)),
      fromEnabled_(new QCheckBox(tr("From"), this)),
      from_(new QDateEdit(this)),
      toEnabled_(new QCheckBox(tr("to"), this)),
      to_(new QDateEdit(this)),
      camera_(new QLineEdit(this)),
      type_(new QToolButton(this)),
      generated_(new QComboBox(this)),
      tag_(new QComboBox(this))
{
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(0, 0, 0, 0);
    cutoff_->setObjectName(QStringLiteral("cutoff"));
    cutoff_->setRange(0, 100);
    cutoff_->setFixedWidth(100);
    cutoff_->setToolTip(tr("Relevance cutoff: hide photos scoring below this cosine similarity"));
    row->addWidget(new QLabel(tr("Cutoff"), this));
    row->addWidget(cutoff_);
    cutoffLabel_->setMinimumWidth(cutoffLabel_->fontMetrics().horizontalAdvance(QStringLiteral("0.000")));
    row->addWidget(cutoffLabel_);
    byDate_->setObjectName(QStringLiteral("sortByDate"));
    byDate_->setToolTip(tr("Show the best matches newest first instead of best first"));
    row->addWidget(byDate_);
    row->addSpacing(12);
    folder_->setObjectName(QStringLiteral("folderFilter"));
    folder_->addItem(tr("All folders"), QString());
    folder_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    row->addWidget(folder_);
    for (QDateEdit* edit : {from_, to_}) {
        edit->setCalendarPopup(true);
        edit->setDisplayFormat(QStringLiteral("yyyy-MM-dd"));
        edit->setDate(QDate::currentDate());
        edit->setEnabled(false);
    }
    from_->setObjectName(QStringLiteral("fromDate"));
    to_->setObjectName(QStringLiteral("toDate"));
    toEnabled_->setToolTip(tr("Up to and including this day"));
    row->addWidget(fromEnabled_);
    row->addWidget(from_);
    row->addWidget(toEnabled_);
    row->addWidget(to_);
    camera_->setObjectName(QStringLiteral("cameraFilter"));
    camera_->setPlaceholderText(tr("Camera"));
    camera_->setClearButtonEnabled(true);
    camera_->setMinimumWidth(72); // room for the placeholder
    camera_->setMaximumWidth(140);
    row->addWidget(camera_);
    type_->setObjectName(QStringLiteral("typeFilter"));
    type_->setPopupMode(QToolButton::InstantPopup);
    type_->setToolTip(tr("Only photos of the checked file types (none checked: all)"));
    auto* types = new StayOpenMenu(type_);
    types->setObjectName(QStringLiteral("typeMenu"));
    for (const char* type : {"jpeg", "png", "webp", "tiff", "bmp", "heif", "raw"}) {
        QAction* action = types->addAction(QString::fromLatin1(type).toUpper());
        action->setData(QString::fromLatin1(type));
        action->setCheckable(true);
        connect(action, &QAction::toggled, this, [this] {
            showChosenTypes();
            emit changed();
        });
    }
    type_->setMenu(types);
    showChosenTypes();
    row->addWidget(type_);
    generated_->setObjectName(QStringLiteral("generatedFilter"));
    generated_->addItem(tr("All pictures"), -1);
    generated_->addItem(tr("Photos"), 0);
    generated_->addItem(tr("Created"), 1);
    generated_->setToolTip(tr("Photos only, or only the pictures made with Create (kept with how they were "
                              "made)"));
    row->addWidget(generated_);
    tag_->setObjectName(QStringLiteral("tagFilter"));
    tag_->addItem(tr("All tags"), QString());
    tag_->setToolTip(tr("Only the photos with this tag (with no words, all of them, newest first)"));
    tag_->setVisible(false); // until the library has tags
    row->addWidget(tag_);
    row->addStretch(1);

    connect(cutoff_, &QSlider::valueChanged, this, [this] {
        cutoffLabel_->setText(minScore() > 0 ? QString::number(minScore(), 'f', 2) : tr("off"));
        emit changed();
    });
    cutoffLabel_->setText(tr("off"));
    connect(byDate_, &QCheckBox::toggled, this, &FilterBar::changed);
    connect(folder_, &QComboBox::currentIndexChanged, this, &FilterBar::changed);
    connect(fromEnabled_, &QCheckBox::toggled, from_, &QWidget::setEnabled);
    connect(toEnabled_, &QCheckBox::toggled, to_, &QWidget::setEnabled);
    connect(fromEnabled_, &QCheckBox::toggled, this, &FilterBar::changed);
    connect(toEnabled_, &QCheckBox::toggled, this, &FilterBar::changed);
    connect(from_, &QDateEdit::dateChanged, this, &FilterBar::changed);
    connect(to_, &QDateEdit::dateChanged, this, &FilterBar::changed);
    // Live like the other filters, once typing pauses.
    auto* cameraPause = new QTimer(this);
    cameraPause->setSingleShot(true);
    cameraPause->setInterval(300);
    connect(camera_, &QLineEdit::textChanged, cameraPause, qOverload<>(&QTimer::start));
    connect(cameraPause, &QTimer::timeout, this, &FilterBar::changed);
    connect(generated_, &QComboBox::currentIndexChanged, this, &FilterBar::changed);
    connect(tag_, &QComboBox::currentIndexChanged, this, &FilterBar::changed);
}

void FilterBar::setTags(const QStringList& tags)
{
    const QString current = tag();
    const QSignalBlocker blocker(tag_);
    while (tag_->count() > 1)
        tag_->removeItem(1);
    for (const QString& tag : tags)
        tag_->addItem(tag, tag);
    const int kept = tag_->findData(current, Qt::UserRole, Qt::MatchFixedString); // a tag that is gone: any
    tag_->setCurrentIndex(qMax(0, kept));
    tag_->setVisible(tag_->count() > 1); // a library without tags has no tag filter
    if (kept < 0 && !current.isEmpty())
        emit changed();
}

void FilterBar::setTag(const QString& tag)
{
    const int index = tag_->findData(tag, Qt::UserRole, Qt::MatchFixedString);
    if (index < 0 && !tag.isEmpty())
        tag_->addItem(tag, tag);
    tag_->setVisible(tag_->count() > 1);
    tag_->setCurrentIndex(tag.isEmpty() ? 0 : tag_->findData(tag, Qt::UserRole, Qt::MatchFixedString));
}

QString FilterBar::tag() const
{
    return tag_->currentData().toString();
}

void FilterBar::setFolders(const QStringList& folders)
{
    const QString current = folder_->currentData().toString();
    const QSignalBlocker blocker(folder_);
    while (folder_->count() > 1)
        folder_->removeItem(1);
    for (const QString& folder : folders)
        folder_->addItem(folder, folder);
    folder_->setCurrentIndex(qMax(0, folder_->findData(current)));
}

double FilterBar::minScore() const
{
    return cutoff_->value() / 100.0;
}
void FilterBar::setMinScore(double score)
{
    cutoff_->setValue(qRound(score * 100));
}
bool FilterBar::sortByDate() const
{
    return byDate_->isChecked();
}
void FilterBar::setSortByDate(bool byDate)
{
    byDate_->setChecked(byDate);
}
void FilterBar::setFolder(const QString& folder)
{
    folder_->setCurrentIndex(qMax(0, folder_->findData(folder)));
}
void FilterBar::setCamera(const QString& camera)
{
    {
        const QSignalBlocker blocker(camera_); // one search, now
        camera_->setText(camera);
    }
    emit changed();
}
void FilterBar::setFileTypes(const QStringList& types)
{
    for (QAction* action : type_->menu()->actions()) {
        const QSignalBlocker blocker(action); // one search, now
        action->setChecked(types.contains(action->data().toString()));
    }
    showChosenTypes();
    emit changed();
}

QStringList FilterBar::fileTypes() const
{
    QStringList chosen;
    for (const QAction* action : type_->menu()->actions())
        if (action->isChecked())
            chosen.append(action->data().toString());
    return chosen;
}

void FilterBar::showChosenTypes()
{
    QStringList names;
    for (const QAction* action : type_->menu()->actions())
        if (action->isChecked())
            names.append(action->text());
    type_->setText(names.isEmpty() ? tr("All types") : names.join(QStringLiteral(", ")));
}

void FilterBar::setGenerated(int which)
{
    generated_->setCurrentIndex(qMax(0, generated_->findData(which)));
}

void FilterBar::setDateRange(const QDate& from, const QDate& to)
{
    const QSignalBlocker a(fromEnabled_), b(toEnabled_), c(from_), d(to_);
    fromEnabled_->setChecked(from.isValid());
    from_->setEnabled(from.isValid());
    if (from.isValid())
        from_->setDate(from);
    toEnabled_->setChecked(to.isValid());
    to_->setEnabled(to.isValid());
    if (to.isValid())
        to_->setDate(to);
    emit changed();
}

void FilterBar::apply(SearchRequest& request) const
{
    if (minScore() > 0)
        request.minScore = minScore();
    request.sortByDate = sortByDate();
    if (const QString folder = folder_->currentData().toString(); !folder.isEmpty())
        request.filter.folder = folder.toStdString();
    if (fromEnabled_->isChecked())
        request.filter.takenFrom = dayStart(from_->date());
    if (toEnabled_->isChecked())
        request.filter.takenBefore = dayStart(to_->date().addDays(1));
    if (const QString camera = camera_->text().trimmed(); !camera.isEmpty())
        request.filter.camera = camera.toStdString();
    for (const QString& type : fileTypes())
        request.filter.fileTypes.push_back(type.toStdString());
    if (const int which = generated_->currentData().toInt(); which >= 0)
        request.filter.generated = which == 1;
    if (const QString chosen = tag(); !chosen.isEmpty())
        request.filter.tags = {chosen.toStdString()};
}

} // namespace pictor::ui
