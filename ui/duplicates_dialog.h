// View › Duplicates: the library's exact copies and near-duplicates (indexer/duplicates.h), found off the
// GUI thread, each group with its best photo first; a group shows its best photo beside the one selected,
// and "Keep best" removes the others from the library (files untouched) or, after an explicit
// confirmation, moves their files to the system trash. Never deletes a file outright.
#pragma once

#include <QDialog>
#include <filesystem>
#include <vector>

#include "indexer/duplicates.h"

class QLabel;
class QPushButton;
class QSlider;
class QTreeWidget;

namespace pictor::ui {

class IndexingJobs;
class SearchEngine;

class DuplicatesDialog : public QDialog {
    Q_OBJECT
public:
    DuplicatesDialog(SearchEngine& engine, IndexingJobs& jobs, std::filesystem::path libraryDir,
        QWidget* parent = nullptr);

    void find(); // (again) with the threshold shown
    const std::vector<DuplicateGroup>& groups() const { return groups_; }
    QTreeWidget* tree() const { return tree_; }

signals:
    void found(); // the groups are shown (or the reason there are none)

private:
    void showGroups(std::vector<DuplicateGroup> groups);
    void compareSelected();
    int selectedGroup() const;
    void keepBest(bool moveToTrash);

    SearchEngine& engine_;
    IndexingJobs& jobs_;
    std::filesystem::path libraryDir_;
    std::vector<DuplicateGroup> groups_;
    QSlider* threshold_;
    QLabel* status_;
    QTreeWidget* tree_;
    QLabel* best_;
    QLabel* other_;
    QPushButton* keep_;
    QPushButton* trash_;
    quint64 generation_ = 0;
    quint64 previewRequest_ = 0;
};

} // namespace pictor::ui
