#include "ui/job_list_dialog.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "ui/indexing_jobs.h"

namespace pictor::ui {
namespace {

QString stateName(const JobInfo& job)
{
    switch (job.state) {
    case JobInfo::State::Queued:
        return QObject::tr("queued");
    case JobInfo::State::Running:
        return job.progress.total > 0
            ? QObject::tr("running %1 %").arg(100 * job.progress.done / job.progress.total)
            : QObject::tr("running");
    case JobInfo::State::Done:
        return QObject::tr("done");
    case JobInfo::State::Failed:
        return QObject::tr("failed");
    case JobInfo::State::Cancelled:
        return QObject::tr("cancelled");
    }
    return {};
}

} // namespace

JobListDialog::JobListDialog(IndexingJobs& jobs, QWidget* parent)
    : QDialog(parent), jobs_(jobs), list_(new QTreeWidget(this))
{
    setObjectName(QStringLiteral("jobList"));
    setWindowTitle(tr("Jobs — Pictor"));
    resize(640, 320);
    auto* layout = new QVBoxLayout(this);
    list_->setColumnCount(4);
    list_->setHeaderLabels({tr("Job"), tr("State"), tr("Details"), QString()});
    list_->setRootIsDecorated(false);
    list_->header()->setSectionResizeMode(2, QHeaderView::Stretch);
    layout->addWidget(list_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    // Queued: a Cancel button may be the sender of the change that rebuilds the list.
    connect(&jobs_, &IndexingJobs::jobChanged, this, &JobListDialog::refresh, Qt::QueuedConnection);
    refresh();
}

void JobListDialog::refresh()
{
    list_->clear();
    for (const JobInfo& job : jobs_.jobs()) {
        auto* item = new QTreeWidgetItem(list_, {job.label, stateName(job), job.message.section('\n', 0, 0)});
        item->setToolTip(2, job.message);
        if (!job.finished()) {
            auto* cancel = new QPushButton(tr("Cancel"), list_);
            cancel->setObjectName(QStringLiteral("cancelJob%1").arg(job.id));
            const int id = job.id;
            connect(cancel, &QPushButton::clicked, this, [this, id] { jobs_.cancel(id); });
            list_->setItemWidget(item, 3, cancel);
        }
    }
}

} // namespace pictor::ui
