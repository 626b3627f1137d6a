// Settings: library location, models folder and embedding model, device, CPU threads, excluded folder
// patterns, thumbnail size. Stored with QSettings (AppSettings) when accepted.
#pragma once

#include <QDialog>

#include "ui/app_settings.h"

class QComboBox;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace pictor::ui {

class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    explicit SettingsDialog(QWidget* parent = nullptr);
    void load(const AppSettings& settings);
    void save(AppSettings& settings) const;

private:
    QLineEdit* libraryDir_;
    QLineEdit* modelsDir_;
    QLineEdit* modelDir_;
    QLineEdit* captionModelDir_;
    QLineEdit* generationModelDir_;
    QLineEdit* generatedDir_;
    QComboBox* device_;
    QComboBox* numberFormat_;
    QSpinBox* threads_;
    QSpinBox* modelMemory_;
    QSpinBox* gpuMemory_;
    QSpinBox* idleMinutes_;
    QPlainTextEdit* excluded_;
    QSpinBox* thumbnailSize_;
    QComboBox* colorScheme_;
};

} // namespace pictor::ui
