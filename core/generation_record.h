// How a generated picture was made, and the PNG text chunks that carry it: A1111's "parameters" (the
// prompt, then "Steps: ..., Seed: ..., Model: ..." and the stage fields) and "pictor" (the same as JSON).
// One place for the CLI and the window.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/image_generator.h"

namespace pictor {

struct GenerationRecord {
    std::string prompt;
    GenerationRequest settings; // seed, steps, guidance, strength, base caption (the rest is ignored)
    std::filesystem::path modelDir;
    std::string modelId;
    std::filesystem::path sourceImage; // empty: from words alone
    std::string query; // the search it came from ("Generate from this search"), if any
    int batchIndex = 0;
    int batchSize = 1;
    bool replayedNoise = false;
};

std::vector<std::pair<std::string, std::string>> generationTextChunks(const GenerationRecord& record);

// The "pictor" chunk's JSON read back; nullopt when it is not JSON of ours (another program's chunk, a
// damaged file): a picture with unreadable provenance is still a picture.
std::optional<GenerationRecord> readGenerationJson(std::string_view json);

} // namespace pictor
