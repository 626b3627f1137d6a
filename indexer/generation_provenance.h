// A generated picture's provenance into the catalog: the "pictor" PNG chunk it carries (written by
// `pictor generate` and the Create panel) is read when the picture is indexed, so provenance survives a
// catalog rebuilt from the files, and a picture made anywhere is known once it is in a library folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

namespace pictor {

class Catalog;

// The "pictor" chunk of a PNG file's bytes; nullopt for other files, PNGs without it, and broken ones
// (the decoder reports those).
std::optional<std::string> generationChunkOf(
    std::span<const std::uint8_t> bytes, const std::filesystem::path& file);

// Records the generation of photo `photoId` from its chunk, with the source photo's path (linked to its
// id now, or by Catalog::linkGenerationSources once it is catalogued). Returns false (and records
// nothing) when the chunk is not ours.
bool catalogGeneration(Catalog& catalog, std::int64_t photoId, const std::string& chunk);

} // namespace pictor
