#include "ui/settings_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>

#include "indexer/library.h"
#include "indexer/model_host.h"

namespace pictor::ui {
namespace {

QWidget* withBrowse(QLineEdit* edit, QWidget* parent, const QString& caption)
{
    auto* row = new QWidget(parent);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(edit, 1);
    auto* browse = new QPushButton(QObject::tr("Choose…"), row);
    QObject::connect(browse, &QPushButton::clicked, row, [edit, parent, caption] {
        const QString dir = QFileDialog::getExistingDirectory(parent, caption, edit->text());
        if (!dir.isEmpty())
            edit->setText(dir);
    });
    layout->addWidget(browse);
    return row;
}

} // namespace

SettingsDialog::SettingsDialog(QWidget* parent)
    : QDialog(parent),
      libraryDir_(new QLineEdit(this)),
      modelsDir_(new QLineEdit(this)),
      modelDir_(new QLineEdit(this)),
      captionModelDir_(new QLineEdit(this)),
      generationModelDir_(new QLineEdit(this)),
      generatedDir_(new QLineEdit(this)),
      device_(new QComboBox(this)),
      numberFormat_(new QComboBox(this)),
      threads_(new QSpinBox(this)),
      modelMemory_(new QSpinBox(this)),
      gpuMemory_(new QSpinBox(this)),
      idleMinutes_(new QSpinBox(this)),
      excluded_(new QPlainTextEdit(this)),
      thumbnailSize_(new QSpinBox(this)),
      colorScheme_(new QComboBox(this))
{
    setObjectName(QStringLiteral("settings"));
    setWindowTitle(tr("Settings — Pictor"));
    auto* form = new QFormLayout(this);
    libraryDir_->setObjectName(QStringLiteral("libraryDir"));
    libraryDir_->setPlaceholderText(QString::fromStdString(Library::defaultDir().string()));
    form->addRow(tr("Library location"), withBrowse(libraryDir_, this, tr("Library folder")));
    modelsDir_->setObjectName(QStringLiteral("modelsDir"));
    modelsDir_->setPlaceholderText(tr("where you keep Hugging Face model folders"));
    form->addRow(tr("Models folder"), withBrowse(modelsDir_, this, tr("Models folder")));
    modelDir_->setObjectName(QStringLiteral("modelDir"));
    modelDir_->setPlaceholderText(tr("the library's model (from the last indexing)"));
    form->addRow(tr("Embedding model"), withBrowse(modelDir_, this, tr("CLIP model folder")));
    captionModelDir_->setObjectName(QStringLiteral("captionModelDir"));
    captionModelDir_->setPlaceholderText(tr("a llava model folder, for Caption and Ask (optional)"));
    form->addRow(tr("Captioning model"), withBrowse(captionModelDir_, this, tr("LLaVA model folder")));
    generationModelDir_->setObjectName(QStringLiteral("generationModelDir"));
    generationModelDir_->setPlaceholderText(tr("an unCLIP pipeline folder, for Create (optional)"));
    form->addRow(tr("Picture model"), withBrowse(generationModelDir_, this, tr("unCLIP pipeline folder")));
    generatedDir_->setObjectName(QStringLiteral("generatedDir"));
    generatedDir_->setPlaceholderText(tr("the library's Generated folder"));
    form->addRow(tr("Saved pictures"), withBrowse(generatedDir_, this, tr("Folder for saved pictures")));
    device_->setObjectName(QStringLiteral("device"));
    device_->addItem(tr("Automatic (CUDA when available)"), QStringLiteral("auto"));
    device_->addItem(tr("CPU"), QStringLiteral("cpu"));
    device_->addItem(tr("CUDA"), QStringLiteral("cuda"));
    form->addRow(tr("Device"), device_);
    numberFormat_->setObjectName(QStringLiteral("numberFormat"));
    numberFormat_->addItem(tr("Automatic (bfloat16 where this CPU computes it natively, 8-bit weights for "
                              "captions and questions)"),
        QStringLiteral("auto"));
    numberFormat_->addItem(tr("float32"), QStringLiteral("float32"));
    numberFormat_->addItem(tr("bfloat16"), QStringLiteral("bfloat16"));
    numberFormat_->setToolTip(
        tr("The number format of the models' matrix products. Automatic picks bfloat16 "
           "only for models whose quality it keeps, and keeps the language model of captions and "
           "questions in 8 bits on CPUs with AVX2 or VNNI; the status bar says what was chosen. "
           "float32 or bfloat16 use that format everywhere, without 8-bit weights."));
    form->addRow(tr("Number format"), numberFormat_);
    threads_->setObjectName(QStringLiteral("cpuThreads"));
    threads_->setRange(0, 256);
    threads_->setSpecialValueText(tr("all cores (%1)").arg(QThread::idealThreadCount()));
    form->addRow(tr("CPU threads"), threads_);
    modelMemory_->setObjectName(QStringLiteral("modelMemory"));
    modelMemory_->setRange(0, 4096);
    modelMemory_->setSuffix(tr(" GB"));
    modelMemory_->setSpecialValueText(
        tr("automatic (%1 GB, half the memory)")
            .arg(static_cast<double>(ModelHost::defaultBudget()) / 1e9, 0, 'f', 1));
    modelMemory_->setToolTip(tr("Models stay loaded while they fit; past this, the least recently used one "
                                "that is not in use is unloaded first"));
    form->addRow(tr("Memory for models"), modelMemory_);
    gpuMemory_->setObjectName(QStringLiteral("gpuMemory"));
    gpuMemory_->setRange(0, 4096);
    gpuMemory_->setSuffix(tr(" GB"));
    const std::uint64_t gpuDefault = ModelHost::defaultGpuBudget();
    gpuMemory_->setSpecialValueText(gpuDefault ? tr("automatic (%1 GB, three quarters of it)")
                                                     .arg(static_cast<double>(gpuDefault) / 1e9, 0, 'f', 1)
                                               : tr("no GPU"));
    gpuMemory_->setEnabled(gpuDefault > 0);
    form->addRow(tr("GPU memory for models"), gpuMemory_);
    idleMinutes_->setObjectName(QStringLiteral("modelIdleMinutes"));
    idleMinutes_->setRange(0, 24 * 60);
    idleMinutes_->setSuffix(tr(" min"));
    idleMinutes_->setSpecialValueText(tr("never"));
    idleMinutes_->setToolTip(
        tr("A model nobody used for this long is unloaded, and loads again when needed"));
    form->addRow(tr("Unload models unused for"), idleMinutes_);
    excluded_->setObjectName(QStringLiteral("excluded"));
    excluded_->setPlaceholderText(tr("one pattern a line, e.g. 2019/raw or *.tmp.jpg"));
    excluded_->setMaximumHeight(90);
    form->addRow(tr("Excluded folders"), excluded_);
    thumbnailSize_->setObjectName(QStringLiteral("thumbnailSize"));
    thumbnailSize_->setRange(64, 320);
    thumbnailSize_->setSingleStep(16);
    thumbnailSize_->setSuffix(tr(" px"));
    form->addRow(tr("Thumbnail size"), thumbnailSize_);
    colorScheme_->setObjectName(QStringLiteral("colorScheme"));
    colorScheme_->addItem(tr("System"), QStringLiteral("system"));
    colorScheme_->addItem(tr("Light"), QStringLiteral("light"));
    colorScheme_->addItem(tr("Dark"), QStringLiteral("dark"));
    form->addRow(tr("Appearance"), colorScheme_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    form->addRow(buttons);
}

void SettingsDialog::load(const AppSettings& settings)
{
    libraryDir_->setText(settings.libraryDir());
    modelsDir_->setText(settings.modelsDir());
    modelDir_->setText(settings.modelDir());
    captionModelDir_->setText(settings.captionModelDir());
    generationModelDir_->setText(settings.generationModelDir());
    generatedDir_->setText(settings.generatedDir());
    device_->setCurrentIndex(qMax(0, device_->findData(settings.device())));
    numberFormat_->setCurrentIndex(qMax(0, numberFormat_->findData(settings.numberFormat())));
    threads_->setValue(settings.cpuThreads());
    modelMemory_->setValue(settings.modelMemoryGB());
    gpuMemory_->setValue(settings.gpuMemoryGB());
    idleMinutes_->setValue(settings.modelIdleMinutes());
    excluded_->setPlainText(settings.excludedPatterns().join('\n'));
    thumbnailSize_->setValue(settings.thumbnailSize());
    colorScheme_->setCurrentIndex(qMax(0, colorScheme_->findData(settings.colorScheme())));
}

void SettingsDialog::save(AppSettings& settings) const
{
    settings.setLibraryDir(libraryDir_->text().trimmed());
    settings.setModelsDir(modelsDir_->text().trimmed());
    settings.setModelDir(modelDir_->text().trimmed());
    settings.setCaptionModelDir(captionModelDir_->text().trimmed());
    settings.setGenerationModelDir(generationModelDir_->text().trimmed());
    settings.setGeneratedDir(generatedDir_->text().trimmed());
    settings.setDevice(device_->currentData().toString());
    settings.setNumberFormat(numberFormat_->currentData().toString());
    settings.setCpuThreads(threads_->value());
    settings.setModelMemoryGB(modelMemory_->value());
    settings.setGpuMemoryGB(gpuMemory_->value());
    settings.setModelIdleMinutes(idleMinutes_->value());
    QStringList patterns;
    for (const QString& line : excluded_->toPlainText().split('\n'))
        if (!line.trimmed().isEmpty())
            patterns.append(line.trimmed());
    settings.setExcludedPatterns(patterns);
    settings.setThumbnailSize(thumbnailSize_->value());
    settings.setColorScheme(colorScheme_->currentData().toString());
    settings.sync();
}

} // namespace pictor::ui
