// Asks for a Hugging Face repository id and an optional revision (the model manager's "Download…"); OK is
// enabled only for a valid id and revision.
#pragma once

#include <QString>
#include <optional>

class QWidget;

namespace pictor::ui {

struct HubRepoChoice {
    QString repoId;
    QString revision; // "main" when left empty
};

// Modal; nullopt when cancelled.
std::optional<HubRepoChoice> askForHubRepo(QWidget* parent);

} // namespace pictor::ui
