// View › Auto tags…: zero-shot tags in the window (indexer/auto_tags.h). The user names a tag and its
// prompts; every photo is scored off the GUI thread (the prompts' mean text embedding against each image
// embedding), and a threshold slider previews live how many photos would get it, with the best ones and
// those just below. Apply tags them (marked as the model's, with score and threshold) and, when asked,
// keeps the rule so new photos get the tag as they are indexed. The rules are listed and can be forgotten.
#pragma once

#include <QDialog>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "indexer/auto_tags.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSlider;
class QTimer;
class QTreeWidget;

namespace pictor {
class ModelHost;
}

namespace pictor::ui {

class FeatureHost;
class SearchEngine;

class AutoTagDialog : public QDialog {
    Q_OBJECT
public:
    AutoTagDialog(SearchEngine& engine, FeatureHost& window, std::filesystem::path libraryDir,
        QWidget* parent = nullptr);

    void setDefinition(const QString& tag, const QStringList& prompts); // and scores the photos
    void setThreshold(double threshold);
    double threshold() const;
    const std::vector<PhotoScore>& scores() const { return scores_; } // best first
    int passing() const; // photos at or above the threshold
    void apply();
    void refreshRules();

signals:
    void scored(); // the scores (or the reason there are none) are shown
    void previewShown(); // the preview list follows the threshold
    void rulesListed();

private:
    TagDefinition definition() const;
    void score();
    void showCount();
    void showPreview();
    void forgetSelectedRule();

    SearchEngine& engine_;
    FeatureHost& window_;
    std::filesystem::path libraryDir_;
    std::vector<PhotoScore> scores_;
    std::string scoredModelId_;
    TagDefinition scoredDefinition_;
    QTreeWidget* rules_;
    QPushButton* forget_;
    QLineEdit* tag_;
    QPlainTextEdit* prompts_;
    QSlider* threshold_;
    QLabel* thresholdLabel_;
    QLabel* status_;
    QListWidget* preview_;
    QCheckBox* follow_;
    QPushButton* apply_;
    QTimer* rescore_;
    QTimer* repreview_;
    std::optional<double> exactThreshold_; // a rule's, kept until the slider moves (it has 0.001 steps)
    quint64 scoreRequest_ = 0;
    quint64 previewRequest_ = 0;
};

} // namespace pictor::ui
