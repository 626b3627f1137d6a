// The unCLIP run as a stream of steps on unclip-tiny: progress, previews, cancel between steps, our seeded
// noise, replayed noise, a photo changed by words, and requests a pipeline refuses.
#include <atomic>
#include <fstream>
#include <map>

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/nn/binder.h"
#include "core/nn/noise.h"
#include "core/safetensors.h"
#include "plugins/unclip/text_proj.h"
#include "plugins/unclip/unclip_family.h"
#include "plugins/unclip/unet.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

namespace fs = std::filesystem;

fs::path pipeline()
{
    return test::fixtureDir("unclip-tiny");
}

std::unique_ptr<ImageGenerator> tinyGenerator(const fs::path& dir = pipeline())
{
    // One thread: tiny shapes gain nothing from more, and parallel test processes would contend for the
    // cores.
    return unclip::loadUnclipGenerator(dir, {"cpu", "float32", 1});
}

GenerationRequest fewSteps()
{
    GenerationRequest request;
    request.priorSteps = 3;
    request.decoderSteps = 3;
    request.superResSteps = 2;
    return request;
}

RgbImage gradientPhoto(int width, int height)
{
    RgbImage image(width, height);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            std::uint8_t* p = image.row(y) + 3 * x;
            p[0] = static_cast<std::uint8_t>(x * 255 / width);
            p[1] = static_cast<std::uint8_t>(y * 255 / height);
            p[2] = 128;
        }
    return image;
}

at::Tensor embeddingOf(const GenerationResult& result)
{
    const FloatArray& a = result.intermediates.at("image_embeds");
    return at::tensor(a.values, at::kFloat).view(a.shape);
}

TEST(UnclipRun, StepsReportProgressAndPreviewsThenFinish)
{
    const auto generator = tinyGenerator();
    EXPECT_TRUE(generator->canGenerateFromText());
    EXPECT_TRUE(generator->canUsePhotos());
    GenerationRequest request = fewSteps();
    request.prompts = {"a boat", "a tree"};
    const auto stream = generator->start(request);
    EXPECT_EQ(stream->progress().totalSteps, 1 + 3 + 3 + 2);
    EXPECT_EQ(stream->progress().stage, GenerationStage::Encode);
    // Each call runs the encoding, a prior step, or one part of a UNet pass (a resnet block), so the
    // worker can run other jobs between parts: stepsDone moves on at the end of a diffusion step.
    std::vector<GenerationStage> stages;
    std::map<int, int> callsPerStep; // stepsDone -> calls that ended with that count
    int calls = 0, lastDone = 0;
    while (!stream->step()) {
        ++calls;
        const GenerationProgress p = stream->progress();
        EXPECT_TRUE(p.stepsDone == lastDone || p.stepsDone == lastDone + 1) << p.stepsDone;
        lastDone = p.stepsDone;
        ++callsPerStep[p.stepsDone];
        stages.push_back(p.stage);
        const auto preview = stream->preview();
        if (p.stage == GenerationStage::Prior || (p.stage == GenerationStage::Decoder && p.stageStep == 0)) {
            EXPECT_TRUE(preview.empty());
        } else {
            ASSERT_EQ(preview.size(), 2u);
            EXPECT_EQ(preview[0].width, p.stage == GenerationStage::SuperRes && p.stageStep > 0 ? 128 : 32);
        }
    }
    EXPECT_GT(calls + 1, 9 * 2) << "the UNet steps run in parts";
    EXPECT_EQ(callsPerStep[1], 1) << "the encoding is one call";
    EXPECT_GT(callsPerStep[5], 3) << "the parts of the first decoder step (4 done) ran as calls of their own";
    EXPECT_EQ(stages.front(), GenerationStage::Prior);
    EXPECT_EQ(stages.back(), GenerationStage::SuperRes);
    EXPECT_TRUE(stream->finished());
    EXPECT_EQ(stream->progress().stepsDone, 9);
    ASSERT_EQ(stream->result().images.size(), 2u);
    EXPECT_FALSE(stream->result().cancelled);
    EXPECT_TRUE(stream->result().intermediates.empty()); // only on request
}

TEST(UnclipRun, CancelStopsBetweenSteps)
{
    const auto generator = tinyGenerator();
    std::atomic<bool> cancel {false};
    GenerationRequest request = fewSteps();
    request.prompts = {"a boat"};
    request.cancel = &cancel;
    const auto stream = generator->start(request);
    ASSERT_FALSE(stream->step()); // encode
    ASSERT_FALSE(stream->step()); // first prior step
    cancel = true;
    EXPECT_TRUE(stream->step());
    EXPECT_TRUE(stream->finished());
    EXPECT_TRUE(stream->result().cancelled);
    EXPECT_TRUE(stream->result().images.empty());
    EXPECT_EQ(stream->progress().stepsDone, 2);
    EXPECT_TRUE(stream->step()); // stays finished
}

TEST(UnclipRun, SeededNoiseIsFixedForASeed)
{
    c10::InferenceMode inferenceMode;
    nn::SeededNoise a(42), b(42), c(43);
    const at::Tensor first = a.draw({1000, 100}, "x");
    EXPECT_TRUE(at::equal(first, b.draw({1000, 100}, "x")));
    EXPECT_FALSE(at::equal(first, c.draw({1000, 100}, "x")));
    EXPECT_FALSE(at::equal(a.draw({1000, 100}, "x"), first)); // the stream goes on
    EXPECT_NEAR(first.mean().item<double>(), 0.0, 0.02);
    EXPECT_NEAR(first.std().item<double>(), 1.0, 0.02);
    // Pinned: the generator is ours and documented, so these never change (across runs and machines).
    const std::vector<float> pinned {0.41471976f, 0.65268123f, -0.89188623f, 1.3268336f};
    for (std::size_t i = 0; i < pinned.size(); ++i)
        EXPECT_FLOAT_EQ(first.flatten()[static_cast<std::int64_t>(i)].item<float>(), pinned[i]) << i;
    nn::SeededNoise again(42);
    const at::Tensor odd = again.draw({3}, "odd count"); // a lone value takes the cosine of a pair
    EXPECT_FLOAT_EQ(odd[0].item<float>(), pinned[0]);
    EXPECT_FLOAT_EQ(odd[1].item<float>(), pinned[1]);
    EXPECT_EQ(a.drawsTaken(), 2);
}

TEST(UnclipRun, ReplayedNoiseChecksEveryDraw)
{
    c10::InferenceMode inferenceMode;
    nn::ReplayNoise replay(pipeline() / "cases" / "e2e_image_variation.safetensors");
    EXPECT_EQ(replay.draw({1, 3, 32, 32}, "decoder latents").size(2), 32);
    try {
        replay.draw({2, 3, 32, 32}, "decoder step noise");
        FAIL() << "a draw of another shape was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(
                      "random_draw.01' has shape [1, 3, 32, 32] but the run needs [2, 3, 32, 32]"),
            std::string::npos)
            << e.what();
    }
    nn::ReplayNoise short_(pipeline() / "cases" / "e2e_image_variation.safetensors");
    for (const auto& shape : std::vector<std::vector<std::int64_t>> {
             {1, 3, 32, 32}, {1, 3, 32, 32}, {1, 3, 32, 32}, {1, 3, 128, 128}, {1, 3, 128, 128}})
        short_.draw(shape, "x");
    EXPECT_THROW(short_.draw({1, 3, 128, 128}, "one too many"), Error);
    EXPECT_THROW(nn::ReplayNoise(pipeline() / "prior" / "diffusion_pytorch_model.safetensors"), Error);
}

TEST(UnclipRun, APhotoTurnsTowardTheWords)
{
    const auto generator = tinyGenerator();
    auto embeddingAt = [&](float strength) {
        GenerationRequest request = fewSteps();
        request.sourceImages = {gradientPhoto(96, 64)};
        request.prompts = {"in the snow"};
        request.changeStrength = strength;
        request.keepIntermediates = true;
        request.superResSteps = 2;
        return embeddingOf(generator->generate(request));
    };
    GenerationRequest variation = fewSteps();
    variation.sourceImages = {gradientPhoto(96, 64)};
    variation.keepIntermediates = true;
    const at::Tensor photo = embeddingOf(generator->generate(variation));
    const at::Tensor none = embeddingAt(0.0f), half = embeddingAt(0.5f), full = embeddingAt(1.0f);
    EXPECT_TRUE(at::allclose(none, photo, 1e-5, 1e-5));
    EXPECT_NEAR(full.norm().item<double>(), photo.norm().item<double>(), 1e-4); // the photo's length is kept
    auto angle = [](const at::Tensor& a, const at::Tensor& b) {
        return std::acos(
            std::clamp((a * b).sum().item<double>() / (a.norm() * b.norm()).item<double>(), -1.0, 1.0));
    };
    EXPECT_GT(angle(photo, full), 0.1);
    EXPECT_NEAR(angle(photo, half), angle(half, full), 1e-3); // slerp: half-way on the arc
}

TEST(UnclipRun, RequestsThePipelineCannotServeAreRefused)
{
    const auto generator = tinyGenerator();
    GenerationRequest nothing = fewSteps();
    EXPECT_THROW(generator->start(nothing), Error);
    GenerationRequest zero = fewSteps();
    zero.prompts = {"x"};
    zero.imagesPerInput = 0;
    EXPECT_THROW(generator->start(zero), Error);
    GenerationRequest wrongWidth = fewSteps();
    wrongWidth.imageEmbeddings = FloatArray {{1, 16}, std::vector<float>(16, 0.5f)};
    auto stream = generator->start(wrongWidth);
    try {
        while (!stream->step()) { }
        FAIL() << "an embedding of the wrong width was decoded";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("width 16 do not fit"), std::string::npos) << e.what();
    }

    // The image-variations layout (no prior): text alone is refused with what to use instead.
    const fs::path variations = test::scratchDir("unclip-variations") / "pipeline";
    fs::create_directories(variations);
    for (const auto& entry : fs::directory_iterator(pipeline())) {
        const std::string name = entry.path().filename().string();
        if (name != "prior" && name != "prior_scheduler" && name != "cases" && name != "image_variation"
            && name != "model_index.json")
            fs::create_directory_symlink(entry.path(), variations / name);
    }
    fs::create_directory_symlink(
        pipeline() / "image_variation" / "image_encoder", variations / "image_encoder");
    fs::create_directory_symlink(
        pipeline() / "image_variation" / "feature_extractor", variations / "feature_extractor");
    nlohmann::json index = nlohmann::json::parse(std::ifstream(pipeline() / "model_index.json"));
    index["_class_name"] = "UnCLIPImageVariationPipeline";
    index.erase("prior");
    index.erase("prior_scheduler");
    index["image_encoder"] = {"transformers", "CLIPVisionModelWithProjection"};
    index["feature_extractor"] = {"transformers", "CLIPImageProcessor"};
    std::ofstream(variations / "model_index.json") << index.dump(2);
    const auto variationGenerator = tinyGenerator(variations);
    EXPECT_FALSE(variationGenerator->canGenerateFromText());
    GenerationRequest text = fewSteps();
    text.prompts = {"a boat"};
    try {
        variationGenerator->start(text);
        FAIL() << "text to image without a prior was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("has no prior"), std::string::npos) << e.what();
    }
    GenerationRequest photo = fewSteps();
    photo.sourceImages = {gradientPhoto(40, 50)};
    EXPECT_EQ(variationGenerator->generate(photo).images.size(), 1u);
}

// Writes `tensors` (name -> tensor) as one safetensors file; the tensors must stay alive meanwhile.
void writeTensors(const fs::path& file, const std::vector<std::pair<std::string, at::Tensor>>& tensors)
{
    std::vector<TensorToWrite> entries;
    for (const auto& [name, tensor] : tensors) {
        const DType dtype = tensor.scalar_type() == at::kHalf ? DType::F16 : DType::F32;
        entries.push_back(
            {name, dtype, std::vector<std::int64_t>(tensor.sizes().begin(), tensor.sizes().end()),
                std::span(reinterpret_cast<const std::byte*>(tensor.data_ptr()), tensor.nbytes())});
    }
    writeSafetensors(file, entries);
}

TEST(UnclipRun, Fp16VariantsAndShardedWeightsLoad)
{
    c10::InferenceMode inferenceMode;
    const fs::path root = test::scratchDir("unclip-variants");
    // The decoder as diffusion_pytorch_model.fp16.safetensors (every tensor float16).
    fs::create_directories(root / "decoder");
    fs::copy_file(pipeline() / "decoder" / "config.json", root / "decoder" / "config.json");
    const auto original
        = SafetensorsFile::open(pipeline() / "decoder" / "diffusion_pytorch_model.safetensors");
    std::vector<std::pair<std::string, at::Tensor>> halves;
    for (const TensorView& view : original->tensors())
        halves.emplace_back(view.name, nn::tensorFromView(view).to(at::kHalf).contiguous());
    writeTensors(root / "decoder" / "diffusion_pytorch_model.fp16.safetensors", halves);

    // text_proj in two shards with an index.
    fs::create_directories(root / "text_proj");
    fs::copy_file(pipeline() / "text_proj" / "config.json", root / "text_proj" / "config.json");
    const auto projFile
        = SafetensorsFile::open(pipeline() / "text_proj" / "diffusion_pytorch_model.safetensors");
    std::vector<std::pair<std::string, at::Tensor>> first, second;
    nlohmann::json weightMap;
    for (const TensorView& view : projFile->tensors()) {
        const bool inFirst = first.size() < projFile->tensors().size() / 2;
        (inFirst ? first : second).emplace_back(view.name, nn::tensorFromView(view).clone());
        weightMap[view.name] = inFirst ? "diffusion_pytorch_model-00001-of-00002.safetensors"
                                       : "diffusion_pytorch_model-00002-of-00002.safetensors";
    }
    writeTensors(root / "text_proj" / "diffusion_pytorch_model-00001-of-00002.safetensors", first);
    writeTensors(root / "text_proj" / "diffusion_pytorch_model-00002-of-00002.safetensors", second);
    std::ofstream(root / "text_proj" / "diffusion_pytorch_model.safetensors.index.json")
        << nlohmann::json {{"metadata", nlohmann::json::object()}, {"weight_map", weightMap}}.dump();

    const nn::ComputeDevice cpu {at::kCPU, at::kFloat, "float32"};
    const auto golden = SafetensorsFile::open(pipeline() / "cases" / "decoder_t460.safetensors");
    auto in = [&](const char* name) { return nn::tensorFromView(golden->at(name)).clone(); };
    const unclip::UNet::Conditioning conditioning {
        in("class_labels"), in("encoder_hidden_states"), in("attention_mask")};
    const at::Tensor reference
        = unclip::UNet::load(pipeline() / "decoder", cpu)->forward(in("sample"), 460, conditioning);
    const at::Tensor fromHalves
        = unclip::UNet::load(root / "decoder", cpu)->forward(in("sample"), 460, conditioning);
    EXPECT_LT((fromHalves - reference).abs().max().item<double>(), 0.05); // float16 weights, float32 compute
    EXPECT_GT((fromHalves - reference).abs().max().item<double>(), 0.0); // and they were the float16 ones

    const at::Tensor image = at::randn({2, 32}), text = at::randn({4, 32}), hidden = at::randn({4, 77, 32});
    const auto whole
        = unclip::TextProj::load(pipeline() / "text_proj", cpu)->forward(image, text, hidden, true);
    const auto sharded = unclip::TextProj::load(root / "text_proj", cpu)->forward(image, text, hidden, true);
    EXPECT_TRUE(at::equal(whole.encoderHiddenStates, sharded.encoderHiddenStates));
    EXPECT_TRUE(at::equal(whole.additiveTimeEmbedding, sharded.additiveTimeEmbedding));
}

} // namespace
} // namespace pictor
