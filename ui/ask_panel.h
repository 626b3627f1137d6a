// Ask: a chat panel beside the viewer. The photo, a question box, the answer streamed piece by piece
// (the pieces come from the compute worker as queued signals; this widget only appends them), Stop (at
// the next token), Copy, and a conversation per photo kept for the session. The first question of a
// conversation carries the photo's EXIF date, place and camera (photoContextLine).
#pragma once

#include <QHash>
#include <QWidget>
#include <filesystem>
#include <string>
#include <vector>

#include "core/vision_chat.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTextBrowser;

namespace pictor::ui {

class ChatEngine;

class AskPanel : public QWidget {
    Q_OBJECT
public:
    explicit AskPanel(ChatEngine& chat, QWidget* parent = nullptr);

    // The photo the questions are about (stops an answer in progress). Its image and details are read on
    // the thread pool; ready() says when they are in.
    void setPhoto(const QString& path, qint64 photoId, const std::filesystem::path& libraryDir);
    QString path() const { return path_; }
    bool ready() const { return ready_; }
    bool answering() const { return answerId_ != 0; }
    QString answerText() const { return answer_; } // the answer being streamed, or the last one
    QString transcriptText() const;
    std::string contextLine() const { return context_; }
    QCheckBox* greedyBox() const { return greedy_; }
    QLineEdit* questionEdit() const { return question_; }
    void setMaxNewTokens(int tokens) { maxNewTokens_ = tokens; } // of each answer; 256 unless set

public slots:
    void ask(const QString& question); // what Enter in the question box does
    void stop();
    void copyAnswer();

signals:
    void readyChanged(bool ready);
    void answerUpdated(const QString& textSoFar); // once per piece that arrived
    void answerFinished(const QString& text, bool stopped);
    void answerFailed(const QString& message);
    void closeRequested();

private:
    void showConversation();
    void appendText(const QString& text);
    void setAnswering(int id);

    struct Conversation {
        std::vector<ChatTurn> turns; // as sent to the model
        QStringList shown; // the questions as typed, one per user turn
    };

    ChatEngine& chat_;
    QLabel* photo_;
    QTextBrowser* transcript_;
    QLineEdit* question_;
    QCheckBox* greedy_;
    QPushButton* ask_;
    QPushButton* stop_;
    QPushButton* copy_;
    QString path_;
    std::string context_;
    bool ready_ = false;
    quint64 request_ = 0;
    QHash<QString, Conversation> conversations_; // by photo path, for the session
    int answerId_ = 0;
    QString answerPath_;
    std::string sentQuestion_;
    QString typedQuestion_;
    QString answer_;
    int maxNewTokens_ = AnswerOptions {}.maxNewTokens;
};

} // namespace pictor::ui
