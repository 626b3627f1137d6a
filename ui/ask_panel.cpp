#include "ui/ask_panel.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTextBrowser>
#include <QTextCursor>
#include <QTextDocument>
#include <QToolButton>
#include <QVBoxLayout>

#include <QtConcurrent/QtConcurrentRun>

#include "ui/catalog_reader.h"
#include "ui/chat_engine.h"
#include "ui/photo_context.h"
#include "ui/photo_image.h"

namespace pictor::ui {
namespace {

constexpr int kPreviewSize = 240;

struct PhotoInfo {
    QImage preview;
    std::string context;
};

} // namespace

AskPanel::AskPanel(ChatEngine& chat, QWidget* parent)
    : QWidget(parent),
      chat_(chat),
      photo_(new QLabel(this)),
      transcript_(new QTextBrowser(this)),
      question_(new QLineEdit(this)),
      greedy_(new QCheckBox(tr("Greedy (reproducible)"), this)),
      ask_(new QPushButton(tr("Ask"), this)),
      stop_(new QPushButton(tr("Stop"), this)),
      copy_(new QPushButton(tr("Copy"), this))
{
    setObjectName(QStringLiteral("askPanel"));
    auto* layout = new QVBoxLayout(this);
    auto* header = new QHBoxLayout;
    header->addWidget(new QLabel(tr("<b>Ask about this photo</b>"), this), 1);
    auto* close = new QToolButton(this);
    close->setObjectName(QStringLiteral("closeAsk"));
    close->setText(QStringLiteral("✕"));
    close->setToolTip(tr("Close the Ask panel"));
    header->addWidget(close);
    layout->addLayout(header);
    photo_->setObjectName(QStringLiteral("askPhoto"));
    photo_->setAlignment(Qt::AlignCenter);
    photo_->setMinimumHeight(kPreviewSize / 2);
    layout->addWidget(photo_);
    transcript_->setObjectName(QStringLiteral("askTranscript"));
    layout->addWidget(transcript_, 1);
    question_->setObjectName(QStringLiteral("askQuestion"));
    question_->setPlaceholderText(tr("Ask a question about the photo"));
    question_->setClearButtonEnabled(true);
    layout->addWidget(question_);
    auto* buttons = new QHBoxLayout;
    greedy_->setObjectName(QStringLiteral("askGreedy"));
    greedy_->setToolTip(tr("Always take the most likely word (same answer every time); otherwise sample "
                           "with temperature 0.7, top-p 0.9, seed 0 like `pictor ask`"));
    ask_->setObjectName(QStringLiteral("askButton"));
    stop_->setObjectName(QStringLiteral("askStop"));
    copy_->setObjectName(QStringLiteral("askCopy"));
    copy_->setToolTip(tr("Copy the last answer"));
    buttons->addWidget(greedy_, 1);
    buttons->addWidget(ask_);
    buttons->addWidget(stop_);
    buttons->addWidget(copy_);
    layout->addLayout(buttons);
    setAnswering(0);

    connect(close, &QToolButton::clicked, this, &AskPanel::closeRequested);
    connect(question_, &QLineEdit::returnPressed, this, [this] { ask(question_->text()); });
    connect(ask_, &QPushButton::clicked, this, [this] { ask(question_->text()); });
    connect(stop_, &QPushButton::clicked, this, &AskPanel::stop);
    connect(copy_, &QPushButton::clicked, this, &AskPanel::copyAnswer);
    connect(&chat_, &ChatEngine::answerPiece, this, [this](int id, const QString& text) {
        if (id != answerId_)
            return;
        answer_ += text;
        if (answerPath_ == path_)
            appendText(text);
        emit answerUpdated(answer_);
    });
    connect(
        &chat_, &ChatEngine::answerFinished, this, [this](int id, const QString& text, int, bool stopped) {
            if (id != answerId_)
                return;
            setAnswering(0);
            answer_ = text;
            Conversation& conversation = conversations_[answerPath_];
            conversation.turns.push_back({ChatTurn::Role::User, sentQuestion_});
            conversation.turns.push_back({ChatTurn::Role::Assistant, text.toStdString()});
            conversation.shown.append(typedQuestion_);
            if (answerPath_ == path_)
                showConversation();
            if (stopped && answerPath_ == path_)
                appendText(tr(" [stopped]"));
            emit answerFinished(text, stopped);
        });
    connect(&chat_, &ChatEngine::answerFailed, this, [this](int id, const QString& message) {
        if (id != answerId_)
            return;
        setAnswering(0);
        if (answerPath_ == path_) {
            showConversation();
            appendText(tr("\nCould not answer: %1").arg(message));
        }
        emit answerFailed(message);
    });
}

void AskPanel::setPhoto(const QString& path, qint64 photoId, const std::filesystem::path& libraryDir)
{
    if (path == path_)
        return;
    stop();
    path_ = path;
    context_.clear();
    ready_ = false;
    emit readyChanged(false);
    photo_->setText(tr("Loading…"));
    showConversation();
    setAnswering(answerId_);
    const quint64 request = ++request_;
    QtConcurrent::run([path, photoId, libraryDir] {
        PhotoInfo info;
        info.preview = readPhotoImage(path, QSize(kPreviewSize, kPreviewSize));
        if (photoId > 0) {
            try {
                if (const auto details = CatalogReader::details(libraryDir, photoId))
                    info.context = photoContextLine(details->photo);
            } catch (const std::exception&) {
                // No context: the question goes without it.
            }
        }
        return info;
    }).then(this, [this, request](const PhotoInfo& info) {
        if (request != request_)
            return;
        if (info.preview.isNull())
            photo_->setText(tr("(no preview)"));
        else
            photo_->setPixmap(QPixmap::fromImage(info.preview));
        photo_->setToolTip(QString::fromStdString(info.context));
        context_ = info.context;
        ready_ = true;
        setAnswering(answerId_);
        emit readyChanged(true);
    });
}

void AskPanel::ask(const QString& typed)
{
    const QString question = typed.trimmed();
    if (question.isEmpty() || !ready_ || answerId_ != 0)
        return;
    const Conversation& conversation = conversations_[path_];
    AskRequest request;
    request.imagePath = path_;
    request.history = conversation.turns;
    request.question = conversation.turns.empty() ? questionWithContext(context_, question.toStdString())
                                                  : question.toStdString();
    request.options.greedy = greedy_->isChecked(); // else AnswerOptions' sampling defaults, as `pictor ask`
    request.options.maxNewTokens = maxNewTokens_;
    sentQuestion_ = request.question;
    typedQuestion_ = question;
    answerPath_ = path_;
    answer_.clear();
    question_->clear();
    appendText(tr("%1You: %2\nPictor: ")
                   .arg(transcript_->document()->isEmpty() ? QString() : QStringLiteral("\n\n"), question));
    setAnswering(chat_.ask(std::move(request)));
}

void AskPanel::stop()
{
    if (answerId_ != 0)
        chat_.stop(answerId_);
}

void AskPanel::copyAnswer()
{
    if (!answer_.isEmpty())
        QApplication::clipboard()->setText(answer_);
}

QString AskPanel::transcriptText() const
{
    return transcript_->toPlainText();
}

void AskPanel::showConversation()
{
    transcript_->clear();
    const Conversation conversation = conversations_.value(path_);
    for (qsizetype i = 0; i < conversation.shown.size(); ++i) {
        const std::size_t answer = 2 * static_cast<std::size_t>(i) + 1;
        appendText(tr("%1You: %2\nPictor: %3")
                       .arg(i ? QStringLiteral("\n\n") : QString(), conversation.shown[i],
                           answer < conversation.turns.size()
                               ? QString::fromStdString(conversation.turns[answer].text)
                               : QString()));
    }
}

void AskPanel::appendText(const QString& text)
{
    QTextCursor cursor(transcript_->document());
    cursor.movePosition(QTextCursor::End);
    cursor.insertText(text);
    transcript_->setTextCursor(cursor);
    transcript_->ensureCursorVisible();
}

void AskPanel::setAnswering(int id)
{
    answerId_ = id;
    ask_->setEnabled(id == 0 && ready_);
    question_->setEnabled(id == 0);
    stop_->setEnabled(id != 0);
    copy_->setEnabled(id == 0);
}

} // namespace pictor::ui
