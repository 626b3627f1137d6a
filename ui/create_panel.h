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
#include "ui/indexing_jobs.h"

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
class QMenu;

namespace pictor::ui {

class FeatureHost;
class GenerationEngine;

class CreatePanel : public QObject {
    Q_OBJECT
public:
    explicit CreatePanel(FeatureHost& window);

    // GUI thread: the unCLIP pipeline folder (empty: none; the panel says how to choose one).
    void setModel(const QString& dir, const QString& device, int cpuThreads,
        const QString& numberFormat = QStringLiteral("auto"));
    QDockWidget* dock() const { return dock_; }
    GenerationEngine* engine() const { return engine_; }
    int resultCount() const { return static_cast<int>(results_.size()); }
    // Where Save writes (empty: <library>/Generated).
    void setOutputFolder(const QString& dir) { outputFolder_ = dir; }
    std::filesystem::path outputFolder() const;
    // Writes every result not saved yet into the output folder, then queues its indexing (the pictures are
    // catalogued with their provenance and found by search); returns the files written.
    QStringList saveAll();
    // One result: saved (the file, or an error), discarded, or its menu (Save, Discard, Copy image, Copy
    // parameters, Reuse this seed, Open containing folder once saved).
    QString save(int result);
    void discard(int result);
    QMenu* resultMenu(int result);
    void showLarge(int result); // a window with the picture at full size
    void reuseSeed(int result);
    void generate();
    void stop();
    // Variations of a library photo: its CLIP image embedding decoded (no prior), the panel's count and
    // seed; the photo is shown beside them.
    void createVariations(const QString& photoPath);
    // The photo changed by the words (a composed search: "this one, but in snow"); `strength` 0..1 turns
    // it toward the words. `query` is the search, kept with the pictures.
    void changePhoto(const QString& photoPath, const QString& words, double strength, const QString& query);

signals:
    void generationFinished(bool cancelled);

private:
    struct Result {
        QImage image;
        GenerationRecord record;
        std::filesystem::path file; // empty until saved
    };
    // Writes one result; throws with the reason.
    std::filesystem::path write(Result& result, const std::filesystem::path& folder);
    void indexSaved(const std::filesystem::path& folder);
    void showRecentPrompts();
    void resetAdvanced();
    GenerationRequest requestFromControls(); // count, seed, steps and guidance
    // Decodes the source photo off the GUI thread, then starts.
    void startFromPhoto(const QString& photoPath, GenerationRequest request, GenerationRecord record);
    void start(GenerationRequest request, GenerationRecord record);
    void showProgress(int stage, int stageStep, int stageSteps, int stepsDone, int totalSteps);
    void finish(const QList<QImage>& images, bool cancelled);
    void setRunning(bool running);
    void reportJob(JobInfo::State state, std::int64_t done, std::int64_t total); // the job list's entry

    FeatureHost& window_;
    QString outputFolder_;
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
    QMenu* recent_; // the prompt history
    QProgressBar* progress_;
    QLabel* status_;
    QPushButton* models_; // File › Models…, offered while there is no picture model
    QLabel* preview_;
    QLabel* source_; // the source photo of variations and changed photos
    QListWidget* results_list_;

    std::filesystem::path modelDir_;
    int runId_ = 0;
    int jobId_ = 0; // the run's entry in the job list
    GenerationRecord running_; // what the run in progress was asked for
    QElapsedTimer clock_;
    std::vector<Result> results_;
};

} // namespace pictor::ui
