#include "ui/auto_tag_dialog.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSlider>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent>
#include <algorithm>

#include "core/imageio/decode.h"
#include "indexer/library.h"
#include "indexer/model_host.h"
#include "ui/feature_host.h"
#include "ui/generation_engine.h"
#include "ui/indexing_jobs.h"
#include "ui/search_engine.h"

namespace pictor::ui {
namespace {

constexpr int kSliderSteps = 1000; // the slider's unit: a thousandth of cosine
constexpr int kBestShown = 24;
constexpr int kBelowShown = 8;
constexpr int kIconEdge = 96;

struct PreviewPhoto {
    std::int64_t id = 0;
    double score = 0;
    bool passes = false;
    QString path;
    QImage image;
};

// Small, off the GUI thread, through the library's decoder (RAW included), reduced while decoding.
QImage icon(const std::filesystem::path& file)
{
    try {
        DecodeOptions options;
        options.targetShortEdge = kIconEdge;
        const QImage image = toQImage(decodeImageFile(file, options).image);
        return image.scaled(kIconEdge, kIconEdge, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    } catch (const std::exception&) {
        return {};
    }
}

} // namespace

AutoTagDialog::AutoTagDialog(
    SearchEngine& engine, FeatureHost& window, std::filesystem::path libraryDir, QWidget* parent)
    : QDialog(parent),
      engine_(engine),
      window_(window),
      libraryDir_(std::move(libraryDir)),
      rules_(new QTreeWidget(this)),
      forget_(new QPushButton(tr("Forget rule"), this)),
      tag_(new QLineEdit(this)),
      prompts_(new QPlainTextEdit(this)),
      threshold_(new QSlider(Qt::Horizontal, this)),
      thresholdLabel_(new QLabel(this)),
      status_(new QLabel(this)),
      preview_(new QListWidget(this)),
      follow_(new QCheckBox(tr("New photos get it as they are indexed"), this)),
      apply_(new QPushButton(tr("Apply"), this)),
      rescore_(new QTimer(this)),
      repreview_(new QTimer(this))
{
    setObjectName(QStringLiteral("autoTagDialog"));
    setWindowTitle(tr("Auto tags"));
    auto* layout = new QVBoxLayout(this);

    layout->addWidget(new QLabel(tr("Rules new photos follow:"), this));
    rules_->setObjectName(QStringLiteral("autoTagRules"));
    rules_->setColumnCount(3);
    rules_->setHeaderLabels({tr("Tag"), tr("Threshold"), tr("Prompts")});
    rules_->header()->setSectionResizeMode(2, QHeaderView::Stretch);
    rules_->setRootIsDecorated(false);
    rules_->setMaximumHeight(110);
    auto* rulesRow = new QHBoxLayout;
    rulesRow->addWidget(rules_, 1);
    forget_->setObjectName(QStringLiteral("forgetAutoTagRule"));
    forget_->setToolTip(tr("New photos no longer get this tag; the photos tagged keep it"));
    forget_->setEnabled(false);
    rulesRow->addWidget(forget_, 0, Qt::AlignTop);
    layout->addLayout(rulesRow);

    auto* form = new QFormLayout;
    tag_->setObjectName(QStringLiteral("autoTagName"));
    tag_->setPlaceholderText(tr("beach"));
    form->addRow(tr("Tag"), tag_);
    prompts_->setObjectName(QStringLiteral("autoTagPrompts"));
    prompts_->setPlaceholderText(
        tr("One description per line, averaged:\na photo of a beach\nwaves on a sandy shore\n(none: “a photo "
           "of a <tag>.”)"));
    prompts_->setMaximumHeight(90);
    form->addRow(tr("Prompts"), prompts_);
    auto* thresholdRow = new QHBoxLayout;
    threshold_->setObjectName(QStringLiteral("autoTagThreshold"));
    threshold_->setRange(-kSliderSteps / 5, kSliderSteps / 2); // cosines of CLIP photos and words: -0.2..0.5
    threshold_->setValue(250);
    thresholdRow->addWidget(threshold_, 1);
    thresholdLabel_->setMinimumWidth(
        thresholdLabel_->fontMetrics().horizontalAdvance(QStringLiteral("-0.000")));
    thresholdRow->addWidget(thresholdLabel_);
    form->addRow(tr("Threshold"), thresholdRow);
    layout->addLayout(form);

    status_->setObjectName(QStringLiteral("autoTagStatus"));
    status_->setWordWrap(true);
    layout->addWidget(status_);
    preview_->setObjectName(QStringLiteral("autoTagPreview"));
    preview_->setViewMode(QListView::IconMode);
    preview_->setIconSize(QSize(kIconEdge, kIconEdge));
    preview_->setResizeMode(QListView::Adjust);
    preview_->setMovement(QListView::Static);
    preview_->setSpacing(4);
    layout->addWidget(preview_, 1);

    auto* buttons = new QHBoxLayout;
    follow_->setObjectName(QStringLiteral("autoTagFollow"));
    follow_->setChecked(true);
    buttons->addWidget(follow_);
    buttons->addStretch(1);
    apply_->setObjectName(QStringLiteral("autoTagApply"));
    apply_->setEnabled(false);
    buttons->addWidget(apply_);
    auto* close = new QPushButton(tr("Close"), this);
    buttons->addWidget(close);
    layout->addLayout(buttons);

    // Typing rescoring once it pauses; the slider recounting at once and previewing once it rests.
    rescore_->setSingleShot(true);
    rescore_->setInterval(600);
    repreview_->setSingleShot(true);
    repreview_->setInterval(150);
    connect(rescore_, &QTimer::timeout, this, &AutoTagDialog::score);
    connect(repreview_, &QTimer::timeout, this, &AutoTagDialog::showPreview);
    connect(tag_, &QLineEdit::textChanged, rescore_, qOverload<>(&QTimer::start));
    connect(prompts_, &QPlainTextEdit::textChanged, rescore_, qOverload<>(&QTimer::start));
    connect(threshold_, &QSlider::valueChanged, this, [this] {
        showCount();
        repreview_->start();
    });
    connect(rules_, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        forget_->setEnabled(item != nullptr);
        if (!item)
            return;
        setThreshold(item->data(1, Qt::UserRole).toDouble());
        setDefinition(item->text(0), item->data(2, Qt::UserRole).toStringList());
    });
    connect(forget_, &QPushButton::clicked, this, &AutoTagDialog::forgetSelectedRule);
    connect(apply_, &QPushButton::clicked, this, &AutoTagDialog::apply);
    // Apply and Forget are jobs of the queue; the rules are listed again when any job ends.
    connect(&window_.jobQueue(), &IndexingJobs::jobFinished, this, &AutoTagDialog::refreshRules);
    connect(close, &QPushButton::clicked, this, &QDialog::reject);
    showCount();
    resize(760, 640);
    refreshRules();
}

TagDefinition AutoTagDialog::definition() const
{
    QStringList lines;
    for (const QString& line : prompts_->toPlainText().split('\n'))
        if (!line.trimmed().isEmpty())
            lines << line.trimmed();
    QString text = tag_->text().trimmed();
    if (!lines.isEmpty())
        text += '=' + lines.join(';');
    return parseTagDefinition(text.toStdString());
}

void AutoTagDialog::setDefinition(const QString& tag, const QStringList& prompts)
{
    {
        const QSignalBlocker a(tag_), b(prompts_);
        tag_->setText(tag);
        prompts_->setPlainText(prompts.join('\n'));
    }
    score();
}

void AutoTagDialog::setThreshold(double threshold)
{
    const int value = static_cast<int>(std::lround(std::clamp(threshold, -1.0, 1.0) * kSliderSteps));
    threshold_->setRange(std::min(threshold_->minimum(), value), std::max(threshold_->maximum(), value));
    exactThreshold_ = threshold;
    threshold_->setValue(value);
    showCount();
}

double AutoTagDialog::threshold() const
{
    if (exactThreshold_ && threshold_->value() == std::lround(*exactThreshold_ * kSliderSteps))
        return *exactThreshold_;
    return threshold_->value() / static_cast<double>(kSliderSteps);
}

int AutoTagDialog::passing() const
{
    const double limit = threshold();
    return static_cast<int>(std::count_if(
        scores_.begin(), scores_.end(), [limit](const PhotoScore& s) { return s.score >= limit; }));
}

void AutoTagDialog::score()
{
    rescore_->stop();
    TagDefinition wanted;
    try {
        wanted = definition();
    } catch (const std::exception& e) {
        scores_.clear();
        status_->setText(tag_->text().trimmed().isEmpty() ? tr("Name a tag and describe it.")
                                                          : QString::fromUtf8(e.what()));
        apply_->setEnabled(false);
        preview_->clear();
        emit scored();
        return;
    }
    const quint64 request = ++scoreRequest_;
    status_->setText(tr("Scoring the photos…"));
    apply_->setEnabled(false);
    QPointer<AutoTagDialog> self(this);
    SearchEngine* engine = &engine_;
    ModelHost* host = &window_.models();
    QtConcurrent::run([engine, host, dir = libraryDir_, wanted] {
        const auto model = engine->modelForIndexing(); // the model of the library's embeddings
        const std::vector<float> vector = host->worker().run(
            JobPriority::Interactive, [&] { return promptEnsemble(*model.model, wanted); });
        Library library = Library::openForReading(dir);
        return std::make_pair(
            model.model->modelId(), scorePhotos(library.catalog(), model.model->modelId(), vector));
    })
        .then(this,
            [self, request, wanted](std::pair<std::string, std::vector<PhotoScore>> result) {
                if (!self || request != self->scoreRequest_)
                    return; // the words changed meanwhile
                self->scoredModelId_ = std::move(result.first);
                self->scores_ = std::move(result.second);
                self->scoredDefinition_ = wanted;
                self->apply_->setEnabled(!self->scores_.empty());
                if (self->scores_.empty())
                    self->status_->setText(tr("No photo is indexed with the search model yet: index the "
                                              "library first."));
                self->showCount();
                self->showPreview();
                emit self->scored();
            })
        .onFailed(this, [self, request](const std::exception& e) {
            if (!self || request != self->scoreRequest_)
                return;
            self->scores_.clear();
            self->status_->setText(tr("Cannot score the photos: %1").arg(QString::fromUtf8(e.what())));
            emit self->scored();
        });
}

void AutoTagDialog::showCount()
{
    thresholdLabel_->setText(QString::number(threshold(), 'f', 3));
    if (scores_.empty())
        return;
    status_->setText(tr("%1 of %2 photos at or above %3 would get “%4”.")
                         .arg(passing())
                         .arg(scores_.size())
                         .arg(threshold(), 0, 'f', 3)
                         .arg(QString::fromStdString(scoredDefinition_.tag)));
}

// The best photos that pass, then the ones just below the threshold (where it is decided).
void AutoTagDialog::showPreview()
{
    repreview_->stop();
    const int pass = passing();
    std::vector<PreviewPhoto> chosen;
    for (int i = 0; i < std::min(pass, kBestShown); ++i)
        chosen.push_back({scores_[static_cast<std::size_t>(i)].photoId,
            scores_[static_cast<std::size_t>(i)].score, true, {}, {}});
    for (int i = pass; i < std::min(pass + kBelowShown, static_cast<int>(scores_.size())); ++i)
        chosen.push_back({scores_[static_cast<std::size_t>(i)].photoId,
            scores_[static_cast<std::size_t>(i)].score, false, {}, {}});
    const quint64 request = ++previewRequest_;
    QPointer<AutoTagDialog> self(this);
    QtConcurrent::run([dir = libraryDir_, chosen]() mutable {
        Library library = Library::openForReading(dir);
        for (PreviewPhoto& photo : chosen) {
            if (const auto record = library.catalog().photo(photo.id)) {
                photo.path = QString::fromStdString(record->path.string());
                photo.image = icon(record->path);
            }
        }
        return chosen;
    }).then(this, [self, request](const std::vector<PreviewPhoto>& photos) {
        if (!self || request != self->previewRequest_)
            return;
        self->preview_->clear();
        for (const PreviewPhoto& photo : photos) {
            auto* item = new QListWidgetItem(QIcon(QPixmap::fromImage(photo.image)),
                (photo.passes ? QStringLiteral("%1") : tr("%1 (below)")).arg(photo.score, 0, 'f', 3),
                self->preview_);
            item->setToolTip(photo.path);
            item->setData(Qt::UserRole, photo.passes);
            if (!photo.passes)
                item->setForeground(self->palette().color(QPalette::Disabled, QPalette::Text));
        }
        emit self->previewShown();
    });
}

void AutoTagDialog::apply()
{
    if (scores_.empty())
        return;
    const std::string tag = scoredDefinition_.tag;
    const std::vector<std::string> prompts = scoredDefinition_.prompts;
    const std::string modelId = scoredModelId_;
    const double limit = threshold();
    const bool follow = follow_->isChecked();
    const std::vector<PhotoScore> scores = scores_;
    window_.jobQueue().enqueueWork(tr("Auto tag '%1'").arg(QString::fromStdString(tag)),
        [tag, prompts, modelId, limit, follow, scores](
            Library& library, const std::atomic<bool>&, const std::function<void(const IndexProgress&)>&) {
            const std::int64_t tagged = applyAutoTag(library.catalog(), modelId, tag, scores, limit);
            if (follow)
                library.catalog().saveAutoTagRule({tag, prompts, modelId, limit, 0});
            return JobOutcome {false,
                tr("tagged %n photo(s) '%1'", nullptr, static_cast<int>(tagged))
                    .arg(QString::fromStdString(tag))};
        });
}

void AutoTagDialog::refreshRules()
{
    QPointer<AutoTagDialog> self(this);
    QtConcurrent::run([dir = libraryDir_] { return Library::openForReading(dir).catalog().autoTagRules(); })
        .then(this,
            [self](const std::vector<AutoTagRule>& rules) {
                if (!self)
                    return;
                const QSignalBlocker blocker(self->rules_);
                self->rules_->clear();
                for (const AutoTagRule& rule : rules) {
                    QStringList prompts;
                    for (const auto& prompt : rule.prompts)
                        prompts << QString::fromStdString(prompt);
                    auto* item = new QTreeWidgetItem(self->rules_,
                        {QString::fromStdString(rule.tag), QString::number(rule.threshold, 'f', 3),
                            prompts.join(QStringLiteral(" · "))});
                    item->setData(1, Qt::UserRole, rule.threshold);
                    item->setData(2, Qt::UserRole, prompts);
                }
                self->forget_->setEnabled(false);
                emit self->rulesListed();
            })
        .onFailed(this, [self](const std::exception&) {
            if (self)
                emit self->rulesListed(); // a library without a catalog yet has no rules
        });
}

void AutoTagDialog::forgetSelectedRule()
{
    const QTreeWidgetItem* item = rules_->currentItem();
    if (!item)
        return;
    const std::string tag = item->text(0).toStdString();
    window_.jobQueue().enqueueWork(tr("Forget the auto tag rule '%1'").arg(item->text(0)),
        [tag](Library& library, const std::atomic<bool>&, const std::function<void(const IndexProgress&)>&) {
            library.catalog().removeAutoTagRule(tag);
            return JobOutcome {false,
                tr("new photos no longer get '%1'; the photos tagged keep it")
                    .arg(QString::fromStdString(tag))};
        });
}

} // namespace pictor::ui
