#include "ui/model_manager_dialog.h"

#include <QDesktopServices>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFuture>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPromise>
#include <QPushButton>
#include <QTableWidget>
#include <QUrl>
#include <QVBoxLayout>
#include <exception>
#include <memory>

#include <QtConcurrent/QtConcurrentRun>

#include "core/model_verification.h"
#include "ui/app_settings.h"
#include "ui/hub_download.h"
#include "ui/hub_repo_prompt.h"

namespace pictor::ui {
namespace {

struct VerifyOutcome {
    bool ok = false;
    QString message;
};

QString toQString(const std::filesystem::path& path)
{
    return QString::fromStdString(path.string());
}

QString familyText(const DiscoveredModel& model)
{
    const QString family = QString::fromStdString(model.family);
    if (family.isEmpty())
        return QObject::tr("unknown");
    if (roleOfFamily(model.family) == ModelRole::Unsupported)
        return QObject::tr("unknown (%1)").arg(family);
    return family;
}

QString inUseText(const DiscoveredModel& model)
{
    QStringList uses;
    if (model.activeEmbedding)
        uses << QObject::tr("search");
    if (model.activeCaptioning)
        uses << QObject::tr("captions");
    if (model.activeGeneration)
        uses << QObject::tr("pictures");
    return uses.join(QStringLiteral(", "));
}

// "loaded: 0.6 GB, CPU float32" when the model host holds the folder's model (keys are kind|folder|options).
QString loadedText(const DiscoveredModel& model, const std::vector<ModelHost::LoadedModel>& loaded)
{
    std::error_code error;
    const auto canonical = std::filesystem::weakly_canonical(model.dir, error).string();
    for (const auto& entry : loaded) {
        const auto first = entry.key.find('|'), last = entry.key.rfind('|');
        if (first == std::string::npos || entry.key.substr(first + 1, last - first - 1) != canonical)
            continue;
        const auto open = entry.description.find(", "), close = entry.description.rfind(')');
        const QString where = open != std::string::npos && close > open ? QStringLiteral(", ")
                + QString::fromStdString(entry.description.substr(open + 2, close - open - 2))
                                                                        : QString();
        return QObject::tr("loaded: %1 GB%2")
            .arg(static_cast<double>(entry.bytes) / 1e9, 0, 'f', 1)
            .arg(where);
    }
    return {};
}

QString oneLine(const char* message)
{
    return QString::fromUtf8(message).simplified();
}

} // namespace

ModelManagerDialog::ModelManagerDialog(ModelHost& host, QWidget* parent)
    : QDialog(parent),
      host_(host),
      table_(new QTableWidget(0, ColumnCount, this)),
      verify_(new QPushButton(tr("&Verify"), this)),
      useForSearch_(new QPushButton(tr("Use for &search"), this)),
      useForCaptions_(new QPushButton(tr("Use for &captions"), this)),
      useForPictures_(new QPushButton(tr("Use for &pictures"), this)),
      openFolder_(new QPushButton(tr("&Open folder"), this)),
      download_(new QPushButton(tr("&Download…"), this)),
      cancelDownload_(new QPushButton(tr("Cancel download"), this)),
      downloadProgress_(new QProgressBar(this)),
      downloadStatus_(new QLabel(this)),
      hubDownload_(new HubDownload(this))
{
    setObjectName(QStringLiteral("modelManager"));
    setWindowTitle(tr("Models"));
    resize(820, 420);

    table_->setObjectName(QStringLiteral("modelTable"));
    table_->setHorizontalHeaderLabels({tr("Name"), tr("Family"), tr("Size"), tr("In use for"), tr("Status")});
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setSectionResizeMode(NameColumn, QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);

    verify_->setObjectName(QStringLiteral("verifyModel"));
    verify_->setToolTip(tr("Load the model completely (every tensor, the tokenizer and the preprocessor)"));
    useForSearch_->setObjectName(QStringLiteral("useForSearch"));
    useForSearch_->setToolTip(tr("Make this the embedding model that indexes and searches photos"));
    useForCaptions_->setObjectName(QStringLiteral("useForCaptions"));
    useForCaptions_->setToolTip(tr("Make this the model that captions photos and answers questions"));
    useForPictures_->setObjectName(QStringLiteral("useForPictures"));
    useForPictures_->setToolTip(tr("Make this the model that paints pictures in Create"));
    openFolder_->setObjectName(QStringLiteral("openModelFolder"));
    auto* add = new QPushButton(tr("&Add model folder…"), this);
    add->setObjectName(QStringLiteral("addModelFolder"));
    add->setToolTip(tr("A model folder (with config.json) or a folder of model folders"));

    download_->setObjectName(QStringLiteral("downloadModel"));
    download_->setToolTip(tr("Download a model from the Hugging Face hub into its cache"));
    cancelDownload_->setObjectName(QStringLiteral("cancelDownload"));
    cancelDownload_->setToolTip(tr("Stop the download; starting it again resumes it"));
    downloadProgress_->setObjectName(QStringLiteral("downloadProgress"));
    downloadProgress_->setRange(0, 1000); // per mille: byte counts overflow an int
    downloadStatus_->setObjectName(QStringLiteral("downloadStatus"));
    downloadStatus_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* actions = new QHBoxLayout;
    for (QPushButton* button : {verify_, useForSearch_, useForCaptions_, useForPictures_, openFolder_})
        actions->addWidget(button);
    actions->addStretch(1);
    actions->addWidget(add);
    actions->addWidget(download_);
    auto* downloading = new QHBoxLayout;
    downloading->addWidget(downloadStatus_, 1);
    downloading->addWidget(downloadProgress_);
    downloading->addWidget(cancelDownload_);
    downloadProgress_->hide();
    cancelDownload_->hide();
    auto* close = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(table_, 1);
    layout->addLayout(actions);
    layout->addLayout(downloading);
    layout->addWidget(close);

    connect(close, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(verify_, &QPushButton::clicked, this, &ModelManagerDialog::verifySelected);
    connect(useForSearch_, &QPushButton::clicked, this, &ModelManagerDialog::useSelectedForSearch);
    connect(useForCaptions_, &QPushButton::clicked, this, &ModelManagerDialog::useSelectedForCaptions);
    connect(useForPictures_, &QPushButton::clicked, this, &ModelManagerDialog::useSelectedForPictures);
    connect(openFolder_, &QPushButton::clicked, this, &ModelManagerDialog::openSelectedFolder);
    connect(add, &QPushButton::clicked, this, &ModelManagerDialog::chooseModelFolder);
    connect(download_, &QPushButton::clicked, this, &ModelManagerDialog::chooseRepoToDownload);
    connect(cancelDownload_, &QPushButton::clicked, this, &ModelManagerDialog::cancelDownload);
    connect(hubDownload_, &HubDownload::progress, this, &ModelManagerDialog::showDownloadProgress);
    connect(hubDownload_, &HubDownload::finished, this, &ModelManagerDialog::onDownloadFinished);
    connect(table_, &QTableWidget::itemSelectionChanged, this, &ModelManagerDialog::updateButtons);
    updateButtons();
    refresh();
}

QStringList ModelManagerDialog::modelFolders()
{
    QStringList folders;
    for (const auto& folder : AppSettings().modelDiscovery().folders)
        folders << QString::fromStdString(folder.string());
    return folders;
}

void ModelManagerDialog::refresh()
{
    const ModelDiscoveryOptions options = AppSettings().modelDiscovery();
    const quint64 generation = ++listGeneration_;
    // Sizes walk every file (and follow the cache's links): never on the GUI thread.
    QtConcurrent::run([options] {
        return discoverModels(options);
    }).then(this, [this, generation](std::vector<DiscoveredModel> models) {
        if (generation == listGeneration_)
            showModels(std::move(models));
    });
}

void ModelManagerDialog::showModels(std::vector<DiscoveredModel> models)
{
    const DiscoveredModel* previous = selected();
    const QString keep = previous ? toQString(previous->dir) : QString();
    models_ = std::move(models);
    table_->setRowCount(static_cast<int>(models_.size()));
    const QLocale locale;
    int keepRow = -1;
    for (int row = 0; row < table_->rowCount(); ++row) {
        const DiscoveredModel& model = models_[static_cast<std::size_t>(row)];
        auto* name = new QTableWidgetItem(QString::fromStdString(model.name));
        name->setToolTip(toQString(model.dir));
        table_->setItem(row, NameColumn, name);
        table_->setItem(row, FamilyColumn, new QTableWidgetItem(familyText(model)));
        auto* size = new QTableWidgetItem(locale.formattedDataSize(static_cast<qint64>(model.bytesOnDisk)));
        size->setData(Qt::UserRole, static_cast<qulonglong>(model.bytesOnDisk));
        size->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        table_->setItem(row, SizeColumn, size);
        QString uses = inUseText(model);
        if (const QString loaded = loadedText(model, host_.loaded()); !loaded.isEmpty())
            uses += (uses.isEmpty() ? QString() : QStringLiteral(" · ")) + loaded;
        table_->setItem(row, InUseColumn, new QTableWidgetItem(uses));
        table_->setItem(row, StatusColumn, new QTableWidgetItem(statusOf(model)));
        if (toQString(model.dir) == keep)
            keepRow = row;
    }
    if (!selectAfterListing_.isEmpty()) {
        for (int row = 0; row < table_->rowCount(); ++row) {
            const QString name = QString::fromStdString(models_[static_cast<std::size_t>(row)].name);
            if (name == selectAfterListing_ || name.startsWith(selectAfterListing_ + '@'))
                keepRow = row;
        }
        selectAfterListing_.clear();
    }
    if (keepRow >= 0)
        selectRow(keepRow);
    updateButtons();
    emit modelsListed();
}

QString ModelManagerDialog::statusOf(const DiscoveredModel& model) const
{
    if (const auto it = verifyStatus_.constFind(toQString(model.dir)); it != verifyStatus_.constEnd())
        return *it;
    return model.source == ModelSource::HuggingFaceCache ? tr("Hugging Face cache") : tr("models folder");
}

int ModelManagerDialog::rowOfName(const QString& name) const
{
    for (std::size_t row = 0; row < models_.size(); ++row)
        if (QString::fromStdString(models_[row].name) == name)
            return static_cast<int>(row);
    return -1;
}

void ModelManagerDialog::selectRow(int row)
{
    table_->selectRow(row);
}

const DiscoveredModel* ModelManagerDialog::selected() const
{
    const QList<QTableWidgetItem*> items = table_->selectedItems();
    if (items.isEmpty())
        return nullptr;
    const auto row = static_cast<std::size_t>(items.front()->row());
    return row < models_.size() ? &models_[row] : nullptr;
}

void ModelManagerDialog::updateButtons()
{
    const DiscoveredModel* model = selected();
    const ModelRole role = model ? roleOfFamily(model->family) : ModelRole::Unsupported;
    verify_->setEnabled(model && !verifying_.contains(toQString(model->dir)));
    useForSearch_->setEnabled(model && role == ModelRole::Embedding && !model->activeEmbedding);
    useForCaptions_->setEnabled(model && role == ModelRole::Captioning && !model->activeCaptioning);
    useForPictures_->setEnabled(model && role == ModelRole::Generation && !model->activeGeneration);
    openFolder_->setEnabled(model != nullptr);
}

void ModelManagerDialog::setStatus(const QString& dir, const QString& status)
{
    verifyStatus_[dir] = status;
    for (std::size_t row = 0; row < models_.size(); ++row)
        if (toQString(models_[row].dir) == dir)
            table_->item(static_cast<int>(row), StatusColumn)->setText(status);
    updateButtons();
}

void ModelManagerDialog::verifySelected()
{
    const DiscoveredModel* model = selected();
    if (!model)
        return;
    const QString key = toQString(model->dir);
    const std::filesystem::path dir = model->dir;
    verifying_.insert(key);
    setStatus(key, tr("Verifying…"));

    auto promise = std::make_shared<QPromise<VerifyOutcome>>();
    QFuture<VerifyOutcome> future = promise->future();
    promise->start();
    ModelHost* host = &host_;
    // On the compute worker, which owns the model module (LibTorch loads there on first use).
    host_.worker().submit(JobPriority::Interactive, [host, promise, dir] {
        VerifyOutcome outcome;
        try {
            const ModelVerification result = verifyModelFolder(host->registry(), dir);
            outcome = {true, QStringLiteral("OK · %1").arg(QString::fromStdString(result.modelId))};
        } catch (const std::exception& e) {
            outcome = {false, oneLine(e.what())};
        }
        promise->addResult(outcome);
        promise->finish();
    });
    future.then(this, [this, key](const VerifyOutcome& outcome) {
        verifying_.remove(key);
        setStatus(key, outcome.message);
        emit verified(key, outcome.ok, outcome.message);
    });
}

void ModelManagerDialog::useSelectedForSearch()
{
    const DiscoveredModel* model = selected();
    if (!model || roleOfFamily(model->family) != ModelRole::Embedding)
        return;
    AppSettings().setModelDir(toQString(model->dir));
    emit settingsChanged();
    refresh();
}

void ModelManagerDialog::useSelectedForCaptions()
{
    const DiscoveredModel* model = selected();
    if (!model || roleOfFamily(model->family) != ModelRole::Captioning)
        return;
    AppSettings().setCaptionModelDir(toQString(model->dir));
    emit settingsChanged();
    refresh();
}

void ModelManagerDialog::useSelectedForPictures()
{
    const DiscoveredModel* model = selected();
    if (!model || roleOfFamily(model->family) != ModelRole::Generation)
        return;
    AppSettings().setGenerationModelDir(toQString(model->dir));
    emit settingsChanged();
    refresh();
}

void ModelManagerDialog::chooseModelFolder()
{
    const QStringList folders = modelFolders();
    const QString dir = QFileDialog::getExistingDirectory(
        this, tr("Add a model folder"), folders.isEmpty() ? QDir::homePath() : folders.front());
    if (!dir.isEmpty())
        addModelFolder(dir);
}

void ModelManagerDialog::addModelFolder(const QString& dir)
{
    AppSettings settings;
    QStringList folders = settings.extraModelFolders();
    const QString clean = QDir::cleanPath(dir);
    if (!folders.contains(clean) && !modelFolders().contains(clean)) {
        folders << clean;
        settings.setExtraModelFolders(folders);
    }
    refresh();
}

void ModelManagerDialog::openSelectedFolder()
{
    if (const DiscoveredModel* model = selected())
        QDesktopServices::openUrl(QUrl::fromLocalFile(toQString(model->dir)));
}

void ModelManagerDialog::chooseRepoToDownload()
{
    if (const std::optional<HubRepoChoice> choice = askForHubRepo(this))
        startDownload(choice->repoId, choice->revision);
}

void ModelManagerDialog::startDownload(const QString& repoId, const QString& revision)
{
    download_->setEnabled(false);
    cancelDownload_->show();
    downloadProgress_->setValue(0);
    downloadProgress_->show();
    downloadStatus_->setText(tr("Downloading %1…").arg(repoId));
    hubDownload_->start(repoId, revision);
}

void ModelManagerDialog::cancelDownload()
{
    hubDownload_->cancel();
}

void ModelManagerDialog::showDownloadProgress(qint64 done, qint64 total, const QString& file)
{
    downloadProgress_->setValue(total > 0 ? static_cast<int>(done * 1000 / total) : 0);
    const QLocale locale;
    const QString sizes = tr("%1 of %2").arg(locale.formattedDataSize(done), locale.formattedDataSize(total));
    downloadStatus_->setText(file.isEmpty()
            ? tr("Downloading %1: %2").arg(hubDownload_->repoId(), sizes)
            : tr("Downloading %1: %2 (%3)").arg(hubDownload_->repoId(), file, sizes));
}

void ModelManagerDialog::onDownloadFinished(bool ok, const QString& message)
{
    download_->setEnabled(true);
    cancelDownload_->hide();
    downloadProgress_->hide();
    downloadStatus_->setText(message);
    if (ok) {
        selectAfterListing_ = hubDownload_->repoId();
        refresh();
    }
    emit downloadFinished(ok, message);
}

} // namespace pictor::ui
