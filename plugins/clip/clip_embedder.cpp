// ClipEmbedder: the ImageTextEmbedder for model_type "clip" (tokenizer + preprocessing + ClipModel).
#include <algorithm>
#include <mutex>
#include <optional>

#include <c10/core/InferenceMode.h>

#include "core/error.h"
#include "core/model_id.h"
#include "core/nn/device.h"
#include "core/text/clip_tokenizer.h"
#include "plugins/clip/clip_family.h"
#include "plugins/clip/clip_model.h"

namespace pictor::clip {
namespace {

constexpr std::size_t kSmallTextBatch = 2; // queries: one text, or two in arithmetic search

EmbeddingMatrix toMatrix(const at::Tensor& embeds)
{
    const at::Tensor values = embeds.to(at::kFloat).cpu().contiguous();
    EmbeddingMatrix matrix;
    matrix.rows = static_cast<int>(values.size(0));
    matrix.dim = static_cast<int>(values.size(1));
    matrix.values.assign(values.data_ptr<float>(), values.data_ptr<float>() + values.numel());
    return matrix;
}

void append(EmbeddingMatrix& into, const EmbeddingMatrix& part)
{
    into.dim = part.dim;
    into.rows += part.rows;
    into.values.insert(into.values.end(), part.values.begin(), part.values.end());
}

class ClipEmbedder final : public ImageTextEmbedder {
public:
    ClipEmbedder(const std::filesystem::path& modelDir, const EmbedderOptions& options) : options_(options)
    {
        nn::setCpuThreads(options.cpuThreads);
        nn::ComputeDevice compute = nn::resolveDevice(nn::parseDeviceChoice(options.device));
        // CLIP allows bfloat16 matrix products on the CPU (norms and the softmax stay float32): its gate is
        // tests/parity ClipNumberFormats (cosine to float32, retrieval on 2,000 photos).
        nn::chooseNumberFormat(compute, options.dtype, {.bfloat16 = true});
        model_ = ClipModel::load(modelDir, compute);
        tokenizer_ = ClipTokenizer::fromFolder(modelDir);
        preprocess_ = loadPreprocessConfig(modelDir / "preprocessor_config.json");
        PICTOR_CHECK(tokenizer_->vocabSize() <= model_->config().text.vocabSize,
            (modelDir / "vocab.json").string(), ": the tokenizer has ", tokenizer_->vocabSize(),
            " tokens but the model embeds only ", model_->config().text.vocabSize);
        PICTOR_CHECK(preprocess_.outputHeight() == model_->config().vision.imageSize
                && preprocess_.outputWidth() == model_->config().vision.imageSize,
            (modelDir / "preprocessor_config.json").string(), ": produces ", preprocess_.outputWidth(), "x",
            preprocess_.outputHeight(), " images but the vision tower takes ",
            model_->config().vision.imageSize);
        modelId_ = computeModelId("clip", modelDir / "config.json", model_->checkpoint());
    }

    std::string modelId() const override { return modelId_; }
    std::string family() const override { return "clip"; }
    int dimension() const override { return static_cast<int>(model_->config().projectionDim); }
    const ImagePreprocessConfig& preprocessing() const override { return preprocess_; }
    std::string deviceDescription() const override { return model_->device().describe(); }
    std::string numberFormatReason() const override { return model_->device().formatReason; }
    float logitScale() const override { return std::exp(model_->logitScale()); }

    EmbeddingMatrix embedTexts(const std::vector<std::string>& texts) override
    {
        c10::InferenceMode guard;
        // A query or two is too little work to share between threads (see nn::CpuThreadLimit).
        std::optional<nn::CpuThreadLimit> oneThread;
        if (model_->device().device.is_cpu() && texts.size() <= kSmallTextBatch)
            oneThread.emplace(1);
        EmbeddingMatrix result;
        result.dim = dimension();
        const int batchSize = std::max(1, options_.maxBatch);
        for (std::size_t start = 0; start < texts.size(); start += batchSize) {
            const std::size_t end = std::min(texts.size(), start + batchSize);
            append(result, embedTextBatch(texts, start, end));
        }
        return result;
    }

    EmbeddingMatrix embedPixelValues(const float* pixelValues, int count) override
    {
        c10::InferenceMode guard;
        const nn::CpuThreadLimit threads(ModelThreadCap::current());
        EmbeddingMatrix result;
        result.dim = dimension();
        const auto side = model_->config().vision.imageSize;
        const std::int64_t perImage = 3 * side * side;
        const int batchSize = std::max(1, options_.maxBatch);
        for (int start = 0; start < count; start += batchSize) {
            const int n = std::min(batchSize, count - start);
            const at::Tensor batch = at::from_blob(
                const_cast<float*>(pixelValues) + start * perImage, {n, 3, side, side}, at::kFloat);
            append(result, toMatrix(model_->encodeImages(batch.to(model_->device().dtype)).image_embeds));
        }
        return result;
    }

private:
    // Pads only to the longest text of the batch: with causal attention, tokens after EOS cannot change
    // the pooled output, so this equals padding to 77 (checked by the parity tests) and is much faster.
    EmbeddingMatrix embedTextBatch(const std::vector<std::string>& texts, std::size_t start, std::size_t end)
    {
        std::vector<TokenizedText> tokenized;
        int longest = 1;
        for (std::size_t i = start; i < end; ++i) {
            tokenized.push_back(tokenizer_->encode(texts[i]));
            longest = std::max(longest, tokenized.back().numTokens);
        }
        const auto rows = static_cast<std::int64_t>(tokenized.size());
        at::Tensor ids = at::empty({rows, longest}, at::kLong);
        at::Tensor mask = at::empty({rows, longest}, at::kLong);
        for (std::int64_t r = 0; r < rows; ++r) {
            std::copy_n(tokenized[r].inputIds.begin(), longest, ids.data_ptr<std::int64_t>() + r * longest);
            std::copy_n(
                tokenized[r].attentionMask.begin(), longest, mask.data_ptr<std::int64_t>() + r * longest);
        }
        return toMatrix(model_->encodeText(ids, mask).text_embeds);
    }

    EmbedderOptions options_;
    std::unique_ptr<ClipModel> model_;
    std::unique_ptr<ClipTokenizer> tokenizer_;
    ImagePreprocessConfig preprocess_;
    std::string modelId_;
};

} // namespace

std::unique_ptr<ImageTextEmbedder> loadClipEmbedder(
    const std::filesystem::path& modelDir, const EmbedderOptions& options)
{
    return std::make_unique<ClipEmbedder>(modelDir, options);
}

void registerClipFamily(ModelRegistry& registry)
{
    registry.registerEmbedder("clip", loadClipEmbedder);
}

} // namespace pictor::clip
