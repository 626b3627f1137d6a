#include "ui/create_panel.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QDateTime>
#include <QDesktopServices>
#include <QDialog>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSpinBox>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>
#include <algorithm>

#include <QtConcurrent/QtConcurrentRun>

#include "core/error.h"
#include "core/imageio/decode.h"
#include "core/imageio/png_text.h"
#include "core/model_discovery.h"
#include "ui/app_settings.h"
#include "ui/feature_host.h"
#include "ui/generation_engine.h"
#include "ui/indexing_jobs.h"

namespace pictor::ui {
namespace {

// Karlo's pipeline defaults.
constexpr int kPriorSteps = 25, kDecoderSteps = 25, kSuperResSteps = 7;
constexpr double kPriorGuidance = 4.0, kDecoderGuidance = 8.0;

QSpinBox* stepsBox(const char* name, QWidget* parent)
{
    auto* box = new QSpinBox(parent);
    box->setObjectName(QString::fromLatin1(name));
    box->setRange(2, 1000);
    return box;
}

QDoubleSpinBox* guidanceBox(const char* name, QWidget* parent)
{
    auto* box = new QDoubleSpinBox(parent);
    box->setObjectName(QString::fromLatin1(name));
    box->setRange(1.0, 30.0);
    box->setSingleStep(0.5);
    box->setDecimals(1);
    return box;
}

RgbImage toRgb(const QImage& image)
{
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    RgbImage out(rgb.width(), rgb.height());
    for (int y = 0; y < rgb.height(); ++y)
        std::copy_n(rgb.constScanLine(y), 3 * rgb.width(), out.row(y));
    return out;
}

} // namespace

CreatePanel::CreatePanel(FeatureHost& window)
    : QObject(window.windowWidget()),
      window_(window),
      engine_(new GenerationEngine(window.models(), this)),
      dock_(new QDockWidget(tr("Create"), window.windowWidget()))
{
    dock_->setObjectName(QStringLiteral("createDock"));
    auto* body = new QWidget(dock_);
    auto* layout = new QVBoxLayout(body);
    prompt_ = new QPlainTextEdit(body);
    prompt_->setObjectName(QStringLiteral("createPrompt"));
    prompt_->setPlaceholderText(tr("What to paint, e.g. a red fox in the snow, oil painting"));
    prompt_->setMaximumHeight(80);
    layout->addWidget(prompt_);
    auto* recentButton = new QToolButton(body);
    recentButton->setObjectName(QStringLiteral("createRecent"));
    recentButton->setText(tr("Recent prompts"));
    recentButton->setPopupMode(QToolButton::InstantPopup);
    recent_ = new QMenu(recentButton);
    recentButton->setMenu(recent_);
    connect(recent_, &QMenu::aboutToShow, this, &CreatePanel::showRecentPrompts);
    layout->addWidget(recentButton, 0, Qt::AlignLeft);

    auto* form = new QFormLayout;
    count_ = new QSpinBox(body);
    count_->setObjectName(QStringLiteral("createCount"));
    count_->setRange(1, 8);
    count_->setValue(2);
    form->addRow(tr("Pictures"), count_);
    auto* seedRow = new QHBoxLayout;
    seed_ = new QSpinBox(body);
    seed_->setObjectName(QStringLiteral("createSeed"));
    seed_->setRange(0, 2'000'000'000);
    randomSeed_ = new QCheckBox(tr("Random"), body);
    randomSeed_->setObjectName(QStringLiteral("createRandomSeed"));
    randomSeed_->setChecked(true);
    randomSeed_->setToolTip(tr("A new seed each time; untick to keep the seed (the same seed paints the same "
                               "pictures)"));
    seedRow->addWidget(seed_, 1);
    seedRow->addWidget(randomSeed_);
    form->addRow(tr("Seed"), seedRow);
    layout->addLayout(form);

    advanced_ = new QGroupBox(tr("Advanced"), body);
    advanced_->setObjectName(QStringLiteral("createAdvanced"));
    advanced_->setCheckable(true);
    advanced_->setChecked(false);
    // An expander: the stage settings show only while "Advanced" is ticked.
    auto* advancedBody = new QWidget(advanced_);
    auto* advancedLayout = new QVBoxLayout(advanced_);
    advancedLayout->setContentsMargins(0, 0, 0, 0);
    advancedLayout->addWidget(advancedBody);
    advancedBody->setVisible(false);
    connect(advanced_, &QGroupBox::toggled, advancedBody, &QWidget::setVisible);
    auto* advancedForm = new QFormLayout(advancedBody);
    priorSteps_ = stepsBox("createPriorSteps", advancedBody);
    decoderSteps_ = stepsBox("createDecoderSteps", advancedBody);
    superResSteps_ = stepsBox("createSuperResSteps", advancedBody);
    priorGuidance_ = guidanceBox("createPriorGuidance", advancedBody);
    decoderGuidance_ = guidanceBox("createDecoderGuidance", advancedBody);
    advancedForm->addRow(tr("Prior steps"), priorSteps_);
    advancedForm->addRow(tr("Decoder steps"), decoderSteps_);
    advancedForm->addRow(tr("Super-resolution steps"), superResSteps_);
    advancedForm->addRow(tr("Prior guidance"), priorGuidance_);
    advancedForm->addRow(tr("Decoder guidance"), decoderGuidance_);
    auto* reset = new QPushButton(tr("Reset to defaults"), advancedBody);
    connect(reset, &QPushButton::clicked, this, &CreatePanel::resetAdvanced);
    advancedForm->addRow(reset);
    resetAdvanced();
    layout->addWidget(advanced_);

    auto* buttons = new QHBoxLayout;
    generate_ = new QPushButton(tr("Generate"), body);
    generate_->setObjectName(QStringLiteral("createGenerate"));
    stop_ = new QPushButton(tr("Stop"), body);
    stop_->setObjectName(QStringLiteral("createStop"));
    stop_->setEnabled(false);
    buttons->addWidget(generate_);
    buttons->addWidget(stop_);
    layout->addLayout(buttons);
    progress_ = new QProgressBar(body);
    progress_->setObjectName(QStringLiteral("createProgress"));
    progress_->setRange(0, 1);
    progress_->setValue(0);
    layout->addWidget(progress_);
    status_ = new QLabel(body);
    status_->setObjectName(QStringLiteral("createStatus"));
    status_->setWordWrap(true);
    layout->addWidget(status_);
    models_ = new QPushButton(tr("Models…"), body);
    models_->setObjectName(QStringLiteral("createModels"));
    models_->setToolTip(tr("Find, download (e.g. kakaobrain/karlo-v1-alpha) and choose a picture model"));
    connect(models_, &QPushButton::clicked, this, [this] { window_.openModelManager(); });
    layout->addWidget(models_, 0, Qt::AlignLeft);
    preview_ = new QLabel(body);
    preview_->setObjectName(QStringLiteral("createPreview"));
    preview_->setMinimumSize(160, 160); // the dock must not push the window past its size
    preview_->setAlignment(Qt::AlignCenter);
    layout->addWidget(preview_, 1);
    source_ = new QLabel(body);
    source_->setObjectName(QStringLiteral("createSource"));
    source_->hide();
    layout->addWidget(source_);
    results_list_ = new QListWidget(body);
    results_list_->setObjectName(QStringLiteral("createResults"));
    results_list_->setViewMode(QListView::IconMode);
    results_list_->setIconSize(QSize(64, 64));
    results_list_->setMaximumHeight(90);
    results_list_->setFlow(QListView::LeftToRight);
    results_list_->setWrapping(false); // one row: a strip
    layout->addWidget(results_list_);
    saveAll_ = new QPushButton(tr("Save all to the library"), body);
    saveAll_->setObjectName(QStringLiteral("createSaveAll"));
    saveAll_->setEnabled(false);
    layout->addWidget(saveAll_);
    dock_->setWidget(body);

    connect(generate_, &QPushButton::clicked, this, &CreatePanel::generate);
    connect(stop_, &QPushButton::clicked, this, &CreatePanel::stop);
    connect(saveAll_, &QPushButton::clicked, this, [this] { saveAll(); });
    results_list_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(results_list_, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        if (QListWidgetItem* item = results_list_->itemAt(at))
            resultMenu(results_list_->row(item))->popup(results_list_->viewport()->mapToGlobal(at));
    });
    connect(results_list_, &QListWidget::itemDoubleClicked, this,
        [this](QListWidgetItem* item) { showLarge(results_list_->row(item)); });
    connect(results_list_, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0 && row < resultCount())
            preview_->setPixmap(QPixmap::fromImage(results_[static_cast<std::size_t>(row)].image)
                                    .scaled(preview_->size(), Qt::KeepAspectRatio, Qt::SmoothTransformation));
    });
    connect(engine_, &GenerationEngine::progressed, this,
        [this](int id, int stage, int step, int steps, int done, int total) {
            if (id == runId_)
                showProgress(stage, step, steps, done, total);
        });
    connect(engine_, &GenerationEngine::previewReady, this, [this](int id, const QList<QImage>& images) {
        if (id == runId_ && !images.isEmpty())
            preview_->setPixmap(QPixmap::fromImage(images.front())
                                    .scaled(preview_->size(), Qt::KeepAspectRatio, Qt::SmoothTransformation));
    });
    connect(engine_, &GenerationEngine::finished, this,
        [this](int id, const QList<QImage>& images, bool cancelled) {
            if (id == runId_)
                finish(images, cancelled);
        });
    connect(engine_, &GenerationEngine::failed, this, [this](int id, const QString& message) {
        if (id != runId_)
            return;
        setRunning(false);
        status_->setText(tr("Not painted: %1").arg(message));
        reportJob(JobInfo::State::Failed, 0, 1);
    });

    QAction* toggle = dock_->toggleViewAction();
    toggle->setText(tr("&Create"));
    toggle->setShortcut(QKeySequence(QStringLiteral("Ctrl+G")));
    toggle->setObjectName(QStringLiteral("createToggle"));
    window.addDockPanel(dock_, toggle);
    auto* fromSearch = new QAction(tr("Generate from this search"), this);
    fromSearch->setObjectName(QStringLiteral("generateFromSearch"));
    fromSearch->setIconText(tr("Generate")); // the button beside the search bar
    fromSearch->setToolTip(tr("The search's photo changed by its words, as far as the weight slider says"));
    connect(fromSearch, &QAction::triggered, this, [this] {
        const auto search = window_.composedSearch();
        if (!search) {
            dock_->show();
            status_->setText(tr("Search with one photo and words first (drop a photo on the search bar, then "
                                "type the change, e.g. \"in snow\")."));
            return;
        }
        changePhoto(search->photoPath, search->words, search->textWeight,
            search->words + tr(" (with %1)").arg(QFileInfo(search->photoPath).fileName()));
    });
    window.addSearchAction(fromSearch);
    window.addPhotoMenuActions([this](QMenu* menu, int row) {
        const QString path = window_.photoAt(row).path;
        menu->addSeparator();
        QAction* variations
            = menu->addAction(tr("Create variations"), this, [this, path] { createVariations(path); });
        variations->setObjectName(QStringLiteral("createVariations"));
        variations->setEnabled(!modelDir_.empty());
        if (modelDir_.empty())
            variations->setToolTip(tr("Choose a picture model in Settings first"));
    });
}

void CreatePanel::resetAdvanced()
{
    priorSteps_->setValue(kPriorSteps);
    decoderSteps_->setValue(kDecoderSteps);
    superResSteps_->setValue(kSuperResSteps);
    priorGuidance_->setValue(kPriorGuidance);
    decoderGuidance_->setValue(kDecoderGuidance);
}

void CreatePanel::setModel(
    const QString& dir, const QString& device, int cpuThreads, const QString& numberFormat)
{
    modelDir_ = dir.toStdString();
    engine_->setModel(modelDir_, {device.toStdString(), numberFormat.toStdString(), cpuThreads});
    if (runId_ == 0) {
        generate_->setEnabled(!dir.isEmpty());
        models_->setVisible(dir.isEmpty());
        status_->setText(dir.isEmpty()
                ? tr("No picture model: choose an unCLIP pipeline folder "
                     "(kakaobrain/karlo-v1-alpha) as the picture model in Settings, or "
                     "download one in File › Models…")
                : tr("Ready: %1").arg(QDir(dir).dirName()));
    }
}

GenerationRequest CreatePanel::requestFromControls()
{
    if (randomSeed_->isChecked())
        seed_->setValue(static_cast<int>(QRandomGenerator::global()->bounded(2'000'000'000)));
    GenerationRequest request;
    request.imagesPerInput = count_->value();
    request.seed = static_cast<std::uint64_t>(seed_->value());
    request.priorSteps = priorSteps_->value();
    request.decoderSteps = decoderSteps_->value();
    request.superResSteps = superResSteps_->value();
    request.priorGuidance = static_cast<float>(priorGuidance_->value());
    request.decoderGuidance = static_cast<float>(decoderGuidance_->value());
    return request;
}

void CreatePanel::generate()
{
    if (runId_ != 0 || modelDir_.empty())
        return;
    const QString prompt = prompt_->toPlainText().trimmed();
    if (prompt.isEmpty()) {
        status_->setText(tr("Write what to paint first."));
        return;
    }
    AppSettings().addRecentPrompt(prompt);
    GenerationRequest request = requestFromControls();
    request.prompts = {prompt.toStdString()};
    GenerationRecord record;
    record.prompt = request.prompts.front();
    source_->hide();
    start(std::move(request), std::move(record));
}

void CreatePanel::createVariations(const QString& photoPath)
{
    GenerationRecord record;
    record.sourceImage = photoPath.toStdString();
    startFromPhoto(photoPath, requestFromControls(), std::move(record));
}

void CreatePanel::changePhoto(
    const QString& photoPath, const QString& words, double strength, const QString& query)
{
    GenerationRequest request = requestFromControls();
    request.prompts = {words.trimmed().toStdString()};
    request.changeStrength = static_cast<float>(std::clamp(strength, 0.0, 1.0));
    GenerationRecord record;
    record.prompt = request.prompts.front();
    record.sourceImage = photoPath.toStdString();
    record.query = query.toStdString();
    prompt_->setPlainText(words.trimmed());
    startFromPhoto(photoPath, std::move(request), std::move(record));
}

void CreatePanel::startFromPhoto(const QString& photoPath, GenerationRequest request, GenerationRecord record)
{
    dock_->show();
    dock_->raise();
    if (modelDir_.empty() || runId_ != 0) {
        status_->setText(modelDir_.empty() ? tr("No picture model: choose one in Settings first.")
                                           : tr("A picture is being painted; stop it first."));
        return;
    }
    setRunning(true);
    runId_ = -1; // decoding the photo
    status_->setText(tr("Reading %1…").arg(QFileInfo(photoPath).fileName()));
    // A reduced decode: the pipeline's image encoder needs 224 pixels.
    auto decode = [path = photoPath.toStdString()] {
        DecodeOptions options;
        options.targetShortEdge = 448;
        return decodeImageFile(path, options).image;
    };
    auto* watcher = new QFutureWatcher<RgbImage>(this);
    connect(watcher, &QFutureWatcher<RgbImage>::finished, this,
        [this, watcher, photoPath, request = std::move(request), record = std::move(record)]() mutable {
            watcher->deleteLater();
            try {
                RgbImage photo = watcher->result();
                const QImage shown = toQImage(photo);
                source_->setPixmap(
                    QPixmap::fromImage(shown).scaled(48, 48, Qt::KeepAspectRatio, Qt::SmoothTransformation));
                source_->setToolTip(tr("Made from %1").arg(photoPath));
                source_->show();
                request.sourceImages = {std::move(photo)};
                start(std::move(request), std::move(record));
            } catch (const std::exception& e) {
                setRunning(false);
                status_->setText(tr("Not painted: %1").arg(QString::fromUtf8(e.what())));
            }
        });
    watcher->setFuture(QtConcurrent::run(decode));
}

void CreatePanel::start(GenerationRequest request, GenerationRecord record)
{
    running_ = std::move(record);
    running_.settings = request;
    running_.settings.sourceImages.clear(); // the record keeps the path, not the pixels
    running_.modelDir = modelDir_;
    running_.batchSize = request.imagesPerInput;
    clock_.start();
    setRunning(true);
    status_->setText(tr("Starting…"));
    const QString what = running_.sourceImage.empty() ? QString::fromStdString(running_.prompt)
        : running_.prompt.empty()
        ? tr("variations of %1").arg(QString::fromStdString(running_.sourceImage.filename().string()))
        : tr("%1, changed: %2")
              .arg(QString::fromStdString(running_.sourceImage.filename().string()),
                  QString::fromStdString(running_.prompt));
    jobId_ = window_.jobQueue().track(tr("Create: %1").arg(what.left(60)), [this] { stop(); });
    runId_ = engine_->generate(std::move(request));
}

void CreatePanel::reportJob(JobInfo::State state, std::int64_t done, std::int64_t total)
{
    if (jobId_ != 0)
        window_.jobQueue().updateTracked(jobId_, state, done, total, status_->text());
    if (state != JobInfo::State::Running)
        jobId_ = 0;
}

void CreatePanel::stop()
{
    if (runId_ != 0) {
        engine_->stop(runId_);
        status_->setText(tr("Stopping after this step…"));
    }
}

void CreatePanel::showProgress(int stage, int stageStep, int stageSteps, int stepsDone, int totalSteps)
{
    progress_->setRange(0, totalSteps);
    progress_->setValue(stepsDone);
    const double elapsed = static_cast<double>(clock_.elapsed()) / 1000.0;
    const double left = stepsDone > 0 ? elapsed / stepsDone * (totalSteps - stepsDone) : 0;
    status_->setText(tr("%1 %2/%3 · about %4 s left")
                         .arg(QString::fromStdString(stageName(static_cast<GenerationStage>(stage))))
                         .arg(stageStep)
                         .arg(stageSteps)
                         .arg(static_cast<int>(left + 0.5)));
    reportJob(JobInfo::State::Running, stepsDone, totalSteps);
}

void CreatePanel::finish(const QList<QImage>& images, bool cancelled)
{
    setRunning(false);
    if (cancelled) {
        status_->setText(tr("Stopped; nothing was painted"));
        reportJob(JobInfo::State::Cancelled, 0, 1);
        emit generationFinished(true);
        return;
    }
    running_.modelId = engine_->modelId();
    for (int i = 0; i < images.size(); ++i) {
        Result result {images.at(i), running_, {}};
        result.record.batchIndex = i;
        results_.push_back(result);
        auto* item = new QListWidgetItem(QIcon(QPixmap::fromImage(result.image)), QString(), results_list_);
        item->setToolTip(
            QString::fromStdString(running_.prompt) + tr("\nseed %1").arg(running_.settings.seed));
    }
    results_list_->setCurrentRow(results_list_->count() - 1);
    saveAll_->setEnabled(true);
    status_->setText(tr("%n picture(s) in %1 s, seed %2", nullptr, static_cast<int>(images.size()))
                         .arg(clock_.elapsed() / 1000)
                         .arg(running_.settings.seed));
    reportJob(JobInfo::State::Done, 1, 1);
    emit generationFinished(false);
}

void CreatePanel::setRunning(bool running)
{
    if (!running)
        runId_ = 0;
    generate_->setEnabled(!running && !modelDir_.empty());
    stop_->setEnabled(running);
}

std::filesystem::path CreatePanel::outputFolder() const
{
    return outputFolder_.isEmpty() ? window_.libraryDir() / "Generated"
                                   : std::filesystem::path(outputFolder_.toStdString());
}

std::filesystem::path CreatePanel::write(Result& result, const std::filesystem::path& folder)
{
    std::filesystem::create_directories(folder);
    const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    const QString name = QStringLiteral("pictor-%1-%2-%3.png")
                             .arg(stamp)
                             .arg(result.record.settings.seed)
                             .arg(result.record.batchIndex);
    const std::filesystem::path file = folder / name.toStdString();
    writePngWithText(file, toRgb(result.image), generationTextChunks(result.record));
    result.file = file;
    return file;
}

void CreatePanel::indexSaved(const std::filesystem::path& folder)
{
    // The folder joins the library if it is not in it; only the new files are read.
    window_.jobQueue().addFolders({QString::fromStdString(folder.string())});
}

QStringList CreatePanel::saveAll()
{
    QStringList written;
    const std::filesystem::path folder = outputFolder();
    try {
        for (Result& result : results_)
            if (result.file.empty())
                written << QString::fromStdString(write(result, folder).string());
        status_->setText(tr("Saved %n picture(s) in %1", nullptr, static_cast<int>(written.size()))
                             .arg(QString::fromStdString(folder.string())));
    } catch (const std::exception& e) {
        status_->setText(tr("Not saved: %1").arg(QString::fromUtf8(e.what())));
    }
    if (!written.isEmpty())
        indexSaved(folder);
    saveAll_->setEnabled(false);
    return written;
}

QString CreatePanel::save(int index)
{
    if (index < 0 || index >= resultCount())
        return {};
    Result& result = results_[static_cast<std::size_t>(index)];
    if (!result.file.empty())
        return QString::fromStdString(result.file.string());
    try {
        const std::filesystem::path file = write(result, outputFolder());
        indexSaved(outputFolder());
        status_->setText(tr("Saved %1").arg(QString::fromStdString(file.string())));
        saveAll_->setEnabled(
            std::any_of(results_.begin(), results_.end(), [](const Result& r) { return r.file.empty(); }));
        return QString::fromStdString(file.string());
    } catch (const std::exception& e) {
        status_->setText(tr("Not saved: %1").arg(QString::fromUtf8(e.what())));
        return {};
    }
}

void CreatePanel::discard(int index)
{
    if (index < 0 || index >= resultCount())
        return;
    results_.erase(results_.begin() + index);
    delete results_list_->takeItem(index);
    saveAll_->setEnabled(
        std::any_of(results_.begin(), results_.end(), [](const Result& r) { return r.file.empty(); }));
    if (results_.empty())
        preview_->clear();
}

void CreatePanel::reuseSeed(int index)
{
    if (index < 0 || index >= resultCount())
        return;
    randomSeed_->setChecked(false);
    seed_->setValue(static_cast<int>(results_[static_cast<std::size_t>(index)].record.settings.seed));
}

void CreatePanel::showLarge(int index)
{
    if (index < 0 || index >= resultCount())
        return;
    const Result& result = results_[static_cast<std::size_t>(index)];
    auto* view = new QDialog(window_.windowWidget());
    view->setObjectName(QStringLiteral("createResultView"));
    view->setAttribute(Qt::WA_DeleteOnClose);
    view->setWindowTitle(result.record.prompt.empty()
            ? tr("Variation — seed %1").arg(result.record.settings.seed)
            : tr("%1 — seed %2")
                  .arg(QString::fromStdString(result.record.prompt))
                  .arg(result.record.settings.seed));
    auto* layout = new QVBoxLayout(view);
    auto* picture = new QLabel(view);
    picture->setPixmap(QPixmap::fromImage(result.image));
    picture->setAlignment(Qt::AlignCenter);
    layout->addWidget(picture);
    view->show();
}

QMenu* CreatePanel::resultMenu(int index)
{
    auto* menu = new QMenu(results_list_);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    if (index < 0 || index >= resultCount())
        return menu;
    const Result& result = results_[static_cast<std::size_t>(index)];
    const auto add = [&](const QString& text, const char* name, auto slot) {
        QAction* action = menu->addAction(text, this, slot);
        action->setObjectName(QString::fromLatin1(name));
        return action;
    };
    add(tr("Open large"), "createOpenLarge", [this, index] { showLarge(index); });
    add(tr("Save to the library"), "createSave", [this, index] {
        save(index);
    })->setEnabled(result.file.empty());
    add(tr("Discard"), "createDiscard", [this, index] { discard(index); });
    menu->addSeparator();
    add(tr("Copy image"), "createCopyImage",
        [image = result.image] { QApplication::clipboard()->setImage(image); });
    add(tr("Copy parameters"), "createCopyParameters", [record = result.record] {
        QApplication::clipboard()->setText(
            QString::fromStdString(generationTextChunks(record).front().second));
    });
    add(tr("Reuse this seed (%1)").arg(result.record.settings.seed), "createReuseSeed",
        [this, index] { reuseSeed(index); });
    const QString file = QString::fromStdString(result.file.string());
    add(tr("Open containing folder"), "createOpenFolder", [file] {
        QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(file).absolutePath()));
    })->setEnabled(!file.isEmpty());
    return menu;
}

void CreatePanel::showRecentPrompts()
{
    recent_->clear();
    const QStringList prompts = AppSettings().recentPrompts();
    for (const QString& prompt : prompts)
        recent_->addAction(prompt.left(80), this, [this, prompt] { prompt_->setPlainText(prompt); });
    if (prompts.isEmpty())
        recent_->addAction(tr("No prompts yet"))->setEnabled(false);
}

} // namespace pictor::ui
