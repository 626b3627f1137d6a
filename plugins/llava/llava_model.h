// LLaVA (transformers' LlavaForConditionalGeneration): a vision tower (CLIP or SigLIP) read at a hidden
// layer, the 2-layer MLP projector and a Llama-style language model. The loaded model is immutable and
// may be shared between threads; a LlavaSession holds one conversation's KV cache and random generator.
// Torch types: this header is for the plugin, its tests and benches (the app will use a Torch-free one).
#pragma once

#include <filesystem>
#include <memory>

#include <ATen/ATen.h>

#include "core/nn/decoder_blocks.h"
#include "core/nn/device.h"
#include "core/nn/generation.h"
#include "core/safetensors.h"
#include "plugins/llava/llava_config.h"

namespace pictor::llava {

struct VisionFeatures {
    at::Tensor selected; // [images, tokens, vision hidden x layers]: the chosen hidden states, class token
                         // dropped or not
    at::Tensor image_features; // [images, tokens, text hidden]: the projector's output
};

// hidden_states[0] and the encoder layers of a vision tower.
class VisionTower {
public:
    virtual ~VisionTower() = default;
    virtual at::Tensor embed(const at::Tensor& pixel_values) const = 0;
    virtual const nn::Encoder& encoder() const = 0;
    virtual nn::Encoder& encoder() = 0;
};

class LlavaModel {
public:
    // Loads config.json (+ generation_config.json) and model.safetensors or its shards onto `device`.
    static std::shared_ptr<const LlavaModel> load(
        const std::filesystem::path& modelDir, const nn::ComputeDevice& device);
    // The same architecture with random weights (benchmarks in real shapes; nothing is read).
    static std::shared_ptr<const LlavaModel> withRandomWeights(
        const LlavaConfig& config, const nn::ComputeDevice& device, std::uint64_t seed);
    // Every tensor a checkpoint of this architecture holds (transformers < 4.52 names).
    static std::vector<std::pair<std::string, std::vector<std::int64_t>>> parameterShapes(
        const LlavaConfig& config);

    // pixel_values [images, 3, H, W], preprocessed with the model's preprocessor_config.json.
    // ImageEncoding (llava_stepwise.h) run to the end: the same steps, the same bits.
    VisionFeatures encodeImages(const at::Tensor& pixel_values) const;
    const VisionTower& visionTower() const { return *vision_tower_; }
    // The projector over the selected hidden states [images, tokens, vision hidden x layers].
    at::Tensor project(const at::Tensor& selected) const;
    // Token embeddings of input_ids [1, tokens] with the image-token positions replaced, in order, by the
    // rows of image_features [images, tokens per image, hidden] (undefined when there is no image).
    at::Tensor embedPrompt(const at::Tensor& input_ids, const at::Tensor& image_features) const;

    const LlavaConfig& config() const { return config_; }
    const nn::ComputeDevice& device() const { return device_; }
    // "llava-<16 hex>" (computed at load; empty for random weights).
    const std::string& modelId() const { return modelId_; }
    const nn::CausalDecoder& languageModel() const { return language_model_; }

    LlavaModel(const LlavaModel&) = delete;
    LlavaModel& operator=(const LlavaModel&) = delete;

private:
    LlavaModel() = default;
    void declare(nn::ParameterTable& table, const char* visionTower, const char* projector,
        const char* languageModel, const char* lmHead);
    void quantizeIfAsked(); // the language model's matrices to 8 bits when device_.weights8Bit
    void stackVisionProjectionsInBfloat16(); // one q/k/v product per vision layer for bfloat16 on the CPU

    LlavaConfig config_;
    nn::ComputeDevice device_;
    // Keeps the mapped weights alive while CPU tensors alias them; released after loading when every
    // tensor was converted (float16/bfloat16 files), so the file's pages do not stay resident.
    Checkpoint checkpoint_;
    std::string modelId_;
    std::unique_ptr<VisionTower> vision_tower_;
    nn::Linear linear_1_, linear_2_; // multi_modal_projector
    nn::Activation projector_act_ = nn::Activation::Gelu;
    nn::CausalDecoder language_model_;
};

// One conversation: the KV cache, the position and the sampler's random generator. Prompts are
// prefilled in one batched forward pass; decoding feeds one token at a time.
class LlavaSession {
public:
    explicit LlavaSession(std::shared_ptr<const LlavaModel> model, std::uint64_t seed = 0);

    // Appends input_ids [1, tokens] (image tokens already expanded) after what the session holds and
    // returns the last position's logits [vocab] (float32, CPU). A prompt that does not fit the context
    // window is refused before anything runs.
    at::Tensor prefill(const at::Tensor& input_ids, const at::Tensor& image_features = {});
    // prefill() of prompt embeddings [1, tokens, hidden] (embedPrompt's output, or a run of its positions:
    // ChunkedPrefill). Returns the last position's logits, or an undefined tensor when `withLogits` is
    // false (a chunk before the last: the lm_head is skipped).
    at::Tensor prefillEmbeddings(const at::Tensor& inputs_embeds, bool withLogits = true);
    // Feeds one token; returns the next logits [vocab] (float32, CPU).
    at::Tensor decode(std::int64_t token);
    // Samples from `logits` (what prefill returned) until a stop token (the generation config's EOS ids
    // when `options` names none), the token budget, the end of the context window, the callback or the
    // cancel flag; every emitted token is fed back except the last.
    nn::GenerationResult generate(const at::Tensor& logits, const nn::GenerationOptions& options);

    // Throws the message prefill gives when `tokens` more positions do not fit the context window.
    void checkFits(std::int64_t tokens) const;
    std::int64_t length() const { return cache_.length; } // positions used
    std::int64_t roomLeft() const { return model_->config().text.maxPositions - cache_.length; }
    void reset() { cache_.clear(); }
    const LlavaModel& model() const { return *model_; }

private:
    at::Tensor run(const at::Tensor& inputs_embeds);

    std::shared_ptr<const LlavaModel> model_;
    nn::KvCache cache_;
    nn::TokenSampler sampler_;
};

} // namespace pictor::llava
