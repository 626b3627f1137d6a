// pictor index / search / library end to end on a folder the test builds from the fixture images.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/imageio/decode.h"
#include "core/imageio/encode.h"
#include "core/safetensors.h"
#include "indexer/index_job.h"
#include "indexer/library.h"
#include "indexer/library_lock.h"
#include "indexer/thumbnail_cache.h"
#include "tests/support/crafted_images.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

struct RunResult {
    int status = -1;
    std::string out;
};

RunResult runPictor(const std::vector<std::string>& args, bool withStderr = false)
{
    std::string command = std::string("'") + PICTOR_BINARY + "'";
    for (const auto& arg : args)
        command += " '" + arg + "'";
    command += withStderr ? " 2>&1" : " 2>/dev/null";
    RunResult result;
    FILE* pipe = popen(command.c_str(), "r");
    std::array<char, 4096> buffer {};
    for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;)
        result.out.append(buffer.data(), n);
    const int status = pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

nlohmann::json lastJsonLine(const std::string& text)
{
    auto end = text.find_last_not_of('\n');
    auto start = text.rfind('\n', end);
    return nlohmann::json::parse(text.substr(start == std::string::npos ? 0 : start + 1, end - start));
}

class LibraryCli : public testing::Test {
protected:
    void SetUp() override
    {
        photos = test::scratchDir("photos");
        library = test::scratchDir("library");
        const auto cases = test::fixtureDir("clip-tiny-a") / "cases";
        std::filesystem::create_directories(photos / "trip");
        for (const auto& entry : std::filesystem::directory_iterator(cases)) {
            const auto name = entry.path().filename().string();
            if (name.starts_with("a0"))
                std::filesystem::copy_file(entry.path(), photos / (name < "a05" ? "" : "trip") / name);
        }
        std::ofstream(photos / "broken.jpg"); // zero bytes
    }
    RunResult index(std::vector<std::string> extra = {})
    {
        std::vector<std::string> args {"index", "--library", library.string(), "--model", model().string(),
            "--full-decode", "--json", "--thumbnails", (library / "thumbnails").string(), photos.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return runPictor(args);
    }
    nlohmann::json search(std::vector<std::string> args)
    {
        args.insert(args.begin(), {"search", "--library", library.string(), "--json"});
        const auto result = runPictor(args);
        EXPECT_EQ(result.status, 0) << result.out;
        return nlohmann::json::parse(result.out);
    }
    static std::filesystem::path model() { return test::fixtureDir("clip-tiny-a"); }
    std::vector<std::filesystem::path> photoFiles() const
    {
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::recursive_directory_iterator(photos))
            if (entry.is_regular_file() && entry.path().filename() != "broken.jpg")
                files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        return files;
    }
    std::filesystem::path photos, library;
};

// A score as an option's text with every digit (std::to_string's six decimals may round above it).
std::string allDigits(double value)
{
    std::ostringstream text;
    text << std::setprecision(17) << value;
    return text.str();
}

TEST_F(LibraryCli, IndexesReportsFailuresAndReindexesNothingWhenUnchanged)
{
    const auto first = index();
    ASSERT_EQ(first.status, 0) << first.out;
    const auto summary = lastJsonLine(first.out);
    EXPECT_EQ(summary["indexed"], 10);
    ASSERT_EQ(summary["failed"], 1);
    EXPECT_NE(summary["failures"][0]["path"].get<std::string>().find("broken.jpg"), std::string::npos);
    EXPECT_NE(summary["failures"][0]["reason"].get<std::string>().find("empty"), std::string::npos);
    EXPECT_NE(first.out.find("\"event\":\"progress\""), std::string::npos);

    const auto again = lastJsonLine(index().out);
    EXPECT_EQ(again["indexed"], 0);
    EXPECT_EQ(again["unchanged"], 10);
    EXPECT_EQ(again["failed"], 1); // still listed, not decoded again
    EXPECT_EQ(again["failures"][0]["reason"], summary["failures"][0]["reason"]);
    EXPECT_EQ(again["vector_index"], "up to date");

    const auto check = runPictor({"library", "check", "--library", library.string()});
    EXPECT_EQ(check.status, 0) << check.out;
    const auto status = runPictor({"library", "status", "--library", library.string()});
    EXPECT_NE(status.out.find("photos    10"), std::string::npos) << status.out;
}

TEST_F(LibraryCli, EveryPhotoFindsItselfFirst)
{
    ASSERT_EQ(index().status, 0);
    for (const auto& file : photoFiles()) {
        const auto hits = search({"--limit", "1", "--image", file.string()});
        ASSERT_EQ(hits.size(), 1u);
        EXPECT_EQ(hits[0]["path"], file.string());
        EXPECT_NEAR(hits[0]["score"].get<double>(), 1.0, 2e-3); // float16 storage
    }
}

TEST_F(LibraryCli, TextRankingEqualsBruteForceOverEmbedOutputs)
{
    ASSERT_EQ(index().status, 0);
    const std::string text = "a photo of a cat";
    const auto files = photoFiles();
    const auto output = test::scratchDir("embed") / "e.safetensors";
    std::vector<std::string> args {
        "embed", "--model", model().string(), "--text", text, "--output", output.string()};
    for (const auto& file : files)
        args.insert(args.end(), {"--image", file.string()});
    ASSERT_EQ(runPictor(args).status, 0);
    const auto embeds = SafetensorsFile::open(output);
    const auto* t = reinterpret_cast<const float*>(embeds->at("text_embeds").data);
    const auto* images = reinterpret_cast<const float*>(embeds->at("image_embeds").data);
    const int dim = static_cast<int>(embeds->at("text_embeds").shape[1]);
    std::vector<std::pair<double, std::string>> expected;
    for (std::size_t i = 0; i < files.size(); ++i) {
        double dot = 0, nt = 0, ni = 0;
        for (int c = 0; c < dim; ++c) {
            dot += double(t[c]) * images[i * dim + c];
            nt += double(t[c]) * t[c];
            ni += double(images[i * dim + c]) * images[i * dim + c];
        }
        expected.push_back({dot / std::sqrt(nt * ni), files[i].string()});
    }
    std::sort(expected.rbegin(), expected.rend());
    const auto hits = search({"--limit", "10", text});
    ASSERT_EQ(hits.size(), expected.size());
    for (std::size_t i = 0; i < hits.size(); ++i) {
        EXPECT_EQ(hits[i]["path"], expected[i].second) << "rank " << i;
        EXPECT_NEAR(hits[i]["score"].get<double>(), expected[i].first, 2e-3) << "rank " << i;
    }
}

TEST_F(LibraryCli, FiltersCutoffAndComposedQueries)
{
    ASSERT_EQ(index().status, 0);
    const auto inTrip = search({"--limit", "20", "--folder", (photos / "trip").string(), "a photo"});
    EXPECT_EQ(inTrip.size(), 5u);
    for (const auto& hit : inTrip)
        EXPECT_NE(hit["path"].get<std::string>().find("/trip/"), std::string::npos);
    const auto pngs = search({"--limit", "20", "--type", "png", "a photo"});
    EXPECT_EQ(pngs.size(), 6u);
    // The usual names of a type, in any case; an unknown one is a usage error naming the known ones.
    EXPECT_EQ(search({"--limit", "20", "--type", "jpg", "a photo"}).size(), 4u);
    EXPECT_EQ(search({"--limit", "20", "--type", "JPEG,PNG", "a photo"}).size(), 10u);
    const auto unknown
        = runPictor({"search", "--library", library.string(), "--type", "png,gif", "a photo"}, true);
    EXPECT_EQ(unknown.status, 2) << unknown.out;
    EXPECT_NE(unknown.out.find("unknown file type 'gif' (known: jpg, jpeg, png"), std::string::npos)
        << unknown.out;
    const auto all = search({"--limit", "20", "a photo"});
    ASSERT_EQ(all.size(), 10u);
    const double cutoff = all[4]["score"].get<double>();
    const auto cut = search({"--limit", "20", "--min-score", allDigits(cutoff - 1e-9), "a photo"});
    EXPECT_EQ(cut.size(), 5u);
    EXPECT_EQ(search({"--limit", "20", "--after", "2100-01-01", "a photo"}).size(), 0u);
    // Photo + text with weight 0 is the photo alone; with weight 1 the text alone.
    const auto photoOnly = search({"--limit", "3", "--photo", "1", "--weight", "0", "a photo"});
    const auto likePhoto = search({"--limit", "3", "--photo", "1"});
    EXPECT_EQ(photoOnly, likePhoto);
    const auto textOnly = search({"--limit", "3", "--photo", "1", "--weight", "1", "a photo"});
    for (std::size_t i = 0; i < textOnly.size(); ++i)
        EXPECT_EQ(textOnly[i]["id"], all[i]["id"]);
}

// Usage errors a person can act on: the valid range, the date that does not exist, the empty date range.
TEST_F(LibraryCli, BadOptionValuesAreUsageErrorsThatSayWhy)
{
    ASSERT_EQ(index().status, 0);
    auto expectUsageError = [&](std::vector<std::string> args, const std::string& message) {
        args.insert(args.begin(), {"search", "--library", library.string()});
        args.push_back("a photo");
        const auto result = runPictor(args, true);
        EXPECT_EQ(result.status, 2) << result.out;
        EXPECT_NE(result.out.find(message), std::string::npos) << result.out;
        EXPECT_LT(result.out.size(), 400u) << result.out; // not a 300-digit range
    };
    expectUsageError({"--limit", "0"}, "--limit: takes a whole number from 1 to 1000000, not '0'");
    expectUsageError(
        {"--limit", "1000000000000"}, "takes a whole number from 1 to 1000000, not '1000000000000'");
    expectUsageError({"--limit", "ten"}, "not 'ten'");
    expectUsageError({"--after", "2021-02-30"}, "--after: 2021-02-30 is not a day of the calendar");
    expectUsageError({"--before", "2021-13-01"}, "takes a date as YYYY-MM-DD, not '2021-13-01'");
    expectUsageError({"--after", "2022-01-01", "--before", "2021-01-01"},
        "--after 2022-01-01 is not before --before 2021-01-01: no day is in that range");
    const auto weight = runPictor({"search", "--library", library.string(), "1e308:snow + beach"}, true);
    EXPECT_EQ(weight.status, 1) << weight.out;
    EXPECT_NE(weight.out.find("the weight 1e308 of 'snow' is out of range"), std::string::npos) << weight.out;
    EXPECT_EQ(search({"--limit", "1000000", "--after", "2000-02-29", "a photo"}).size(), 10u); // a leap day
}

// Plain output quotes a path the way ls does, so a newline in a name cannot pass for a second result.
TEST_F(LibraryCli, PlainOutputQuotesOddFileNames)
{
    std::filesystem::copy_file(photos / "a00_square_224.png", photos / "two\nlines.png");
    std::filesystem::copy_file(photos / "a00_square_224.png", photos / "it's here.png");
    ASSERT_EQ(index().status, 0);
    const auto result = runPictor({"search", "--library", library.string(), "--limit", "20", "a photo"});
    ASSERT_EQ(result.status, 0) << result.out;
    EXPECT_NE(result.out.find("  $'" + photos.string() + "/two\\nlines.png'\n"), std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("  '" + photos.string() + "/it'\\''s here.png'\n"), std::string::npos)
        << result.out;
    EXPECT_NE(
        result.out.find("  " + (photos / "trip" / "a05_small_100x60.png").string() + "\n"), std::string::npos)
        << result.out;
    EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 12) << result.out; // one line per photo
}

// pictor tag add|remove|list, and search by tag (as a filter, alone or with words, and by quoted words).
TEST_F(LibraryCli, TagsAreAddedListedSearchedAndRemoved)
{
    ASSERT_EQ(index().status, 0);
    const auto lib = library.string();
    const auto tagged = runPictor({"tag", "add", "Summer trip", "--library", lib, "--photo", "1", "--photo",
        "2", "--file", (photos / "trip" / "a05_small_100x60.png").string()});
    ASSERT_EQ(tagged.status, 0) << tagged.out;
    EXPECT_NE(tagged.out.find("tagged 'Summer trip': 3 of 3 photos changed"), std::string::npos)
        << tagged.out;
    ASSERT_EQ(runPictor({"tag", "add", "summer TRIP", "--library", lib, "--photo", "3"}).status, 0);

    const auto list = nlohmann::json::parse(runPictor({"tag", "list", "--library", lib, "--json"}).out);
    EXPECT_EQ(list, nlohmann::json::parse(R"([{"photos": 4, "tag": "Summer trip"}])"));
    const auto ofPhoto
        = nlohmann::json::parse(runPictor({"tag", "list", "--library", lib, "--photo", "3", "--json"}).out);
    EXPECT_EQ(ofPhoto, nlohmann::json::parse(R"([{"photo": 3, "source": "user", "tag": "Summer trip"}])"));

    EXPECT_EQ(search({"--limit", "20", "--tag", "summer trip"}).size(), 4u)
        << "a filter alone lists its photos";
    const auto withWords = search({"--limit", "20", "--tag", "Summer trip", "a photo"});
    EXPECT_EQ(withWords.size(), 4u);
    const auto quoted = search({"--limit", "20", "\"summer\""}); // quoted words rank the tagged photos first
    ASSERT_GE(quoted.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i)
        EXPECT_NE(quoted[i]["why"].get<std::string>().find("tag: [Summer]"), std::string::npos)
            << quoted.dump(1);

    ASSERT_EQ(runPictor({"tag", "remove", "SUMMER TRIP", "--library", lib, "--photo", "1"}).status, 0);
    EXPECT_EQ(search({"--limit", "20", "--tag", "summer trip"}).size(), 3u);

    const auto unknown = runPictor({"tag", "add", "x", "--library", lib, "--photo", "999"}, true);
    EXPECT_EQ(unknown.status, 1);
    EXPECT_NE(unknown.out.find("photo 999 is not in the library"), std::string::npos) << unknown.out;
    const auto empty = runPictor({"tag", "add", "  ", "--library", lib, "--photo", "1"}, true);
    EXPECT_EQ(empty.status, 2) << empty.out;
}

// pictor duplicates: an exact copy and a resized copy are grouped with their original, best first; the
// other photos are not.
TEST_F(LibraryCli, DuplicatesGroupCopiesBestFirst)
{
    std::filesystem::copy_file(photos / "a01_landscape_640x480.jpg", photos / "trip" / "copy.jpg");
    const DecodedImage large = decodeImageFile(photos / "a03_photo_1600x1200.jpg");
    RgbImage half(large.image.width / 2, large.image.height / 2);
    for (int y = 0; y < half.height; ++y)
        for (int x = 0; x < half.width; ++x)
            for (int c = 0; c < 3; ++c)
                half.pixels[(static_cast<std::size_t>(y) * half.width + x) * 3 + c]
                    = large.image
                          .pixels[(static_cast<std::size_t>(2 * y) * large.image.width + 2 * x) * 3 + c];
    const auto jpeg = encodeImage(half, ImageFormat::Jpeg, 90);
    std::ofstream(photos / "trip" / "a03-half.jpg", std::ios::binary)
        .write(reinterpret_cast<const char*>(jpeg.data()), static_cast<std::streamsize>(jpeg.size()));
    ASSERT_EQ(index().status, 0);

    const auto result = runPictor({"duplicates", "--library", library.string(), "--json"});
    ASSERT_EQ(result.status, 0) << result.out;
    const auto groups = nlohmann::json::parse(result.out);
    ASSERT_EQ(groups.size(), 2u) << groups.dump(1);
    auto names = [](const nlohmann::json& group) {
        std::vector<std::string> out;
        for (const auto& photo : group["photos"])
            out.push_back(std::filesystem::path(photo["path"].get<std::string>()).filename().string());
        return out;
    };
    std::map<std::string, nlohmann::json> byKind;
    for (const auto& group : groups)
        byKind[group["kind"].get<std::string>()] = group;
    ASSERT_TRUE(byKind.count("exact") && byKind.count("near")) << groups.dump(1);
    EXPECT_EQ(names(byKind["exact"]), (std::vector<std::string> {"a01_landscape_640x480.jpg", "copy.jpg"}))
        << "the same pixels and size: the older one first";
    EXPECT_EQ(names(byKind["near"]), (std::vector<std::string> {"a03_photo_1600x1200.jpg", "a03-half.jpg"}))
        << "the one with more pixels first";
    EXPECT_GE(byKind["near"]["score"].get<double>(), 0.95);

    const auto plain = runPictor({"duplicates", "--library", library.string()});
    EXPECT_NE(plain.out.find("group 1:"), std::string::npos) << plain.out;
    EXPECT_NE(plain.out.find("best"), std::string::npos) << plain.out;
}

// The JSON a script reads: library status, models list (the window's discovery: ~/models and the Hugging
// Face cache, named org/name) and models verify (ok, or the error).
TEST_F(LibraryCli, StatusModelsListAndVerifyInJson)
{
    ASSERT_EQ(index().status, 0);
    const auto status = nlohmann::json::parse(
        runPictor({"library", "status", "--library", library.string(), "--json"}).out);
    EXPECT_EQ(status["photos"], 10) << status.dump(1);
    ASSERT_EQ(status["folders"].size(), 1u);
    EXPECT_EQ(status["folders"][0]["readable"], true);
    ASSERT_EQ(status["models"].size(), 1u);
    EXPECT_EQ(status["models"][0]["embeddings"], 10);
    EXPECT_EQ(status["models"][0]["vector_index"]["up_to_date"], true);
    EXPECT_EQ(status["failures"].size(), 1u) << "broken.jpg";

    const auto home = test::scratchDir("models-home");
    std::filesystem::create_directories(home / "models");
    std::filesystem::create_directory_symlink(model(), home / "models" / "my-clip");
    const auto snapshot = home / "hub" / "models--openai--clip-test" / "snapshots" / "0123abcd";
    std::filesystem::create_directories(snapshot); // its files link into the model, as the cache's blobs do
    for (const auto& entry : std::filesystem::directory_iterator(model()))
        if (entry.is_regular_file())
            std::filesystem::create_symlink(entry.path(), snapshot / entry.path().filename());
    const std::string oldHome = std::getenv("HOME") ? std::getenv("HOME") : "";
    setenv("HOME", home.c_str(), 1);
    setenv("XDG_CONFIG_HOME", (home / "config").c_str(), 1);
    setenv("HF_HUB_CACHE", (home / "hub").c_str(), 1);
    const auto listed = runPictor({"models", "list", "--json"});
    setenv("HOME", oldHome.c_str(), 1);
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("HF_HUB_CACHE");
    ASSERT_EQ(listed.status, 0) << listed.out;
    const auto models = nlohmann::json::parse(listed.out);
    std::set<std::string> names;
    for (const auto& entry : models) {
        names.insert(entry["name"].get<std::string>());
        EXPECT_EQ(entry["role"], "search") << entry.dump();
        EXPECT_GT(entry["bytes"].get<std::int64_t>(), 0) << entry.dump();
    }
    EXPECT_EQ(names, (std::set<std::string> {"my-clip", "openai/clip-test"})) << models.dump(1);

    const auto verified = runPictor({"models", "verify", model().string(), "--json"});
    ASSERT_EQ(verified.status, 0) << verified.out;
    const auto ok = nlohmann::json::parse(verified.out);
    EXPECT_EQ(ok["ok"], true);
    EXPECT_EQ(ok["family"], "clip");
    EXPECT_EQ(ok["model_id"], status["models"][0]["model_id"]);
    const auto refused = runPictor({"models", "verify", photos.string(), "--json"});
    EXPECT_EQ(refused.status, 1);
    const auto error = nlohmann::json::parse(refused.out);
    EXPECT_EQ(error["ok"], false);
    EXPECT_NE(error["error"].get<std::string>().find("not a model folder"), std::string::npos)
        << error.dump();
}

// pictor autotag: a tag's prompts are averaged as unit vectors (the score equals the search score of the
// same words as arithmetic), photos at or above the threshold get it marked as the model's (score and
// threshold kept), a run replaces the last, and --dry-run writes nothing.
TEST_F(LibraryCli, AutotagScoresByPromptEnsemblesAndTagsAboveTheThreshold)
{
    ASSERT_EQ(index().status, 0);
    const auto lib = library.string();
    auto autotag = [&](std::vector<std::string> extra) {
        std::vector<std::string> args {"autotag", "--library", lib, "--json"};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto run = runPictor(args);
        EXPECT_EQ(run.status, 0) << run.out;
        return nlohmann::json::parse(run.out);
    };
    // The identity holds in exact arithmetic; in float32 to 1e-6, in bfloat16 only to its ~2e-3 rounding
    // (texts of other lengths take other products), so both sides run in float32 here.
    const auto preview = autotag({"--tag", "sky=a photo of the sky;a blue sky", "--threshold", "-1",
        "--dry-run", "--dtype", "float32"});
    ASSERT_EQ(preview.size(), 1u);
    EXPECT_EQ(preview[0]["passing"], 10);
    EXPECT_EQ(preview[0]["tagged"], 0);
    const auto ensemble = search({"--limit", "1", "--dtype", "float32", "a photo of the sky + a blue sky"});
    EXPECT_EQ(preview[0]["photos"][0]["id"], ensemble[0]["id"]);
    EXPECT_NEAR(preview[0]["photos"][0]["score"].get<double>(), ensemble[0]["score"].get<double>(), 1e-4);
    EXPECT_TRUE(nlohmann::json::parse(runPictor({"tag", "list", "--library", lib, "--json"}).out).empty())
        << "a dry run writes nothing";

    const double threshold = preview[0]["photos"][2]["score"].get<double>(); // the best three
    const auto applied = autotag({"--tag", "sky=a photo of the sky;a blue sky", "--threshold",
        allDigits(threshold), "--dtype", "float32"});
    EXPECT_EQ(applied[0]["tagged"], 3) << applied.dump(1);
    const auto best = preview[0]["photos"][0]["id"].get<std::int64_t>();
    const auto tags = nlohmann::json::parse(
        runPictor({"tag", "list", "--library", lib, "--photo", std::to_string(best), "--json"}).out);
    ASSERT_EQ(tags.size(), 1u) << tags.dump(1);
    EXPECT_EQ(tags[0]["tag"], "sky");
    EXPECT_EQ(tags[0]["source"].get<std::string>().rfind("auto:clip-", 0), 0u) << tags.dump(1);
    EXPECT_NEAR(tags[0]["score"].get<double>(), preview[0]["photos"][0]["score"].get<double>(), 1e-6);
    EXPECT_NEAR(tags[0]["threshold"].get<double>(), threshold, 1e-6);
    EXPECT_EQ(search({"--limit", "20", "--tag", "sky"}).size(), 3u);

    autotag({"--tag", "sky=a photo of the sky;a blue sky", "--threshold", "1"}); // replaces the last run
    EXPECT_TRUE(search({"--limit", "20", "--tag", "sky"}).empty());
    const auto bad = runPictor({"autotag", "--library", lib, "--tag", "=no tag"}, true);
    EXPECT_EQ(bad.status, 1);
    EXPECT_NE(bad.out.find("needs a tag"), std::string::npos) << bad.out;
}

// A zero-shot run keeps its rule: new photos get the tag as they are indexed; a tag a person removed is
// not given back, one a person confirmed (tag add) is theirs; --forget stops the rule.
TEST_F(LibraryCli, AutotagRulesFollowNewPhotosAndRespectThePersonsWord)
{
    ASSERT_EQ(index().status, 0);
    const auto lib = library.string();
    const std::string sky = "sky=a photo of the sky;a blue sky";
    auto run = [&](std::vector<std::string> args) {
        const auto result = runPictor(args);
        EXPECT_EQ(result.status, 0) << result.out;
        return result.out;
    };
    auto tagsOf = [&](std::int64_t id) {
        return nlohmann::json::parse(
            run({"tag", "list", "--library", lib, "--photo", std::to_string(id), "--json"}));
    };
    const auto preview = nlohmann::json::parse(
        run({"autotag", "--library", lib, "--json", "--tag", sky, "--threshold", "-1", "--dry-run"}));
    const double threshold = preview[0]["photos"][2]["score"].get<double>(); // the best three
    const auto best = preview[0]["photos"][0]["id"].get<std::int64_t>();
    const auto second = preview[0]["photos"][1]["id"].get<std::int64_t>();
    const std::string bestPath = preview[0]["photos"][0]["path"].get<std::string>();
    const auto applied = nlohmann::json::parse(
        run({"autotag", "--library", lib, "--json", "--tag", sky, "--threshold", allDigits(threshold)}));
    EXPECT_EQ(applied[0]["tagged"], 3);
    const auto rules = nlohmann::json::parse(run({"autotag", "--library", lib, "--rules", "--json"}));
    ASSERT_EQ(rules.size(), 1u) << rules.dump(1);
    EXPECT_EQ(rules[0]["tag"], "sky");
    EXPECT_EQ(rules[0]["prompts"], nlohmann::json({"a photo of the sky", "a blue sky"}));
    EXPECT_DOUBLE_EQ(rules[0]["threshold"].get<double>(), threshold);

    // The person's word: removed stays removed, confirmed becomes theirs.
    run({"tag", "remove", "sky", "--library", lib, "--photo", std::to_string(best)});
    run({"tag", "add", "sky", "--library", lib, "--photo", std::to_string(second)});
    const auto again = nlohmann::json::parse(
        run({"autotag", "--library", lib, "--json", "--tag", sky, "--threshold", allDigits(threshold)}));
    EXPECT_EQ(again[0]["tagged"], 1) << "the best was removed by hand, the second confirmed: "
                                     << again.dump(1);
    EXPECT_TRUE(tagsOf(best).empty()) << tagsOf(best).dump(1);
    const auto confirmed = tagsOf(second);
    ASSERT_EQ(confirmed.size(), 1u) << confirmed.dump(1);
    EXPECT_EQ(confirmed[0]["source"], "user");

    // A new photo like the best one gets the tag while it is indexed; after --forget, the next does not.
    std::filesystem::create_directories(photos / "new");
    std::filesystem::copy_file(bestPath, photos / "new" / "sky-again.jpg");
    const auto indexed = lastJsonLine(index().out);
    EXPECT_EQ(indexed["indexed"], 1) << indexed.dump(1);
    EXPECT_EQ(indexed["auto_tagged"], 1) << indexed.dump(1);
    const auto skyPhotos = search({"--limit", "20", "--tag", "sky"});
    EXPECT_TRUE(std::any_of(skyPhotos.begin(), skyPhotos.end(), [](const auto& hit) {
        return hit["path"].template get<std::string>().ends_with("sky-again.jpg");
    })) << skyPhotos.dump(1);
    run({"autotag", "--library", lib, "--forget", "sky"});
    EXPECT_TRUE(nlohmann::json::parse(run({"autotag", "--library", lib, "--rules", "--json"})).empty());
    std::filesystem::copy_file(bestPath, photos / "new" / "sky-once-more.jpg");
    EXPECT_EQ(lastJsonLine(index().out)["auto_tagged"], 0);
}

TEST_F(LibraryCli, QuotedWordsAlsoMatchFileNames)
{
    ASSERT_EQ(index().status, 0);
    const auto hits = search({"--limit", "3", "a photo \"panorama\""});
    ASSERT_FALSE(hits.empty());
    EXPECT_NE(hits[0]["path"].get<std::string>().find("a08_panorama_2000x150.jpg"), std::string::npos)
        << hits;
    EXPECT_NE(hits[0]["why"].get<std::string>().find("file name: a08_[panorama]"), std::string::npos) << hits;
    EXPECT_NE(hits[0]["why"].get<std::string>().find("vector score"), std::string::npos) << hits;
    const auto folder = search({"--limit", "10", "--hybrid", "trip"});
    ASSERT_GE(folder.size(), 5u);
    for (int i = 0; i < 5; ++i) // the five photos in trip/ match by folder name and come first
        EXPECT_NE(folder[i]["path"].get<std::string>().find("/trip/"), std::string::npos) << folder;
}

TEST_F(LibraryCli, ArithmeticFollowsTheDocumentedFormula)
{
    ASSERT_EQ(index().status, 0);
    // normalise(2 t - t) = t: the same ranking and scores as the text alone.
    const auto text = search({"--limit", "5", "a photo"});
    const auto doubled = search({"--limit", "5", "2:a photo - a photo"});
    ASSERT_EQ(text.size(), doubled.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        EXPECT_EQ(doubled[i]["id"], text[i]["id"]);
        EXPECT_NEAR(doubled[i]["score"].get<double>(), text[i]["score"].get<double>(), 1e-5);
    }
    // An image term equals searching by that image.
    const auto file = (photos / "a01_landscape_640x480.jpg").string();
    const auto byImage = search({"--limit", "5", "--image", file});
    const auto asTerm = search({"--limit", "5", "0.5:" + file + " + 0.5:" + file});
    ASSERT_EQ(byImage.size(), asTerm.size());
    for (std::size_t i = 0; i < byImage.size(); ++i)
        EXPECT_EQ(asTerm[i]["id"], byImage[i]["id"]);
}

TEST_F(LibraryCli, ASecondWriterIsRefused)
{
    LibraryLock held(library);
    const auto result = runPictor(
        {"index", "--library", library.string(), "--model", model().string(), photos.string()}, true);
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.out.find("is in use by PID " + std::to_string(getpid())), std::string::npos)
        << result.out;
}

// Starts `pictor index` and kills it with SIGKILL after `delay`.
void killIndexAfter(const std::vector<std::string>& args, std::chrono::milliseconds delay)
{
    const pid_t child = fork();
    if (child == 0) {
        std::vector<char*> argv {const_cast<char*>(PICTOR_BINARY)};
        for (const auto& arg : args)
            argv.push_back(const_cast<char*>(arg.c_str()));
        argv.push_back(nullptr);
        freopen("/dev/null", "w", stdout);
        freopen("/dev/null", "w", stderr);
        execv(PICTOR_BINARY, argv.data());
        _exit(127);
    }
    std::this_thread::sleep_for(delay);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
}

TEST_F(LibraryCli, KillDashNineAtRandomMomentsLosesNothing)
{
    // More photos, so that the kills land while batches are being decoded and written.
    for (int copy = 1; copy <= 9; ++copy)
        for (const auto& file : photoFiles())
            if (file.filename().string().starts_with("a0"))
                std::filesystem::copy_file(file,
                    file.parent_path() / ("copy" + std::to_string(copy) + "_" + file.filename().string()));
    auto indexArgs = [&](const std::filesystem::path& dir) {
        return std::vector<std::string> {"index", "--library", dir.string(), "--model", model().string(),
            "--full-decode", photos.string()};
    };

    // An uninterrupted run gives the reference catalog, and the time a run takes.
    const auto reference = test::scratchDir("reference");
    const auto start = std::chrono::steady_clock::now();
    ASSERT_EQ(runPictor(indexArgs(reference)).status, 0);
    const auto runTime
        = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);

    std::mt19937 random(7);
    for (int attempt = 0; attempt < 5; ++attempt) {
        const auto delay = runTime * (20 + random() % 75) / 100;
        killIndexAfter(indexArgs(library), delay);
        const auto check = runPictor({"library", "check", "--library", library.string()});
        // The catalog is always intact; only the derived vector index may lag behind until the next run.
        std::istringstream lines(check.out);
        for (std::string line; std::getline(lines, line);) {
            if (line.starts_with("problem:")) {
                EXPECT_NE(line.find("vector index"), std::string::npos)
                    << "after a kill at " << delay.count() << " ms: " << line;
            }
        }
    }
    const auto resumed = lastJsonLine(index().out);
    EXPECT_EQ(resumed["failed"], 1); // broken.jpg only
    EXPECT_EQ(runPictor({"library", "check", "--library", library.string()}).status, 0);

    auto pathsAndScores = [](const nlohmann::json& hits) {
        std::vector<std::pair<std::string, double>> out;
        for (const auto& hit : hits)
            out.emplace_back(hit["path"], std::round(hit["score"].get<double>() * 1e4));
        std::sort(out.begin(), out.end()); // identical copies tie: their order follows their ids
        return out;
    };
    const auto ours = search({"--limit", "200", "a photo of a cat"});
    const auto theirs = nlohmann::json::parse(
        runPictor({"search", "--library", reference.string(), "--json", "--limit", "200", "a photo of a cat"})
            .out);
    EXPECT_EQ(ours.size(), 100u);
    EXPECT_EQ(pathsAndScores(ours), pathsAndScores(theirs));
}

// A disk that fills during a run (here the file size limit, so the catalog's writes fail as on a full disk):
// the run ends with one error line and exit status 1, never a crash; the batches written before stay, the
// catalog is intact, and the next run indexes only the rest.
TEST_F(LibraryCli, AFullDiskEndsTheRunWithAnErrorAndTheNextRunResumes)
{
    for (int copy = 1; copy <= 19; ++copy)
        for (const auto& file : photoFiles())
            if (file.filename().string().starts_with("a0"))
                std::filesystem::copy_file(file,
                    file.parent_path() / ("copy" + std::to_string(copy) + "_" + file.filename().string()));
    const std::size_t total = photoFiles().size(); // and broken.jpg, which fails
    // The options of index() below, so that the next run finds the same work.
    const std::vector<std::string> args {PICTOR_BINARY, "index", "--library", library.string(), "--model",
        model().string(), "--full-decode", "--thumbnails", (library / "thumbnails").string(),
        photos.string()};
    int errPipe[2];
    ASSERT_EQ(pipe(errPipe), 0);
    const pid_t child = fork();
    if (child == 0) {
        // No file may grow past 400 KiB, and SIGXFSZ is ignored: a write past it fails with EFBIG, as
        // writes fail on a full disk.
        const rlimit limit {400 * 1024, 400 * 1024};
        setrlimit(RLIMIT_FSIZE, &limit);
        signal(SIGXFSZ, SIG_IGN);
        dup2(errPipe[1], STDERR_FILENO);
        const int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        std::vector<char*> argv;
        for (const auto& arg : args)
            argv.push_back(const_cast<char*>(arg.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(errPipe[1]);
    std::string err;
    std::array<char, 4096> buffer {};
    for (ssize_t n; (n = read(errPipe[0], buffer.data(), buffer.size())) > 0;)
        err.append(buffer.data(), static_cast<std::size_t>(n));
    close(errPipe[0]);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << "the run crashed: " << err;
    EXPECT_EQ(WEXITSTATUS(status), 1) << err;
    EXPECT_EQ(err.rfind("pictor: error: [catalog]", 0), 0u) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;

    // The catalog is intact; only the derived vector index may lag behind until the next run.
    std::istringstream lines(runPictor({"library", "check", "--library", library.string()}).out);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("problem:")) {
            EXPECT_NE(line.find("vector index"), std::string::npos) << line;
        }
    }
    const auto resumed = lastJsonLine(index().out);
    EXPECT_GT(resumed["unchanged"].get<int>(), 0) << "the batches written before the disk filled were kept";
    EXPECT_EQ(resumed["unchanged"].get<std::size_t>() + resumed["indexed"].get<std::size_t>(), total);
    EXPECT_EQ(resumed["failed"], 1);
    EXPECT_EQ(runPictor({"library", "check", "--library", library.string()}).status, 0);
}

// A vector index is tied to the catalog it was built from: beside a replaced catalog (the ids restart at 1
// and name other photos, while the count, the id set and the revision all match) it is rebuilt, never
// trusted, so `search --photo 1` finds photo 1 first.
// Ctrl+C or SIGTERM stops a run at its next batch, keeping what it committed; a second signal ends the
// process at once.
TEST_F(LibraryCli, AStopRequestEndsTheRunSoonAndASecondOneAtOnce)
{
    for (int copy = 1; copy <= 30; ++copy)
        for (const auto& file : photoFiles())
            if (file.filename().string().starts_with("a0"))
                std::filesystem::copy_file(file,
                    file.parent_path() / ("copy" + std::to_string(copy) + "_" + file.filename().string()));
    auto runUntilSignalled = [&](std::vector<int> signals, std::string& out, std::string& err) {
        const std::vector<std::string> args {PICTOR_BINARY, "index", "--library", library.string(), "--model",
            model().string(), "--full-decode", "--json", "--no-thumbnails", photos.string()};
        int outPipe[2], errPipe[2];
        EXPECT_EQ(pipe(outPipe), 0);
        EXPECT_EQ(pipe(errPipe), 0);
        const pid_t child = fork();
        if (child == 0) {
            dup2(outPipe[1], STDOUT_FILENO);
            dup2(errPipe[1], STDERR_FILENO);
            std::vector<char*> argv;
            for (const auto& arg : args)
                argv.push_back(const_cast<char*>(arg.c_str()));
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
        close(outPipe[1]);
        close(errPipe[1]);
        std::array<char, 4096> buffer {};
        // Signal once a batch is committed (a progress line with photos done).
        for (bool committed = false; !committed;) {
            const ssize_t n = read(outPipe[0], buffer.data(), buffer.size());
            if (n <= 0)
                break;
            out.append(buffer.data(), static_cast<std::size_t>(n));
            for (std::size_t end; !committed && (end = out.find('\n')) != std::string::npos;
                 out.erase(0, end + 1)) {
                const auto line = nlohmann::json::parse(out.substr(0, end));
                committed = line["event"] == "progress" && line["phase"] == "indexing"
                    && line["done"].get<int>() > 0;
            }
        }
        const auto signalled = std::chrono::steady_clock::now();
        for (int signal : signals)
            kill(child, signal);
        for (ssize_t n; (n = read(errPipe[0], buffer.data(), buffer.size())) > 0;)
            err.append(buffer.data(), static_cast<std::size_t>(n));
        for (ssize_t n; (n = read(outPipe[0], buffer.data(), buffer.size())) > 0;)
            out.append(buffer.data(), static_cast<std::size_t>(n));
        close(outPipe[0]);
        close(errPipe[0]);
        int status = 0;
        waitpid(child, &status, 0);
        const double seconds
            = std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
        EXPECT_LT(seconds, 10.0) << "the stop request took too long";
        EXPECT_TRUE(WIFEXITED(status)) << err;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    std::string out, err;
    EXPECT_EQ(runUntilSignalled({SIGTERM}, out, err), 130) << err;
    EXPECT_NE(err.find("stopping after the current step"), std::string::npos) << err;
    EXPECT_EQ(lastJsonLine(out)["cancelled"], true) << out;
    const auto resumed = lastJsonLine(index().out);
    EXPECT_GT(resumed["unchanged"].get<int>(), 0) << "what the stopped run committed was kept";

    // Both signals arrive together (the process is stopped while they are sent): the second handler ends
    // the process before the run can finish its batch or print its summary.
    std::filesystem::remove_all(library);
    std::filesystem::create_directories(library);
    out.clear();
    err.clear();
    const int status = runUntilSignalled({SIGSTOP, SIGINT, SIGTERM, SIGCONT}, out, err);
    EXPECT_TRUE(status == 128 + SIGINT || status == 128 + SIGTERM) << status << err;
    EXPECT_EQ(out.find("summary"), std::string::npos) << "the run was not ended at once: " << out;
    EXPECT_GT(Library::openForReading(library).catalog().countPhotos(), 0); // committed batches stay
}

TEST_F(LibraryCli, AnIndexBesideAReplacedCatalogIsRebuilt)
{
    ASSERT_EQ(index().status, 0);
    // The catalog of another library of as many photos: the first one left out, another one added.
    const auto files = photoFiles();
    const auto otherPhotos = test::scratchDir("other-photos");
    const auto otherLibrary = test::scratchDir("other-library");
    for (std::size_t i = 1; i < files.size(); ++i)
        std::filesystem::copy_file(files[i], otherPhotos / files[i].filename());
    std::filesystem::copy_file(
        test::realInputsDir() / "pngsuite" / "png" / "basn2c08.png", otherPhotos / "zz_added.png");
    ASSERT_EQ(runPictor({"index", "--library", otherLibrary.string(), "--model", model().string(),
                            otherPhotos.string()})
                  .status,
        0);
    for (const char* name : {"catalog.sqlite3-wal", "catalog.sqlite3-shm"})
        std::filesystem::remove(library / name);
    std::filesystem::copy_file(otherLibrary / "catalog.sqlite3", library / "catalog.sqlite3",
        std::filesystem::copy_options::overwrite_existing);

    const auto check = runPictor({"library", "check", "--library", library.string()});
    EXPECT_NE(check.status, 0);
    EXPECT_NE(check.out.find("built from another catalog"), std::string::npos) << check.out;
    const auto hits = search({"--photo", "1", "--limit", "3"});
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0]["id"], 1) << hits.dump();
    EXPECT_NEAR(hits[0]["score"].get<double>(), 1.0, 1e-3) << hits.dump();
    ASSERT_EQ(index().status, 0); // a writer saves the rebuilt index
    EXPECT_EQ(runPictor({"library", "check", "--library", library.string()}).status, 0);
}

// A library folder that reads as empty while the catalog has photos under it is what an unmounted drive's
// mount point looks like: the run keeps its photos (and their captions, tags and ids), says the folder is
// offline, and search still finds them; back again, nothing is indexed anew.
TEST_F(LibraryCli, AFolderThatReadsEmptyIsOfflineAndKeepsItsPhotos)
{
    ASSERT_EQ(index().status, 0);
    const std::size_t total = photoFiles().size();
    const auto away = test::scratchDir("unmounted");
    for (const auto& entry : std::filesystem::directory_iterator(photos))
        std::filesystem::rename(entry.path(), away / entry.path().filename());
    const auto offline = lastJsonLine(index().out);
    EXPECT_EQ(offline["deleted"], 0);
    ASSERT_EQ(offline["offline"].size(), 1u) << offline.dump();
    EXPECT_EQ(
        std::filesystem::path(offline["offline"][0].get<std::string>()), std::filesystem::canonical(photos));
    EXPECT_EQ(search({"--limit", "100", "a photo"}).size(), total) << "offline photos are still found";

    for (const auto& entry : std::filesystem::directory_iterator(away))
        std::filesystem::rename(entry.path(), photos / entry.path().filename());
    const auto back = lastJsonLine(index().out);
    EXPECT_EQ(back["indexed"], 0);
    EXPECT_EQ(back["unchanged"].get<std::size_t>(), total);
    EXPECT_TRUE(back["offline"].empty());
}

// More than half of a folder's photos vanishing at once (a mistaken move, a drive half copied back) is
// held: the photos are kept until a run allows it with --allow-mass-delete.
// Another file system mounted on a library folder (an unmounted drive's empty mount point, another drive
// in its place) loses no photo: the empty one is offline, the other one's missing photos are held until a
// run allows the deletion. Needs a tmpfs mount (root or a user namespace); skipped where there is none.
TEST_F(LibraryCli, AnotherFileSystemOnAFolderLosesNoPhotos)
{
    ASSERT_EQ(index().status, 0);
    const auto total = photoFiles().size();
    if (::mount("tmpfs", photos.c_str(), "tmpfs", 0, "size=8m") != 0)
        GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                     << "): the drive cases are not run";
    struct Unmount {
        std::filesystem::path folder;
        ~Unmount() { ::umount2(folder.c_str(), MNT_DETACH); }
    } unmount {photos};

    const auto empty = lastJsonLine(index().out); // the mount point of a drive that is not there
    EXPECT_EQ(empty["deleted"], 0) << empty.dump();
    EXPECT_EQ(empty["offline"].size(), 1u) << empty.dump();

    std::filesystem::copy_file(test::fixtureDir("clip-tiny-a") / "cases" / "a01_landscape_640x480.jpg",
        photos / "a01_landscape_640x480.jpg"); // one of the photos, but the others are not there
    test::writeCmykJpeg(photos / "new-on-this-drive.jpg", 120, 90);
    const auto other = lastJsonLine(index().out); // another drive in the folder's place
    EXPECT_EQ(other["deleted"], 0) << other.dump();
    EXPECT_EQ(other["indexed"], 0) << other.dump();
    ASSERT_EQ(other["other_drive"].size(), 1u) << other.dump();
    EXPECT_EQ(std::filesystem::path(other["other_drive"][0].get<std::string>()),
        std::filesystem::canonical(photos));
    EXPECT_EQ(search({"--limit", "100", "a photo"}).size(), total) << "its photos are still found";

    ::umount2(photos.c_str(), MNT_DETACH);
    const auto back = lastJsonLine(index().out);
    EXPECT_EQ(back["unchanged"].get<std::size_t>(), total) << back.dump();
    EXPECT_TRUE(back["other_drive"].empty()) << back.dump();

    // A drive with every photo (a copy to a new drive) is taken as the folder's new drive; so is any drive
    // when the run allows it.
    ASSERT_EQ(::mount("tmpfs", photos.c_str(), "tmpfs", 0, "size=8m"), 0);
    const auto cases = test::fixtureDir("clip-tiny-a") / "cases";
    std::filesystem::create_directories(photos / "trip");
    for (const auto& entry : std::filesystem::directory_iterator(cases))
        if (const auto name = entry.path().filename().string(); name.starts_with("a0"))
            std::filesystem::copy_file(entry.path(), photos / (name < "a05" ? "" : "trip") / name);
    std::ofstream(photos / "broken.jpg");
    const auto copied = lastJsonLine(index().out);
    EXPECT_TRUE(copied["other_drive"].empty()) << copied.dump();
    EXPECT_EQ(copied["deleted"], 0) << copied.dump();
    std::filesystem::remove(photos / "a01_landscape_640x480.jpg");
    const auto fewer = lastJsonLine(index().out); // the new drive is the folder's now: a plain deletion
    EXPECT_EQ(fewer["deleted"], 1) << fewer.dump();

    ::umount2(photos.c_str(), MNT_DETACH);
    ASSERT_EQ(::mount("tmpfs", photos.c_str(), "tmpfs", 0, "size=8m"), 0);
    test::writeCmykJpeg(photos / "the-only-one.jpg", 120, 90);
    const auto allowed = lastJsonLine(index({"--allow-mass-delete"}).out);
    EXPECT_TRUE(allowed["other_drive"].empty()) << allowed.dump();
    EXPECT_EQ(allowed["indexed"], 1) << allowed.dump();
    EXPECT_EQ(allowed["deleted"].get<std::size_t>(), total - 1) << allowed.dump();
}

// Another program holding the catalog's write lock past the busy timeout ends the run with an error that
// says so; nothing committed before is lost and the next run does the rest.
TEST_F(LibraryCli, ABusyCatalogEndsTheRunClearlyAndLosesNothing)
{
    ASSERT_EQ(index().status, 0);
    const auto total = photoFiles().size();
    std::filesystem::copy_file(photos / "a00_square_224.png", photos / "later-1.png");
    test::writeCmykJpeg(photos / "later-2.jpg", 120, 90);
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open((library / "catalog.sqlite3").c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK); // the write lock
    const auto busy
        = runPictor({"index", "--library", library.string(), "--no-thumbnails", photos.string()}, true);
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    EXPECT_EQ(busy.status, 1) << busy.out;
    EXPECT_NE(busy.out.find("catalog.sqlite3: database is locked"), std::string::npos) << busy.out;
    EXPECT_NE(busy.out.find("another program is using the catalog"), std::string::npos) << busy.out;
    EXPECT_EQ(search({"--limit", "100", "a photo"}).size(), total) << "the photos indexed before are intact";
    const auto resumed = lastJsonLine(index().out);
    EXPECT_EQ(resumed["indexed"], 2) << resumed.dump();
    EXPECT_EQ(runPictor({"library", "check", "--library", library.string()}).status, 0);
}

// Peak memory of a `pictor index` run (the child's maximum resident set), in MB.
double peakMegabytesOf(const std::vector<std::string>& args)
{
    const pid_t child = fork();
    if (child == 0) {
        const int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        std::vector<char*> argv {const_cast<char*>(PICTOR_BINARY)};
        for (const auto& arg : args)
            argv.push_back(const_cast<char*>(arg.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    rusage usage {};
    wait4(child, &status, 0, &usage);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return static_cast<double>(usage.ru_maxrss) / 1024;
}

// Decoding stays within its memory budget whatever the thread count: four 24-megapixel PNGs decoded by
// four threads at once cost several times what one at a time does.
TEST_F(LibraryCli, DecodingStaysWithinItsMemoryBudget)
{
    const auto large = test::scratchDir("large-pngs");
    RgbImage image(6000, 4000);
    for (std::size_t i = 0; i < image.pixels.size(); ++i)
        image.pixels[i] = static_cast<std::uint8_t>(i * 7 / 6000);
    const auto png = encodeImage(image, ImageFormat::Png, 100);
    for (int i = 0; i < 4; ++i)
        std::ofstream(large / ("large-" + std::to_string(i) + ".png"), std::ios::binary)
            .write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
    auto peak = [&](const std::string& megabytes) {
        const auto dir = test::scratchDir("memory-library");
        return peakMegabytesOf({"index", "--library", dir.string(), "--model", model().string(), "--threads",
            "4", "--no-thumbnails", "--decode-memory", megabytes, large.string()});
    };
    const double capped = peak("64");
    const double uncapped = peak("4096");
    std::printf(
        "peak RSS indexing four 24-megapixel PNGs with 4 threads: %.0f MB within a 64 MB decode budget, "
        "%.0f MB without\n",
        capped, uncapped);
    EXPECT_LT(capped, uncapped - 100) << "the budget did not keep the decodes apart";
}

TEST_F(LibraryCli, AMassDeletionIsHeldUntilAllowed)
{
    for (int copy = 1; copy <= 3; ++copy)
        for (const auto& file : photoFiles())
            std::filesystem::copy_file(
                file, file.parent_path() / ("copy" + std::to_string(copy) + "_" + file.filename().string()));
    ASSERT_EQ(index().status, 0);
    const auto files = photoFiles();
    ASSERT_GE(files.size(), 2 * static_cast<std::size_t>(kMassDeleteMinimum));
    std::size_t removed = 0;
    for (const auto& file : files)
        if (file.filename().string().starts_with("copy")) {
            std::filesystem::remove(file);
            ++removed;
        }
    ASSERT_GT(2 * removed, files.size());
    const auto held = lastJsonLine(index().out);
    EXPECT_EQ(held["deleted"], 0);
    EXPECT_EQ(held["deletions_held"].get<std::size_t>(), removed);
    const auto allowed = lastJsonLine(index({"--allow-mass-delete"}).out);
    EXPECT_EQ(allowed["deleted"].get<std::size_t>(), removed);
    EXPECT_EQ(allowed["deletions_held"], 0);
}

// A catalog that is missing or empty (0 bytes) beside the library's other files is not a new library:
// writers and readers refuse and name `pictor library recover`, which sets what is left aside and starts a
// new catalog; indexing then works again. (Writers used to start an empty catalog silently.)
TEST_F(LibraryCli, AnEmptyOrMissingCatalogIsNotANewLibrary)
{
    ASSERT_EQ(index().status, 0);
    const auto catalog = library / "catalog.sqlite3";
    for (const bool empty : {true, false}) {
        for (const char* name : {"catalog.sqlite3-wal", "catalog.sqlite3-shm"})
            std::filesystem::remove(library / name);
        if (empty)
            std::filesystem::resize_file(catalog, 0);
        else
            std::filesystem::remove(catalog);
        const auto refused = runPictor(
            {"index", "--library", library.string(), "--model", model().string(), photos.string()}, true);
        EXPECT_EQ(refused.status, 1) << refused.out;
        EXPECT_NE(refused.out.find(empty ? "empty (0 bytes)" : "missing"), std::string::npos) << refused.out;
        EXPECT_NE(refused.out.find("pictor library recover"), std::string::npos) << refused.out;
        const auto reader = runPictor({"search", "--library", library.string(), "a photo"}, true);
        EXPECT_NE(reader.status, 0);
        EXPECT_NE(reader.out.find("library recover"), std::string::npos) << reader.out;
        EXPECT_EQ(std::filesystem::exists(catalog), empty) << "nothing was written";
        if (empty) {
            EXPECT_EQ(std::filesystem::file_size(catalog), 0u);
        }
    }
    const auto recovered = runPictor({"library", "recover", "--library", library.string()});
    ASSERT_EQ(recovered.status, 0) << recovered.out;
    EXPECT_NE(recovered.out.find("set aside: "), std::string::npos) << recovered.out;
    bool kept = false;
    for (const auto& entry : std::filesystem::directory_iterator(library))
        kept = kept || entry.path().filename().string().starts_with("index.damaged-");
    EXPECT_TRUE(kept) << "the indexes built from the lost catalog are set aside, not deleted";
    const auto again = lastJsonLine(index().out);
    EXPECT_EQ(again["indexed"].get<std::size_t>(), photoFiles().size());
    EXPECT_EQ(runPictor({"library", "recover", "--library", library.string()}).status, 1)
        << "an intact catalog is not recovered";
}

// library check looks at everything it can: a corrupted or deleted .faiss file and an invalid
// library.json are problems (the sidecar alone used to pass), with --json for scripts.
TEST_F(LibraryCli, CheckFindsADamagedIndexAndInvalidSettings)
{
    ASSERT_EQ(index().status, 0);
    const auto check = [&] {
        const auto run = runPictor({"library", "check", "--library", library.string(), "--json"});
        auto json = nlohmann::json::parse(run.out);
        EXPECT_EQ(run.status, json["ok"].get<bool>() ? 0 : 1);
        return json;
    };
    ASSERT_TRUE(check()["ok"].get<bool>()) << check().dump();
    std::filesystem::path faiss;
    for (const auto& entry : std::filesystem::directory_iterator(library / "index"))
        if (entry.path().extension() == ".faiss")
            faiss = entry.path();
    ASSERT_FALSE(faiss.empty());
    const auto original = std::filesystem::file_size(faiss);
    {
        std::fstream file(faiss, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(static_cast<std::streamoff>(original / 2));
        file.put('\x5a');
    }
    auto corrupted = check();
    EXPECT_FALSE(corrupted["ok"].get<bool>());
    EXPECT_NE(corrupted["problems"].dump().find("vector index"), std::string::npos) << corrupted.dump();
    std::filesystem::remove(faiss);
    EXPECT_FALSE(check()["ok"].get<bool>()) << "a deleted index file";
    ASSERT_EQ(runPictor({"library", "rebuild-index", "--library", library.string()}).status, 0);
    EXPECT_TRUE(check()["ok"].get<bool>());
    std::ofstream(library / "library.json") << "{ not json";
    const auto settings = check();
    EXPECT_FALSE(settings["ok"].get<bool>());
    EXPECT_NE(settings["problems"].dump().find("library.json"), std::string::npos) << settings.dump();
}

// Missing thumbnails are reported (not a problem: the window makes them when shown); --repair makes
// them and rebuilds a damaged vector index.
TEST_F(LibraryCli, CheckReportsMissingThumbnailsAndRepairMakesThem)
{
    ASSERT_EQ(index().status, 0);
    const auto thumbnails = library / "thumbnails";
    const auto check = [&](std::vector<std::string> extra = {}) {
        std::vector<std::string> args {
            "library", "check", "--library", library.string(), "--json", "--thumbnails", thumbnails.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto run = runPictor(args);
        auto json = nlohmann::json::parse(run.out);
        EXPECT_EQ(run.status, json["ok"].get<bool>() ? 0 : 1);
        return json;
    };
    const auto complete = check();
    EXPECT_TRUE(complete["ok"].get<bool>()) << complete.dump();
    EXPECT_TRUE(complete["thumbnails"]["missing"].empty()) << complete.dump();

    std::vector<std::filesystem::path> removed;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(thumbnails))
        if (entry.is_regular_file() && removed.size() < 3)
            removed.push_back(entry.path());
    ASSERT_EQ(removed.size(), 3u);
    for (const auto& file : removed)
        std::filesystem::remove(file);
    for (const auto& entry : std::filesystem::directory_iterator(library / "index"))
        if (entry.path().extension() == ".faiss")
            std::filesystem::remove(entry.path());
    const auto damaged = check();
    EXPECT_FALSE(damaged["ok"].get<bool>()) << damaged.dump();
    EXPECT_EQ(damaged["thumbnails"]["missing"].size(), 3u) << damaged.dump();
    const auto plain
        = runPictor({"library", "check", "--library", library.string(), "--thumbnails", thumbnails.string()});
    EXPECT_NE(plain.out.find("thumbnails: 3 photos have none in " + thumbnails.string()), std::string::npos)
        << plain.out;

    const auto repaired = check({"--repair"});
    EXPECT_TRUE(repaired["ok"].get<bool>()) << repaired.dump();
    EXPECT_TRUE(repaired["thumbnails"]["missing"].empty()) << repaired.dump();
    for (const auto& file : removed)
        EXPECT_TRUE(std::filesystem::is_regular_file(file)) << file;
}

TEST_F(LibraryCli, MovesDeletesAndModificationsAreFollowed)
{
    ASSERT_EQ(index().status, 0);
    const auto before = search({"--limit", "1", "--image", (photos / "a01_landscape_640x480.jpg").string()});
    std::filesystem::rename(photos / "a01_landscape_640x480.jpg", photos / "trip" / "renamed.jpg");
    std::filesystem::remove(photos / "a02_portrait_480x640.png");
    std::filesystem::copy_file(photos / "a00_square_224.png", photos / "a03_photo_1600x1200.jpg",
        std::filesystem::copy_options::overwrite_existing);
    const auto summary = lastJsonLine(index().out);
    EXPECT_EQ(summary["moved"], 1);
    EXPECT_EQ(summary["deleted"], 1);
    EXPECT_EQ(summary["indexed"], 1); // the overwritten file
    const auto after = search({"--limit", "1", "--image", (photos / "trip" / "renamed.jpg").string()});
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after[0]["id"], before[0]["id"]); // a move keeps the row
    EXPECT_EQ(after[0]["path"], (photos / "trip" / "renamed.jpg").string());
    EXPECT_EQ(search({"--limit", "20", "a photo"}).size(), 9u);
    // The vector index caught up instead of rebuilding, and the overwritten photo's vector is the new one.
    EXPECT_EQ(summary["vector_index"], "updated: 1 added or changed, 1 removed");
    const auto twins = search({"--limit", "2", "--image", (photos / "a00_square_224.png").string()});
    ASSERT_EQ(twins.size(), 2u);
    std::set<std::string> twinPaths;
    for (const auto& hit : twins) {
        EXPECT_GT(hit["score"].get<double>(), 0.999) << hit.dump();
        twinPaths.insert(hit["path"].get<std::string>());
    }
    EXPECT_EQ(twinPaths,
        (std::set<std::string> {
            (photos / "a00_square_224.png").string(), (photos / "a03_photo_1600x1200.jpg").string()}));
}

// The issue's corpus of bad files in one folder beside good ones: each bad file is listed with its
// reason, every good photo (including the odd but valid ones) is indexed, and the run exits 0.
TEST_F(LibraryCli, BadFileCorpusIsListedWithReasonsAndEveryGoodPhotoIsIndexed)
{
    const auto corpus = test::scratchDir("corpus");
    const auto cases = test::fixtureDir("clip-tiny-a") / "cases";
    auto copy = [&](const std::filesystem::path& from, const std::string& name) {
        std::filesystem::copy_file(from, corpus / name);
    };
    auto write = [&](const std::string& name, const std::vector<std::uint8_t>& bytes) {
        std::ofstream(corpus / name, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    };
    auto bytesOf = [](const std::filesystem::path& file) {
        std::ifstream in(file, std::ios::binary);
        std::vector<std::uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
        EXPECT_GT(bytes.size(), 1000u) << file;
        return bytes;
    };
    // Good, some of them unusual.
    copy(cases / "a01_landscape_640x480.jpg", "good.jpg");
    copy(cases / "a02_portrait_480x640.png", "good.png");
    copy(cases / "a00_square_224.png", "png-with-a-jpg-name.jpg"); // wrong extension: sniffed
    copy(test::realInputsDir() / "pngsuite" / "png" / "basn2c16.png", "rgb-16-bit.png");
    copy(test::realInputsDir() / "pngsuite" / "png" / "basn0g16.png", "grey-16-bit.png");
    test::writeCmykJpeg(corpus / "cmyk.jpg", 120, 90);
    copy(cases / "a03_photo_1600x1200.jpg", std::string("caf\xe9-latin1-name.jpg")); // not UTF-8
    // Bad.
    write("zero-bytes.jpg", {});
    write(std::string("\xff\xfe-empty-not-utf8.jpg"), {}); // listed in JSON with U+FFFD for the bad bytes
    const auto jpeg = bytesOf(cases / "a04_large_3000x2000.jpg");
    write("truncated.jpg",
        std::vector<std::uint8_t>(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(jpeg.size() / 3)));
    const auto png = bytesOf(cases / "a02_portrait_480x640.png");
    write("truncated.png",
        std::vector<std::uint8_t>(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(png.size() / 2)));
    const std::string text = "not a photo at all\n";
    write("text-with-a-jpg-name.jpg", std::vector<std::uint8_t>(text.begin(), text.end()));
    write("declares-50000x50000.png", test::pngDeclaring(50000, 50000));
    write("animated.webp", test::animatedWebp(64, 48, {{200, 30, 40}, {10, 20, 250}})); // first frame
    ASSERT_EQ(::mkfifo((corpus / "fifo.jpg").c_str(), 0600), 0); // never opened: it would block
    write("animation.gif", {'G', 'I', 'F', '8', '9', 'a'});
    write("camera.CR2", {'I', 'I', 42, 0}); // a RAW's first bytes, nothing after
    test::writeDng(corpus / "camera.dng"); // a RAW alone is a photo
    test::writeDng(corpus / "pair.NEF"); // a RAW beside its camera JPEG is that photo's second file
    write("pair.JPG", jpeg);
    std::filesystem::create_directories(corpus / "loop");
    std::filesystem::create_directory_symlink("..", corpus / "loop" / "back-up");
    const std::set<std::string> good {"good.jpg", "good.png", "png-with-a-jpg-name.jpg", "rgb-16-bit.png",
        "grey-16-bit.png", "cmyk.jpg", std::string("caf\xe9-latin1-name.jpg"), "animated.webp", "camera.dng",
        "pair.JPG"};
    const std::map<std::string, std::string> bad {{"zero-bytes.jpg", "empty"}, {"truncated.jpg", "truncated"},
        {"truncated.png", "truncated"}, {"text-with-a-jpg-name.jpg", "not an image"},
        {"declares-50000x50000.png", "too large"}, {"\uFFFD\uFFFD-empty-not-utf8.jpg", "empty"},
        {"fifo.jpg", "not a regular file (a FIFO)"}, {"animation.gif", "GIF is not supported"},
        {"camera.CR2", "cannot decode camera RAW"}};

    const auto result = runPictor({"index", "--library", library.string(), "--model", model().string(),
        "--json", "--no-thumbnails", corpus.string()});
    ASSERT_EQ(result.status, 0) << result.out;
    const auto summary = lastJsonLine(result.out);
    EXPECT_EQ(summary["indexed"], static_cast<int>(good.size())) << summary.dump(1);
    std::map<std::string, std::string> listed;
    for (const auto& failure : summary["failures"])
        listed[std::filesystem::path(failure["path"].get<std::string>()).filename().string()]
            = failure["reason"].get<std::string>();
    for (const auto& [name, reason] : bad) {
        ASSERT_TRUE(listed.count(name)) << name << " is not listed: " << summary.dump(1);
        EXPECT_NE(listed[name].find(reason), std::string::npos) << name << ": " << listed[name];
    }
    EXPECT_TRUE(std::any_of(listed.begin(), listed.end(),
        [](const auto& entry) { return entry.second.find("loop") != std::string::npos; }))
        << "the symlink loop is not listed: " << summary.dump(1);
    EXPECT_EQ(listed.size(), bad.size() + 1) << summary.dump(1);
    EXPECT_EQ(summary["raw_companions"], 1) << summary.dump(1);

    Library reader = Library::openForReading(library);
    std::set<std::string> indexed;
    for (const auto& root : reader.catalog().roots())
        for (const auto& photo : reader.catalog().listPhotosUnder(root.id))
            indexed.insert(photo.path.filename().string());
    EXPECT_EQ(indexed, good);
    EXPECT_EQ(runPictor({"library", "check", "--library", library.string()}).status, 0);
    const auto raws = nlohmann::json::parse(
        runPictor({"search", "--library", library.string(), "--json", "--type", "nef,raw", "a photo"}).out);
    ASSERT_EQ(raws.size(), 1u) << raws.dump(1);
    EXPECT_EQ(std::filesystem::path(raws[0]["path"].get<std::string>()).filename(), "camera.dng");
}

TEST_F(LibraryCli, ThumbnailsComeFromTheIndexingRunKeyedByContent)
{
    ASSERT_EQ(index().status, 0);
    Library reader = Library::openForReading(library);
    const ThumbnailCache cache(library / "thumbnails");
    int photosSeen = 0;
    for (const auto& root : reader.catalog().roots())
        for (const auto& photo : reader.catalog().listPhotosUnder(root.id)) {
            ++photosSeen;
            ASSERT_TRUE(cache.contains(photo.contentHash)) << photo.path;
            const auto thumbnail = decodeImageFile(cache.pathFor(photo.contentHash));
            const auto original = decodeImageFile(photo.path);
            EXPECT_LE(std::max(thumbnail.image.width, thumbnail.image.height), ThumbnailCache::kDefaultSize);
            if (std::max(original.image.width, original.image.height) >= ThumbnailCache::kDefaultSize) {
                EXPECT_EQ(
                    std::max(thumbnail.image.width, thumbnail.image.height), ThumbnailCache::kDefaultSize);
            }
            // Oriented like the photo: the aspect ratio survives (within a pixel of rounding).
            EXPECT_NEAR(static_cast<double>(thumbnail.image.width) / thumbnail.image.height,
                static_cast<double>(original.image.width) / original.image.height, 0.02)
                << photo.path;
        }
    EXPECT_EQ(photosSeen, 10);
    // A moved photo keeps its thumbnail (same content, same key); nothing is re-decoded for it.
    std::filesystem::rename(photos / "a01_landscape_640x480.jpg", photos / "trip" / "moved.jpg");
    const auto summary = lastJsonLine(index().out);
    EXPECT_EQ(summary["moved"], 1);
    EXPECT_EQ(summary["indexed"], 0);
}

} // namespace
} // namespace pictor
