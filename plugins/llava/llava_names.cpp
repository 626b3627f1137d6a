#include "plugins/llava/llava_names.h"

#include "core/error.h"

namespace pictor::llava {

const CheckpointNames& detectCheckpointNames(const Checkpoint& checkpoint)
{
    std::string tried;
    for (const CheckpointNames& names : kCheckpointNames) {
        const std::string key = std::string(names.languageModel) + ".embed_tokens.weight";
        if (checkpoint.find(key))
            return names;
        tried += (tried.empty() ? "'" : ", '") + key + "'";
    }
    const std::string file = checkpoint.files().empty() ? "checkpoint" : checkpoint.files().front().string();
    PICTOR_FAIL("[llava] ", file, ": not a LLaVA checkpoint (none of ", tried, " is present)");
}

const std::vector<std::string>& ignorableKeys()
{
    static const std::vector<std::string> keys {
        "*.position_ids", // buffers older vision checkpoints saved
        "*.rotary_emb.inv_freq", // buffers older Llama checkpoints saved
        // SigLIP's attention-pooling head (vision_use_head): LLaVA reads hidden states, never the head.
        "*.vision_model.head.probe",
        "*.vision_model.head.attention.in_proj_weight",
        "*.vision_model.head.attention.in_proj_bias",
        "*.vision_model.head.attention.out_proj.weight",
        "*.vision_model.head.attention.out_proj.bias",
        "*.vision_model.head.layernorm.weight",
        "*.vision_model.head.layernorm.bias",
        "*.vision_model.head.mlp.fc1.weight",
        "*.vision_model.head.mlp.fc1.bias",
        "*.vision_model.head.mlp.fc2.weight",
        "*.vision_model.head.mlp.fc2.bias",
    };
    return keys;
}

} // namespace pictor::llava
