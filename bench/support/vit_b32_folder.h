// A CLIP folder with ViT-B/32 shapes and random weights (N(0, 0.02), LayerNorm weights 1), written as a
// Hugging Face folder (config.json, model.safetensors, the tokenizer and preprocessor files of a fixture
// model), so benchmarks run a real-sized model without downloading one. F32 as
// openai/clip-vit-base-patch32 ships (aliasing the mapped file when loaded), or F16 (converted at load).
#pragma once

#include <cstdint>
#include <filesystem>

namespace pictor::bench {

// `fixture`: a CLIP fixture folder whose tokenizer and preprocessor files are copied (clip-tiny-a).
void writeVitB32Folder(
    const std::filesystem::path& dir, const std::filesystem::path& fixture, std::uint64_t seed, bool f16);

// The same in a forked child, so the ~1.2 GB of generation buffers never count in this process's peak
// RSS. Fork before starting threads (Qt, LibTorch): the child only runs this code and exits.
void writeVitB32FolderInChild(
    const std::filesystem::path& dir, const std::filesystem::path& fixture, std::uint64_t seed, bool f16);

} // namespace pictor::bench
