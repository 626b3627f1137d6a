// The question a window asks after an index run kept photos it would otherwise have forgotten: many
// photos vanished from a folder at once, or another drive is mounted at a folder's place. Keeping them is
// the default (a drive being copied back, a mistaken move); forgetting them is an explicit choice.
#pragma once

#include <QWidget>
#include <filesystem>
#include <functional>
#include <vector>

#include "ui/indexing_jobs.h"

namespace pictor::ui {

// Shows a non-modal question (object name "vanishedPhotosQuestion") when `job` held photos back; `forget`
// runs with the folders concerned when the user chooses to forget them. Does nothing otherwise.
void askAboutVanishedPhotos(QWidget* parent, const JobInfo& job,
    std::function<void(const std::vector<std::filesystem::path>&)> forget);

} // namespace pictor::ui
