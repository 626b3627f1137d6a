// The recommended search model in one click: a Download button, its progress and Cancel, and what
// happened, for the welcome page and the gallery's "search needs a model" bar. The files go into the
// Hugging Face cache (HubDownload), where model discovery finds them.
#pragma once

#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace pictor::ui {

class HubDownload;

// openai/clip-vit-base-patch32: small, fast on a CPU.
QString recommendedModelId();

class RecommendedModelDownload : public QWidget {
    Q_OBJECT
public:
    // objectNamePrefix names the children ("<prefix>DownloadModel", "…DownloadProgress", "…CancelDownload",
    // "…DownloadStatus") for tests and style sheets.
    RecommendedModelDownload(const QString& objectNamePrefix, QWidget* parent = nullptr);
    QPushButton* button() const { return download_; }

signals:
    void downloaded(const QString& dir); // the snapshot folder

private:
    void start();
    void showProgress(qint64 done, qint64 total);
    void finish(bool ok, const QString& message);

    QPushButton* download_;
    QPushButton* cancel_;
    QProgressBar* progress_;
    QLabel* status_;
    HubDownload* hub_;
};

} // namespace pictor::ui
