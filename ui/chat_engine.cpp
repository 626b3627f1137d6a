#include "ui/chat_engine.h"

#include <QtConcurrent/QtConcurrentRun>

#include "core/error.h"
#include "core/imageio/decode.h"
#include "core/model_discovery.h"
#include "indexer/model_host.h"

namespace pictor::ui {
namespace {

// The folder's type, or why it cannot be read (small files, read on the thread pool).
QString modelTypeOf(const std::filesystem::path& dir)
{
    try {
        return QString::fromStdString(readModelFolderType(dir).name);
    } catch (const std::exception& e) {
        return QString::fromUtf8(e.what());
    }
}

} // namespace

ChatEngine::ChatEngine(ModelHost& host, QObject* parent) : QObject(parent), host_(host)
{
    // Emitted on the worker; applied here on the GUI thread.
    connect(this, &ChatEngine::statusChanged, this, [this](const QString& status) { status_ = status; });
}

void ChatEngine::setModel(const std::filesystem::path& dir, const VisionChatOptions& options)
{
    {
        std::lock_guard lock(mutex_);
        if (config_.dir == dir && config_.options.device == options.device
            && config_.options.cpuThreads == options.cpuThreads)
            return;
        config_.dir = dir;
        config_.options = options;
        ++config_.version;
    }
    const quint64 generation = ++checkGeneration_;
    if (available_) {
        available_ = false;
        emit availabilityChanged(false);
    }
    if (dir.empty()) {
        emit statusChanged({}, false);
        return;
    }
    emit statusChanged(tr("%1, not loaded yet").arg(QString::fromStdString(modelDisplayName(dir))), false);
    QtConcurrent::run([dir] {
        return modelTypeOf(dir);
    }).then(this, [this, generation, dir](const QString& type) {
        if (generation != checkGeneration_)
            return;
        available_ = type == QStringLiteral("llava");
        if (!available_)
            emit statusChanged(
                tr("%1 is not a llava model (%2): Caption and Ask need one")
                    .arg(QString::fromStdString(dir.string()), type.isEmpty() ? tr("no model_type") : type),
                false);
        emit availabilityChanged(available_);
    });
}

ChatEngine::Config ChatEngine::config() const
{
    std::lock_guard lock(mutex_);
    return config_;
}

std::shared_ptr<VisionChat> ChatEngine::ensureChat()
{
    const Config wanted = config();
    if (chat_ && chatVersion_ == wanted.version)
        return chat_;
    chat_.reset();
    PICTOR_CHECK(!wanted.dir.empty(),
        "No captioning model is chosen: open Settings (Ctrl+,) and choose a llava model folder.");
    const QString name = QString::fromStdString(modelDisplayName(wanted.dir));
    emit statusChanged(tr("Loading %1…").arg(name), false);
    try {
        chat_ = host_.visionChat(wanted.dir, wanted.options);
    } catch (const std::exception& e) {
        emit statusChanged(tr("%1 not loaded: %2").arg(name, QString::fromUtf8(e.what())), false);
        throw;
    }
    chatVersion_ = wanted.version;
    emit statusChanged(QStringLiteral("%1 (%2, %3) · %4")
                           .arg(name, QString::fromStdString(chat_->modelId()),
                               QString::fromStdString(chat_->chatTemplateName()),
                               QString::fromStdString(chat_->deviceDescription())),
        true);
    return chat_;
}

std::shared_ptr<VisionChat> ChatEngine::modelForJobs()
{
    return host_.worker().run(JobPriority::Chat, [this] { return ensureChat(); });
}

int ChatEngine::ask(AskRequest request)
{
    const int id = nextId_++;
    {
        std::lock_guard lock(mutex_);
        running_.emplace(id, CancelToken());
    }
    // Decoded on the thread pool; the continuation (GUI thread) only queues the answer on the worker.
    const std::filesystem::path file = request.imagePath.toStdString();
    QtConcurrent::run([file] { return decodeImageFile(file).image; })
        .then(this,
            [this, id, request](const RgbImage& image) {
                host_.worker().submit(
                    JobPriority::Chat, [this, id, request, image] { answer(id, request, image); });
            })
        .onFailed(this, [this, id](const std::exception& e) {
            takeCancel(id);
            emit answerFailed(id, QString::fromUtf8(e.what()));
        });
    return id;
}

void ChatEngine::answer(int id, const AskRequest& request, const RgbImage& image)
{
    std::optional<CancelToken> cancel;
    {
        std::lock_guard lock(mutex_);
        if (const auto found = running_.find(id); found != running_.end())
            cancel = found->second;
    }
    if (!cancel || cancel->cancelled()) {
        takeCancel(id);
        emit answerFinished(id, {}, 0, true);
        return;
    }
    try {
        auto chat = ensureChat();
        AnswerOptions options = request.options;
        options.cancel = cancel->flag(); // the token's copies keep it alive
        options.onToken = [this, id](std::string_view text) {
            if (!text.empty())
                emit answerPiece(id, QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())));
            return true;
        };
        // This job only checked the prompt; the next ones encode the photo, prefill and generate, a slice
        // each, queued behind any waiting interactive job (a search typed meanwhile), ahead of bulk work.
        std::shared_ptr<AnswerStream> stream
            = chat->startAnswer({image}, request.question, request.history, options);
        // The stream itself stops on the cancel flag (checked before every token), so the steps run to its
        // end and the answer says it was cancelled.
        runSteps(
            host_.worker(), JobPriority::Chat, CancelToken(),
            [stream, flagOwner = *cancel] { return stream->step(kAnswerSlice); }, // the flag lives as long
            [this, id, stream](const StepsOutcome& outcome) {
                takeCancel(id);
                if (outcome.error) {
                    try {
                        std::rethrow_exception(outcome.error);
                    } catch (const std::exception& e) {
                        emit answerFailed(id, QString::fromUtf8(e.what()));
                    }
                    return;
                }
                const ChatAnswer& reply = stream->answer();
                emit answerFinished(id, QString::fromStdString(reply.text), reply.tokens, reply.cancelled);
            });
    } catch (const std::exception& e) {
        takeCancel(id);
        emit answerFailed(id, QString::fromUtf8(e.what()));
    }
}

std::optional<CancelToken> ChatEngine::takeCancel(int id)
{
    std::lock_guard lock(mutex_);
    const auto found = running_.find(id);
    if (found == running_.end())
        return std::nullopt;
    auto cancel = found->second;
    running_.erase(found);
    return cancel;
}

void ChatEngine::stop(int id)
{
    std::lock_guard lock(mutex_);
    if (const auto found = running_.find(id); found != running_.end())
        found->second.cancel();
}

void ChatEngine::stopAll()
{
    std::lock_guard lock(mutex_);
    for (auto& [id, cancel] : running_)
        cancel.cancel();
}

} // namespace pictor::ui
