// The pictor command line end to end: exact forms, exit statuses, outputs against the golden data,
// and malformed model folders and images, each with a clear one-line error.
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "core/safetensors.h"
#include "tests/support/paths.h"
#include "tests/support/run_program.h"

namespace pictor {
namespace {

using RunResult = test::ProgramRun;

std::string readFile(const std::filesystem::path& file)
{
    return test::readFileBytes(file);
}

void writeFile(const std::filesystem::path& file, const std::string& bytes)
{
    std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

RunResult runPictor(const std::vector<std::string>& args)
{
    return test::runProgram(PICTOR_BINARY, args);
}

std::filesystem::path clipFixture()
{
    return test::fixtureDir("clip-tiny-a");
}
std::filesystem::path cases()
{
    return clipFixture() / "cases";
}

// Max abs difference between two F32 tensors of the same shape.
double maxAbsDiff(const TensorView& a, const TensorView& b, double* meanOut = nullptr)
{
    EXPECT_EQ(a.shape, b.shape) << a.name;
    if (a.shape != b.shape)
        return INFINITY;
    const auto* x = reinterpret_cast<const float*>(a.data);
    const auto* y = reinterpret_cast<const float*>(b.data);
    double worst = 0, sum = 0;
    for (std::int64_t i = 0; i < a.numel(); ++i) {
        const double d = std::fabs(double(x[i]) - y[i]);
        worst = std::max(worst, d);
        sum += d;
    }
    if (meanOut)
        *meanOut = sum / double(a.numel());
    return worst;
}

TEST(Cli, VersionHelpAndUsageErrors)
{
    const auto version = runPictor({"--version"});
    EXPECT_EQ(version.status, 0);
    EXPECT_NE(version.out.find("pictor "), std::string::npos);

    const auto help = runPictor({"--help"});
    EXPECT_EQ(help.status, 0);
    for (const char* command : {"tokenize", "embed", "models"})
        EXPECT_NE(help.out.find(command), std::string::npos) << command;
    const auto embedHelp = runPictor({"embed", "--help"});
    EXPECT_EQ(embedHelp.status, 0);
    EXPECT_NE(embedHelp.out.find("--pixel-values"), std::string::npos);

    EXPECT_EQ(runPictor({"embed"}).status, 2); // --model is required
    EXPECT_EQ(runPictor({"no-such-command"}).status, 2);
    EXPECT_EQ(runPictor({"embed", "--model", clipFixture().string(), "--device", "tpu"}).status, 2);
    const auto usage = runPictor({"tokenize", "--bogus"});
    EXPECT_EQ(usage.status, 2);
    EXPECT_NE(usage.err.find("--help"), std::string::npos) << usage.err;
}

TEST(Cli, TokenizeJsonMatchesTheReference)
{
    const auto texts = nlohmann::json::parse(readFile(cases() / "texts.json"));
    const auto expected = nlohmann::json::parse(readFile(cases() / "expected_tokens.json"));
    std::vector<std::string> args {"tokenize", "--model", clipFixture().string(), "--json"};
    for (const auto& text : texts)
        args.push_back(text.get<std::string>());
    const auto result = runPictor(args);
    ASSERT_EQ(result.status, 0) << result.err;
    const auto ids = nlohmann::json::parse(result.out).at("input_ids");
    ASSERT_EQ(ids.size(), texts.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
        EXPECT_EQ(ids[i], expected.at("cases")[i].at("hf_input_ids")) << "text " << i << ": " << texts[i];
}

TEST(Cli, EmbedMatchesTheReferenceEndToEnd)
{
    const auto texts = nlohmann::json::parse(readFile(cases() / "texts.json"));
    const auto images = nlohmann::json::parse(readFile(cases() / "images.json")).at("images");
    const auto output = test::scratchDir("embed") / "out.safetensors";
    std::vector<std::string> args {"embed", "--model", clipFixture().string(), "--device", "cpu", "--dtype",
        "float32", "--output", output.string()};
    for (const auto& text : texts)
        args.insert(args.end(), {"--text", text.get<std::string>()});
    for (const auto& image : images)
        args.insert(args.end(), {"--image", (cases() / image.at("file").get<std::string>()).string()});
    const auto result = runPictor(args);
    ASSERT_EQ(result.status, 0) << result.err;

    const auto ours = SafetensorsFile::open(output);
    const auto expectedText = SafetensorsFile::open(cases() / "expected_text_embeds.safetensors");
    const auto expectedPixels = SafetensorsFile::open(cases() / "expected_pixel_values.safetensors");
    const auto expectedImage = SafetensorsFile::open(cases() / "expected_image_embeds.safetensors");
    EXPECT_LE(maxAbsDiff(ours->at("text_embeds"), expectedText->at("text_embeds")), 1e-4);
    double meanPixel = 0;
    EXPECT_LE(maxAbsDiff(ours->at("pixel_values"), expectedPixels->at("pixel_values"), &meanPixel), 0.02);
    EXPECT_LE(meanPixel, 1e-3);
    // Decoding and resizing reproduce PIL's pixels exactly, so end to end holds the model tolerance.
    EXPECT_LE(maxAbsDiff(ours->at("image_embeds"), expectedImage->at("image_embeds")), 1e-4);
}

TEST(Cli, EmbedFromPixelValuesMatchesTheReference)
{
    const auto output = test::scratchDir("embed") / "pixels.safetensors";
    const auto result
        = runPictor({"embed", "--model", clipFixture().string(), "--dtype", "float32", "--pixel-values",
            (cases() / "expected_pixel_values.safetensors").string(), "--output", output.string()});
    ASSERT_EQ(result.status, 0) << result.err;
    const auto ours = SafetensorsFile::open(output);
    const auto expected = SafetensorsFile::open(cases() / "expected_image_embeds.safetensors");
    EXPECT_LE(maxAbsDiff(ours->at("image_embeds"), expected->at("image_embeds")), 1e-4);
    EXPECT_EQ(ours->at("text_embeds").shapeString(), "[0, 32]");
}

TEST(Cli, EmbedSummaryWithoutOutput)
{
    const auto result = runPictor({"embed", "--model", clipFixture().string(), "--text", "a photo of a cat",
        "--text", "a photo of a dog", "--image", (cases() / "a00_square_224.png").string()});
    ASSERT_EQ(result.status, 0) << result.err;
    const auto summary = nlohmann::json::parse(result.out);
    EXPECT_EQ(summary.at("text_embeds").at("shape"), nlohmann::json({2, 32}));
    EXPECT_EQ(summary.at("image_embeds").at("shape"), nlohmann::json({1, 32}));
    EXPECT_EQ(summary.at("cosine_text_image").size(), 2u);
    EXPECT_TRUE(summary.at("model_id").get<std::string>().starts_with("clip-"));
}

TEST(Cli, VerifyTheFixtureModel)
{
    const auto result = runPictor({"models", "verify", clipFixture().string()});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_NE(result.out.find("OK"), std::string::npos);
    EXPECT_NE(result.out.find("78"), std::string::npos) << result.out; // tensors
}

// ---- malformed model folders ----

// A copy of the fixture model folder whose model.safetensors is replaced by `weights`.
std::filesystem::path brokenModel(
    const std::string& tag, const std::string& weights, const std::vector<std::string>& dropFiles = {})
{
    const auto dir = test::scratchDir(tag);
    for (const auto& entry : std::filesystem::directory_iterator(clipFixture())) {
        const auto name = entry.path().filename().string();
        if (entry.is_regular_file() && name != "model.safetensors" && name != "README.md"
            && std::find(dropFiles.begin(), dropFiles.end(), name) == dropFiles.end())
            std::filesystem::copy_file(entry.path(), dir / name);
    }
    writeFile(dir / "model.safetensors", weights);
    return dir;
}

struct Weights {
    nlohmann::json header;
    std::string data;
};

Weights fixtureWeights()
{
    const std::string bytes = readFile(clipFixture() / "model.safetensors");
    std::uint64_t length = 0;
    std::memcpy(&length, bytes.data(), 8);
    return {nlohmann::json::parse(bytes.substr(8, length)), bytes.substr(8 + length)};
}

std::string assemble(const nlohmann::json& header, const std::string& data)
{
    const std::string text = header.dump();
    std::string out(8, '\0');
    const std::uint64_t length = text.size();
    std::memcpy(out.data(), &length, 8);
    return out + text + data;
}

void expectVerifyFails(const std::filesystem::path& dir, const std::string& phrase)
{
    const auto result = runPictor({"models", "verify", dir.string()});
    EXPECT_EQ(result.status, 1) << phrase << "\n" << result.err;
    EXPECT_NE(result.err.find(phrase), std::string::npos) << "expected '" << phrase << "' in: " << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << "one line: " << result.err;
}

TEST(Cli, MalformedModelFoldersGiveClearErrors)
{
    const std::string original = readFile(clipFixture() / "model.safetensors");
    expectVerifyFails(
        brokenModel("truncated", original.substr(0, original.size() / 3)), "outside the data section");
    expectVerifyFails(brokenModel("tiny", original.substr(0, 5)), "too short");

    std::string beyond = original;
    const std::uint64_t hugeLength = original.size() * 2;
    std::memcpy(beyond.data(), &hugeLength, 8);
    expectVerifyFails(brokenModel("beyond", beyond), "runs past the end of the file");

    std::string notJson = original;
    notJson[8] = '#';
    expectVerifyFails(brokenModel("notjson", notJson), "not valid JSON");

    Weights w = fixtureWeights();
    auto edit = [&](const std::function<void(nlohmann::json&)>& change) {
        nlohmann::json header = w.header;
        change(header);
        return assemble(header, w.data);
    };
    expectVerifyFails(brokenModel("range", edit([&](auto& h) {
        h["logit_scale"]["data_offsets"] = {w.data.size(), w.data.size() + 4};
    })),
        "(tensor 'logit_scale')");
    expectVerifyFails(brokenModel("overlap", edit([](auto& h) {
        h["logit_scale"]["data_offsets"] = h["text_projection.weight"]["data_offsets"];
        h["logit_scale"]["shape"] = h["text_projection.weight"]["shape"];
    })),
        "overlaps");
    expectVerifyFails(brokenModel("length", edit([](auto& h) {
        h["text_projection.weight"]["shape"] = {32, 65};
    })),
        "does not match F32 x shape");
    expectVerifyFails(brokenModel("dtype", edit([](auto& h) { h["logit_scale"]["dtype"] = "I32"; })),
        "dtype mismatch for tensor 'logit_scale'");
    expectVerifyFails(brokenModel("missing", edit([](auto& h) { h.erase("visual_projection.weight"); })),
        "missing tensor 'visual_projection.weight'");
    expectVerifyFails(brokenModel("unexpected", edit([](auto& h) {
        h["extra.bias"] = {{"dtype", "U8"}, {"shape", {0}}, {"data_offsets", {0, 0}}};
    })),
        "unexpected tensor 'extra.bias'");
    // A tensor whose bytes fit but whose shape is wrong for the model.
    expectVerifyFails(brokenModel("shape", edit([](auto& h) {
        h["text_projection.weight"]["shape"] = {64, 32};
    })),
        "shape mismatch for tensor 'text_projection.weight'");
    expectVerifyFails(brokenModel("novocab", original, {"vocab.json"}), "vocab.json");
    expectVerifyFails(brokenModel("nomerges", original, {"merges.txt"}), "merges.txt");
    expectVerifyFails(
        brokenModel("nopre", original, {"preprocessor_config.json"}), "preprocessor_config.json");
    expectVerifyFails(brokenModel("noconfig", original, {"config.json"}), "config.json");
}

TEST(Cli, UnknownModelTypeNamesTheSupportedOnes)
{
    const auto dir = brokenModel("unknown-type", readFile(clipFixture() / "model.safetensors"));
    writeFile(dir / "config.json", R"({"model_type": "bert"})");
    expectVerifyFails(dir, "supported: clip");
}

// ---- bad images ----

void expectEmbedImageFails(const std::filesystem::path& image, const std::string& phrase)
{
    const auto result = runPictor({"embed", "--model", clipFixture().string(), "--image", image.string()});
    EXPECT_EQ(result.status, 1) << image << "\n" << result.err;
    EXPECT_NE(result.err.find(image.filename().string()), std::string::npos)
        << "names the file: " << result.err;
    EXPECT_NE(result.err.find(phrase), std::string::npos) << "expected '" << phrase << "' in: " << result.err;
}

TEST(Cli, BadImagesGiveErrorsNamingTheFile)
{
    const auto dir = test::scratchDir("images");
    writeFile(dir / "empty.jpg", "");
    expectEmbedImageFails(dir / "empty.jpg", "empty");
    const std::string jpeg = readFile(cases() / "a01_landscape_640x480.jpg");
    writeFile(dir / "truncated.jpg", jpeg.substr(0, jpeg.size() / 2));
    expectEmbedImageFails(dir / "truncated.jpg", "truncated");
    writeFile(dir / "text.jpg", "this is not an image at all, just some words");
    expectEmbedImageFails(dir / "text.jpg", "");
    writeFile(dir / "mystery.xyz", std::string(64, '\x42'));
    expectEmbedImageFails(dir / "mystery.xyz", "");
    // A PNG whose header declares 50000 x 50000 pixels.
    std::string png = readFile(cases() / "a00_square_224.png");
    const unsigned char side[4] = {0x00, 0x00, 0xC3, 0x50};
    std::memcpy(png.data() + 16, side, 4);
    std::memcpy(png.data() + 20, side, 4);
    writeFile(dir / "huge.png", png);
    expectEmbedImageFails(dir / "huge.png", "");
}

} // namespace
} // namespace pictor
