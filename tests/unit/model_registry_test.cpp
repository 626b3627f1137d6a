// The registry's one family table and the one reader of a folder's type: config.json's model_type, or a
// diffusers pipeline's model_index.json _class_name.
#include <fstream>

#include <gtest/gtest.h>

#include "core/embedder.h"
#include "core/error.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

std::filesystem::path folderWith(const std::string& tag, const std::string& file, const std::string& json)
{
    const auto dir = test::scratchDir(tag);
    std::ofstream(dir / file) << json;
    return dir;
}

std::string errorOf(const std::function<void()>& call)
{
    try {
        call();
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(ModelRegistry, ReadsTheTypeOfEveryKindOfFolder)
{
    const ModelFolderType clip
        = readModelFolderType(folderWith("type-clip", "config.json", R"({"model_type": "clip"})"));
    EXPECT_EQ(clip.name, "clip");
    EXPECT_FALSE(clip.pipeline);
    const ModelFolderType karlo = readModelFolderType(test::fixtureDir("unclip-tiny"));
    EXPECT_EQ(karlo.name, "UnCLIPPipeline");
    EXPECT_TRUE(karlo.pipeline);
    EXPECT_NE(errorOf([] { readModelFolderType(test::scratchDir("type-empty")); }).find("not a model folder"),
        std::string::npos);
    // The message names the folder, not just "config.json".
    const auto noType = folderWith("type-none", "config.json", "{}");
    EXPECT_NE(errorOf([&] {
        readModelFolderType(noType);
    }).find((noType / "config.json").string() + ": missing field 'model_type'"),
        std::string::npos);
}

TEST(ModelRegistry, OneTableAnswersWhatAFolderCanDo)
{
    ModelRegistry registry;
    registry.registerEmbedder("clip", {});
    registry.registerVisionChat("llava", {});
    registry.registerImageGenerator("UnCLIPPipeline", {});
    EXPECT_EQ(registry.capabilityOf(folderWith("cap-clip", "config.json", R"({"model_type": "clip"})")),
        ModelCapability::Embedding);
    EXPECT_EQ(registry.capabilityOf(folderWith("cap-llava", "config.json", R"({"model_type": "llava"})")),
        ModelCapability::VisionChat);
    EXPECT_EQ(registry.capabilityOf(test::fixtureDir("unclip-tiny")), ModelCapability::ImageGeneration);
    EXPECT_EQ(registry.capabilityOf(folderWith("cap-bert", "config.json", R"({"model_type": "bert"})")),
        std::nullopt);
    // A config.json model_type never matches a pipeline class, nor the reverse.
    EXPECT_EQ(
        registry.capabilityOf(folderWith("cap-odd", "config.json", R"({"model_type": "UnCLIPPipeline"})")),
        std::nullopt);

    const auto bert = folderWith("load-bert", "config.json", R"({"model_type": "bert"})");
    EXPECT_NE(errorOf([&] {
        registry.loadEmbedder(bert);
    }).find("model_type 'bert' is not an image-text embedding model Pictor supports (supported: clip)"),
        std::string::npos);
    EXPECT_NE(errorOf([&] { registry.loadImageGenerator(bert); }).find("not a diffusers pipeline folder"),
        std::string::npos);
    EXPECT_NE(errorOf([&] {
        registry.loadEmbedder(test::fixtureDir("unclip-tiny"));
    }).find("pipeline 'UnCLIPPipeline' is not an image-text embedding model"),
        std::string::npos);
    EXPECT_EQ(registry.imageGeneratorTypes(), std::vector<std::string> {"UnCLIPPipeline"});
}

} // namespace
} // namespace pictor
