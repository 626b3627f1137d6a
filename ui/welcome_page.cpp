#include "ui/welcome_page.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include "ui/recommended_model_download.h"

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
           "<p>Search by words or by photo needs a CLIP model. The recommended one is OpenAI's CLIP "
           "ViT-B/32 (<b>%1</b>: about 605 MB, MIT licence), downloaded from Hugging Face into its "
           "cache; only the download itself goes over the network.</p>"
           "<p>Or choose a Hugging Face model folder (config.json, model.safetensors, vocab.json, "
           "merges.txt, preprocessor_config.json), e.g. one made with "
           "<code>huggingface-cli download %1 --local-dir ~/models/clip-vit-base-patch32</code>; "
           "models already in your Hugging Face cache are found by themselves.</p>")
            .arg(recommendedModelId()),
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
    auto* download = new RecommendedModelDownload(QStringLiteral("welcome"), this);
    download_ = download;
    download->setMaximumWidth(820);
    auto* downloadRow = new QHBoxLayout;
    downloadRow->addStretch(1);
    downloadRow->addWidget(download, 8);
    downloadRow->addStretch(1);
    layout->addLayout(downloadRow);
    auto* choose = new QPushButton(tr("Choose model folder…"), this);
    choose->setObjectName(QStringLiteral("welcomeChooseModel"));
    layout->addWidget(choose, 0, Qt::AlignCenter);
    connect(download, &RecommendedModelDownload::downloaded, this, &WelcomePage::modelDownloaded);
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
    download_->setVisible(!ready);
}

} // namespace pictor::ui
