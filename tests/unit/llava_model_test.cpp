// LLaVA loading and generation around the tiny fixtures: both checkpoint name schemes and shards load
// identically; broken folders and prompts fail with messages that name the problem; the generation loop
// stops on stop tokens, budgets, the context window, the callback and the cancel flag; sampling is seeded;
// generation in slices (for the compute worker) gives the tokens and stop reason of one run, and so does a
// prompt appended in steps.
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_file.h"
#include "plugins/llava/llava_family.h"
#include "plugins/llava/llava_model.h"
#include "tests/support/error_text.h"
#include "tests/support/paths.h"
#include "tests/support/tensor_compare.h"

namespace pictor {
namespace {

using TensorMap = std::map<std::string, at::Tensor>;
constexpr const char* kLlama = "llava-tiny-llama";
constexpr const char* kQwen = "llava-tiny-qwen2";

TensorMap fixtureTensors(const std::string& fixture)
{
    TensorMap tensors;
    auto file = SafetensorsFile::open(test::fixtureDir(fixture) / "model.safetensors");
    for (const auto& view : file->tensors())
        tensors[view.name] = nn::tensorFromView(view).clone();
    return tensors;
}

void writeTensors(const std::filesystem::path& file, const TensorMap& tensors)
{
    std::vector<TensorToWrite> out;
    for (const auto& [name, tensor] : tensors)
        out.push_back(
            {name, tensor.scalar_type() == at::kLong ? DType::I64 : DType::F32, tensor.sizes().vec(),
                std::span(static_cast<const std::byte*>(tensor.data_ptr()), tensor.nbytes())});
    writeSafetensors(file, out);
}

std::filesystem::path modelFolder(const std::string& fixture, const std::string& tag)
{
    const auto dir = test::scratchDir(tag);
    for (const char* name : {"config.json", "generation_config.json", "preprocessor_config.json"})
        std::filesystem::copy_file(test::fixtureDir(fixture) / name, dir / name);
    return dir;
}

std::filesystem::path folderWith(
    const std::string& fixture, const std::string& tag, const std::function<void(TensorMap&)>& edit)
{
    TensorMap tensors = fixtureTensors(fixture);
    edit(tensors);
    const auto dir = modelFolder(fixture, tag);
    writeTensors(dir / "model.safetensors", tensors);
    return dir;
}

std::shared_ptr<const llava::LlavaModel> load(const std::filesystem::path& dir)
{
    return llava::LlavaModel::load(dir, nn::resolveDevice(nn::DeviceChoice::Cpu));
}

std::string loadError(const std::filesystem::path& dir)
{
    return test::errorOf([&] { load(dir); });
}

at::Tensor goldenTensor(const std::string& fixture, const std::string& caseName, const std::string& name)
{
    auto file = SafetensorsFile::open(test::fixtureDir(fixture) / "golden" / (caseName + ".safetensors"));
    return test::loadGolden(*file, name);
}

std::vector<std::int64_t> goldenIds(const std::string& fixture, const std::string& caseName)
{
    const at::Tensor ids = goldenTensor(fixture, caseName, "generated_ids").contiguous();
    return {ids.data_ptr<std::int64_t>(), ids.data_ptr<std::int64_t>() + ids.numel()};
}

// The text-only case's prefill logits: enough to tell whether every language-model tensor was bound right.
at::Tensor textOnlyLogits(const std::shared_ptr<const llava::LlavaModel>& model, const std::string& caseName)
{
    const std::string fixture = model->config().text.modelType == "qwen2" ? kQwen : kLlama;
    llava::LlavaSession session(model);
    return session.prefill(goldenTensor(fixture, caseName, "input_ids"));
}

class LlavaModelTest : public testing::Test {
protected:
    static std::shared_ptr<const llava::LlavaModel> llama()
    {
        static auto model = load(test::fixtureDir(kLlama));
        return model;
    }
    c10::InferenceMode inferenceMode;
};

TEST_F(LlavaModelTest, NewNameSchemeLoadsIdentically)
{
    // transformers >= 4.52 saves LlavaModel's names (the mapping its README gives).
    const auto dir = folderWith(kLlama, "new_names", [](TensorMap& tensors) {
        const std::vector<std::pair<std::string, std::string>> renames {
            {"language_model.model.", "model.language_model."}, {"language_model.lm_head.", "lm_head."},
            {"vision_tower.", "model.vision_tower."},
            {"multi_modal_projector.", "model.multi_modal_projector."}};
        TensorMap renamed;
        for (auto& [name, tensor] : tensors) {
            std::string key = name;
            for (const auto& [from, to] : renames)
                if (key.starts_with(from)) {
                    key = to + key.substr(from.size());
                    break;
                }
            renamed[key] = tensor;
        }
        tensors = renamed;
    });
    const auto model = load(dir);
    EXPECT_TRUE(at::equal(textOnlyLogits(model, "c4_text_only"), textOnlyLogits(llama(), "c4_text_only")));
    const at::Tensor pixels = goldenTensor(kLlama, "c1_img640_what", "pixel_values");
    EXPECT_TRUE(
        at::equal(model->encodeImages(pixels).image_features, llama()->encodeImages(pixels).image_features));
}

TEST_F(LlavaModelTest, ShardedTiedCheckpointLoadsIdentically)
{
    TensorMap first = fixtureTensors(kQwen), second;
    for (auto it = first.begin(); it != first.end();) {
        if (it->first.starts_with("language_model.")) {
            second.insert(*it);
            it = first.erase(it);
        } else {
            ++it;
        }
    }
    const auto dir = modelFolder(kQwen, "sharded");
    writeTensors(dir / "model-00001-of-00002.safetensors", first);
    writeTensors(dir / "model-00002-of-00002.safetensors", second);
    nlohmann::json index {{"metadata", nlohmann::json::object()}, {"weight_map", nlohmann::json::object()}};
    for (const auto& [name, tensor] : first)
        index["weight_map"][name] = "model-00001-of-00002.safetensors";
    for (const auto& [name, tensor] : second)
        index["weight_map"][name] = "model-00002-of-00002.safetensors";
    std::ofstream(dir / "model.safetensors.index.json") << index.dump();
    EXPECT_TRUE(test::tensorsClose("prefill logits (sharded)", textOnlyLogits(load(dir), "q4_text_only"),
        goldenTensor(kQwen, "q4_text_only", "prefill_last_logits"), 2e-3));
}

TEST_F(LlavaModelTest, MissingProjectorIsNamed)
{
    const auto message = loadError(folderWith(kLlama, "no_projector", [](TensorMap& t) {
        t.erase("multi_modal_projector.linear_1.weight");
        t.erase("multi_modal_projector.linear_1.bias");
        t.erase("multi_modal_projector.linear_2.weight");
        t.erase("multi_modal_projector.linear_2.bias");
    }));
    EXPECT_NE(message.find("4 problem(s)"), std::string::npos) << message;
    EXPECT_NE(
        message.find("missing tensor 'multi_modal_projector.linear_1.weight' (expected shape [64, 32])"),
        std::string::npos)
        << message;
    EXPECT_NE(message.find("missing tensor 'multi_modal_projector.linear_2.bias'"), std::string::npos)
        << message;
}

TEST_F(LlavaModelTest, VisionTowerWidthNotMatchingTheProjectorIsExplained)
{
    const auto message = loadError(folderWith(kLlama, "narrow_projector", [](TensorMap& t) {
        t["multi_modal_projector.linear_1.weight"] = at::zeros({64, 48});
    }));
    EXPECT_NE(
        message.find("the projector takes 48-wide image features ('multi_modal_projector.linear_1.weight' "
                     "[64, 48]) but the vision tower gives 32 (vision_config.hidden_size 32 x 1 feature "
                     "layer(s))"),
        std::string::npos)
        << message;
}

TEST_F(LlavaModelTest, ProjectorNotMatchingTheLanguageModelIsExplained)
{
    const auto message = loadError(folderWith(kLlama, "wide_projector", [](TensorMap& t) {
        t["multi_modal_projector.linear_1.weight"] = at::zeros({80, 32});
    }));
    EXPECT_NE(message.find("the projector gives 80-wide features"), std::string::npos) << message;
    EXPECT_NE(message.find("the language model is 64 wide (text_config.hidden_size)"), std::string::npos)
        << message;
}

TEST_F(LlavaModelTest, UntiedModelWithoutLmHeadAndUnexpectedTensorsAreNamed)
{
    const auto message = loadError(folderWith(kLlama, "no_lm_head", [](TensorMap& t) {
        t.erase("language_model.lm_head.weight");
        t["vision_tower.vision_model.extra.weight"] = at::zeros({3});
    }));
    EXPECT_NE(message.find("missing tensor 'language_model.lm_head.weight' (expected shape [32064, 64])"),
        std::string::npos)
        << message;
    EXPECT_NE(
        message.find("unexpected tensor 'vision_tower.vision_model.extra.weight' [3] F32"), std::string::npos)
        << message;
}

TEST_F(LlavaModelTest, LegacyBuffersAreIgnored)
{
    const auto dir = folderWith(kLlama, "buffers", [](TensorMap& t) {
        t["vision_tower.vision_model.embeddings.position_ids"] = at::arange(50, at::kLong).unsqueeze(0);
        t["language_model.model.layers.0.self_attn.rotary_emb.inv_freq"] = at::zeros({8});
    });
    EXPECT_TRUE(
        at::equal(textOnlyLogits(load(dir), "c4_text_only"), textOnlyLogits(llama(), "c4_text_only")));
}

TEST_F(LlavaModelTest, TiedModelIgnoresASavedLmHeadCopy)
{
    // Some tied checkpoints still carry lm_head; transformers overwrites it with embed_tokens on load.
    const auto dir = folderWith(kQwen, "tied_copy", [](TensorMap& t) {
        t["language_model.lm_head.weight"] = at::zeros_like(t.at("language_model.model.embed_tokens.weight"));
    });
    EXPECT_TRUE(
        test::tensorsClose("prefill logits (tied, lm_head saved)", textOnlyLogits(load(dir), "q4_text_only"),
            goldenTensor(kQwen, "q4_text_only", "prefill_last_logits"), 2e-3));
}

TEST_F(LlavaModelTest, NotALlavaCheckpoint)
{
    const auto message = loadError(folderWith(kLlama, "not_llava", [](TensorMap& t) {
        t = {{"something.weight", at::zeros({2})}};
    }));
    EXPECT_NE(message.find("not a LLaVA checkpoint (none of 'language_model.model.embed_tokens.weight', "
                           "'model.language_model.embed_tokens.weight' is present)"),
        std::string::npos)
        << message;
}

TEST_F(LlavaModelTest, UnknownTextModelTypeListsTheSupportedOnes)
{
    const auto dir = modelFolder(kLlama, "gpt2");
    nlohmann::json config = readJsonFile(dir / "config.json");
    config["text_config"]["model_type"] = "gpt2";
    std::ofstream(dir / "config.json") << config.dump();
    const auto message = test::errorOf([&] { llava::LlavaConfig::load(dir); });
    EXPECT_NE(
        message.find("text_config.model_type 'gpt2' is not supported (supported: llama, qwen2, mistral)"),
        std::string::npos)
        << message;
}

TEST_F(LlavaModelTest, FeatureLayerOutOfRangeIsAnError)
{
    const auto dir = modelFolder(kLlama, "layer");
    nlohmann::json config = readJsonFile(dir / "config.json");
    config["vision_feature_layer"] = -5;
    std::ofstream(dir / "config.json") << config.dump();
    const auto message = test::errorOf([&] { llava::LlavaConfig::load(dir); });
    EXPECT_NE(message.find("vision_feature_layer -5 is out of range for a vision tower with 3 layers"),
        std::string::npos)
        << message;
}

TEST_F(LlavaModelTest, PromptLongerThanTheContextWindowIsRefused)
{
    llava::LlavaSession session(llama());
    const at::Tensor ids = at::ones({1, 600}, at::kLong);
    const auto message = test::errorOf([&] { session.prefill(ids); });
    EXPECT_EQ(message,
        "the prompt has 600 tokens but only 512 of the 512 positions of the context window are left (shorten "
        "the "
        "prompt)");
    EXPECT_EQ(session.length(), 0);
    // A follow-up that no longer fits is refused the same way, and the session stays usable.
    session.prefill(at::ones({1, 500}, at::kLong));
    const auto followUp = test::errorOf([&] { session.prefill(at::ones({1, 13}, at::kLong)); });
    EXPECT_NE(followUp.find("only 12 of the 512 positions"), std::string::npos) << followUp;
    EXPECT_NE(followUp.find("start a new session or shorten the history"), std::string::npos) << followUp;
    EXPECT_EQ(session.length(), 500);
}

TEST_F(LlavaModelTest, GenerationStopsAtTheEndOfTheContextWindow)
{
    llava::LlavaSession session(llama());
    const at::Tensor logits = session.prefill(at::ones({1, 508}, at::kLong));
    nn::GenerationOptions options;
    options.maxNewTokens = 20;
    const auto result = session.generate(logits, options);
    EXPECT_EQ(result.stopReason, nn::StopReason::ContextFull);
    EXPECT_EQ(result.tokens.size(), 5u); // 4 fed back, the fifth sampled from the last position
    EXPECT_EQ(session.length(), 512);
    EXPECT_EQ(test::errorOf([&] { session.decode(1); }), "the context window of 512 positions is full");
}

TEST_F(LlavaModelTest, ImageTokensMustMatchTheImages)
{
    llava::LlavaSession session(llama());
    const at::Tensor ids = goldenTensor(kLlama, "c1_img640_what", "input_ids");
    EXPECT_EQ(test::errorOf([&] { session.prefill(ids); }),
        "the prompt holds 49 image tokens (id 32000) but the images give 0 feature rows (0 x 49); expand "
        "each "
        "image token with expandImageTokens()");
    const at::Tensor features
        = llama()->encodeImages(goldenTensor(kLlama, "c5_two_images", "pixel_values")).image_features;
    EXPECT_NE(test::errorOf([&] {
        session.prefill(ids, features);
    }).find("the images give 98 feature rows (2 x 49)"),
        std::string::npos);
    EXPECT_EQ(session.length(), 0);
}

TEST_F(LlavaModelTest, TokenIdsOutsideTheVocabularyAreRefused)
{
    llava::LlavaSession session(llama());
    const at::Tensor ids = at::tensor(std::vector<std::int64_t> {1, 40000, 2}).view({1, 3});
    EXPECT_EQ(test::errorOf([&] { session.prefill(ids); }),
        "token id 40000 at position 1 is outside the vocabulary of 32064 tokens");
    EXPECT_EQ(
        test::errorOf([&] { session.decode(-1); }), "token id -1 is outside the vocabulary of 32064 tokens");
}

TEST_F(LlavaModelTest, ChatSessionRefusesWhatItCannotAnswer)
{
    llava::LlavaOptions options;
    options.device = "cpu";
    const auto engine = llava::LlavaEngine::load(test::fixtureDir(kLlama), options);
    auto session = engine->startSession();
    EXPECT_EQ(test::errorOf([&] { session->generate({}); }), "nothing to answer: append a prompt first");
    EXPECT_EQ(test::errorOf([&] {
        session->append({1, 32000, 2});
    }),
        "the prompt has 1 image token(s) (id 32000) for 0 image(s)");
    EXPECT_EQ(test::errorOf([&] { session->append(std::vector<std::int64_t>(600, 1)); }),
        "the prompt has 600 tokens but only 512 of the 512 positions of the context window are left (shorten "
        "the "
        "prompt)");
    EXPECT_EQ(session->length(), 0);
    session->append({1, 2, 3});
    nn::GenerationOptions generation;
    generation.maxNewTokens = 30;
    generation.stopTokenIds = {-1}; // no stop token
    EXPECT_EQ(session->generate(generation).tokens.size(), 30u);
    EXPECT_EQ(session->roomLeft(), 512 - 3 - 29);
    EXPECT_EQ(
        test::errorOf([&] { session->generate(generation); }), "nothing to answer: append a prompt first");
}

// One answer from a fresh chat session on a text-only prompt, generated at once or one token per slice.
struct ChatRun {
    nn::GenerationResult result;
    std::int64_t length = 0; // positions the session holds afterwards
    int slices = 0;
};

ChatRun runChat(const llava::LlavaEngine& engine, const std::vector<std::int64_t>& prompt,
    const nn::GenerationOptions& options, bool sliced)
{
    auto session = engine.startSession();
    session->append(prompt);
    ChatRun run;
    if (sliced) {
        // A deadline in the past: every slice ends after its first token.
        while (!session->generateSlice(options, std::chrono::steady_clock::time_point::min()))
            ++run.slices;
        ++run.slices;
        run.result = session->generated();
    } else {
        run.result = session->generate(options);
        run.slices = 1;
    }
    run.length = session->length();
    return run;
}

std::vector<std::int64_t> textPrompt(std::size_t tokens)
{
    std::vector<std::int64_t> ids {1};
    for (std::size_t i = 1; i < tokens; ++i)
        ids.push_back(static_cast<std::int64_t>(300 + 37 * i % 20000));
    return ids;
}

void expectSameRun(const ChatRun& sliced, const ChatRun& whole, nn::StopReason reason)
{
    EXPECT_EQ(sliced.result.tokens, whole.result.tokens);
    EXPECT_EQ(sliced.result.stopReason, reason);
    EXPECT_EQ(whole.result.stopReason, reason);
    EXPECT_EQ(sliced.length, whole.length);
}

TEST_F(LlavaModelTest, SlicedGenerationEqualsOneRun)
{
    llava::LlavaOptions cpu;
    cpu.device = "cpu";
    const auto engine = llava::LlavaEngine::load(test::fixtureDir(kLlama), cpu);
    const std::vector<std::int64_t> prompt = textPrompt(12);
    nn::GenerationOptions options;
    options.maxNewTokens = 40;
    options.stopTokenIds = {-1}; // no stop token: the budget ends it

    const ChatRun whole = runChat(*engine, prompt, options, false);
    const ChatRun sliced = runChat(*engine, prompt, options, true);
    ASSERT_EQ(whole.result.tokens.size(), 40u);
    expectSameRun(sliced, whole, nn::StopReason::MaxNewTokens);
    EXPECT_EQ(sliced.slices, 41); // one per token, and the one that finds the budget spent

    // Seeded sampling: the draws go on from slice to slice.
    options.sampling.greedy = false;
    options.sampling.temperature = 1.5f;
    options.sampling.topP = 0.95f;
    options.sampling.seed = 11;
    const ChatRun sampled = runChat(*engine, prompt, options, false);
    expectSameRun(runChat(*engine, prompt, options, true), sampled, nn::StopReason::MaxNewTokens);
    EXPECT_NE(sampled.result.tokens, whole.result.tokens);
    options.sampling = {};

    // A stop token in the middle.
    options.stopTokenIds = {whole.result.tokens[9]};
    const ChatRun stopped = runChat(*engine, prompt, options, false);
    expectSameRun(runChat(*engine, prompt, options, true), stopped, nn::StopReason::EndOfSequence);
    EXPECT_LE(stopped.result.tokens.size(), 9u);
    options.stopTokenIds = {-1};

    // The end of the context window (512 positions).
    const std::vector<std::int64_t> longPrompt = textPrompt(500);
    const ChatRun full = runChat(*engine, longPrompt, options, false);
    expectSameRun(runChat(*engine, longPrompt, options, true), full, nn::StopReason::ContextFull);
    EXPECT_EQ(full.result.tokens.size(), 13u);
    EXPECT_EQ(full.length, 512);

    // Cancel while the fourth token streams: the next slice stops before its first token.
    std::atomic<bool> cancel {false};
    int seen = 0;
    options.cancel = &cancel;
    options.onToken = [&](std::int64_t) {
        if (++seen == 4)
            cancel = true;
        return true;
    };
    const ChatRun cancelled = runChat(*engine, prompt, options, false);
    cancel = false;
    seen = 0;
    const ChatRun slicedCancel = runChat(*engine, prompt, options, true);
    EXPECT_EQ(slicedCancel.result.tokens, cancelled.result.tokens);
    EXPECT_EQ(slicedCancel.result.stopReason, nn::StopReason::Cancelled);
    EXPECT_EQ(cancelled.result.stopReason, nn::StopReason::Cancelled);
    EXPECT_EQ(cancelled.result.tokens.size(), 4u);
    // The fourth token is not fed back: the slice stops without the forward pass it would cost.
    EXPECT_EQ(slicedCancel.length, cancelled.length - 1);
}

TEST_F(LlavaModelTest, PromptAppendedInStepsRefusesEarlyAndEqualsOneAppend)
{
    llava::LlavaOptions options;
    options.device = "cpu";
    options.prefillChunk = 4;
    const auto engine = llava::LlavaEngine::load(test::fixtureDir(kLlama), options);
    auto session = engine->startSession();
    // Refusals come from beginAppend, before anything runs, and leave nothing pending.
    EXPECT_EQ(test::errorOf([&] {
        session->beginAppend({1, 32000, 2});
    }),
        "the prompt has 1 image token(s) (id 32000) for 0 image(s)");
    EXPECT_NE(test::errorOf([&] {
        session->beginAppend(std::vector<std::int64_t>(600, 1));
    }).find("the prompt has 600 tokens but only 512"),
        std::string::npos);
    EXPECT_FALSE(session->appending());
    EXPECT_EQ(test::errorOf([&] { session->appendStep(std::chrono::steady_clock::time_point::max()); }),
        "nothing to append: call beginAppend first");

    const std::vector<std::int64_t> prompt = textPrompt(10);
    session->beginAppend(prompt);
    EXPECT_EQ(test::errorOf([&] { session->beginAppend(prompt); }), "a prompt is being appended already");
    EXPECT_NE(test::errorOf([&] { session->generate({}); }).find("the prompt is still being appended"),
        std::string::npos);
    // A deadline in the past: one chunk of 4 positions per call.
    EXPECT_FALSE(session->appendStep(std::chrono::steady_clock::time_point::min()));
    EXPECT_EQ(session->length(), 4);
    EXPECT_FALSE(session->appendStep(std::chrono::steady_clock::time_point::min()));
    EXPECT_EQ(session->length(), 8);
    EXPECT_TRUE(session->appendStep(std::chrono::steady_clock::time_point::min()));
    EXPECT_EQ(session->length(), 10);
    nn::GenerationOptions generation;
    generation.maxNewTokens = 12;
    generation.stopTokenIds = {-1};
    const auto stepwise = session->generate(generation).tokens;

    // The rest of the steps in one call when the deadline is far; the same tokens as append().
    auto other = engine->startSession();
    other->beginAppend(prompt);
    EXPECT_FALSE(other->appendStep(std::chrono::steady_clock::time_point::min()));
    EXPECT_TRUE(other->appendStep(std::chrono::steady_clock::time_point::max()));
    EXPECT_EQ(other->generate(generation).tokens, stepwise);
    auto whole = engine->startSession();
    whole->append(prompt);
    EXPECT_EQ(whole->generate(generation).tokens, stepwise);

    // reset() drops a prompt half appended.
    other->beginAppend({1, 5, 6, 7, 8, 9});
    EXPECT_FALSE(other->appendStep(std::chrono::steady_clock::time_point::min()));
    other->reset();
    EXPECT_FALSE(other->appending());
    EXPECT_EQ(other->length(), 0);
}

class LlavaGenerationTest : public LlavaModelTest {
protected:
    nn::GenerationResult generate(nn::GenerationOptions options, llava::LlavaSession* into = nullptr)
    {
        llava::LlavaSession own(llama());
        llava::LlavaSession& session = into ? *into : own;
        const at::Tensor logits = session.prefill(goldenTensor(kLlama, "c1_img640_what", "input_ids"),
            llama()->encodeImages(goldenTensor(kLlama, "c1_img640_what", "pixel_values")).image_features);
        return session.generate(logits, options);
    }
    const std::vector<std::int64_t> golden = goldenIds(kLlama, "c1_img640_what");
};

TEST_F(LlavaGenerationTest, StopTokenEndsGenerationAndIsNotEmitted)
{
    nn::GenerationOptions options;
    options.maxNewTokens = 20;
    options.stopTokenIds = {golden[5]};
    const auto result = generate(options);
    EXPECT_EQ(result.stopReason, nn::StopReason::EndOfSequence);
    EXPECT_EQ(result.tokens, std::vector<std::int64_t>(golden.begin(), golden.begin() + 5));
}

TEST_F(LlavaGenerationTest, TokenBudget)
{
    nn::GenerationOptions options;
    options.maxNewTokens = 7;
    llava::LlavaSession session(llama());
    const auto result = generate(options, &session);
    EXPECT_EQ(result.stopReason, nn::StopReason::MaxNewTokens);
    EXPECT_EQ(result.tokens, std::vector<std::int64_t>(golden.begin(), golden.begin() + 7));
    EXPECT_EQ(session.length(), 67 + 6); // the last token is not fed back
    options.maxNewTokens = 0;
    EXPECT_TRUE(generate(options).tokens.empty());
}

TEST_F(LlavaGenerationTest, CancelIsCheckedBeforeEveryToken)
{
    std::atomic<bool> cancel {true};
    nn::GenerationOptions options;
    options.maxNewTokens = 20;
    options.cancel = &cancel;
    auto result = generate(options);
    EXPECT_EQ(result.stopReason, nn::StopReason::Cancelled);
    EXPECT_TRUE(result.tokens.empty());

    cancel = false;
    options.onToken = [&](std::int64_t) {
        static int seen = 0;
        if (++seen == 3)
            cancel = true; // e.g. the Stop button, pressed while the third token streams
        return true;
    };
    result = generate(options);
    EXPECT_EQ(result.stopReason, nn::StopReason::Cancelled);
    EXPECT_EQ(result.tokens, std::vector<std::int64_t>(golden.begin(), golden.begin() + 3));
}

TEST_F(LlavaGenerationTest, CallbackCanStop)
{
    nn::GenerationOptions options;
    options.maxNewTokens = 20;
    options.onToken = [&](std::int64_t token) { return token != golden[1]; };
    const auto result = generate(options);
    EXPECT_EQ(result.stopReason, nn::StopReason::StoppedByCallback);
    EXPECT_EQ(result.tokens, std::vector<std::int64_t>(golden.begin(), golden.begin() + 2));
}

TEST_F(LlavaGenerationTest, SeededSamplingIsReproducibleAndTopK1IsGreedy)
{
    nn::GenerationOptions options;
    options.maxNewTokens = 12;
    options.sampling.greedy = false;
    options.sampling.temperature = 1.5f;
    options.sampling.topK = 50;
    options.sampling.topP = 0.95f;
    options.sampling.seed = 7;
    const auto first = generate(options);
    const auto second = generate(options);
    EXPECT_EQ(first.tokens, second.tokens);
    EXPECT_EQ(first.tokens.size(), 12u);

    options.sampling.topK = 1;
    EXPECT_EQ(generate(options).tokens, std::vector<std::int64_t>(golden.begin(), golden.begin() + 12));
}

TEST(TokenSampler, GreedyTakesTheFirstMaximum)
{
    nn::TokenSampler sampler;
    const std::vector<float> logits {1.0f, 3.0f, 3.0f, -2.0f};
    EXPECT_EQ(sampler.sample(logits, {}), 1);
}

TEST(TokenSampler, DrawsFollowTheSoftmaxAndTheFilters)
{
    nn::TokenSampler sampler(42);
    nn::SamplingOptions options;
    options.greedy = false;
    // p = 0.25, 0.75 for logits 0, ln 3.
    const std::vector<float> two {0.0f, std::log(3.0f)};
    int ones = 0;
    for (int i = 0; i < 4000; ++i)
        ones += sampler.sample(two, options) == 1 ? 1 : 0;
    EXPECT_NEAR(ones / 4000.0, 0.75, 0.03);

    const std::vector<float> four {0.0f, 1.0f, 2.0f, 3.0f};
    options.topK = 2;
    for (int i = 0; i < 500; ++i)
        EXPECT_GE(sampler.sample(four, options), 2);
    options.topK = 0;
    options.topP = 0.5f; // p(3) = 0.64 already reaches 0.5: only the best token is left
    for (int i = 0; i < 200; ++i)
        EXPECT_EQ(sampler.sample(four, options), 3);
    options.topP = 0.9f; // 0.64 + 0.24 = 0.88 < 0.9: three tokens are kept
    for (int i = 0; i < 500; ++i)
        EXPECT_GE(sampler.sample(four, options), 1);
}

TEST(TokenSampler, BadOptionsAreErrors)
{
    nn::TokenSampler sampler;
    nn::SamplingOptions options;
    options.greedy = false;
    options.temperature = 0.0f;
    const std::vector<float> logits {0.0f, 1.0f};
    EXPECT_EQ(test::errorOf([&] { sampler.sample(logits, options); }), "temperature must be positive, not 0");
    options.temperature = 1.0f;
    options.topP = 1.5f;
    EXPECT_EQ(test::errorOf([&] { sampler.sample(logits, options); }), "top-p must be in (0, 1], not 1.5");
}

} // namespace
} // namespace pictor
