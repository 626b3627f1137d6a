#include "ui/vanished_photos_question.h"

#include <QMessageBox>
#include <QPushButton>

namespace pictor::ui {
namespace {

QString folderList(const std::vector<std::filesystem::path>& roots)
{
    QStringList names;
    for (const auto& root : roots)
        names << QString::fromStdString(root.string());
    return names.join(QStringLiteral(", "));
}

} // namespace

void askAboutVanishedPhotos(QWidget* parent, const JobInfo& job,
    std::function<void(const std::vector<std::filesystem::path>&)> forget)
{
    if (job.deletionsHeld == 0 && job.otherDriveRoots.empty())
        return;
    QStringList paragraphs;
    if (job.deletionsHeld > 0)
        paragraphs << QObject::tr("%1 photos vanished at once from %2, more than half of what it held.")
                          .arg(job.deletionsHeld)
                          .arg(folderList(job.massDeletionRoots));
    if (!job.otherDriveRoots.empty())
        paragraphs << QObject::tr("%1 is now on another drive, and some of its photos are not on it.")
                          .arg(folderList(job.otherDriveRoots));
    paragraphs << QObject::tr(
        "They are kept in the library, with their captions and tags, and are still found, "
        "in case they come back (a drive being copied, a folder moved by mistake). "
        "Forget them?");
    auto* box = new QMessageBox(QMessageBox::Question, QObject::tr("Photos gone from the library's folders"),
        paragraphs.join(QStringLiteral("\n\n")), QMessageBox::NoButton, parent);
    box->setObjectName(QStringLiteral("vanishedPhotosQuestion"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    QPushButton* keep = box->addButton(QObject::tr("Keep them"), QMessageBox::RejectRole);
    keep->setObjectName(QStringLiteral("keepVanished"));
    QPushButton* forgetButton = box->addButton(QObject::tr("Forget them"), QMessageBox::DestructiveRole);
    forgetButton->setObjectName(QStringLiteral("forgetVanished"));
    box->setDefaultButton(keep);
    std::vector<std::filesystem::path> roots = job.massDeletionRoots;
    roots.insert(roots.end(), job.otherDriveRoots.begin(), job.otherDriveRoots.end());
    QObject::connect(forgetButton, &QPushButton::clicked, box,
        [forget = std::move(forget), roots = std::move(roots)] { forget(roots); });
    box->open();
}

} // namespace pictor::ui
