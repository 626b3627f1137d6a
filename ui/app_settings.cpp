#include "ui/app_settings.h"

#include <QDir>
#include <QSettings>

namespace pictor::ui {
namespace {

QSettings store()
{
    return QSettings(
        QSettings::IniFormat, QSettings::UserScope, QStringLiteral("pictor"), QStringLiteral("pictor"));
}

} // namespace

AppSettings::AppSettings() = default;

QString AppSettings::libraryDir() const
{
    return store().value("library/dir").toString();
}
void AppSettings::setLibraryDir(const QString& dir)
{
    store().setValue("library/dir", dir);
}
QString AppSettings::modelsDir() const
{
    return store().value("models/folder").toString();
}
void AppSettings::setModelsDir(const QString& dir)
{
    store().setValue("models/folder", dir);
}
ModelDiscoveryOptions AppSettings::modelDiscovery() const
{
    ModelDiscoveryOptions options;
    QString models = modelsDir();
    if (models.isEmpty() && QDir(QDir::home().filePath(QStringLiteral("models"))).exists())
        models = QDir::home().filePath(QStringLiteral("models"));
    QStringList folders;
    if (!models.isEmpty())
        folders << models;
    for (const QString& folder : extraModelFolders())
        if (!folders.contains(folder))
            folders << folder;
    for (const QString& folder : folders)
        options.folders.emplace_back(folder.toStdString());
    options.hubCache = huggingFaceHubCache();
    options.activeEmbedding = modelDir().toStdString();
    options.activeCaptioning = captionModelDir().toStdString();
    options.activeGeneration = generationModelDir().toStdString();
    return options;
}

QStringList AppSettings::extraModelFolders() const
{
    return store().value("models/extraFolders").toStringList();
}
void AppSettings::setExtraModelFolders(const QStringList& folders)
{
    store().setValue("models/extraFolders", folders);
}
QString AppSettings::modelDir() const
{
    return store().value("models/embedding").toString();
}
void AppSettings::setModelDir(const QString& dir)
{
    store().setValue("models/embedding", dir);
}
QString AppSettings::captionModelDir() const
{
    return store().value("models/captioning").toString();
}
void AppSettings::setCaptionModelDir(const QString& dir)
{
    store().setValue("models/captioning", dir);
}

QString AppSettings::generationModelDir() const
{
    return store().value("models/generation").toString();
}
void AppSettings::setGenerationModelDir(const QString& dir)
{
    store().setValue("models/generation", dir);
}

QString AppSettings::generatedDir() const
{
    return store().value("library/generatedDir").toString();
}
void AppSettings::setGeneratedDir(const QString& dir)
{
    store().setValue("library/generatedDir", dir);
}

QString AppSettings::device() const
{
    const QString device = store().value("compute/device", "auto").toString();
    return device == "cpu" || device == "cuda" ? device : QStringLiteral("auto");
}
void AppSettings::setDevice(const QString& device)
{
    store().setValue("compute/device", device);
}

QString AppSettings::numberFormat() const
{
    const QString format = store().value("compute/numberFormat", "auto").toString();
    return format == "float32" || format == "bfloat16" ? format : QStringLiteral("auto");
}
void AppSettings::setNumberFormat(const QString& format)
{
    store().setValue("compute/numberFormat", format);
}

int AppSettings::cpuThreads() const
{
    return qMax(0, store().value("compute/cpuThreads", 0).toInt());
}
void AppSettings::setCpuThreads(int threads)
{
    store().setValue("compute/cpuThreads", qMax(0, threads));
}

int AppSettings::modelMemoryGB() const
{
    return qMax(0, store().value("compute/modelMemoryGB", 0).toInt());
}
void AppSettings::setModelMemoryGB(int gigabytes)
{
    store().setValue("compute/modelMemoryGB", qMax(0, gigabytes));
}

int AppSettings::gpuMemoryGB() const
{
    return qMax(0, store().value("compute/gpuMemoryGB", 0).toInt());
}
void AppSettings::setGpuMemoryGB(int gigabytes)
{
    store().setValue("compute/gpuMemoryGB", qMax(0, gigabytes));
}

int AppSettings::modelIdleMinutes() const
{
    return qMax(0, store().value("compute/modelIdleMinutes", 10).toInt());
}
void AppSettings::setModelIdleMinutes(int minutes)
{
    store().setValue("compute/modelIdleMinutes", qMax(0, minutes));
}

QStringList AppSettings::recentPrompts() const
{
    return store().value("create/recentPrompts").toStringList();
}
void AppSettings::addRecentPrompt(const QString& prompt)
{
    QStringList prompts = recentPrompts();
    prompts.removeAll(prompt);
    prompts.prepend(prompt);
    while (prompts.size() > 20)
        prompts.removeLast();
    store().setValue("create/recentPrompts", prompts);
}

QStringList AppSettings::excludedPatterns() const
{
    return store().value("library/excludedPatterns").toStringList();
}
void AppSettings::setExcludedPatterns(const QStringList& patterns)
{
    store().setValue("library/excludedPatterns", patterns);
}

QString AppSettings::colorScheme() const
{
    const QString scheme = store().value("appearance/colorScheme", QStringLiteral("system")).toString();
    return scheme == QStringLiteral("light") || scheme == QStringLiteral("dark") ? scheme
                                                                                 : QStringLiteral("system");
}
void AppSettings::setColorScheme(const QString& scheme)
{
    store().setValue("appearance/colorScheme", scheme);
}

int AppSettings::thumbnailSize() const
{
    return qBound(64, store().value("gallery/thumbnailSize", 160).toInt(), 320);
}
void AppSettings::setThumbnailSize(int size)
{
    store().setValue("gallery/thumbnailSize", qBound(64, size, 320));
}

QList<SavedSearch> AppSettings::savedSearches() const
{
    QSettings settings = store();
    QList<SavedSearch> out;
    const int count = settings.beginReadArray("savedSearches");
    for (int i = 0; i < count; ++i) {
        settings.setArrayIndex(i);
        out.append({settings.value("name").toString(), settings.value("text").toString()});
    }
    settings.endArray();
    return out;
}

void AppSettings::setSavedSearches(const QList<SavedSearch>& searches)
{
    QSettings settings = store();
    settings.remove("savedSearches");
    settings.beginWriteArray("savedSearches", static_cast<int>(searches.size()));
    for (int i = 0; i < searches.size(); ++i) {
        settings.setArrayIndex(i);
        settings.setValue("name", searches[i].name);
        settings.setValue("text", searches[i].text);
    }
    settings.endArray();
}

QByteArray AppSettings::windowGeometry() const
{
    return store().value("window/geometry").toByteArray();
}
void AppSettings::setWindowGeometry(const QByteArray& geometry)
{
    store().setValue("window/geometry", geometry);
}
QByteArray AppSettings::windowState() const
{
    return store().value("window/state").toByteArray();
}
void AppSettings::setWindowState(const QByteArray& state)
{
    store().setValue("window/state", state);
}
QByteArray AppSettings::splitterState() const
{
    return store().value("window/splitter").toByteArray();
}
void AppSettings::setSplitterState(const QByteArray& state)
{
    store().setValue("window/splitter", state);
}

void AppSettings::sync()
{
    store().sync();
}

} // namespace pictor::ui
