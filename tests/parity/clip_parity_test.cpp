// CLIP against the golden outputs of transformers' CLIPModel on clip-tiny-a (tolerances from its README).
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "plugins/clip/clip_model.h"
#include "tests/support/paths.h"
#include "tests/support/tensor_compare.h"

namespace pictor {
namespace {

using test::loadGolden;
using test::tensorsClose;

class ClipParity : public testing::Test {
protected:
    static void SetUpTestSuite()
    {
        model
            = clip::ClipModel::load(test::fixtureDir("clip-tiny-a"), nn::resolveDevice(nn::DeviceChoice::Cpu))
                  .release();
    }
    static void TearDownTestSuite() { delete model; }
    static std::shared_ptr<const SafetensorsFile> golden(const std::string& file)
    {
        return SafetensorsFile::open(test::fixtureDir("clip-tiny-a") / "cases" / file);
    }
    static clip::ClipModel* model;
    c10::InferenceMode inferenceMode;
};
clip::ClipModel* ClipParity::model = nullptr;

TEST_F(ClipParity, ConfigMatchesTheFixture)
{
    EXPECT_EQ(model->config().text.hiddenSize, 64);
    EXPECT_EQ(model->config().vision.patchSize, 32);
    EXPECT_EQ(model->config().projectionDim, 32);
    EXPECT_EQ(model->config().text.eosTokenId, 2);
    EXPECT_NEAR(model->logitScale(), 2.6592f, 1e-4f);
}

TEST_F(ClipParity, TextTower)
{
    auto expected = golden("expected_text_embeds.safetensors");
    const auto output
        = model->encodeText(loadGolden(*expected, "input_ids"), loadGolden(*expected, "attention_mask"));
    EXPECT_TRUE(tensorsClose("text_embeds", output.text_embeds, loadGolden(*expected, "text_embeds"), 1e-4));
    EXPECT_TRUE(tensorsClose(
        "text_pooler_output", output.pooler_output, loadGolden(*expected, "text_pooler_output"), 1e-4));
    EXPECT_TRUE(tensorsClose("text_last_hidden_state", output.last_hidden_state,
        loadGolden(*expected, "text_last_hidden_state"), 1e-4));
    EXPECT_TRUE(
        tensorsClose("text_embeds_normalized", output.text_embeds / output.text_embeds.norm(2, -1, true),
            loadGolden(*expected, "text_embeds_normalized"), 1e-5));
}

TEST_F(ClipParity, TextPoolingIgnoresPaddingLength)
{
    // Trimming the padding after the longest EOS must not change pooled outputs (causal attention).
    auto expected = golden("expected_text_embeds.safetensors");
    const at::Tensor ids = loadGolden(*expected, "input_ids").slice(0, 0, 4).slice(1, 0, 20);
    const at::Tensor mask = loadGolden(*expected, "attention_mask").slice(0, 0, 4).slice(1, 0, 20);
    const auto output = model->encodeText(ids, mask);
    EXPECT_TRUE(tensorsClose("text_embeds[0:4] on 20 tokens", output.text_embeds,
        loadGolden(*expected, "text_embeds").slice(0, 0, 4), 1e-4));
}

TEST_F(ClipParity, VisionTower)
{
    auto expected = golden("expected_image_embeds.safetensors");
    const at::Tensor pixels = loadGolden(*golden("expected_pixel_values.safetensors"), "pixel_values");
    const auto output = model->encodeImages(pixels);
    EXPECT_TRUE(
        tensorsClose("image_embeds", output.image_embeds, loadGolden(*expected, "image_embeds"), 1e-4));
    EXPECT_TRUE(tensorsClose(
        "image_pooler_output", output.pooler_output, loadGolden(*expected, "image_pooler_output"), 1e-4));
    EXPECT_TRUE(tensorsClose("image_last_hidden_state", output.last_hidden_state,
        loadGolden(*expected, "image_last_hidden_state"), 1e-4));
    EXPECT_TRUE(
        tensorsClose("image_embeds_normalized", output.image_embeds / output.image_embeds.norm(2, -1, true),
            loadGolden(*expected, "image_embeds_normalized"), 1e-5));
}

TEST_F(ClipParity, Logits)
{
    auto texts = golden("expected_text_embeds.safetensors");
    auto logits = golden("expected_logits.safetensors");
    const auto text
        = model->encodeText(loadGolden(*texts, "input_ids"), loadGolden(*texts, "attention_mask"));
    const auto image
        = model->encodeImages(loadGolden(*golden("expected_pixel_values.safetensors"), "pixel_values"));
    const at::Tensor t = text.text_embeds / text.text_embeds.norm(2, -1, true);
    const at::Tensor i = image.image_embeds / image.image_embeds.norm(2, -1, true);
    const at::Tensor logits_per_image = std::exp(model->logitScale()) * at::matmul(i, t.t());
    EXPECT_TRUE(
        tensorsClose("logits_per_image", logits_per_image, loadGolden(*logits, "logits_per_image"), 1e-3));
    EXPECT_TRUE(
        tensorsClose("logits_per_text", logits_per_image.t(), loadGolden(*logits, "logits_per_text"), 1e-3));
}

} // namespace
} // namespace pictor

namespace pictor {
namespace {

// The quality gate of CLIP's bfloat16 format (a format that fails its gate on a model is not used for it):
// each embedding's cosine to float32 >= 0.999, and the top 10 of every text query over 2,000 generated
// photos keeps >= 0.98 of float32's. clip_embedder.cpp allows bfloat16 because this passes with the mixed
// format of ClipModel::applyMixedFormat (bfloat16 everywhere kept 0.9575; bfloat16 text alone, 0.98).
class ClipNumberFormats : public testing::Test {
protected:
    static std::unique_ptr<clip::ClipModel> load(const std::string& dtype)
    {
        nn::ComputeDevice compute = nn::resolveDevice(nn::DeviceChoice::Cpu);
        nn::chooseNumberFormat(compute, dtype, {.bfloat16 = true});
        return clip::ClipModel::load(test::fixtureDir("clip-tiny-a"), compute);
    }
    static std::shared_ptr<const SafetensorsFile> golden(const std::string& file)
    {
        return SafetensorsFile::open(test::fixtureDir("clip-tiny-a") / "cases" / file);
    }
    static at::Tensor unit(const at::Tensor& rows)
    {
        const at::Tensor values = rows.to(at::kFloat);
        return values / values.norm(2, -1, true);
    }
    c10::InferenceMode inferenceMode;
};

// Generated photos at least as varied as the fixture's images (gradients, shapes, stripes; mean pairwise
// cosine in this tower 0.63; these 2,000: 0.34): colour fields of 2 to 28 cells per side,
// stripes of a random frequency and direction, a random exposure and contrast; normalised like CLIP inputs.
at::Tensor generatedPhotos(std::int64_t count, std::int64_t side)
{
    at::manual_seed(2024);
    std::vector<at::Tensor> photos;
    const std::int64_t cells[] = {2, 4, 7, 14, 28};
    const at::Tensor axis = at::linspace(0, 1, side);
    const at::Tensor ys = axis.view({side, 1}), xs = axis.view({1, side});
    for (std::int64_t i = 0; i < count; ++i) {
        const std::int64_t k = cells[i % 5];
        at::Tensor photo = at::upsample_bilinear2d(at::rand({1, 3, k, k}), {side, side}, false)[0];
        const double angle = at::rand({1}).item<double>() * 3.14159;
        const double frequency = 2 + at::rand({1}).item<double>() * 18;
        const at::Tensor stripes
            = at::sin((xs * std::cos(angle) + ys * std::sin(angle)) * (6.28318 * frequency));
        photo = photo + stripes.unsqueeze(0) * at::rand({3, 1, 1}) * 0.5;
        photo = (photo - 0.5) * (0.5 + at::rand({1}).item<double>()) + at::rand({1}).item<double>();
        photos.push_back(photo.clamp(0, 1));
    }
    return (at::stack(photos) - 0.45) / 0.27;
}

TEST_F(ClipNumberFormats, Bfloat16KeepsTheEmbeddingsAndTheRanking)
{
    const auto f32 = load("float32");
    const auto bf16 = load("bfloat16");
    ASSERT_EQ(bf16->device().dtype, at::kBFloat16);
    const auto texts = golden("expected_text_embeds.safetensors");
    const at::Tensor ids = test::loadGolden(*texts, "input_ids");
    const at::Tensor mask = test::loadGolden(*texts, "attention_mask");
    const at::Tensor textF32 = unit(f32->encodeText(ids, mask).text_embeds);
    const at::Tensor textBf16 = unit(bf16->encodeText(ids, mask).text_embeds);
    const double textCosine = (textF32 * textBf16).sum(-1).min().item<double>();
    const at::Tensor pixels = test::loadGolden(*golden("expected_pixel_values.safetensors"), "pixel_values");
    const double imageCosine
        = (unit(f32->encodeImages(pixels).image_embeds) * unit(bf16->encodeImages(pixels).image_embeds))
              .sum(-1)
              .min()
              .item<double>();
    std::printf(
        "bfloat16 vs float32: lowest cosine %.5f (40 texts), %.5f (10 images)\n", textCosine, imageCosine);
    EXPECT_GE(textCosine, 0.999);
    EXPECT_GE(imageCosine, 0.999);

    const at::Tensor photos = generatedPhotos(2000, f32->config().vision.imageSize);
    std::vector<at::Tensor> libraryF32, libraryBf16;
    for (std::int64_t start = 0; start < photos.size(0); start += 250) {
        const at::Tensor batch = photos.slice(0, start, start + 250);
        libraryF32.push_back(unit(f32->encodeImages(batch).image_embeds));
        libraryBf16.push_back(unit(bf16->encodeImages(batch).image_embeds));
    }
    const at::Tensor topF32 = std::get<1>(at::matmul(textF32, at::cat(libraryF32).t()).topk(10));
    const at::Tensor topBf16 = std::get<1>(at::matmul(textBf16, at::cat(libraryBf16).t()).topk(10));
    std::int64_t kept = 0;
    for (std::int64_t q = 0; q < topF32.size(0); ++q)
        for (std::int64_t i = 0; i < 10; ++i)
            kept += topBf16[q].eq(topF32[q][i]).any().item<bool>() ? 1 : 0;
    const double recall = static_cast<double>(kept) / static_cast<double>(topF32.numel());
    std::printf("bfloat16 top-10 over 2,000 photos keeps %.4f of float32's (40 queries)\n", recall);
    EXPECT_GE(recall, 0.98);
}

TEST_F(ClipNumberFormats, AutoIsBfloat16OnlyWhereTheCpuComputesItNatively)
{
    nn::ComputeDevice compute = nn::resolveDevice(nn::DeviceChoice::Cpu);
    nn::chooseNumberFormat(compute, "auto", {.bfloat16 = true});
    EXPECT_EQ(compute.dtype, nn::cpuHasFastBfloat16() ? at::kBFloat16 : at::kFloat) << compute.formatReason;
    EXPECT_EQ(compute.formatReason,
        nn::cpuHasFastBfloat16() ? "native on this CPU (AVX512_BF16)" : "this CPU has no native bfloat16");
    nn::ComputeDevice notAllowed = nn::resolveDevice(nn::DeviceChoice::Cpu);
    nn::chooseNumberFormat(notAllowed, "auto", {});
    EXPECT_EQ(notAllowed.dtype, at::kFloat);
    nn::ComputeDevice asked = nn::resolveDevice(nn::DeviceChoice::Cpu);
    nn::chooseNumberFormat(asked, "float32", {.bfloat16 = true});
    EXPECT_EQ(asked.dtype, at::kFloat);
    EXPECT_EQ(asked.formatReason, "as asked");
    EXPECT_THROW(nn::chooseNumberFormat(asked, "float16", {.bfloat16 = true}), Error)
        << "float16 runs only on CUDA";
}

} // namespace
} // namespace pictor
