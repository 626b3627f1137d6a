#include "bench/support/vit_b32_folder.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/support/bench_measures.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "indexer/float16.h"
#include "plugins/clip/clip_model.h"

namespace pictor::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool isLayerNorm(const std::string& name)
{
    return name.find("layer_norm") != std::string::npos || name.find("layrnorm") != std::string::npos
        || name.find("layernorm") != std::string::npos;
}

json clipConfigJson(const clip::ClipConfig& config)
{
    auto tower = [](const clip::ClipTowerConfig& t, const char* modelType) {
        return json {{"model_type", modelType}, {"hidden_size", t.hiddenSize},
            {"intermediate_size", t.intermediateSize}, {"num_attention_heads", t.numHeads},
            {"num_hidden_layers", t.numLayers}, {"hidden_act", t.hiddenAct},
            {"layer_norm_eps", t.layerNormEps}, {"projection_dim", 512}};
    };
    json text = tower(config.text, "clip_text_model");
    text["vocab_size"] = config.text.vocabSize;
    text["max_position_embeddings"] = config.text.maxPositions;
    text["eos_token_id"] = config.text.eosTokenId;
    text["bos_token_id"] = 0;
    text["pad_token_id"] = 1;
    text["projection_dim"] = config.projectionDim;
    json vision = tower(config.vision, "clip_vision_model");
    vision["image_size"] = config.vision.imageSize;
    vision["patch_size"] = config.vision.patchSize;
    vision["num_channels"] = config.vision.numChannels;
    vision["projection_dim"] = config.projectionDim;
    return {{"architectures", {"CLIPModel"}}, {"model_type", "clip"},
        {"projection_dim", config.projectionDim}, {"logit_scale_init_value", 2.6592},
        {"torch_dtype", "float32"}, {"text_config", text}, {"vision_config", vision}};
}

} // namespace

void writeVitB32Folder(const fs::path& dir, const fs::path& fixture, std::uint64_t seed, bool f16)
{
    const auto config = clip::ClipConfig::vitB32();
    fs::create_directories(dir);
    Rng rng(seed ^ 0x5eedull);
    const auto shapes = clip::ClipModel::parameterShapes(config);
    std::vector<std::vector<float>> storage;
    std::vector<std::vector<std::uint16_t>> halves;
    storage.reserve(shapes.size());
    halves.reserve(shapes.size());
    std::vector<TensorToWrite> tensors;
    for (const auto& [name, shape] : shapes) {
        std::int64_t numel = 1;
        for (auto d : shape)
            numel *= d;
        std::vector<float>& values = storage.emplace_back(static_cast<std::size_t>(numel));
        if (name == "logit_scale") {
            std::fill(values.begin(), values.end(), 2.6592f);
        } else if (isLayerNorm(name)) {
            std::fill(values.begin(), values.end(), name.ends_with(".weight") ? 1.0f : 0.0f);
        } else {
            for (std::size_t i = 0; i < values.size(); i += 2) {
                const auto [a, b] = rng.normalPair();
                values[i] = 0.02f * a;
                if (i + 1 < values.size())
                    values[i + 1] = 0.02f * b;
            }
        }
        if (f16) {
            std::vector<std::uint16_t>& half = halves.emplace_back(values.size());
            floatsToHalves(values, half);
            std::vector<float>().swap(values);
            tensors.push_back({name, DType::F16, shape, std::as_bytes(std::span(half))});
        } else {
            tensors.push_back({name, DType::F32, shape, std::as_bytes(std::span(values))});
        }
    }
    writeSafetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
    std::ofstream(dir / "config.json") << clipConfigJson(config).dump(2) << "\n";
    for (const char* file : {"vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json",
             "preprocessor_config.json"}) {
        fs::copy_file(fixture / file, dir / file, fs::copy_options::overwrite_existing);
        fs::permissions(dir / file, fs::perms::owner_write, fs::perm_options::add); // fixtures are read-only
    }
}

void writeVitB32FolderInChild(const fs::path& dir, const fs::path& fixture, std::uint64_t seed, bool f16)
{
    std::fflush(nullptr);
    const pid_t child = fork();
    PICTOR_CHECK(child >= 0, "fork failed: ", std::strerror(errno));
    if (child == 0) {
        int status = 0;
        try {
            writeVitB32Folder(dir, fixture, seed, f16);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "writing the model folder: %s\n", e.what());
            status = 1;
        }
        std::fflush(nullptr);
        _exit(status);
    }
    int status = 0;
    PICTOR_CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "could not write the model folder ", dir.string());
}

} // namespace pictor::bench
