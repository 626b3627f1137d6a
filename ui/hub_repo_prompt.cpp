#include "ui/hub_repo_prompt.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

#include "ui/hub_repo.h"

namespace pictor::ui {

std::optional<HubRepoChoice> askForHubRepo(QWidget* parent)
{
    QDialog dialog(parent);
    dialog.setWindowTitle(QObject::tr("Download a model"));
    auto* repo = new QLineEdit(&dialog);
    repo->setObjectName(QStringLiteral("hubRepoId"));
    repo->setPlaceholderText(QStringLiteral("openai/clip-vit-base-patch32"));
    auto* revision = new QLineEdit(&dialog);
    revision->setObjectName(QStringLiteral("hubRevision"));
    revision->setPlaceholderText(QStringLiteral("main"));
    auto* hint = new QLabel(
        QObject::tr("From the Hugging Face hub ($HF_ENDPOINT) into its cache; safetensors weights only."),
        &dialog);
    hint->setWordWrap(true);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    buttons->button(QDialogButtonBox::Ok)->setText(QObject::tr("Download"));

    auto* form = new QFormLayout(&dialog);
    form->addRow(QObject::tr("Repository:"), repo);
    form->addRow(QObject::tr("Revision:"), revision);
    form->addRow(hint);
    form->addRow(buttons);

    const auto validate = [&] {
        const QString rev = revision->text().trimmed();
        buttons->button(QDialogButtonBox::Ok)
            ->setEnabled(
                hub::isValidRepoId(repo->text().trimmed()) && (rev.isEmpty() || hub::isValidRevision(rev)));
    };
    QObject::connect(repo, &QLineEdit::textChanged, &dialog, validate);
    QObject::connect(revision, &QLineEdit::textChanged, &dialog, validate);
    QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    validate();
    if (dialog.exec() != QDialog::Accepted)
        return std::nullopt;
    const QString rev = revision->text().trimmed();
    return HubRepoChoice {repo->text().trimmed(), rev.isEmpty() ? QStringLiteral("main") : rev};
}

} // namespace pictor::ui
