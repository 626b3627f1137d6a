// PNG files with text chunks: generated pictures carry their parameters (A1111's "parameters" chunk and
// a "pictor" JSON chunk), so a picture says how it was made and can be made again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/image.h"

namespace pictor {

// PNG bytes (libpng) with one text chunk per entry, in order: tEXt when the text is ASCII, else iTXt
// (UTF-8). Keywords are 1-79 Latin-1 characters as the PNG specification wants; others are an error.
std::vector<std::uint8_t> encodePngWithText(
    const RgbImage& image, const std::vector<std::pair<std::string, std::string>>& texts);

// Writes the PNG to a temporary file beside `file`, then renames it over `file`, so a failed write never
// leaves a half picture; errors name the file.
void writePngWithText(const std::filesystem::path& file, const RgbImage& image,
    const std::vector<std::pair<std::string, std::string>>& texts);

// The text chunks (tEXt, zTXt, iTXt) of a PNG file, keyword -> text; errors name the file.
std::map<std::string, std::string> readPngText(const std::filesystem::path& file);
// The same from a file's bytes already read (`file` names it in errors).
std::map<std::string, std::string> readPngText(
    std::span<const std::uint8_t> bytes, const std::filesystem::path& file);

} // namespace pictor
