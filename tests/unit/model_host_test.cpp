// The model host: models load on first use and are kept; under a memory budget the least recently used
// idle ones are unloaded first; a model in use never is; one larger than the budget still loads, with a
// warning; a failed load keeps nothing and is reported.
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/safetensors.h"
#include "indexer/model_host.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

constexpr std::uint64_t kMB = 1000 * 1000;

struct Counted {
    explicit Counted(int* alive) : alive_(alive) { ++*alive_; }
    ~Counted() { --*alive_; }
    int* alive_;
};

class ModelHostTest : public testing::Test {
protected:
    std::shared_ptr<void> use(const std::string& key, std::uint64_t bytes)
    {
        return host.acquire(key, key, bytes, [&]() -> std::shared_ptr<void> {
            ++loads[key];
            return std::make_shared<Counted>(&alive);
        });
    }
    std::vector<std::string> keys() const
    {
        std::vector<std::string> out;
        for (const auto& model : host.loaded())
            out.push_back(model.key);
        return out;
    }
    ModelHost host {{}, 100 * kMB};
    std::map<std::string, int> loads;
    int alive = 0;
};

TEST_F(ModelHostTest, LoadsOnFirstUseAndKeepsTheModel)
{
    EXPECT_TRUE(host.loaded().empty());
    const auto first = use("a", 10 * kMB);
    const auto again = use("a", 10 * kMB);
    EXPECT_EQ(first, again);
    EXPECT_EQ(loads["a"], 1);
    ASSERT_EQ(host.loaded().size(), 1u);
    EXPECT_TRUE(host.loaded()[0].inUse);
    EXPECT_EQ(host.loadedBytes(), 10 * kMB);
}

TEST_F(ModelHostTest, UnloadsTheLeastRecentlyUsedIdleModelsForANewOne)
{
    use("a", 40 * kMB);
    use("b", 40 * kMB);
    use("a", 40 * kMB); // a is now more recent than b
    EXPECT_EQ(alive, 2);
    use("c", 40 * kMB);
    EXPECT_EQ(keys(), (std::vector<std::string> {"c", "a"}));
    EXPECT_EQ(alive, 2) << "b was freed";
    use("b", 40 * kMB);
    EXPECT_EQ(loads["b"], 2) << "b loads again after being unloaded";
    EXPECT_LE(host.loadedBytes(), 100 * kMB);
}

TEST_F(ModelHostTest, AModelInUseIsNeverUnloaded)
{
    const auto held = use("a", 60 * kMB);
    std::vector<std::string> warnings;
    host.setListener([&](const std::string& warning) {
        if (!warning.empty())
            warnings.push_back(warning);
    });
    use("b", 30 * kMB);
    use("c", 30 * kMB); // needs room: b goes, a is held
    EXPECT_EQ(keys(), (std::vector<std::string> {"c", "a"}));
    const auto alsoHeld = use("c", 30 * kMB);
    use("d", 30 * kMB); // a and c are held: nothing can go, d still loads
    EXPECT_EQ(keys(), (std::vector<std::string> {"d", "c", "a"}));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("exceed the memory budget"), std::string::npos) << warnings[0];
    EXPECT_TRUE(host.loaded()[2].inUse);
    EXPECT_FALSE(host.loaded()[0].inUse);
}

TEST_F(ModelHostTest, AModelLargerThanTheBudgetLoadsWithAWarning)
{
    use("small", 10 * kMB);
    std::vector<std::string> warnings;
    host.setListener([&](const std::string& warning) { warnings.push_back(warning); });
    use("huge", 260 * kMB);
    EXPECT_EQ(keys(), (std::vector<std::string> {"huge"}));
    ASSERT_GE(warnings.size(), 2u);
    EXPECT_NE(warnings[0].find("huge (0.3 GB) is larger than the memory budget of 0.1 GB"), std::string::npos)
        << warnings[0];
    EXPECT_EQ(warnings.back(), "") << "then the list of loaded models changed";
}

TEST_F(ModelHostTest, AFailedLoadKeepsNothingAndIsReported)
{
    EXPECT_THROW(
        host.acquire("broken", "broken", kMB, []() -> std::shared_ptr<void> { PICTOR_FAIL("bad weights"); }),
        Error);
    EXPECT_TRUE(host.loaded().empty());
    use("broken", kMB); // a later attempt loads
    EXPECT_EQ(keys(), (std::vector<std::string> {"broken"}));
}

TEST_F(ModelHostTest, ModelsLeftIdleLongerThanTheIdleTimeAreUnloaded)
{
    using namespace std::chrono_literals;
    const auto start = std::chrono::steady_clock::now();
    use("old", 10 * kMB);
    const auto held = use("held", 10 * kMB);
    EXPECT_EQ(host.unloadIdle(start + 1h), 0) << "no idle time set: nothing goes";
    host.setIdleTime(600s);
    EXPECT_EQ(host.unloadIdle(start + 300s), 0) << "not idle long enough";
    int changes = 0;
    host.setListener([&](const std::string& warning) { changes += warning.empty(); });
    EXPECT_EQ(host.unloadIdle(start + 601s), 1);
    EXPECT_EQ(keys(), (std::vector<std::string> {"held"})) << "a model in use stays, however old";
    EXPECT_EQ(alive, 1);
    EXPECT_EQ(changes, 1) << "the listener hears that the list changed";
    use("old", 10 * kMB);
    EXPECT_EQ(loads["old"], 2) << "used again, it loads again";
    EXPECT_EQ(host.unloadIdle(std::chrono::steady_clock::now() + 599s), 0) << "use renews the time";
}

TEST_F(ModelHostTest, TheComputersMemoryAndTheGpusHaveTheirOwnBudgets)
{
    host.setBudget(50 * kMB, MemoryPlace::Gpu);
    const auto onGpu = [&](const std::string& key, std::uint64_t bytes) {
        return host.acquire(
            key, key, bytes, [&]() -> std::shared_ptr<void> { return std::make_shared<Counted>(&alive); },
            MemoryPlace::Gpu);
    };
    use("cpu-a", 80 * kMB);
    onGpu("gpu-a", 40 * kMB);
    EXPECT_EQ(host.loadedBytes(MemoryPlace::Cpu), 80 * kMB);
    EXPECT_EQ(host.loadedBytes(MemoryPlace::Gpu), 40 * kMB);
    onGpu("gpu-b", 40 * kMB); // the GPU is full: gpu-a goes, the CPU model stays
    EXPECT_EQ(keys(), (std::vector<std::string> {"gpu-b", "cpu-a"}));
    EXPECT_EQ(host.loaded()[0].place, MemoryPlace::Gpu);
    std::vector<std::string> warnings;
    host.setListener([&](const std::string& warning) {
        if (!warning.empty())
            warnings.push_back(warning);
    });
    onGpu("gpu-huge", 60 * kMB);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("larger than the GPU memory budget"), std::string::npos) << warnings[0];
    EXPECT_EQ(ModelHost::placeFor("cpu"), MemoryPlace::Cpu);
    EXPECT_EQ(ModelHost::placeFor("cuda"), MemoryPlace::Gpu);
}

TEST_F(ModelHostTest, NoBudgetKeepsEverything)
{
    host.setBudget(0);
    for (const char* key : {"a", "b", "c", "d"})
        use(key, 90 * kMB);
    EXPECT_EQ(host.loaded().size(), 4u);
}

// A stand-in embedding family: what the registry's factory makes, without Torch.
class FakeEmbedder final : public ImageTextEmbedder {
public:
    std::string modelId() const override { return "fake-0"; }
    std::string family() const override { return "fake"; }
    int dimension() const override { return 4; }
    const ImagePreprocessConfig& preprocessing() const override { return preprocess_; }
    std::string deviceDescription() const override { return "CPU float32"; }
    float logitScale() const override { return 1; }
    EmbeddingMatrix embedTexts(const std::vector<std::string>&) override { return {}; }
    EmbeddingMatrix embedPixelValues(const float*, int) override { return {}; }

private:
    ImagePreprocessConfig preprocess_;
};

TEST(ModelHost, FamiliesLoadOnTheWorkerAtFirstUseAndModelsComeThroughTheRegistry)
{
    int familyLoads = 0;
    ModelHost host([&](ModelRegistry& registry) {
        ++familyLoads;
        registry.registerEmbedder("fake", [](const std::filesystem::path&, const EmbedderOptions&) {
            return std::make_unique<FakeEmbedder>();
        });
    });
    EXPECT_EQ(familyLoads, 0);
    const auto dir = test::scratchDir("host-fake-model");
    std::ofstream(dir / "config.json") << R"({"model_type": "fake"})";
    const auto model = host.worker().run(JobPriority::Interactive, [&] { return host.embedder(dir, {}); });
    const auto again
        = host.worker().run(JobPriority::Interactive, [&] { return host.embedder(dir / ".", {}); });
    EXPECT_EQ(model, again) << "the same folder, however written, is one model";
    EXPECT_EQ(familyLoads, 1);
    ASSERT_EQ(host.loaded().size(), 1u);
    EXPECT_EQ(host.loaded()[0].description, dir.filename().string() + " (embedding, CPU float32)")
        << "where it runs, once loaded";
}

TEST(ModelHost, EstimatesAModelsMemoryFromItsHeaders)
{
    const auto clip = test::fixtureDir("clip-tiny-a");
    const Checkpoint checkpoint = Checkpoint::open(clip);
    std::uint64_t floats = 0;
    for (const TensorView* view : checkpoint.tensors())
        floats += static_cast<std::uint64_t>(view->numel());
    EXPECT_EQ(ModelHost::estimateBytes(clip, false), 4 * floats);
    EXPECT_EQ(ModelHost::estimateBytes(clip, true), 2 * floats);
    // A diffusers pipeline holds one component at a time: its largest (the decoder here).
    const auto unclip = test::fixtureDir("unclip-tiny");
    EXPECT_EQ(ModelHost::estimateBytes(unclip, false),
        ModelHost::estimateBytes(unclip / "decoder" / "diffusion_pytorch_model.safetensors", false));
    EXPECT_EQ(ModelHost::estimateBytes(test::scratchDir("host-empty"), false), 0u);
    EXPECT_GT(ModelHost::defaultBudget(), 0u);
}

} // namespace
} // namespace pictor
