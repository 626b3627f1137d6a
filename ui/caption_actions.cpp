#include "ui/caption_actions.h"

#include <QAction>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMetaObject>

#include "indexer/caption_job.h"
#include "ui/ask_panel.h"
#include "ui/chat_engine.h"
#include "ui/feature_host.h"
#include "ui/indexing_jobs.h"

namespace pictor::ui {
namespace {

QString summaryText(const CaptionSummary& summary, const Catalog& catalog)
{
    QString text = QObject::tr("captioned %1, already captioned %2, failed %3")
                       .arg(summary.counts.captioned)
                       .arg(summary.counts.skipped)
                       .arg(summary.counts.failed);
    const auto failures = catalog.failures("caption");
    for (std::size_t i = 0; i < failures.size() && i < 5; ++i)
        text += QStringLiteral("\n%1: %2")
                    .arg(QString::fromStdString(failures[i].path.string()),
                        QString::fromStdString(failures[i].reason));
    return text;
}

} // namespace

CaptionActions::CaptionActions(FeatureHost& window)
    : QObject(window.windowWidget()),
      window_(window),
      chat_(new ChatEngine(window.models(), this)),
      panel_(new AskPanel(*chat_, window.windowWidget())),
      label_(new QLabel(window.windowWidget())),
      captionAll_(new QAction(tr("Caption all uncaptioned photos"), this))
{
    label_->setObjectName(QStringLiteral("captionModelLabel"));
    label_->hide();
    window.addStatusWidget(label_);
    window.addPhotoMenuActions([this](QMenu* menu, int row) { addPhotoActions(menu, row); });
    connect(chat_, &ChatEngine::statusChanged, label_, [this](const QString& status) {
        label_->setText(tr("Captions: %1").arg(status));
        label_->setToolTip(status);
        label_->setVisible(!status.isEmpty());
    });
    captionAll_->setObjectName(QStringLiteral("captionAll"));
    captionAll_->setVisible(false);
    connect(captionAll_, &QAction::triggered, this, [this] { caption({}); });
    connect(chat_, &ChatEngine::availabilityChanged, captionAll_, &QAction::setVisible);

    window.addViewerSidePanel(panel_);
    panel_->hide();
    connect(panel_, &AskPanel::closeRequested, panel_, &QWidget::hide);
    window.onViewerRowChanged(this, [this](int row) {
        if (panel_->isVisible())
            showAskPanelFor(row);
    });
    connect(this, &CaptionActions::captionStored, this, [this](qint64 id) {
        const int row = window_.viewerRow();
        if (row >= 0 && window_.photoAt(row).id == id)
            window_.refreshPhotoDetails();
    });
}

void CaptionActions::setModel(
    const QString& dir, const QString& device, int cpuThreads, const QString& numberFormat)
{
    chat_->setModel(
        dir.toStdString(), VisionChatOptions {device.toStdString(), cpuThreads, numberFormat.toStdString()});
}

void CaptionActions::addPhotoActions(QMenu* menu, int row)
{
    if (!chat_->available())
        return;
    QList<int> rows = window_.selectedRows();
    if (!rows.contains(row))
        rows = {row};
    std::vector<std::int64_t> ids;
    for (int r : rows)
        if (const qint64 id = window_.photoAt(r).id; id > 0)
            ids.push_back(id);
    menu->addSeparator();
    QAction* captionAction = menu->addAction(tr("Caption %n photo(s)", nullptr, static_cast<int>(ids.size())),
        this, [this, ids] { caption(ids); });
    captionAction->setObjectName(QStringLiteral("caption"));
    if (ids.empty()) {
        captionAction->setText(tr("Caption (index the photo first)"));
        captionAction->setEnabled(false);
    }
    QAction* askAction = menu->addAction(tr("Ask about this photo…"), this, [this, row] { askAbout(row); });
    askAction->setObjectName(QStringLiteral("askAboutPhoto"));
}

int CaptionActions::caption(const std::vector<std::int64_t>& ids)
{
    const QString label = ids.empty() ? tr("Caption all uncaptioned photos")
                                      : tr("Caption %n photo(s)", nullptr, static_cast<int>(ids.size()));
    return window_.jobQueue().enqueueWork(label,
        [this, ids](Library& library, const std::atomic<bool>& cancel,
            const std::function<void(const IndexProgress&)>& progress) {
            // On the job thread: the model loads on the worker, each caption is one Chat job there.
            const std::shared_ptr<VisionChat> model = chat_->modelForJobs();
            Catalog& catalog = library.catalog();
            const std::vector<std::int64_t> photos = ids.empty() ? catalog.filterPhotos({}) : ids;
            IndexProgress start;
            start.phase = IndexProgress::Phase::Indexing;
            start.total = static_cast<std::int64_t>(photos.size());
            progress(start);
            QElapsedTimer timer;
            timer.start();
            CaptionJobOptions options;
            options.worker = &window_.models().worker();
            options.cancel = &cancel;
            options.progress = [&](const CaptionEvent& event) {
                IndexProgress p;
                p.phase = IndexProgress::Phase::Indexing;
                p.total = event.counts.total - event.counts.skipped;
                p.done = event.counts.done;
                p.failed = event.counts.failed;
                const double seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
                p.imagesPerSecond = seconds > 0 ? static_cast<double>(p.done) / seconds : 0;
                p.etaSeconds
                    = p.imagesPerSecond > 0 ? static_cast<double>(p.total - p.done) / p.imagesPerSecond : 0;
                progress(p);
                if (!event.caption.empty())
                    QMetaObject::invokeMethod(
                        this, [this, id = event.photoId] { emit captionStored(id); }, Qt::QueuedConnection);
            };
            const CaptionSummary summary = captionPhotos(catalog, *model, photos, options);
            return JobOutcome {summary.cancelled, summaryText(summary, catalog)};
        });
}

void CaptionActions::askAbout(int row)
{
    window_.openPhoto(row);
    panel_->show();
    showAskPanelFor(row);
    panel_->questionEdit()->setFocus();
}

void CaptionActions::showAskPanelFor(int row)
{
    if (row < 0 || row >= window_.photoCount())
        return;
    const FeatureHost::Photo photo = window_.photoAt(row);
    panel_->setPhoto(photo.path, photo.id, window_.libraryDir());
}

void CaptionActions::stopAnswers()
{
    chat_->stopAll();
}

} // namespace pictor::ui
