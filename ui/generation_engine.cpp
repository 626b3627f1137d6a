#include "ui/generation_engine.h"

#include "core/error.h"

namespace pictor::ui {
namespace {

QList<QImage> toQImages(const std::vector<RgbImage>& images)
{
    QList<QImage> out;
    for (const RgbImage& image : images)
        out.append(toQImage(image));
    return out;
}

} // namespace

QImage toQImage(const RgbImage& image)
{
    return QImage(image.pixels.data(), image.width, image.height, 3 * image.width, QImage::Format_RGB888)
        .copy();
}

GenerationEngine::GenerationEngine(ModelHost& host, QObject* parent) : QObject(parent), host_(host) { }

void GenerationEngine::setModel(const std::filesystem::path& dir, const GeneratorOptions& options)
{
    std::lock_guard lock(mutex_);
    model_ = {dir, options};
}

int GenerationEngine::generate(GenerationRequest request)
{
    const int id = nextId_++;
    const CancelToken cancel;
    {
        std::lock_guard lock(mutex_);
        running_.emplace(id, cancel);
    }
    request.cancel = cancel.flag(); // the token's copies keep it alive while the run lasts
    host_.worker().submit(
        JobPriority::Generation, [this, id, request = std::move(request), cancel]() mutable {
            start(id, std::move(request), cancel);
        });
    return id;
}

void GenerationEngine::start(int id, GenerationRequest request, CancelToken cancel)
{
    std::shared_ptr<GenerationStream> stream;
    try {
        Model model;
        {
            std::lock_guard lock(mutex_);
            model = model_;
        }
        PICTOR_CHECK(!model.dir.empty(),
            "No generation model is chosen: choose an unCLIP pipeline folder (e.g. "
            "kakaobrain/karlo-v1-alpha).");
        const auto generator = host_.imageGenerator(model.dir, model.options);
        {
            std::lock_guard lock(mutex_);
            modelId_ = generator->modelId();
        }
        stream = generator->start(request);
    } catch (const std::exception& e) {
        forget(id);
        emit failed(id, QString::fromUtf8(e.what()));
        return;
    }
    // The stream checks the cancel flag before every step and ends as cancelled, so the steps run to its
    // end; each is one job, queued behind interactive work.
    runSteps(
        host_.worker(), JobPriority::Generation, CancelToken(),
        [this, id, stream, flagOwner = cancel, lastDone = -1]() mutable {
            const bool done = stream->step();
            const GenerationProgress p = stream->progress();
            if (p.stepsDone == lastDone && !done)
                return false; // a part of a UNet pass: progress and preview come at the step's end
            lastDone = p.stepsDone;
            emit progressed(
                id, static_cast<int>(p.stage), p.stageStep, p.stageSteps, p.stepsDone, p.totalSteps);
            if (!done) {
                const std::vector<RgbImage> preview = stream->preview();
                if (!preview.empty())
                    emit previewReady(id, toQImages(preview));
            }
            return done;
        },
        [this, id, stream](const StepsOutcome& outcome) {
            forget(id);
            if (outcome.error) {
                try {
                    std::rethrow_exception(outcome.error);
                } catch (const std::exception& e) {
                    emit failed(id, QString::fromUtf8(e.what()));
                }
                return;
            }
            const GenerationResult& result = stream->result();
            emit finished(id, toQImages(result.images), result.cancelled);
        });
}

std::string GenerationEngine::modelId() const
{
    std::lock_guard lock(mutex_);
    return modelId_;
}

void GenerationEngine::forget(int id)
{
    std::lock_guard lock(mutex_);
    running_.erase(id);
}

void GenerationEngine::stop(int id)
{
    std::lock_guard lock(mutex_);
    if (const auto found = running_.find(id); found != running_.end())
        found->second.cancel();
}

void GenerationEngine::stopAll()
{
    std::lock_guard lock(mutex_);
    for (auto& [id, cancel] : running_)
        cancel.cancel();
}

} // namespace pictor::ui
