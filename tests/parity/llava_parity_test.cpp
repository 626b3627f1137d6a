// LLaVA against the golden outputs of transformers' LlavaForConditionalGeneration on llava-tiny-llama
// (CLIP + Llama) and llava-tiny-qwen2 (SigLIP + Qwen2), with the tolerances of their READMEs. The model is
// given the fixtures' pixel_values and expanded input_ids (the tokenizers are tested elsewhere). The start
// of an answer in steps (the vision tower a layer at a time, the prompt prefilled in chunks) is held to the
// same goldens and to the one-pass results.
#include <algorithm>
#include <cstring>
#include <map>

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/json_file.h"
#include "kernels/q8_0.h"
#include "plugins/llava/llava_family.h"
#include "plugins/llava/llava_model.h"
#include "plugins/llava/llava_stepwise.h"
#include "tests/support/paths.h"
#include "tests/support/tensor_compare.h"

namespace pictor {
namespace {

using test::loadGolden;
using test::tensorsClose;

struct CaseId {
    std::string fixture;
    std::string name;
};

std::string caseLabel(const testing::TestParamInfo<CaseId>& info)
{
    std::string label = info.param.fixture + "_" + info.param.name;
    std::replace(label.begin(), label.end(), '-', '_');
    return label;
}

std::shared_ptr<const llava::LlavaModel> fixtureModel(const std::string& fixture)
{
    static std::map<std::string, std::shared_ptr<const llava::LlavaModel>> models;
    auto& model = models[fixture];
    if (!model)
        model = llava::LlavaModel::load(test::fixtureDir(fixture), nn::resolveDevice(nn::DeviceChoice::Cpu));
    return model;
}

nlohmann::json caseJson(const CaseId& id)
{
    const nlohmann::json cases = readJsonFile(test::fixtureDir(id.fixture) / "cases.json");
    for (const auto& entry : cases.at("cases"))
        if (entry.at("name") == id.name)
            return entry;
    ADD_FAILURE() << "no case " << id.name << " in " << id.fixture << "/cases.json";
    return {};
}

std::vector<std::int64_t> topIds(const at::Tensor& logits, int k)
{
    const at::Tensor ids = std::get<1>(logits.topk(k)).contiguous();
    return {ids.data_ptr<std::int64_t>(), ids.data_ptr<std::int64_t>() + k};
}

std::vector<std::int64_t> asVector(const at::Tensor& ids)
{
    const at::Tensor flat = ids.flatten().to(at::kLong).contiguous();
    return {flat.data_ptr<std::int64_t>(), flat.data_ptr<std::int64_t>() + flat.numel()};
}

// The README's logit tolerance: max abs <= 2e-3 and max abs relative to max|logit| <= 1e-4.
void expectLogitsClose(const std::string& name, const at::Tensor& actual, const at::Tensor& expected)
{
    EXPECT_TRUE(tensorsClose(name, actual, expected, 2e-3));
    const double maxDiff = (actual.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>();
    const double relative = maxDiff / expected.abs().max().item<double>();
    std::printf("  %s: max diff relative to max|logit| %.3g (tolerance 1e-4)\n", name.c_str(), relative);
    EXPECT_LE(relative, 1e-4) << name;
}

class LlavaParity : public testing::TestWithParam<CaseId> {
protected:
    void SetUp() override
    {
        model = fixtureModel(GetParam().fixture);
        golden = SafetensorsFile::open(
            test::fixtureDir(GetParam().fixture) / "golden" / (GetParam().name + ".safetensors"));
        expected = caseJson(GetParam());
    }
    bool hasImages() const { return golden->find("pixel_values") != nullptr; }
    at::Tensor imageFeatures() const
    {
        return hasImages() ? model->encodeImages(loadGolden(*golden, "pixel_values")).image_features
                           : at::Tensor();
    }

    std::shared_ptr<const llava::LlavaModel> model;
    std::shared_ptr<const SafetensorsFile> golden;
    nlohmann::json expected;
    c10::InferenceMode inferenceMode;
};

TEST_P(LlavaParity, ImageTokenExpansionGivesTheFixtureIds)
{
    const auto collapsed = expected.at("input_ids_collapsed").get<std::vector<std::int64_t>>();
    const auto expanded = llava::expandImageTokens(
        collapsed, model->config().imageTokenIndex, model->config().tokensPerImage());
    EXPECT_EQ(expanded, asVector(loadGolden(*golden, "input_ids")));
    if (hasImages()) {
        EXPECT_EQ(
            model->config().tokensPerImage(), expected.at("image_tokens_per_image").get<std::int64_t>());
    }
}

TEST_P(LlavaParity, VisionFeaturesAndProjector)
{
    if (!hasImages())
        GTEST_SKIP() << "text-only case";
    const auto features = model->encodeImages(loadGolden(*golden, "pixel_values"));
    EXPECT_TRUE(tensorsClose(
        "vision_selected_hidden", features.selected, loadGolden(*golden, "vision_selected_hidden"), 1e-4));
    EXPECT_TRUE(
        tensorsClose("image_features", features.image_features, loadGolden(*golden, "image_features"), 1e-4));
}

TEST_P(LlavaParity, PrefillLogitsAndTop5)
{
    llava::LlavaSession session(model);
    const at::Tensor logits = session.prefill(loadGolden(*golden, "input_ids"), imageFeatures());
    expectLogitsClose("prefill_last_logits", logits, loadGolden(*golden, "prefill_last_logits"));
    EXPECT_EQ(topIds(logits, 5), expected.at("prefill_top5_ids").get<std::vector<std::int64_t>>());
    EXPECT_EQ(session.length(), expected.at("seq_len").get<std::int64_t>());
}

TEST_P(LlavaParity, Greedy20TokensExact)
{
    llava::LlavaSession session(model);
    const at::Tensor logits = session.prefill(loadGolden(*golden, "input_ids"), imageFeatures());
    nn::GenerationOptions options;
    options.maxNewTokens = 20;
    std::vector<std::int64_t> streamed;
    options.onToken = [&](std::int64_t token) {
        streamed.push_back(token);
        return true;
    };
    const nn::GenerationResult result = session.generate(logits, options);
    const auto goldenIds = asVector(loadGolden(*golden, "generated_ids"));
    EXPECT_EQ(result.tokens, goldenIds);
    EXPECT_EQ(streamed, goldenIds);
    EXPECT_EQ(result.stopReason, nn::StopReason::MaxNewTokens);
    // Every token but the last was fed back through the KV cache.
    EXPECT_EQ(session.length(), expected.at("seq_len").get<std::int64_t>() + 19);
}

TEST_P(LlavaParity, EveryDecodeStepTop5)
{
    // Teacher-forced on the golden continuation: each step's top-5 ids exact, logits within 5e-3.
    llava::LlavaSession session(model);
    at::Tensor logits = session.prefill(loadGolden(*golden, "input_ids"), imageFeatures());
    const auto goldenIds = asVector(loadGolden(*golden, "generated_ids"));
    const auto& steps = expected.at("steps");
    ASSERT_EQ(steps.size(), goldenIds.size());
    double worst = 0.0;
    for (std::size_t step = 0; step < steps.size(); ++step) {
        const auto ids = steps[step].at("top5_ids").get<std::vector<std::int64_t>>();
        const auto values = steps[step].at("top5_logits").get<std::vector<double>>();
        EXPECT_EQ(topIds(logits, 5), ids) << "step " << step;
        for (std::size_t k = 0; k < ids.size(); ++k)
            worst = std::max(worst, std::abs(logits[ids[k]].item<double>() - values[k]));
        if (step + 1 < steps.size())
            logits = session.decode(goldenIds[step]);
    }
    std::printf("  per-step top-5 logits: max abs diff %.3g (tolerance 5e-3)\n", worst);
    EXPECT_LE(worst, 5e-3);
}

TEST_P(LlavaParity, ChunkedPrefillEqualsDecoding)
{
    // The prompt, then the first two golden tokens as one chunk: the chunk's causal mask with a past
    // must give the logits that decoding them one by one gives (the third step).
    llava::LlavaSession session(model);
    session.prefill(loadGolden(*golden, "input_ids"), imageFeatures());
    const auto goldenIds = asVector(loadGolden(*golden, "generated_ids"));
    const at::Tensor chunk = at::tensor(std::vector<std::int64_t> {goldenIds[0], goldenIds[1]}).view({1, 2});
    const at::Tensor chunked = session.prefill(chunk);

    llava::LlavaSession stepwise(model);
    stepwise.prefill(loadGolden(*golden, "input_ids"), imageFeatures());
    stepwise.decode(goldenIds[0]);
    const at::Tensor decoded = stepwise.decode(goldenIds[1]);
    EXPECT_TRUE(tensorsClose("chunked prefill vs decode", chunked, decoded, 1e-4));
    if (golden->find("step_logits_first3")) {
        EXPECT_TRUE(tensorsClose(
            "step_logits_first3[2]", chunked, loadGolden(*golden, "step_logits_first3")[2], 5e-3));
    }
}

TEST_P(LlavaParity, ImageEncodingInStepsEqualsOneRun)
{
    if (!hasImages())
        GTEST_SKIP() << "text-only case";
    const at::Tensor pixels = loadGolden(*golden, "pixel_values");
    llava::ImageEncoding encoding(*model, pixels);
    // The embeddings, one step per encoder layer up to the deepest one read (layer -2 of 3: two), and
    // the selection with the projector.
    const std::vector<int> indices = model->config().featureLayerIndices();
    const int expectedSteps = *std::max_element(indices.begin(), indices.end()) + 2;
    EXPECT_EQ(expectedSteps, 4);
    EXPECT_EQ(encoding.stepsLeft(), expectedSteps);
    int steps = 0;
    do {
        ++steps;
        EXPECT_EQ(encoding.stepsLeft(), expectedSteps - steps + 1);
    } while (!encoding.step());
    EXPECT_EQ(steps, expectedSteps);
    EXPECT_TRUE(encoding.done());
    EXPECT_EQ(encoding.stepsLeft(), 0);
    EXPECT_TRUE(encoding.step()); // nothing left to run

    const auto whole = model->encodeImages(pixels);
    EXPECT_TRUE(at::equal(encoding.features().selected, whole.selected));
    EXPECT_TRUE(at::equal(encoding.features().image_features, whole.image_features));
    EXPECT_TRUE(tensorsClose("stepwise vision_selected_hidden", encoding.features().selected,
        loadGolden(*golden, "vision_selected_hidden"), 1e-4));
    EXPECT_TRUE(tensorsClose("stepwise image_features", encoding.features().image_features,
        loadGolden(*golden, "image_features"), 1e-4));
}

TEST_P(LlavaParity, ChunkedPromptPrefillMatchesOnePassAndGolden)
{
    const at::Tensor ids = loadGolden(*golden, "input_ids");
    const at::Tensor embeds = model->embedPrompt(ids, imageFeatures());
    llava::LlavaSession onePass(model);
    const at::Tensor whole = onePass.prefill(ids, imageFeatures());
    const auto goldenIds = asVector(loadGolden(*golden, "generated_ids"));
    const std::int64_t length = ids.size(1);
    // Single positions, chunks that end inside and across the image runs, the default, and one chunk.
    for (const std::int64_t chunk :
        {std::int64_t {1}, std::int64_t {7}, llava::kDefaultPrefillChunk, length}) {
        SCOPED_TRACE("chunk " + std::to_string(chunk));
        llava::LlavaSession session(model);
        llava::ChunkedPrefill prefill(session, embeds, chunk);
        std::int64_t steps = 0;
        do {
            ++steps;
        } while (!prefill.step());
        EXPECT_EQ(steps, (length + chunk - 1) / chunk);
        EXPECT_EQ(session.length(), expected.at("seq_len").get<std::int64_t>());
        EXPECT_TRUE(tensorsClose("chunked vs one-pass prefill logits", prefill.logits(), whole, 1e-4));
        expectLogitsClose(
            "chunked prefill_last_logits", prefill.logits(), loadGolden(*golden, "prefill_last_logits"));
        EXPECT_EQ(
            topIds(prefill.logits(), 5), expected.at("prefill_top5_ids").get<std::vector<std::int64_t>>());
        nn::GenerationOptions options;
        options.maxNewTokens = 20;
        EXPECT_EQ(session.generate(prefill.logits(), options).tokens, goldenIds);
    }
}

INSTANTIATE_TEST_SUITE_P(LlavaTinyLlama, LlavaParity,
    testing::Values(CaseId {"llava-tiny-llama", "c1_img640_what"},
        CaseId {"llava-tiny-llama", "c2_img336_describe"},
        CaseId {"llava-tiny-llama", "c3_img200x500_multiturn"}, CaseId {"llava-tiny-llama", "c4_text_only"},
        CaseId {"llava-tiny-llama", "c5_two_images"}),
    caseLabel);

INSTANTIATE_TEST_SUITE_P(LlavaTinyQwen2, LlavaParity,
    testing::Values(CaseId {"llava-tiny-qwen2", "q1_img640_what"},
        CaseId {"llava-tiny-qwen2", "q2_img336_describe"},
        CaseId {"llava-tiny-qwen2", "q3_img200x500_multiturn"}, CaseId {"llava-tiny-qwen2", "q4_text_only"},
        CaseId {"llava-tiny-qwen2", "q5_two_images"}),
    caseLabel);

// Through the Torch-free engine: decoded pixels (golden, so that JPEG decoding is not compared) and the
// collapsed prompt ids in; preprocessing, image-token expansion, encoding, prefill and greedy decoding
// inside.
TEST_P(LlavaParity, EngineFromDecodedImagesGivesTheGreedyIds)
{
    static std::map<std::string, std::shared_ptr<const llava::LlavaEngine>> engines;
    auto& engine = engines[GetParam().fixture];
    if (!engine) {
        llava::LlavaOptions options;
        options.device = "cpu";
        options.dtype = "float32"; // the goldens' format
        engine = llava::LlavaEngine::load(test::fixtureDir(GetParam().fixture), options);
    }
    const auto decoded = SafetensorsFile::open(
        test::fixtureDir(GetParam().fixture) / "golden" / "decoded_images.safetensors");
    std::vector<RgbImage> images;
    for (const auto& name : expected.at("images").get<std::vector<std::string>>()) {
        const TensorView& view = decoded->at(name);
        RgbImage image(static_cast<int>(view.shape.at(1)), static_cast<int>(view.shape.at(0)));
        std::memcpy(image.pixels.data(), view.data, image.pixels.size());
        images.push_back(std::move(image));
    }
    auto session = engine->startSession();
    session->append(expected.at("input_ids_collapsed").get<std::vector<std::int64_t>>(), images);
    EXPECT_EQ(session->length(), expected.at("seq_len").get<std::int64_t>());
    nn::GenerationOptions options;
    options.maxNewTokens = 20;
    EXPECT_EQ(session->generate(options).tokens, asVector(loadGolden(*golden, "generated_ids")));
    EXPECT_EQ(engine->modelId().rfind("llava-", 0), 0u);

    // The same prompt one step per appendStep call (a deadline in the past), in chunks of 5 positions:
    // each image preprocessed, the tower's 4 steps, then the chunks; the same greedy ids.
    llava::LlavaOptions chunked;
    chunked.device = "cpu";
    chunked.dtype = "float32";
    chunked.prefillChunk = 5;
    const auto stepwiseEngine = llava::LlavaEngine::load(test::fixtureDir(GetParam().fixture), chunked);
    auto stepwise = stepwiseEngine->startSession();
    stepwise->beginAppend(expected.at("input_ids_collapsed").get<std::vector<std::int64_t>>(), images);
    EXPECT_TRUE(stepwise->appending());
    EXPECT_EQ(stepwise->length(), 0); // nothing runs before the first step
    int steps = 0;
    do {
        ++steps;
    } while (!stepwise->appendStep(std::chrono::steady_clock::time_point::min()));
    EXPECT_FALSE(stepwise->appending());
    const auto seqLen = expected.at("seq_len").get<int>();
    EXPECT_EQ(steps, (images.empty() ? 0 : static_cast<int>(images.size()) + 4) + (seqLen + 4) / 5);
    EXPECT_EQ(stepwise->length(), seqLen);
    EXPECT_EQ(stepwise->generate(options).tokens, asVector(loadGolden(*golden, "generated_ids")));
}

TEST(LlavaConfig, FixturesReadAsTheirReadmesDescribe)
{
    const auto llama = llava::LlavaConfig::load(test::fixtureDir("llava-tiny-llama"));
    EXPECT_EQ(llama.vision.kind, llava::VisionTowerKind::Clip);
    EXPECT_EQ(llama.featureLayerIndices(), std::vector<int> {2});
    EXPECT_TRUE(llama.dropClassToken);
    EXPECT_EQ(llama.tokensPerImage(), 49);
    EXPECT_EQ(llama.text.numKvHeads, 2);
    EXPECT_EQ(llama.text.headDim, 16);
    EXPECT_FALSE(llama.text.tieWordEmbeddings);
    EXPECT_FALSE(llama.text.qkvBias);
    EXPECT_EQ(llama.eosTokenIds, std::vector<std::int64_t> {2});

    const auto qwen = llava::LlavaConfig::load(test::fixtureDir("llava-tiny-qwen2"));
    EXPECT_EQ(qwen.vision.kind, llava::VisionTowerKind::Siglip);
    EXPECT_EQ(qwen.vision.hiddenAct, "gelu_pytorch_tanh");
    EXPECT_DOUBLE_EQ(qwen.vision.layerNormEps, 1e-6);
    EXPECT_EQ(qwen.featureLayerIndices(), std::vector<int> {2});
    EXPECT_FALSE(qwen.dropClassToken);
    EXPECT_EQ(qwen.tokensPerImage(), 196);
    EXPECT_EQ(qwen.text.headDim, 8);
    EXPECT_TRUE(qwen.text.tieWordEmbeddings);
    EXPECT_TRUE(qwen.text.qkvBias);
    EXPECT_FALSE(qwen.text.outputBias);
    EXPECT_DOUBLE_EQ(qwen.text.ropeTheta, 1e6);
    EXPECT_EQ(qwen.imageTokenIndex, 151646);
    EXPECT_EQ(qwen.eosTokenIds, std::vector<std::int64_t> {151645});
}

} // namespace
} // namespace pictor

namespace pictor {
namespace {

// The gates of LLaVA's CPU formats: teacher-forced on every case's golden continuation, the top-1 id of
// the format's logits agrees with float32's at >= 95 % of the positions (prefill and each decode step),
// and each case's 20 greedy tokens in the format are reported against the golden ones (match, or the
// first divergence). Returns the agreement.
double topTokenAgreement(const std::string& format, nn::CpuFormatsAllowed allowed)
{
    c10::InferenceMode inferenceMode;
    std::int64_t positions = 0, agreeing = 0;
    for (const std::string fixture : {"llava-tiny-llama", "llava-tiny-qwen2"}) {
        nn::ComputeDevice compute = nn::resolveDevice(nn::DeviceChoice::Cpu);
        nn::chooseNumberFormat(compute, format, allowed);
        const std::shared_ptr<const llava::LlavaModel> other
            = llava::LlavaModel::load(test::fixtureDir(fixture), compute);
        EXPECT_EQ(other->languageModel().lm_head8.defined(), compute.weights8Bit)
            << "the language model is in 8 bits exactly when the format says so";
        EXPECT_EQ(other->languageModel().layers[0].mlp.gate_up_proj8.weight8.defined(), compute.weights8Bit);
        const auto f32 = fixtureModel(fixture);
        const nlohmann::json cases = readJsonFile(test::fixtureDir(fixture) / "cases.json");
        for (const auto& entry : cases.at("cases")) {
            const std::string name = entry.at("name");
            const auto golden
                = SafetensorsFile::open(test::fixtureDir(fixture) / "golden" / (name + ".safetensors"));
            const at::Tensor ids = loadGolden(*golden, "input_ids");
            const bool images = golden->find("pixel_values") != nullptr;
            const at::Tensor pixels = images ? loadGolden(*golden, "pixel_values") : at::Tensor();
            llava::LlavaSession a(f32), b(other);
            at::Tensor la = a.prefill(ids, images ? f32->encodeImages(pixels).image_features : at::Tensor());
            at::Tensor lb
                = b.prefill(ids, images ? other->encodeImages(pixels).image_features : at::Tensor());
            const auto goldenIds = asVector(loadGolden(*golden, "generated_ids"));
            for (std::size_t step = 0; step < goldenIds.size(); ++step) {
                ++positions;
                agreeing
                    += la.argmax().item<std::int64_t>() == lb.to(at::kFloat).argmax().item<std::int64_t>()
                    ? 1
                    : 0;
                if (step + 1 < goldenIds.size()) {
                    la = a.decode(goldenIds[step]);
                    lb = b.decode(goldenIds[step]);
                }
            }
            llava::LlavaSession greedy(other);
            const at::Tensor first
                = greedy.prefill(ids, images ? other->encodeImages(pixels).image_features : at::Tensor());
            nn::GenerationOptions options;
            options.maxNewTokens = 20;
            const auto tokens = greedy.generate(first, options).tokens;
            std::size_t same = 0;
            while (same < tokens.size() && same < goldenIds.size() && tokens[same] == goldenIds[same])
                ++same;
            std::printf("  %s/%s: %s greedy %s\n", fixture.c_str(), name.c_str(), compute.describe().c_str(),
                same == goldenIds.size() ? "matches the 20 golden tokens"
                                         : ("first differs at token " + std::to_string(same)).c_str());
        }
    }
    const double agreement = static_cast<double>(agreeing) / static_cast<double>(positions);
    std::printf("%s: top-1 agrees with float32 at %.4f of %lld positions\n", format.c_str(), agreement,
        static_cast<long long>(positions));
    return agreement;
}

TEST(LlavaNumberFormats, Bfloat16AgreesWithFloat32OnTheTopToken)
{
    EXPECT_GE(topTokenAgreement("bfloat16", {}), 0.95);
}

// 8-bit weights with the other numbers in float32 (a CPU without native bfloat16) ...
TEST(LlavaNumberFormats, EightBitWeightsAgreeWithFloat32OnTheTopToken)
{
    EXPECT_GE(topTokenAgreement("int8", {.bfloat16 = false, .weights8Bit = true}), 0.95);
}

// ... and in bfloat16 where the CPU computes it natively (what auto picks there).
TEST(LlavaNumberFormats, EightBitWeightsWithBfloat16AgreeWithFloat32OnTheTopToken)
{
    if (!nn::cpuHasFastBfloat16())
        GTEST_SKIP() << "auto keeps float32 beside 8-bit weights on this CPU";
    EXPECT_GE(topTokenAgreement("int8", {.bfloat16 = true, .weights8Bit = true}), 0.95);
}

TEST(LlavaNumberFormats, AutoPicksEightBitWeightsOnlyOnTheCpuWithAFastKernel)
{
    nn::ComputeDevice compute = nn::resolveDevice(nn::DeviceChoice::Cpu);
    nn::chooseNumberFormat(compute, "auto", {.bfloat16 = true, .weights8Bit = true});
    EXPECT_EQ(compute.weights8Bit, kernels::bestQ8Kernel() != kernels::Q8Kernel::Reference);
    EXPECT_EQ(compute.dtype, nn::cpuHasFastBfloat16() ? at::kBFloat16 : at::kFloat);
    if (compute.weights8Bit) {
        EXPECT_NE(compute.formatReason.find("8-bit weights"), std::string::npos) << compute.formatReason;
        EXPECT_NE(compute.describe().find("with 8-bit weights"), std::string::npos);
    }
    nn::ComputeDevice floats = nn::resolveDevice(nn::DeviceChoice::Cpu);
    nn::chooseNumberFormat(floats, "float32", {.bfloat16 = true, .weights8Bit = true});
    EXPECT_FALSE(floats.weights8Bit) << "a format asked for by name has no 8-bit weights";
    nn::ComputeDevice clip = nn::resolveDevice(nn::DeviceChoice::Cpu);
    nn::chooseNumberFormat(clip, "auto", {.bfloat16 = true});
    EXPECT_FALSE(clip.weights8Bit) << "a family without the gate never gets them";
    EXPECT_THROW(nn::chooseNumberFormat(clip, "int8", {.bfloat16 = true}), Error);
}

} // namespace
} // namespace pictor
