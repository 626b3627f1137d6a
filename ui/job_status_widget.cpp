#include "ui/job_status_widget.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QProgressBar>
#include <algorithm>

#include "ui/indexing_jobs.h"

namespace pictor::ui {
namespace {

QString clock(double seconds)
{
    const auto s = static_cast<qint64>(seconds);
    return QStringLiteral("%1:%2:%3")
        .arg(s / 3600)
        .arg(s / 60 % 60, 2, 10, QLatin1Char('0'))
        .arg(s % 60, 2, 10, QLatin1Char('0'));
}

} // namespace

JobStatusWidget::JobStatusWidget(IndexingJobs& jobs, QWidget* parent)
    : QWidget(parent), jobs_(jobs), label_(new QLabel(this)), bar_(new QProgressBar(this))
{
    setObjectName(QStringLiteral("jobStatus"));
    setCursor(Qt::PointingHandCursor);
    setToolTip(tr("Click for the list of jobs"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    bar_->setFixedWidth(160);
    bar_->setTextVisible(false);
    layout->addWidget(bar_);
    layout->addWidget(label_);
    connect(&jobs_, &IndexingJobs::jobChanged, this, &JobStatusWidget::refresh);
    refresh();
}

QString JobStatusWidget::text() const
{
    return label_->text();
}

void JobStatusWidget::refresh()
{
    const JobInfo* job = jobs_.running();
    int queued = 0;
    for (const JobInfo& info : jobs_.jobs())
        queued += info.state == JobInfo::State::Queued;
    if (!job) {
        bar_->hide();
        const JobInfo* last = jobs_.jobs().isEmpty() ? nullptr : &jobs_.jobs().back();
        label_->setText(last && last->finished()
                ? last->label + QStringLiteral(": ") + last->message.section('\n', 0, 0)
                : QString());
        setVisible(!label_->text().isEmpty() || queued > 0);
        return;
    }
    show();
    bar_->show();
    const IndexProgress& p = job->progress;
    QString text;
    if (job->tracked()) {
        bar_->setRange(0, static_cast<int>(std::max<std::int64_t>(p.total, 1)));
        bar_->setValue(static_cast<int>(p.done));
        text = job->label + QStringLiteral(": ") + job->message;
    } else if (p.phase == IndexProgress::Phase::Indexing && p.total > 0) {
        bar_->setRange(0, 100);
        bar_->setValue(static_cast<int>(100 * p.done / p.total));
        text = tr("%1: %2/%3 · %4 photos/s · ETA %5")
                   .arg(job->label)
                   .arg(p.done)
                   .arg(p.total)
                   .arg(p.imagesPerSecond, 0, 'f', 1)
                   .arg(clock(p.etaSeconds));
    } else {
        bar_->setRange(0, 0); // busy
        text = job->label
            + (p.phase == IndexProgress::Phase::Finishing ? tr(": finishing…") : tr(": scanning…"));
    }
    if (queued > 0)
        text += tr(" (+%1 queued)").arg(queued);
    label_->setText(text);
}

void JobStatusWidget::mousePressEvent(QMouseEvent* event)
{
    if (event->button() == Qt::LeftButton)
        emit clicked();
    QWidget::mousePressEvent(event);
}

} // namespace pictor::ui
