#include "ui/recommended_model_download.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "ui/hub_download.h"

namespace pictor::ui {

QString recommendedModelId()
{
    return QStringLiteral("openai/clip-vit-base-patch32");
}

RecommendedModelDownload::RecommendedModelDownload(const QString& objectNamePrefix, QWidget* parent)
    : QWidget(parent),
      download_(new QPushButton(tr("Download %1").arg(recommendedModelId()), this)),
      cancel_(new QPushButton(tr("Cancel"), this)),
      progress_(new QProgressBar(this)),
      status_(new QLabel(this)),
      hub_(new HubDownload(this))
{
    download_->setObjectName(objectNamePrefix + QStringLiteral("DownloadModel"));
    download_->setToolTip(tr("OpenAI's CLIP ViT-B/32: about 605 MB, MIT licence, from Hugging Face"));
    progress_->setObjectName(objectNamePrefix + QStringLiteral("DownloadProgress"));
    progress_->setRange(0, 1000);
    progress_->setTextVisible(false);
    progress_->setMaximumWidth(360);
    cancel_->setObjectName(objectNamePrefix + QStringLiteral("CancelDownload"));
    status_->setObjectName(objectNamePrefix + QStringLiteral("DownloadStatus"));
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(0, 0, 0, 0);
    row->addStretch(1);
    row->addWidget(download_);
    row->addWidget(progress_, 2);
    row->addWidget(cancel_);
    row->addWidget(status_);
    row->addStretch(1);
    progress_->hide();
    cancel_->hide();
    connect(download_, &QPushButton::clicked, this, &RecommendedModelDownload::start);
    connect(cancel_, &QPushButton::clicked, hub_, &HubDownload::cancel);
    connect(hub_, &HubDownload::progress, this,
        [this](qint64 done, qint64 total, const QString&) { showProgress(done, total); });
    connect(hub_, &HubDownload::finished, this, &RecommendedModelDownload::finish);
}

void RecommendedModelDownload::start()
{
    download_->setEnabled(false);
    progress_->setValue(0);
    progress_->show();
    cancel_->show();
    status_->setText(tr("Downloading %1…").arg(recommendedModelId()));
    hub_->start(recommendedModelId());
}

void RecommendedModelDownload::showProgress(qint64 done, qint64 total)
{
    progress_->setValue(total > 0 ? static_cast<int>(done * 1000 / total) : 0);
    const QLocale locale;
    status_->setText(tr("%1 of %2").arg(locale.formattedDataSize(done), locale.formattedDataSize(total)));
}

void RecommendedModelDownload::finish(bool ok, const QString& message)
{
    progress_->hide();
    cancel_->hide();
    download_->setEnabled(true);
    download_->setText(ok ? tr("Download %1").arg(recommendedModelId()) : tr("Try again"));
    status_->setText(message);
    if (ok)
        emit downloaded(hub_->snapshotDir());
}

} // namespace pictor::ui
