// The two tensor-name schemes of Hugging Face LLaVA checkpoints, as a data table. The model declares its
// slots under the prefixes of the scheme the checkpoint uses, so declared names stay the checkpoint keys.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "core/safetensors.h"

namespace pictor::llava {

struct CheckpointNames {
    const char* scheme;
    const char* visionTower; // + ".vision_model.*"
    const char* projector; // + ".linear_1.*", ".linear_2.*"
    const char* languageModel; // + ".embed_tokens.*", ".layers.N.*", ".norm.*"
    const char* lmHead; // + ".weight"
};

inline constexpr std::array kCheckpointNames {
    // transformers < 4.52 (the llava-hf checkpoints on the hub)
    CheckpointNames {"transformers < 4.52", "vision_tower", "multi_modal_projector", "language_model.model",
        "language_model.lm_head"},
    // transformers >= 4.52 re-saves (LlavaModel inside LlavaForConditionalGeneration)
    CheckpointNames {"transformers >= 4.52", "model.vision_tower", "model.multi_modal_projector",
        "model.language_model", "lm_head"},
};

// The scheme whose "<languageModel>.embed_tokens.weight" the checkpoint holds; an error naming the keys
// looked for otherwise.
const CheckpointNames& detectCheckpointNames(const Checkpoint& checkpoint);

// Keys LLaVA checkpoints may carry that the model does not use: old buffers and SigLIP's pooling head.
const std::vector<std::string>& ignorableKeys();

} // namespace pictor::llava
