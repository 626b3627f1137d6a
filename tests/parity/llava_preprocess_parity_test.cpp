// The LLaVA fixtures' image preprocessing (CLIPImageProcessor for llava-tiny-llama, SiglipImageProcessor
// for llava-tiny-qwen2: square resize, no crop) from their preprocessor_config.json, starting from the
// golden decoded pixels so that JPEG decoding is not part of the comparison. README tolerance: 1e-5.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/json_file.h"
#include "core/preprocess.h"
#include "core/safetensors.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

RgbImage decodedImage(const SafetensorsFile& file, const std::string& name)
{
    const TensorView& view = file.at(name);
    EXPECT_EQ(view.dtype, DType::U8);
    RgbImage image(static_cast<int>(view.shape.at(1)), static_cast<int>(view.shape.at(0)));
    std::memcpy(image.pixels.data(), view.data, image.pixels.size());
    return image;
}

void checkFixture(const std::string& fixture, int expectedSide)
{
    const auto dir = test::fixtureDir(fixture);
    const ImagePreprocessConfig config = loadPreprocessConfig(dir / "preprocessor_config.json");
    EXPECT_EQ(config.outputHeight(), expectedSide);
    EXPECT_EQ(config.outputWidth(), expectedSide);
    const auto decoded = SafetensorsFile::open(dir / "golden" / "decoded_images.safetensors");
    const nlohmann::json cases = readJsonFile(dir / "cases.json");
    int compared = 0;
    for (const auto& entry : cases.at("cases")) {
        const auto images = entry.at("images").get<std::vector<std::string>>();
        if (images.empty())
            continue;
        const auto golden
            = SafetensorsFile::open(dir / "golden" / (entry.at("name").get<std::string>() + ".safetensors"));
        const TensorView& pixels = golden->at("pixel_values");
        ASSERT_EQ(pixels.dtype, DType::F32);
        const std::size_t perImage = 3u * expectedSide * expectedSide;
        ASSERT_EQ(static_cast<std::size_t>(pixels.numel()), perImage * images.size());
        for (std::size_t i = 0; i < images.size(); ++i) {
            const std::vector<float> ours = preprocessImage(decodedImage(*decoded, images[i]), config);
            ASSERT_EQ(ours.size(), perImage);
            std::vector<float> expected(perImage);
            std::memcpy(
                expected.data(), pixels.data + i * perImage * sizeof(float), perImage * sizeof(float));
            double worst = 0.0;
            for (std::size_t k = 0; k < perImage; ++k)
                worst = std::max(worst, std::abs(static_cast<double>(ours[k]) - expected[k]));
            std::printf(
                "  %s %s: max abs diff %.3g (tolerance 1e-5)\n", fixture.c_str(), images[i].c_str(), worst);
            EXPECT_LE(worst, 1e-5) << fixture << " " << entry.at("name") << " image " << i;
            ++compared;
        }
    }
    EXPECT_GE(compared, 4);
}

TEST(LlavaPreprocessParity, ClipProcessorOfLlavaTinyLlama)
{
    checkFixture("llava-tiny-llama", 224);
}

TEST(LlavaPreprocessParity, SiglipProcessorOfLlavaTinyQwen2)
{
    const auto config
        = loadPreprocessConfig(test::fixtureDir("llava-tiny-qwen2") / "preprocessor_config.json");
    EXPECT_FALSE(config.doCenterCrop);
    EXPECT_EQ(config.resizeHeight, 224);
    EXPECT_EQ(config.resizeWidth, 224);
    checkFixture("llava-tiny-qwen2", 224);
}

} // namespace
} // namespace pictor
