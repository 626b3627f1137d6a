// The app's captioning / question-answering model: a VisionChat (model_type llava) loaded lazily on the
// compute worker through the model module, never on the GUI thread. An answer runs as Chat jobs on the
// worker, one slice each (about kAnswerSlice of encoding, prefill or tokens), so a search typed meanwhile
// runs between two slices; its pieces come back as queued signals (the GUI thread only appends text), and
// stop() sets the answer's cancel flag, which generation checks before every token.
#pragma once

#include <QObject>
#include <QString>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/vision_chat.h"
#include "indexer/model_host.h"

namespace pictor::ui {

struct AskRequest {
    QString imagePath; // decoded at full size, like `pictor ask --image`
    std::string question; // as sent to the model (the photo's context line included)
    std::vector<ChatTurn> history;
    AnswerOptions options; // onToken and cancel are ChatEngine's
};

class ChatEngine : public QObject {
    Q_OBJECT
public:
    explicit ChatEngine(ModelHost& host, QObject* parent = nullptr);

    // GUI thread. An empty folder: no captioning model. The folder's config.json is read off the GUI
    // thread; available() turns true (availabilityChanged) when it says model_type "llava".
    void setModel(const std::filesystem::path& dir, const VisionChatOptions& options);
    bool available() const { return available_; }
    QString status() const { return status_; }

    // Job threads only (it blocks): the loaded model, loaded on the worker when needed. Throws
    // pictor::Error saying what is wrong.
    std::shared_ptr<VisionChat> modelForJobs();

    // Streams an answer: answerPiece per piece of text, then answerFinished or answerFailed. Returns its id.
    int ask(AskRequest request);
    void stop(int id); // at the next token
    void stopAll();

signals:
    void availabilityChanged(bool available);
    // "llava-tiny-qwen2 (llava-0123…, ChatML) · CPU float32", "Loading…", or the load error.
    void statusChanged(const QString& status, bool ready);
    void answerPiece(int id, const QString& text);
    void answerFinished(int id, const QString& text, int tokens, bool cancelled);
    void answerFailed(int id, const QString& message);

private:
    struct Config {
        std::filesystem::path dir;
        VisionChatOptions options;
        std::uint64_t version = 0;
    };
    Config config() const;
    std::shared_ptr<VisionChat> ensureChat(); // worker thread
    // Worker thread: checks the prompt, then runs the answer as steps (runSteps), one slice each.
    void answer(int id, const AskRequest& request, const RgbImage& image);
    std::optional<CancelToken> takeCancel(int id);

    ModelHost& host_;
    mutable std::mutex mutex_;
    Config config_; // guarded by mutex_
    std::map<int, CancelToken> running_; // guarded by mutex_

    // Worker thread.
    std::shared_ptr<VisionChat> chat_;
    std::uint64_t chatVersion_ = 0;

    // GUI thread.
    int nextId_ = 1;
    bool available_ = false;
    quint64 checkGeneration_ = 0;
    QString status_;
};

} // namespace pictor::ui
