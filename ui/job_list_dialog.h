// Every job of this session with its state, progress and a Cancel button for those not finished.
#pragma once

#include <QDialog>

class QTreeWidget;

namespace pictor::ui {

class IndexingJobs;

class JobListDialog : public QDialog {
    Q_OBJECT
public:
    explicit JobListDialog(IndexingJobs& jobs, QWidget* parent = nullptr);

private:
    void refresh();

    IndexingJobs& jobs_;
    QTreeWidget* list_;
};

} // namespace pictor::ui
