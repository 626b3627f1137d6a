// The Help menu's dialogs: About (version, the code's licences, where the library and the models live)
// and the keyboard shortcuts; and where the README is (installed, else the source tree's).
#pragma once

#include <QString>
#include <QUrl>
#include <filesystem>

class QWidget;

namespace pictor::ui {

QString aboutText(const std::filesystem::path& libraryDir);
QString shortcutsText();
void showAbout(QWidget* parent, const std::filesystem::path& libraryDir);
void showShortcuts(QWidget* parent);
QUrl readmeUrl(); // empty when no README is found

} // namespace pictor::ui
