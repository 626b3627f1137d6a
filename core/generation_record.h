// How a generated picture was made, and the PNG text chunks that carry it: A1111's "parameters" (the
// prompt, then "Steps: ..., Seed: ..., Model: ..." and the stage fields) and "pictor" (the same as JSON).
// One place for the CLI and the window.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
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
    int batchIndex = 0;
    int batchSize = 1;
    bool replayedNoise = false;
};

std::vector<std::pair<std::string, std::string>> generationTextChunks(const GenerationRecord& record);

} // namespace pictor
