// `pictor models verify` and the desktop app's Verify button share this: the folder is loaded completely
// on the CPU through the registry (every tensor bound strictly, tokenizer and preprocessor loaded), so any
// problem surfaces as one pictor::Error. No Torch here: the families come from the registry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/embedder.h"

namespace pictor {

struct ModelVerification {
    std::string family; // "clip", "llava"
    std::string modelId;
    std::size_t tensors = 0;
    std::size_t files = 0; // safetensors files
    std::uint64_t tensorBytes = 0;
    // Image-text embedding families only (dimension 0 otherwise).
    int dimension = 0;
    int imageWidth = 0;
    int imageHeight = 0;
    std::string chatTemplate; // vision-chat families only
    std::vector<GeneratorComponent> components; // image generators (diffusers pipeline folders) only
};

// Picks the family kind: an image generator for a diffusers pipeline folder (model_index.json), else from
// config.json's model_type a vision-chat family (llava) when the registry has one of that type, else an
// embedding family (an unknown type is the registry's error naming the supported ones). Call it where the
// models run (the compute worker in the app).
ModelVerification verifyModelFolder(const ModelRegistry& registry, const std::filesystem::path& dir);

// The report `pictor models verify` prints: "OK <dir>" and one "  key: value" line per fact.
std::string describeVerification(const ModelVerification& result, const std::filesystem::path& dir);

} // namespace pictor
