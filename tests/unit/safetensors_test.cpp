// The safetensors reader on real and hostile files: every malformed layout is an error that names
// the file and, where there is one, the tensor.
#include <cstring>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "core/json_file.h"
#include "core/regular_file.h"
#include "core/safetensors.h"
#include "tests/support/error_text.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

std::span<const std::byte> asBytes(const std::vector<float>& values)
{
    return std::as_bytes(std::span(values));
}

void writeFile(const std::filesystem::path& path, const std::string& bytes)
{
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Builds a file from a raw JSON header and a data section.
std::string rawFile(const std::string& header, std::size_t dataBytes)
{
    std::string out(8, '\0');
    const std::uint64_t length = header.size();
    for (int i = 0; i < 8; ++i)
        out[i] = static_cast<char>((length >> (8 * i)) & 0xff);
    return out + header + std::string(dataBytes, '\0');
}

using test::errorOf;

std::string openError(const std::string& fileBytes)
{
    const auto path = test::scratchDir("st") / "bad.safetensors";
    writeFile(path, fileBytes);
    return errorOf([&] { SafetensorsFile::open(path); });
}

TEST(Safetensors, ReadsTheClipFixture)
{
    auto file = SafetensorsFile::open(test::fixtureDir("clip-tiny-a") / "model.safetensors");
    EXPECT_EQ(file->tensors().size(), 78u);
    EXPECT_EQ(file->metadata().at("format"), "pt");
    const TensorView& scale = file->at("logit_scale");
    EXPECT_EQ(scale.dtype, DType::F32);
    EXPECT_TRUE(scale.shape.empty());
    EXPECT_EQ(scale.numel(), 1);
    float value = 0;
    std::memcpy(&value, scale.data, 4);
    EXPECT_NEAR(value, 2.6592f, 1e-4f);
    EXPECT_EQ(file->at("text_projection.weight").shapeString(), "[32, 64]");
}

TEST(Safetensors, RoundTripsEveryDtypeAndMetadata)
{
    const std::vector<float> floats {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
    const std::vector<std::uint8_t> bytes {1, 2, 3};
    const auto path = test::scratchDir("st") / "round.safetensors";
    writeSafetensors(path,
        {{"b", DType::F32, {2, 3}, asBytes(floats)}, {"a", DType::U8, {3}, std::as_bytes(std::span(bytes))},
            {"empty", DType::BF16, {0, 4}, {}}},
        {{"format", "pt"}});
    auto file = SafetensorsFile::open(path);
    ASSERT_EQ(file->tensors().size(), 3u);
    EXPECT_EQ(file->tensors()[0].name, "a"); // sorted by name
    const TensorView& b = file->at("b");
    EXPECT_EQ(b.shapeString(), "[2, 3]");
    EXPECT_EQ(std::memcmp(b.data, floats.data(), 24), 0);
    EXPECT_EQ(file->at("empty").numel(), 0);
    EXPECT_EQ(file->metadata().at("format"), "pt");
    EXPECT_EQ(dtypeSize(DType::BF16), 2u);
    EXPECT_EQ(dtypeName(DType::BOOL), "BOOL");
}

TEST(Safetensors, HostileHeadersAreNamedErrors)
{
    EXPECT_NE(openError("").find("too short"), std::string::npos);
    EXPECT_NE(openError("abc").find("too short"), std::string::npos);
    // Header length beyond the file.
    std::string huge(8, '\0');
    huge[0] = '\x10';
    huge[1] = '\x27';
    EXPECT_NE(openError(huge + "{}").find("runs past the end"), std::string::npos);
    // Header length beyond any sane bound.
    EXPECT_NE(openError(std::string(7, '\xff') + '\x7f' + "{}").find("exceeds"), std::string::npos);
    EXPECT_NE(openError(rawFile("{not json", 0)).find("not valid JSON"), std::string::npos);
    EXPECT_NE(openError(rawFile("[1,2]", 0)).find("not a JSON object"), std::string::npos);

    const std::string wrongLength
        = openError(rawFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4));
    EXPECT_NE(wrongLength.find("does not match"), std::string::npos) << wrongLength;
    EXPECT_NE(wrongLength.find("(tensor 'w')"), std::string::npos) << wrongLength;
    EXPECT_NE(wrongLength.find("[safetensors] "), std::string::npos) << wrongLength;

    EXPECT_NE(
        openError(rawFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4)).find("outside"),
        std::string::npos);
    EXPECT_NE(
        openError(rawFile(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8)).find("begin"),
        std::string::npos);
    EXPECT_NE(openError(rawFile(R"({"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}})", 4)).find("dtype"),
        std::string::npos);
    EXPECT_NE(
        openError(rawFile(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4)).find("dimension"),
        std::string::npos);
    EXPECT_NE(openError(rawFile(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", 4)).find("shape"),
        std::string::npos);
    const std::string overflow = openError(
        rawFile(R"({"w":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}})", 0));
    EXPECT_NE(overflow.find("overflow"), std::string::npos) << overflow;
    const std::string overlap = openError(rawFile(
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
        12));
    EXPECT_NE(overlap.find("overlaps"), std::string::npos) << overlap;
    EXPECT_NE(openError(rawFile(R"({"__metadata__":{"n":1}})", 0)).find("__metadata__"), std::string::npos);
}

TEST(Safetensors, TruncatedFixtureIsRejected)
{
    std::ifstream in(test::fixtureDir("clip-tiny-a") / "model.safetensors", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string message = openError(bytes.substr(0, bytes.size() / 2));
    EXPECT_NE(message.find("outside the data section"), std::string::npos) << message;
}

TEST(Safetensors, MissingFileAndMissingTensor)
{
    EXPECT_NE(errorOf([] { SafetensorsFile::open("/nonexistent/x.safetensors"); }).find("cannot open"),
        std::string::npos);
    auto file = SafetensorsFile::open(test::fixtureDir("clip-tiny-a") / "model.safetensors");
    EXPECT_EQ(file->find("nope"), nullptr);
    EXPECT_NE(errorOf([&] { file->at("nope"); }).find("(tensor 'nope')"), std::string::npos);
}

TEST(Safetensors, ShardedCheckpointThroughIndex)
{
    const auto dir = test::scratchDir("shards");
    const std::vector<float> one {1.0f}, two {2.0f, 3.0f};
    writeSafetensors(dir / "model-00001-of-00002.safetensors", {{"a.weight", DType::F32, {1}, asBytes(one)}});
    writeSafetensors(dir / "model-00002-of-00002.safetensors", {{"b.weight", DType::F32, {2}, asBytes(two)}});
    writeFile(dir / "model.safetensors.index.json",
        R"({"metadata":{"total_size":12},"weight_map":{"a.weight":"model-00001-of-00002.safetensors",)"
        R"("b.weight":"model-00002-of-00002.safetensors"}})");
    Checkpoint checkpoint = Checkpoint::open(dir);
    EXPECT_EQ(checkpoint.size(), 2u);
    EXPECT_EQ(checkpoint.files().size(), 2u);
    EXPECT_EQ(checkpoint.totalBytes(), 12u);
    EXPECT_EQ(checkpoint.at("b.weight").numel(), 2);

    // An index naming a tensor its shard lacks, and a shard outside the folder, are errors.
    writeFile(dir / "model.safetensors.index.json",
        R"({"weight_map":{"c.weight":"model-00001-of-00002.safetensors"}})");
    const std::string missing = errorOf([&] { Checkpoint::open(dir); });
    EXPECT_NE(missing.find("(tensor 'c.weight')"), std::string::npos) << missing;
    writeFile(dir / "model.safetensors.index.json", R"({"weight_map":{"a.weight":"../x.safetensors"}})");
    EXPECT_NE(errorOf([&] { Checkpoint::open(dir); }).find("leaves the folder"), std::string::npos);
}

TEST(Safetensors, DuplicateTensorAcrossShardsIsAnError)
{
    const auto dir = test::scratchDir("dup");
    const std::vector<float> one {1.0f};
    writeSafetensors(dir / "s1.safetensors", {{"a", DType::F32, {1}, asBytes(one)}});
    writeSafetensors(
        dir / "s2.safetensors", {{"a", DType::F32, {1}, asBytes(one)}, {"b", DType::F32, {1}, asBytes(one)}});
    writeFile(dir / "model.safetensors.index.json",
        R"({"weight_map":{"a":"s1.safetensors","b":"s2.safetensors"}})");
    const std::string message = errorOf([&] { Checkpoint::open(dir); });
    EXPECT_NE(message.find("also present in"), std::string::npos) << message;
    EXPECT_NE(message.find("(tensor 'a')"), std::string::npos) << message;
}

TEST(Safetensors, FolderWithoutWeights)
{
    const auto dir = test::scratchDir("empty");
    EXPECT_NE(errorOf([&] { Checkpoint::open(dir); }).find("no model.safetensors"), std::string::npos);
}

} // namespace
} // namespace pictor

namespace pictor {
namespace {

// A FIFO (or a device) named model.safetensors or config.json is refused at once: a plain open() would
// wait forever for a writer, hanging `models verify` and `index --model`. Each attempt runs in a child with
// an alarm, so a regression fails the test instead of hanging it.
TEST(Safetensors, AFifoInAModelFolderIsRefusedWithoutBlocking)
{
    const auto dir = test::scratchDir("fifo-model");
    const auto weights = dir / "model.safetensors";
    const auto config = dir / "config.json";
    ASSERT_EQ(mkfifo(weights.c_str(), 0600), 0);
    ASSERT_EQ(mkfifo(config.c_str(), 0600), 0);
    const auto refusedAtOnce = [](const std::function<void()>& open) {
        const pid_t child = fork();
        if (child == 0) {
            alarm(5);
            try {
                open();
            } catch (const Error& e) {
                _exit(std::string(e.what()).find("not a regular file") != std::string::npos ? 0 : 3);
            }
            _exit(1);
        }
        int status = 0;
        waitpid(child, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status); // 114: SIGALRM, it blocked
    };
    EXPECT_EQ(refusedAtOnce([&] { Checkpoint::open(weights); }), 0);
    EXPECT_EQ(refusedAtOnce([&] { Checkpoint::open(dir); }), 0);
    EXPECT_EQ(refusedAtOnce([&] { readJsonFile(config); }), 0);
    EXPECT_EQ(refusedAtOnce([&] { readRegularFile(dir); }), 0) << "a folder is not a file either";
}

} // namespace
} // namespace pictor
