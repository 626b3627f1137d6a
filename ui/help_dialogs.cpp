#include "ui/help_dialogs.h"

#include <QFileInfo>
#include <QMessageBox>

#include "ui/app_settings.h"

namespace pictor::ui {

QString aboutText(const std::filesystem::path& libraryDir)
{
    QStringList models;
    for (const auto& folder : AppSettings().modelDiscovery().folders)
        models << QString::fromStdString(folder.string()).toHtmlEscaped();
    models << QString::fromStdString(AppSettings().modelDiscovery().hubCache.string()).toHtmlEscaped()
            + QObject::tr(" (Hugging Face cache)");
    return QObject::tr(
        "<h3>Pictor %1</h3>"
        "<p>Search, understand and create photos, locally: nothing leaves this computer.</p>"
        "<p><b>Library:</b> %2<br><b>Models:</b> %3</p>"
        "<p>The models are the checkpoints you chose (CLIP, LLaVA, Karlo's unCLIP), each under its "
        "own licence, shown on its Hugging Face page. Pictor's model code reimplements the public "
        "reference code (OpenAI CLIP, MIT; Hugging Face transformers and diffusers, Apache-2.0). "
        "It is built on Qt (LGPL-3.0), LibTorch (BSD-3-Clause), FAISS (MIT), SQLite (public "
        "domain), OpenCV (Apache-2.0), libjpeg-turbo, libpng, libwebp, libheif, exiv2 and "
        "ICU.</p>")
        .arg(QStringLiteral(PICTOR_VERSION), QString::fromStdString(libraryDir.string()).toHtmlEscaped(),
            models.join(QStringLiteral("<br>")));
}

QString shortcutsText()
{
    const std::pair<const char*, const char*> rows[] = {
        {"Ctrl+F", "Search"},
        {"Ctrl+O", "Add a folder"},
        {"Enter / double-click", "Open the photo"},
        {"Left / Right", "Previous / next photo in the viewer"},
        {"Esc", "Close the viewer; clear the search"},
        {"T", "Tag the selected photos, or the photo in the viewer"},
        {"Ctrl+G", "Create (pictures from words)"},
        {"Ctrl+,", "Settings"},
        {"Ctrl+Q", "Quit"},
    };
    QString html = QStringLiteral("<table cellspacing='6'>");
    for (const auto& [keys, what] : rows)
        html += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>")
                    .arg(QObject::tr(keys), QObject::tr(what));
    return html + QStringLiteral("</table>");
}

void showAbout(QWidget* parent, const std::filesystem::path& libraryDir)
{
    auto* box = new QMessageBox(QMessageBox::Information, QObject::tr("About Pictor"), aboutText(libraryDir),
        QMessageBox::Ok, parent);
    box->setObjectName(QStringLiteral("aboutDialog"));
    box->setTextFormat(Qt::RichText);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void showShortcuts(QWidget* parent)
{
    auto* box = new QMessageBox(
        QMessageBox::NoIcon, QObject::tr("Keyboard shortcuts"), shortcutsText(), QMessageBox::Ok, parent);
    box->setObjectName(QStringLiteral("shortcutsDialog"));
    box->setTextFormat(Qt::RichText);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

QUrl readmeUrl()
{
    for (const char* candidate : {PICTOR_INSTALLED_README, PICTOR_SOURCE_README})
        if (QFileInfo::exists(QString::fromUtf8(candidate)))
            return QUrl::fromLocalFile(QString::fromUtf8(candidate));
    return {};
}

} // namespace pictor::ui
