// In the status bar: the running job's progress with its ETA. A click opens the job list.
#pragma once

#include <QWidget>

class QLabel;
class QProgressBar;

namespace pictor::ui {

class IndexingJobs;

class JobStatusWidget : public QWidget {
    Q_OBJECT
public:
    explicit JobStatusWidget(IndexingJobs& jobs, QWidget* parent = nullptr);
    QString text() const;

signals:
    void clicked();

protected:
    void mousePressEvent(QMouseEvent* event) override;

private:
    void refresh();

    IndexingJobs& jobs_;
    QLabel* label_;
    QProgressBar* bar_;
};

} // namespace pictor::ui
