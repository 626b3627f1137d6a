// Finding model folders on this machine without loading them (no Torch, no Qt): the app's models folders
// and the user's Hugging Face cache (`models--<org>--<name>/snapshots/<revision>/`, whose files are
// usually symbolic links into `../../blobs/`). A model folder is a folder with a config.json, or a
// diffusers pipeline folder with a model_index.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace pictor {

enum class ModelSource { ModelsFolder, HuggingFaceCache };
// What the app can do with a family; families the app does not know are Unsupported.
enum class ModelRole { Embedding, Captioning, Generation, Unsupported };

struct DiscoveredModel {
    std::string name; // the folder's name; "org/name" (plus "@<revision>" when several) from the cache
    std::filesystem::path dir;
    // config.json model_type ("unclip" for unCLIP pipeline folders); empty when it cannot be read
    std::string family;
    std::uint64_t bytesOnDisk = 0; // every file under dir, links followed, each file once
    ModelSource source = ModelSource::ModelsFolder;
    bool activeEmbedding = false;
    bool activeCaptioning = false;
    bool activeGeneration = false;
};

struct ModelDiscoveryOptions {
    // Each is a model folder itself or a folder of model folders (its direct subfolders are looked at).
    std::vector<std::filesystem::path> folders;
    std::filesystem::path hubCache; // empty: none
    std::filesystem::path activeEmbedding;
    std::filesystem::path activeCaptioning;
    std::filesystem::path activeGeneration;
};

// How a person knows a model folder: "org/name" for a snapshot of the Hugging Face cache
// (.../models--org--name/snapshots/<commit>), else the folder's name.
std::string modelDisplayName(const std::filesystem::path& dir);

// $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub (as huggingface_hub resolves it).
std::filesystem::path huggingFaceHubCache();

// The models folders first (in order), then the cache, each sorted by name; a folder reached twice is
// listed once. Unreadable folders and files are skipped, never an error.
std::vector<DiscoveredModel> discoverModels(const ModelDiscoveryOptions& options);

// Bytes of the regular files under `dir`, symbolic links followed (files reached through several links,
// like the cache's blobs, counted once); links to folders are not followed.
std::uint64_t sizeOnDisk(const std::filesystem::path& dir);

// The families the app's model module registers (app/model_families.cpp): clip for search, llava for
// captions, unclip for pictures.
ModelRole roleOfFamily(std::string_view family);

} // namespace pictor
