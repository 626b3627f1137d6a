#include "ui/welcome_page.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace pictor::ui {

WelcomePage::WelcomePage(QWidget* parent)
    : QWidget(parent), modelState_(new QLabel(this)), problem_(new QLabel(this))
{
    setObjectName(QStringLiteral("welcome"));
    auto* layout = new QVBoxLayout(this);
    layout->addStretch(1);
    problem_->setObjectName(QStringLiteral("libraryProblem"));
    problem_->setWordWrap(true);
    problem_->setAlignment(Qt::AlignCenter);
    problem_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    problem_->setStyleSheet(QStringLiteral("color: #b00020;"));
    problem_->hide();
    layout->addWidget(problem_);
    auto* title = new QLabel(
        tr("<h1>Welcome to Pictor</h1>"
           "<p>Find your photos by what they show, on your own machine. Nothing is uploaded.</p>"),
        this);
    title->setAlignment(Qt::AlignCenter);
    layout->addWidget(title);
    layout->addSpacing(24); // the steps stand apart from the title and from each other
    auto* first = new QLabel(tr("<h3>1. Add a folder of photos</h3>"
                                "<p>Pictor lists them at once and you can browse them by date.</p>"),
        this);
    first->setAlignment(Qt::AlignCenter);
    layout->addWidget(first);
    auto* add = new QPushButton(tr("Add folder…"), this);
    add->setObjectName(QStringLiteral("welcomeAddFolder"));
    layout->addWidget(add, 0, Qt::AlignCenter);
    layout->addSpacing(24);
    auto* second = new QLabel(
        tr("<h3>2. Get a model</h3>"
           "<p>Search by words or by photo needs a CLIP model: a Hugging Face folder with config.json, "
           "model.safetensors, vocab.json, merges.txt and preprocessor_config.json.<br>For example: "
           "<code>huggingface-cli download openai/clip-vit-base-patch32 --local-dir "
           "~/models/clip-vit-base-patch32</code>"
           "<br>A model already in your Hugging Face cache works too (its snapshots/&lt;hash&gt; "
           "folder).</p>"),
        this);
    second->setAlignment(Qt::AlignCenter);
    second->setWordWrap(true);
    second->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // A readable line length on wide windows. (Stretches, not an alignment: an aligned label gets its
    // one-line size hint instead of the height its wrapped lines need.)
    second->setMaximumWidth(820);
    auto* secondRow = new QHBoxLayout;
    secondRow->addStretch(1);
    secondRow->addWidget(second, 8);
    secondRow->addStretch(1);
    layout->addLayout(secondRow);
    auto* choose = new QPushButton(tr("Choose model folder…"), this);
    choose->setObjectName(QStringLiteral("welcomeChooseModel"));
    layout->addWidget(choose, 0, Qt::AlignCenter);
    modelState_->setAlignment(Qt::AlignCenter);
    layout->addWidget(modelState_);
    layout->addStretch(2);
    connect(add, &QPushButton::clicked, this, &WelcomePage::addFolderRequested);
    connect(choose, &QPushButton::clicked, this, &WelcomePage::chooseModelRequested);
}

void WelcomePage::setLibraryProblem(const QString& problem)
{
    problem_->setText(problem);
    problem_->setVisible(!problem.isEmpty());
}

QString WelcomePage::libraryProblem() const
{
    return problem_->isVisible() ? problem_->text() : QString();
}

void WelcomePage::setModelState(const QString& state, bool ready)
{
    modelState_->setText(ready ? tr("Model ready: %1").arg(state) : state);
}

} // namespace pictor::ui
