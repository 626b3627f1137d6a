// Decoder-only transformer blocks (Llama, Qwen2, Mistral): RMSNorm, rotary position embeddings
// (rotate-half), grouped-query attention with a KV cache, the SiLU-gated MLP and the pre-norm layer.
// Slot names mirror Hugging Face checkpoints; forward() locals mirror transformers' modeling_llama.py.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

#include "core/nn/layers.h"
#include "core/nn/parameters.h"

namespace pictor::nn {

// y = weight * (x * rsqrt(mean(x^2) + eps)), normalised in float32 and cast back before the weight.
struct RmsNorm {
    at::Tensor weight;
    double eps = 1e-6;
    void declare(const Scope& scope, std::int64_t dim, double epsilon);
    at::Tensor forward(const at::Tensor& hidden_states) const;
};

// Rotary embeddings, rotate-half layout: inv_freq[i] = theta^(-2i/head_dim), emb = cat(freqs, freqs).
struct RotaryEmbedding {
    std::int64_t headDim = 0;
    double theta = 10000.0;
    // {cos, sin}, each [tokens, head_dim], for positions [start, start + tokens), computed in float32
    // (as transformers does) and returned in `dtype`.
    std::pair<at::Tensor, at::Tensor> cosSin(
        std::int64_t start, std::int64_t tokens, at::ScalarType dtype, at::Device device) const;
};

// x * cos + rotate_half(x) * sin for x [batch, heads, tokens, head_dim]; cos/sin [tokens, head_dim].
at::Tensor applyRotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

// Keys and values of every layer, un-repeated ([batch, kv_heads, capacity, head_dim]); `length`
// positions are filled. Capacity grows on demand, so a session pays only for what it uses.
struct KvCache {
    std::vector<at::Tensor> keys, values;
    std::int64_t length = 0;

    std::int64_t capacity() const { return keys.empty() ? 0 : keys.front().size(2); }
    // Makes room for `tokens` positions in total (copies what is filled when it has to grow).
    void reserve(std::int64_t layers, std::int64_t batch, std::int64_t kvHeads, std::int64_t headDim,
        std::int64_t tokens, const at::TensorOptions& options);
    void clear(); // forgets the positions, keeps the memory
};

struct DecoderConfig {
    std::int64_t hiddenSize = 0;
    std::int64_t intermediateSize = 0;
    std::int64_t numHeads = 0;
    std::int64_t numKvHeads = 0;
    std::int64_t headDim = 0;
    std::int64_t numLayers = 0;
    double rmsNormEps = 1e-6;
    double ropeTheta = 10000.0;
    bool qkvBias = false; // Qwen2: q/k/v have biases
    bool outputBias = false; // Llama's attention_bias also gives o_proj one
    bool mlpBias = false;
    Activation activation = Activation::Silu;
};

// q/k/v/o projections with num_kv_heads <= num_heads; query head h reads KV head h / (heads / kv_heads).
struct GroupedQueryAttention {
    Linear q_proj, k_proj, v_proj, o_proj;
    // q, k and v stacked in 8 bits (quantizeTo8Bit): one product per token instead of three.
    Linear qkv_proj8;
    std::int64_t heads = 0, kvHeads = 0, headDim = 0;
    void declare(const Scope& scope, const DecoderConfig& config);
    int quantizeTo8Bit(); // returns the matrices quantized
    // hidden_states [batch, tokens, hidden] at positions [past, past + tokens). Writes this chunk's keys
    // and values into the cache tensors at `past` and attends to everything up to past + tokens
    // (causally within the chunk).
    at::Tensor forward(const at::Tensor& hidden_states, const at::Tensor& cos, const at::Tensor& sin,
        at::Tensor& keyCache, at::Tensor& valueCache, std::int64_t past) const;
};

// down(act(gate(x)) * up(x)).
struct GatedMlp {
    Linear gate_proj, up_proj, down_proj;
    Linear gate_up_proj8; // gate and up stacked in 8 bits (quantizeTo8Bit)
    Activation activation = Activation::Silu;
    void declare(const Scope& scope, const DecoderConfig& config);
    int quantizeTo8Bit();
    at::Tensor forward(const at::Tensor& x) const;
};

// Pre-norm decoder layer: x + attn(input_layernorm(x)), then x + mlp(post_attention_layernorm(x)).
struct DecoderLayer {
    RmsNorm input_layernorm, post_attention_layernorm;
    GroupedQueryAttention self_attn;
    GatedMlp mlp;
    void declare(const Scope& scope, const DecoderConfig& config);
    at::Tensor forward(const at::Tensor& hidden_states, const at::Tensor& cos, const at::Tensor& sin,
        at::Tensor& keyCache, at::Tensor& valueCache, std::int64_t past) const;
};

// The decoder-only language model body: embed_tokens, layers, the final norm and the lm_head (tied to
// embed_tokens when the checkpoint has none). `model` scopes "embed_tokens", "layers.N", "norm".
struct CausalDecoder {
    DecoderConfig config;
    std::int64_t vocabSize = 0;
    bool tiedLmHead = false;
    at::Tensor embed_tokens; // [vocab, hidden]
    std::vector<DecoderLayer> layers;
    RmsNorm norm;
    at::Tensor lm_head; // [vocab, hidden]; aliases embed_tokens when tied; undefined once quantized
    Q8Weight lm_head8; // the lm_head in 8 bits (quantizeTo8Bit)

    void declare(const Scope& model, const Scope& lmHead, const DecoderConfig& decoderConfig,
        std::int64_t vocab, bool tieWordEmbeddings);
    // Binding fills embed_tokens; a tied head must then alias it.
    void tieWeights();
    at::Tensor embed(const at::Tensor& input_ids) const; // [batch, tokens] int64 -> [batch, tokens, hidden]
    // Runs inputs_embeds [batch, tokens, hidden] at positions [cache.length, cache.length + tokens),
    // appends to the cache and returns the final-normed hidden states of the last position [batch, hidden].
    at::Tensor forward(const at::Tensor& inputs_embeds, KvCache& cache) const;
    at::Tensor logits(const at::Tensor& hidden) const; // [..., hidden] -> [..., vocab]
    // Every projection of the layers and the lm_head to 8-bit weights (on the CPU); the embeddings, norms
    // and the KV cache keep the working format. Returns how many matrices were quantized.
    int quantizeTo8Bit();

    RotaryEmbedding rotary;
};

// Additive mask [tokens, past + tokens] for a chunk at positions [past, past + tokens): query i may see
// keys j <= past + i. Undefined when tokens == 1 (a single query sees everything).
at::Tensor chunkCausalMask(std::int64_t past, std::int64_t tokens, const at::TensorOptions& options);

} // namespace pictor::nn
