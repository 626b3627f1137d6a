// pictor ask / caption end to end on the tiny LLaVA fixtures: greedy answers equal the tokenizer's decode
// of the golden ids, answers stream token by token, library captions are stored once with provenance and
// found by the full-text search, malformed model folders and prompts longer than the context window fail
// with one clear line, and batch captioning lets interactive jobs run between the slices of a caption, from
// its start (the image's encoding and the prompt's prefill run in steps too).
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "core/safetensors.h"
#include "core/text/text_tokenizer.h"
#include "indexer/caption_job.h"
#include "indexer/catalog.h"
#include "indexer/compute_worker.h"
#include "plugins/llava/llava_vision_chat.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

// Whether this CPU computes bfloat16 natively (what the models' automatic format follows).
bool cpuHas(const std::string& flag)
{
    std::ifstream cpuinfo("/proc/cpuinfo");
    const std::string text((std::istreambuf_iterator<char>(cpuinfo)), std::istreambuf_iterator<char>());
    return text.find(" " + flag + " ") != std::string::npos
        || text.find(" " + flag + "\n") != std::string::npos;
}

// What auto picks for LLaVA: bfloat16 where the CPU computes it natively, and 8-bit weights for the
// language model where it has AVX2 (the 8-bit kernels' least instruction set).
std::string autoLlavaFormat()
{
    return std::string(cpuHas("avx512_bf16") ? "CPU bfloat16" : "CPU float32")
        + (cpuHas("avx2") ? " with 8-bit weights" : "");
}

struct RunResult {
    int status = -1;
    std::string out;
    std::string err;
};

std::string quote(const std::string& arg)
{
    std::string quoted = "'";
    for (char c : arg)
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

std::string readFile(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string commandLine(const std::vector<std::string>& args, const std::filesystem::path& errFile)
{
    std::string command = quote(PICTOR_BINARY);
    for (const auto& arg : args) {
        command += ' ';
        command += quote(arg);
    }
    command += " 2>";
    command += quote(errFile.string());
    return command;
}

RunResult runPictor(const std::vector<std::string>& args)
{
    const auto errFile = test::scratchDir("caption-err") / "stderr.txt";
    RunResult result;
    FILE* pipe = popen(commandLine(args, errFile).c_str(), "r");
    std::array<char, 4096> buffer {};
    for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;)
        result.out.append(buffer.data(), n);
    const int status = pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.err = readFile(errFile);
    return result;
}

nlohmann::json fixtureCase(const std::string& fixture, const std::string& name)
{
    const auto cases = nlohmann::json::parse(readFile(test::fixtureDir(fixture) / "cases.json"));
    for (const auto& c : cases["cases"])
        if (c["name"] == name)
            return c;
    ADD_FAILURE() << "no case " << name << " in " << fixture;
    return {};
}

std::string questionOf(const nlohmann::json& fixtureCase)
{
    for (const auto& part : fixtureCase["messages"][0]["content"])
        if (part["type"] == "text")
            return part["text"];
    return {};
}

std::vector<std::string> askArgs(const std::string& fixture, const nlohmann::json& c)
{
    const auto dir = test::fixtureDir(fixture);
    // The golden ids are float32's (bfloat16, the default on CPUs that compute it natively, passes its
    // gate on the top token but may take another path after a few tokens).
    std::vector<std::string> args {"ask", "--model", dir.string(), "--greedy", "--max-tokens",
        std::to_string(c["generated_ids"].size()), "--dtype", "float32"};
    for (const auto& image : c["images"])
        args.insert(args.end(), {"--image", (dir / "images" / image.get<std::string>()).string()});
    args.push_back(questionOf(c));
    return args;
}

void expectGoldenAnswer(const std::string& fixture, const std::string& caseName)
{
    const nlohmann::json c = fixtureCase(fixture, caseName);
    const auto tokenizer = TextTokenizer::fromFolder(test::fixtureDir(fixture));
    const auto ids = c["generated_ids"].get<std::vector<TokenId>>();
    const RunResult result = runPictor(askArgs(fixture, c));
    ASSERT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out, tokenizer->decode(ids) + "\n") << caseName;
}

TEST(AskCli, GreedyAnswerIsTheGoldenDecodeQwen2)
{
    expectGoldenAnswer("llava-tiny-qwen2", "q1_img640_what");
    expectGoldenAnswer("llava-tiny-qwen2", "q5_two_images");
}

TEST(AskCli, GreedyAnswerIsTheGoldenDecodeLlama)
{
    expectGoldenAnswer("llava-tiny-llama", "c1_img640_what");
    expectGoldenAnswer("llava-tiny-llama", "c4_text_only");
}

TEST(AskCli, StreamsTokenByToken)
{
    const nlohmann::json c = fixtureCase("llava-tiny-qwen2", "q4_text_only");
    std::vector<std::string> args = askArgs("llava-tiny-qwen2", c);
    args[5] = "64"; // --max-tokens
    const auto errFile = test::scratchDir("caption-stream") / "stderr.txt";
    FILE* pipe = popen(commandLine(args, errFile).c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    const int fd = fileno(pipe);
    using Clock = std::chrono::steady_clock;
    std::vector<std::pair<Clock::time_point, std::string>> chunks;
    std::array<char, 4096> buffer {};
    for (ssize_t n; (n = read(fd, buffer.data(), buffer.size())) > 0;)
        chunks.emplace_back(Clock::now(), std::string(buffer.data(), static_cast<std::size_t>(n)));
    const auto end = Clock::now();
    const int status = pclose(pipe);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << readFile(errFile);
    // One flushed write per token: the reader sees many pieces, the first well before the end.
    EXPECT_GE(chunks.size(), 8u);
    ASSERT_FALSE(chunks.empty());
    EXPECT_LT(chunks.front().first, end);
    std::string all;
    for (const auto& [when, text] : chunks)
        all += text;
    EXPECT_FALSE(all.empty());
    EXPECT_EQ(all.back(), '\n');
}

// A word of ASCII letters (at least 4) from a caption, which FTS5's unicode61 tokenizer keeps whole.
std::string searchableWord(const std::string& caption)
{
    std::istringstream words(caption);
    for (std::string word; words >> word;)
        if (word.size() >= 4 && std::all_of(word.begin(), word.end(), [](char ch) {
                return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
            }))
            return word;
    return {};
}

nlohmann::json lastJsonLine(const std::string& text)
{
    const auto end = text.find_last_not_of('\n');
    const auto start = text.rfind('\n', end);
    return nlohmann::json::parse(text.substr(start == std::string::npos ? 0 : start + 1, end - start));
}

TEST(CaptionCli, LibraryBatchStoresProvenanceResumesAndIsSearchable)
{
    const auto photos = test::scratchDir("caption-photos");
    const auto library = test::scratchDir("caption-library");
    const auto llava = test::fixtureDir("llava-tiny-qwen2");
    for (const char* name : {"img_640x480.jpg", "img_336x336.png", "img_200x500.png"})
        std::filesystem::copy_file(llava / "images" / name, photos / name);
    const RunResult indexed = runPictor({"index", "--library", library.string(), "--model",
        test::fixtureDir("clip-tiny-a").string(), "--no-thumbnails", "--json", photos.string()});
    ASSERT_EQ(indexed.status, 0) << indexed.err;

    const std::vector<std::string> caption {"caption", "--library", library.string(), "--all", "--model",
        llava.string(), "--max-tokens", "24", "--json"};
    const RunResult first = runPictor(caption);
    ASSERT_EQ(first.status, 0) << first.err;
    const auto summary = lastJsonLine(first.out);
    EXPECT_EQ(summary["captioned"], 3) << first.out;
    EXPECT_EQ(summary["failed"], 0);
    const std::string modelId = summary["model_id"];
    EXPECT_TRUE(modelId.starts_with("llava-")) << modelId;

    std::string word;
    std::int64_t wordPhoto = 0;
    {
        Catalog catalog = Catalog::open(library, Catalog::OpenMode::ReadOnly);
        const auto ids = catalog.filterPhotos({});
        ASSERT_EQ(ids.size(), 3u);
        for (std::int64_t id : ids) {
            const auto captions = catalog.captions(id);
            ASSERT_EQ(captions.size(), 1u) << "photo " << id;
            EXPECT_EQ(captions[0].modelId, modelId);
            EXPECT_NE(captions[0].prompt.find("Keywords:"), std::string::npos);
            EXPECT_GT(captions[0].createdAt, 0);
            EXPECT_FALSE(captions[0].text.empty());
            if (word.empty() && !(word = searchableWord(captions[0].text)).empty())
                wordPhoto = id;
        }
    }

    const RunResult second = runPictor(caption);
    ASSERT_EQ(second.status, 0) << second.err;
    const auto again = lastJsonLine(second.out);
    EXPECT_EQ(again["captioned"], 0);
    EXPECT_EQ(again["skipped"], 3);

    ASSERT_FALSE(word.empty()) << "no caption has a plain word to search for";
    const RunResult search
        = runPictor({"search", "--library", library.string(), "--json", "\"" + word + "\""});
    ASSERT_EQ(search.status, 0) << search.err;
    const auto hits = nlohmann::json::parse(search.out);
    const bool found = std::any_of(hits.begin(), hits.end(), [&](const auto& hit) {
        return hit["id"] == wordPhoto && hit["why"].dump().find("caption") != std::string::npos;
    });
    EXPECT_TRUE(found) << word << ": " << search.out;
}

TEST(CaptionCli, CaptionsFilesAsJson)
{
    const auto llava = test::fixtureDir("llava-tiny-llama");
    const RunResult result = runPictor({"caption", "--model", llava.string(), "--json", "--max-tokens", "16",
        (llava / "images" / "img_640x480.jpg").string(), (llava / "images" / "img_336x336.png").string()});
    ASSERT_EQ(result.status, 0) << result.err;
    std::istringstream lines(result.out);
    int count = 0;
    for (std::string line; std::getline(lines, line); ++count) {
        const auto json = nlohmann::json::parse(line);
        EXPECT_TRUE(json["model_id"].get<std::string>().starts_with("llava-"));
        EXPECT_TRUE(json.contains("caption"));
        EXPECT_EQ(json["device"], autoLlavaFormat()) << "the CPU's format unless asked";
    }
    EXPECT_EQ(count, 2);
}

// --dtype forces the number format (the 7B model needs bfloat16 to fit a 16 GB machine); a format the
// device cannot run is a clear error.
TEST(CaptionCli, TheNumberFormatCanBeChosen)
{
    const auto llava = test::fixtureDir("llava-tiny-llama");
    const auto image = (llava / "images" / "img_336x336.png").string();
    const RunResult bf16 = runPictor(
        {"caption", "--model", llava.string(), "--json", "--max-tokens", "4", "--dtype", "bfloat16", image});
    ASSERT_EQ(bf16.status, 0) << bf16.err;
    EXPECT_EQ(nlohmann::json::parse(bf16.out)["device"], "CPU bfloat16")
        << "no 8-bit weights when a format is named";
    const RunResult int8 = runPictor(
        {"caption", "--model", llava.string(), "--json", "--max-tokens", "4", "--dtype", "int8", image});
    ASSERT_EQ(int8.status, 0) << int8.err;
    EXPECT_NE(nlohmann::json::parse(int8.out)["device"].get<std::string>().find("with 8-bit weights"),
        std::string::npos);
    const RunResult f16
        = runPictor({"caption", "--model", llava.string(), "--device", "cpu", "--dtype", "float16", image});
    EXPECT_NE(f16.status, 0);
    EXPECT_NE(f16.err.find("float16 runs only on CUDA"), std::string::npos) << f16.err;
}

// A copy of a fixture folder (symlinks) with some files replaced.
std::filesystem::path brokenFixture(const std::string& fixture, const std::string& tag)
{
    const auto dir = test::scratchDir(tag);
    for (const auto& entry : std::filesystem::directory_iterator(test::fixtureDir(fixture)))
        std::filesystem::create_symlink(entry.path(), dir / entry.path().filename());
    return dir;
}

void replaceFile(const std::filesystem::path& file, const std::string& bytes)
{
    std::filesystem::remove(file);
    std::ofstream(file, std::ios::binary) << bytes;
}

void expectOneLineError(const std::filesystem::path& model, const std::vector<std::string>& needles)
{
    const RunResult result = runPictor({"ask", "--model", model.string(), "--greedy", "hello"});
    EXPECT_EQ(result.status, 1) << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
    ASSERT_FALSE(result.err.empty());
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    for (const auto& needle : needles)
        EXPECT_NE(result.err.find(needle), std::string::npos) << "'" << needle << "' not in: " << result.err;
}

TEST(CaptionCli, MissingProjectorIsAClearError)
{
    const auto dir = brokenFixture("llava-tiny-qwen2", "llava-no-projector");
    const auto source = SafetensorsFile::open(test::fixtureDir("llava-tiny-qwen2") / "model.safetensors");
    std::vector<TensorToWrite> tensors;
    for (const TensorView& view : source->tensors())
        if (view.name.find("multi_modal_projector") == std::string::npos)
            tensors.push_back({view.name, view.dtype, view.shape, std::span(view.data, view.nbytes)});
    std::filesystem::remove(dir / "model.safetensors");
    writeSafetensors(dir / "model.safetensors", tensors);
    expectOneLineError(dir, {"multi_modal_projector"});
}

TEST(CaptionCli, UnknownChatTemplateIsAClearError)
{
    const auto dir = brokenFixture("llava-tiny-llama", "llava-bad-template");
    replaceFile(
        dir / "chat_template.json", R"({"chat_template": "{% for m in messages %}{{ m }}{% endfor %}"})");
    expectOneLineError(dir, {"chat_template.json", "llava-1.5", "ChatML"});
}

TEST(CaptionCli, TokenizerLargerThanTheEmbeddingIsAClearError)
{
    const auto dir = brokenFixture("llava-tiny-llama", "llava-small-vocab");
    auto config = nlohmann::json::parse(readFile(test::fixtureDir("llava-tiny-llama") / "config.json"));
    config["text_config"]["vocab_size"] = 1000;
    replaceFile(dir / "config.json", config.dump());
    expectOneLineError(dir, {"1000", dir.string()});
}

TEST(CaptionCli, VisionTowerNarrowerThanTheProjectorIsAClearError)
{
    // The projector of a wider tower: linear_1 takes 48-wide features, the fixture's tower gives 32.
    const auto dir = brokenFixture("llava-tiny-llama", "llava-narrow-tower");
    const auto source = SafetensorsFile::open(test::fixtureDir("llava-tiny-llama") / "model.safetensors");
    std::vector<TensorToWrite> tensors;
    std::vector<float> wider;
    for (const TensorView& view : source->tensors()) {
        if (view.name == "multi_modal_projector.linear_1.weight") {
            ASSERT_EQ(view.shape.size(), 2u);
            wider.assign(static_cast<std::size_t>(view.shape[0]) * 48, 0.01f);
            tensors.push_back({view.name, DType::F32, {view.shape[0], 48},
                std::as_bytes(std::span(wider.data(), wider.size()))});
        } else {
            tensors.push_back({view.name, view.dtype, view.shape, std::span(view.data, view.nbytes)});
        }
    }
    ASSERT_FALSE(wider.empty());
    std::filesystem::remove(dir / "model.safetensors");
    writeSafetensors(dir / "model.safetensors", tensors);
    expectOneLineError(
        dir, {"projector takes 48-wide image features", "multi_modal_projector.linear_1.weight"});
}

TEST(AskCli, PromptLongerThanTheContextWindowIsRefused)
{
    // The Llama fixture has 512 positions; 600 words are more tokens than that.
    std::string question;
    for (int i = 0; i < 600; ++i)
        question += "word ";
    const RunResult result
        = runPictor({"ask", "--model", test::fixtureDir("llava-tiny-llama").string(), "--greedy", question});
    EXPECT_EQ(result.status, 1) << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_NE(result.err.find("context window"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("of the 512 positions"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("shorten the prompt"), std::string::npos) << result.err;
}

TEST(CaptionCli, CaptionPromptLongerThanTheContextWindowIsRefused)
{
    // 64 positions: fewer than the caption prompt and the image's 49 tokens need.
    const auto dir = brokenFixture("llava-tiny-llama", "llava-short-context");
    auto config = nlohmann::json::parse(readFile(test::fixtureDir("llava-tiny-llama") / "config.json"));
    config["text_config"]["max_position_embeddings"] = 64;
    replaceFile(dir / "config.json", config.dump());
    const auto image = test::fixtureDir("llava-tiny-llama") / "images" / "img_640x480.jpg";
    const RunResult result = runPictor({"caption", "--model", dir.string(), image.string()});
    EXPECT_EQ(result.status, 1) << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_NE(result.err.find("of the 64 positions of the context window"), std::string::npos) << result.err;

    // The same folder answers a short question: the limit is the prompt's length, not the model.
    const RunResult shortQuestion
        = runPictor({"ask", "--model", dir.string(), "--greedy", "--max-tokens", "4", "hi"});
    EXPECT_EQ(shortQuestion.status, 0) << shortQuestion.err;
}

// A VisionChat whose every answer takes `steps` slices of 20 ms (a token that takes longer than the slice
// budget), counting the slices run.
class SlowChat final : public VisionChat {
public:
    explicit SlowChat(int steps) : steps_(steps) { }
    std::atomic<int> slicesRun {0};

    std::string modelId() const override { return "slow-chat"; }
    std::string family() const override { return "test"; }
    std::string chatTemplateName() const override { return "none"; }
    std::string deviceDescription() const override { return "CPU"; }
    std::unique_ptr<AnswerStream> startAnswer(const std::vector<RgbImage>&, const std::string&,
        const std::vector<ChatTurn>&, const AnswerOptions&) override
    {
        return std::make_unique<Stream>(*this);
    }

private:
    class Stream final : public AnswerStream {
    public:
        explicit Stream(SlowChat& chat) : chat_(chat) { }
        bool step(std::chrono::steady_clock::duration) override
        {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            ++chat_.slicesRun;
            if (++steps_ == chat_.steps_) {
                answer_.text = "A red ball on grass.\nKeywords: ball, grass";
                answer_.tokens = steps_;
            }
            return finished();
        }
        bool finished() const override { return steps_ == chat_.steps_; }
        const ChatAnswer& answer() const override { return answer_; }

    private:
        SlowChat& chat_;
        int steps_ = 0;
        ChatAnswer answer_;
    };
    int steps_;
};

// The fixture's 640x480 photo in `catalog` (its images folder as the root); returns its id.
std::int64_t addFixturePhoto(Catalog& catalog, const std::string& fixture)
{
    PhotoRecord photo;
    photo.rootId = catalog.addRoot(test::fixtureDir(fixture) / "images");
    photo.path = test::fixtureDir(fixture) / "images" / "img_640x480.jpg";
    photo.size = static_cast<std::int64_t>(std::filesystem::file_size(photo.path));
    photo.contentHash = 1;
    photo.width = 640;
    photo.height = 480;
    photo.fileType = "jpeg";
    return catalog.upsertPhoto(photo);
}

TEST(CaptionJob, InteractiveJobsRunBetweenTheSlicesOfACaption)
{
    const auto dir = test::scratchDir("caption-job-slices");
    Catalog catalog = Catalog::open(dir);
    const std::int64_t id = addFixturePhoto(catalog, "llava-tiny-llama");

    constexpr int kSteps = 10;
    SlowChat chat(kSteps);
    ComputeWorker worker;
    CaptionJobOptions options;
    options.worker = &worker;
    CaptionSummary summary;
    std::thread job([&] { summary = captionPhotos(catalog, chat, {id}, options); });
    while (chat.slicesRun < 2)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // Submitted while the caption is under way: it runs after the slice in progress, not after the caption.
    const int slicesBefore
        = worker.submit(JobPriority::Interactive, [&] { return chat.slicesRun.load(); }).get();
    job.join();
    EXPECT_LE(slicesBefore, 3);
    EXPECT_EQ(summary.counts.captioned, 1);
    const auto captions = catalog.captions(id);
    ASSERT_EQ(captions.size(), 1u);
    EXPECT_EQ(captions[0].text, "A red ball on grass. Keywords: ball, grass");
}

// The real LLaVA VisionChat (a tiny fixture) with every slice's budget cut to zero, so each slice runs one
// part of the answer (an image's preprocessing, an encoder layer, the projector, a prefill chunk, a token).
// Counts the slices, notes the slice that gave the first token, and from the first slice submits an
// interactive job to the worker, noting when it runs.
class SteppedChat final : public VisionChat {
public:
    SteppedChat(std::shared_ptr<VisionChat> chat, ComputeWorker& worker)
        : chat_(std::move(chat)), worker_(worker)
    {
    }
    std::atomic<int> slicesRun {0};
    std::atomic<int> firstTokenSlice {0}; // 0: no token yet
    std::atomic<int> slicesBeforeInteractive {-1};
    std::future<void> interactive;

    std::string modelId() const override { return chat_->modelId(); }
    std::string family() const override { return chat_->family(); }
    std::string chatTemplateName() const override { return chat_->chatTemplateName(); }
    std::string deviceDescription() const override { return chat_->deviceDescription(); }
    std::unique_ptr<AnswerStream> startAnswer(const std::vector<RgbImage>& images,
        const std::string& question, const std::vector<ChatTurn>& history,
        const AnswerOptions& options) override
    {
        AnswerOptions noting = options;
        noting.onToken = [this, caller = options.onToken](std::string_view text) {
            int none = 0;
            firstTokenSlice.compare_exchange_strong(none, slicesRun.load());
            return caller ? caller(text) : true;
        };
        return std::make_unique<Stream>(*this, chat_->startAnswer(images, question, history, noting));
    }

private:
    class Stream final : public AnswerStream {
    public:
        Stream(SteppedChat& chat, std::unique_ptr<AnswerStream> inner) : chat_(chat), inner_(std::move(inner))
        {
        }
        bool step(std::chrono::steady_clock::duration) override
        {
            const int slice = ++chat_.slicesRun;
            if (slice == 1) // a search typed while the answer starts: queued behind this slice
                chat_.interactive = chat_.worker_.submit(JobPriority::Interactive,
                    [this] { chat_.slicesBeforeInteractive = chat_.slicesRun.load(); });
            return inner_->step(std::chrono::steady_clock::duration::zero());
        }
        bool finished() const override { return inner_->finished(); }
        const ChatAnswer& answer() const override { return inner_->answer(); }

    private:
        SteppedChat& chat_;
        std::unique_ptr<AnswerStream> inner_;
    };
    std::shared_ptr<VisionChat> chat_;
    ComputeWorker& worker_;
};

std::shared_ptr<VisionChat> tinyQwen2Chat()
{
    VisionChatOptions options;
    options.device = "cpu";
    return llava::loadLlavaVisionChat(test::fixtureDir("llava-tiny-qwen2"), options);
}

TEST(CaptionJob, InteractiveJobRunsBeforeTheImageIsEncoded)
{
    const auto dir = test::scratchDir("caption-job-start-slices");
    Catalog catalog = Catalog::open(dir);
    const std::int64_t id = addFixturePhoto(catalog, "llava-tiny-qwen2");

    const std::shared_ptr<VisionChat> model = tinyQwen2Chat();
    ComputeWorker worker;
    SteppedChat chat(model, worker);
    CaptionJobOptions options;
    options.worker = &worker;
    options.maxNewTokens = 12;
    const CaptionSummary summary = captionPhotos(catalog, chat, {id}, options);
    ASSERT_TRUE(chat.interactive.valid());
    chat.interactive.get();
    EXPECT_EQ(summary.counts.captioned, 1);

    // The interactive job ran right after the first slice (the image's preprocessing), while the vision
    // tower (embeddings, 2 layers, projector: 4 slices) and the prefill had not run yet.
    EXPECT_EQ(chat.slicesBeforeInteractive.load(), 1);
    EXPECT_GE(chat.firstTokenSlice.load(), 1 + 4 + 2); // the ~230-position prompt is more than one chunk
    // The caption equals describe()'s: one step with an unlimited budget.
    AnswerOptions greedy;
    greedy.maxNewTokens = options.maxNewTokens;
    const ChatAnswer whole
        = model->describe(decodeImageFile(catalog.photo(id)->path, captionDecodeOptions()).image, greedy);
    const auto captions = catalog.captions(id);
    ASSERT_EQ(captions.size(), 1u);
    EXPECT_FALSE(whole.text.empty());
    EXPECT_EQ(captions[0].text, whole.text);
}

TEST(AnswerStream, SlicedStartGivesTheAnswerOfAskAndStopsOnCancel)
{
    const std::shared_ptr<VisionChat> chat = tinyQwen2Chat();
    const RgbImage image
        = decodeImageFile(test::fixtureDir("llava-tiny-qwen2") / "images" / "img_336x336.png").image;
    AnswerOptions options;
    options.maxNewTokens = 16;
    options.greedy = false; // seeded sampling: the draws must line up too
    options.seed = 7;
    std::string streamed;
    options.onToken = [&](std::string_view text) {
        streamed += text;
        return true;
    };
    const ChatAnswer whole = chat->ask({image}, "What is in the picture?", {}, options);
    const std::string wholeStreamed = streamed;
    streamed.clear();
    const auto stream = chat->startAnswer({image}, "What is in the picture?", {}, options);
    int slices = 1;
    while (!stream->step(std::chrono::steady_clock::duration::zero()))
        ++slices;
    EXPECT_EQ(stream->answer().text, whole.text);
    EXPECT_EQ(stream->answer().tokens, whole.tokens);
    EXPECT_EQ(stream->answer().stopReason, whole.stopReason);
    EXPECT_EQ(streamed, wholeStreamed);
    EXPECT_GT(whole.tokens, 0);
    EXPECT_GE(slices, 1 + 4 + 1 + whole.tokens); // preprocessing, the tower, at least one chunk, the tokens

    // Stop pressed while the image is encoded: the next slice ends the answer before any token.
    std::atomic<bool> cancel {false};
    options.cancel = &cancel;
    const auto stopped = chat->startAnswer({image}, "What is in the picture?", {}, options);
    EXPECT_FALSE(stopped->step(std::chrono::steady_clock::duration::zero()));
    EXPECT_FALSE(stopped->step(std::chrono::steady_clock::duration::zero()));
    cancel = true;
    EXPECT_TRUE(stopped->step(std::chrono::steady_clock::duration::zero()));
    EXPECT_TRUE(stopped->answer().cancelled);
    EXPECT_EQ(stopped->answer().tokens, 0);
    EXPECT_EQ(stopped->answer().stopReason, "cancelled");
}

TEST(CaptionCli, NotAVisionChatModelIsAClearError)
{
    expectOneLineError(test::fixtureDir("clip-tiny-a"), {"model_type", "llava"});
}

} // namespace
} // namespace pictor
