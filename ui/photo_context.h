// What Ask tells the model about the photo besides its pixels: the EXIF date, place (GPS) and camera as
// one short line before the first question of a conversation (docs/ARCHITECTURE.md, "Captions and Ask").
#pragma once

#include <string>

#include "indexer/catalog.h"

namespace pictor::ui {

// "Photo details from the file: taken 2021-06-03 14:22; place: latitude 48.85840, longitude 2.29450;
// camera: Canon EOS 5D." Empty when the photo has none of them.
std::string photoContextLine(const PhotoRecord& photo);

// The first question of a conversation with the context line before it; later questions go as they are.
std::string questionWithContext(const std::string& contextLine, const std::string& question);

} // namespace pictor::ui
