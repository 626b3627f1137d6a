// CLIP against the golden outputs of transformers' CLIPModel on clip-tiny-a (tolerances from its README).
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

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
