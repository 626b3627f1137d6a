// The Create panel (View > Create, Ctrl+G): pictures from words with the picture model of Settings. Prompt,
// number of pictures (1-8), seed (random unless fixed; the seed used is shown after each run), the stages'
// steps and guidance behind "Advanced" with Karlo's defaults and a reset; Generate and Stop; a progress bar
// with the stage, its step and the time left; the preview after every decoder and super-resolution step;
// the results, kept until saved: Save all writes each into the library's Generated folder with its
// parameters in the PNG (as `pictor generate` does). A FeatureHost feature, on GenerationEngine.
#pragma once

#include <QElapsedTimer>
#include <QImage>
#include <QList>
#include <QObject>
#include <QString>
#include <filesystem>
#include <vector>

#include "core/generation_record.h"

class QCheckBox;
class QDockWidget;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace pictor::ui {

class FeatureHost;
class GenerationEngine;

class CreatePanel : public QObject {
    Q_OBJECT
public:
    explicit CreatePanel(FeatureHost& window);

    // GUI thread: the unCLIP pipeline folder (empty: none; the panel says how to choose one).
    void setModel(const QString& dir, const QString& device, int cpuThreads);
    QDockWidget* dock() const { return dock_; }
    GenerationEngine* engine() const { return engine_; }
    int resultCount() const { return static_cast<int>(results_.size()); }
    // Writes every result not saved yet into <library>/Generated; returns the files written.
    QStringList saveAll();
    void generate();
    void stop();

signals:
    void generationFinished(bool cancelled);

private:
    struct Result {
        QImage image;
        GenerationRecord record;
        bool saved = false;
    };
    void resetAdvanced();
    void showProgress(int stage, int stageStep, int stageSteps, int stepsDone, int totalSteps);
    void finish(const QList<QImage>& images, bool cancelled);
    void setRunning(bool running);

    FeatureHost& window_;
    GenerationEngine* engine_;
    QDockWidget* dock_;
    QPlainTextEdit* prompt_;
    QSpinBox* count_;
    QSpinBox* seed_;
    QCheckBox* randomSeed_;
    QGroupBox* advanced_;
    QSpinBox *priorSteps_, *decoderSteps_, *superResSteps_;
    QDoubleSpinBox *priorGuidance_, *decoderGuidance_;
    QPushButton *generate_, *stop_, *saveAll_;
    QProgressBar* progress_;
    QLabel* status_;
    QLabel* preview_;
    QListWidget* results_list_;

    std::filesystem::path modelDir_;
    int runId_ = 0;
    GenerationRecord running_; // what the run in progress was asked for
    QElapsedTimer clock_;
    std::vector<Result> results_;
};

} // namespace pictor::ui
