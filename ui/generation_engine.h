// Pictures in the window: the generation model (an unCLIP pipeline folder) loaded through the model host,
// and each generation run as a stream of steps on the host's worker at Generation priority, one diffusion
// step per job, so a search typed meanwhile runs between two steps. Progress, previews (the current
// estimate after each decoder and super-resolution step) and the pictures come back as signals, queued to
// the GUI thread; stop() cancels between steps. The Create panel builds on this.
#pragma once

#include <QImage>
#include <QList>
#include <QObject>
#include <QString>
#include <filesystem>
#include <map>
#include <mutex>

#include "core/image_generator.h"
#include "indexer/model_host.h"

namespace pictor::ui {

QImage toQImage(const RgbImage& image);

class GenerationEngine : public QObject {
    Q_OBJECT
public:
    explicit GenerationEngine(ModelHost& host, QObject* parent = nullptr);

    // GUI thread. The folder of a diffusers unCLIP pipeline; loaded on the worker at the first generation.
    void setModel(const std::filesystem::path& dir, const GeneratorOptions& options);
    // Queues a generation (its cancel flag is the engine's); returns its id.
    int generate(GenerationRequest request);
    void stop(int id);
    void stopAll();
    // The model id of the pipeline the last run loaded (empty before one).
    std::string modelId() const;

signals:
    // After each step: the stage (GenerationStage as int) and the step counts.
    void progressed(int id, int stage, int stageStep, int stageSteps, int stepsDone, int totalSteps);
    void previewReady(int id, const QList<QImage>& images);
    void finished(int id, const QList<QImage>& images, bool cancelled);
    void failed(int id, const QString& message);

private:
    struct Model {
        std::filesystem::path dir;
        GeneratorOptions options;
    };
    void start(int id, GenerationRequest request, CancelToken cancel); // worker thread
    void forget(int id);

    ModelHost& host_;
    mutable std::mutex mutex_;
    Model model_; // guarded by mutex_
    std::string modelId_; // guarded by mutex_
    std::map<int, CancelToken> running_; // guarded by mutex_
    int nextId_ = 1; // GUI thread
};

} // namespace pictor::ui
