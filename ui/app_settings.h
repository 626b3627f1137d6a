// The desktop app's settings: typed accessors over QSettings (INI format in the XDG config folder,
// ~/.config/pictor/pictor.ini). One place knows the keys and the defaults.
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include "core/model_discovery.h"

namespace pictor::ui {

struct SavedSearch {
    QString name;
    QString text;
    bool operator==(const SavedSearch&) const = default;
};

class AppSettings {
public:
    AppSettings();

    // Empty: the default library folder ($XDG_DATA_HOME/pictor).
    QString libraryDir() const;
    void setLibraryDir(const QString& dir);
    // Where the user keeps model folders (each a Hugging Face folder); empty: ~/models when it exists.
    QString modelsDir() const;
    void setModelsDir(const QString& dir);
    // Folders added in the model manager (each a model folder or a folder of them), besides modelsDir().
    QStringList extraModelFolders() const;
    void setExtraModelFolders(const QStringList& folders);
    // Where the model manager (and `pictor models list`) look for models: modelsDir() (or ~/models), the
    // extra folders, the Hugging Face cache; with the models in use marked.
    ModelDiscoveryOptions modelDiscovery() const;
    // The embedding model folder; empty: the one the library was last indexed with.
    QString modelDir() const;
    void setModelDir(const QString& dir);
    // The captioning / Ask model folder (model_type llava); empty: none, no Caption or Ask actions.
    QString captionModelDir() const;
    void setCaptionModelDir(const QString& dir);
    // The picture model folder (a diffusers unCLIP pipeline); empty: none, the Create panel says so.
    QString generationModelDir() const;
    void setGenerationModelDir(const QString& dir);
    // Where saved pictures go (a folder of the library, indexed once saved); empty: <library>/Generated.
    QString generatedDir() const;
    void setGeneratedDir(const QString& dir);
    // The Create panel's recent prompts, newest first (at most 20).
    QStringList recentPrompts() const;
    void addRecentPrompt(const QString& prompt);
    QString device() const; // "auto", "cpu" or "cuda"
    void setDevice(const QString& device);
    // The models' number format: "auto" (bfloat16 where the CPU computes it natively and the model's
    // quality gate allows it, else float32), "float32" or "bfloat16".
    QString numberFormat() const;
    void setNumberFormat(const QString& format);
    int cpuThreads() const; // 0: every core
    void setCpuThreads(int threads);
    // The memory models may take before the least recently used idle ones are unloaded, in GB (10^9 bytes);
    // 0: half of this machine's memory.
    int modelMemoryGB() const;
    void setModelMemoryGB(int gigabytes);
    // The same for the GPU's memory; 0: three quarters of it.
    int gpuMemoryGB() const;
    void setGpuMemoryGB(int gigabytes);
    // Models nobody used for this long are unloaded; 0: never. Default 10.
    int modelIdleMinutes() const;
    void setModelIdleMinutes(int minutes);
    QStringList excludedPatterns() const;
    void setExcludedPatterns(const QStringList& patterns);
    int thumbnailSize() const; // pixels, the longest edge in the grid
    void setThumbnailSize(int size);
    // "system" (the desktop's palette), "light" or "dark".
    QString colorScheme() const;
    void setColorScheme(const QString& scheme);

    QList<SavedSearch> savedSearches() const;
    void setSavedSearches(const QList<SavedSearch>& searches);

    QByteArray windowGeometry() const;
    void setWindowGeometry(const QByteArray& geometry);
    QByteArray windowState() const;
    void setWindowState(const QByteArray& state);
    QByteArray splitterState() const;
    void setSplitterState(const QByteArray& state);

    void sync();
};

} // namespace pictor::ui
