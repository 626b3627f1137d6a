// A real embedder (the tiny CLIP fixture), changed for a test: every image batch made as slow as a large
// model's would be on a laptop, under another model id (a second model for the library), failing once
// after some batches (a GPU lost mid-run), then working again (the next run), or on another device.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/embedder.h"
#include "core/error.h"

namespace pictor::test {

class WrappedEmbedder final : public ImageTextEmbedder {
public:
    WrappedEmbedder(ImageTextEmbedder& model, std::chrono::milliseconds batchTime, std::string modelId = {},
        int goodBatches = -1)
        : model_(model), batchTime_(batchTime), modelId_(std::move(modelId)), goodBatches_(goodBatches)
    {
    }
    // Owns the model it wraps (for a registry factory).
    WrappedEmbedder(std::unique_ptr<ImageTextEmbedder> model, int goodBatches)
        : WrappedEmbedder(*model, std::chrono::milliseconds(0), {}, goodBatches)
    {
        owned_ = std::move(model);
    }
    std::string modelId() const override { return modelId_.empty() ? model_.modelId() : modelId_; }
    std::string family() const override { return model_.family(); }
    int dimension() const override { return model_.dimension(); }
    const ImagePreprocessConfig& preprocessing() const override { return model_.preprocessing(); }
    std::string deviceDescription() const override
    {
        return device_.empty() ? model_.deviceDescription() : device_;
    }
    // Reports another device and format (the CPU's bfloat16, say) than the wrapped model's.
    void pretendDevice(std::string description) { device_ = std::move(description); }
    // The thread cap (ModelThreadCap) each image batch ran under.
    const std::vector<int>& threadCaps() const { return threadCaps_; }
    float logitScale() const override { return model_.logitScale(); }
    EmbeddingMatrix embedTexts(const std::vector<std::string>& texts) override
    {
        return model_.embedTexts(texts);
    }
    EmbeddingMatrix embedPixelValues(const float* pixelValues, int count) override
    {
        if (goodBatches_ == 0) {
            goodBatches_ = -1; // fails once
            PICTOR_FAIL("the accelerator was lost");
        }
        if (goodBatches_ > 0)
            --goodBatches_;
        std::this_thread::sleep_for(batchTime_);
        threadCaps_.push_back(ModelThreadCap::current());
        return model_.embedPixelValues(pixelValues, count);
    }

private:
    ImageTextEmbedder& model_;
    std::unique_ptr<ImageTextEmbedder> owned_;
    std::chrono::milliseconds batchTime_;
    std::string modelId_;
    int goodBatches_; // negative: never fails
    std::string device_;
    std::vector<int> threadCaps_;
};

} // namespace pictor::test
