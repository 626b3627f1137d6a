// The window's colours: the desktop's palette ("system"), or Fusion with a light or a dark palette, as
// Settings › Appearance chooses. Qt 6.4 (Debian 12) has no colour-scheme hint, so "system" keeps the
// platform theme's palette, which follows the desktop's dark mode where the theme does.
#pragma once

#include <QString>

namespace pictor::ui {

void applyColorScheme(const QString& scheme); // "system", "light" or "dark"
bool isDarkPalette(); // the application's window colour is dark

} // namespace pictor::ui
