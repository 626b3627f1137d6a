// The executable and its model module (pictor_models.so) must come from one build: the module's API
// version is checked before its entry point runs.
#include <gtest/gtest.h>

#include "app/model_module.h"
#include "app/model_module_api.h"
#include "core/error.h"

namespace pictor {
namespace {

TEST(ModelModule, TheBuiltModuleRegistersEveryFamily)
{
    ModelRegistry registry;
    app::loadModelFamiliesFrom(PICTOR_MODELS_MODULE, registry);
    EXPECT_EQ(registry.embedderTypes(), std::vector<std::string> {"clip"});
    EXPECT_EQ(registry.visionChatTypes(), std::vector<std::string> {"llava"});
    EXPECT_EQ(registry.imageGeneratorTypes(),
        (std::vector<std::string> {"UnCLIPImageVariationPipeline", "UnCLIPPipeline"}));
}

TEST(ModelModule, AModuleOfAnotherApiVersionIsRefused)
{
    ModelRegistry registry;
    try {
        app::loadModelFamiliesFrom(PICTOR_MISMATCHED_MODULE, registry);
        FAIL() << "a module of another API version was loaded";
    } catch (const Error& e) {
        const std::string expected = "has API version " + std::to_string(app::kModelModuleApiVersion + 1)
            + " but this pictor needs " + std::to_string(app::kModelModuleApiVersion);
        EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("reinstall Pictor"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(registry.embedderTypes().empty()) << "its entry point must not have run";
    EXPECT_THROW(app::loadModelFamiliesFrom("/nonexistent/pictor_models.so", registry), Error);
}

} // namespace
} // namespace pictor
