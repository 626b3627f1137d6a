// The strict binder through real model loading: a CLIP folder with one thing wrong must fail with an
// error naming the tensor; legitimate variations (fp16/bf16, shards, legacy buffers) must load.
#include <fstream>
#include <functional>

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "plugins/clip/clip_model.h"
#include "tests/support/paths.h"
#include "tests/support/tensor_compare.h"

namespace pictor {
namespace {

// A checkpoint held in memory as tensors, written out as a model folder next to the fixture's other files.
using TensorMap = std::map<std::string, at::Tensor>;

TensorMap fixtureTensors()
{
    TensorMap tensors;
    auto file = SafetensorsFile::open(test::fixtureDir("clip-tiny-a") / "model.safetensors");
    for (const auto& view : file->tensors())
        tensors[view.name] = nn::tensorFromView(view).clone();
    return tensors;
}

DType dtypeOf(const at::Tensor& t)
{
    switch (t.scalar_type()) {
    case at::kFloat:
        return DType::F32;
    case at::kHalf:
        return DType::F16;
    case at::kBFloat16:
        return DType::BF16;
    case at::kLong:
        return DType::I64;
    default:
        return DType::U8;
    }
}

void writeTensors(const std::filesystem::path& file, const TensorMap& tensors)
{
    std::vector<TensorToWrite> out;
    for (const auto& [name, tensor] : tensors) {
        const at::Tensor t = tensor.contiguous();
        out.push_back({name, dtypeOf(t), t.sizes().vec(),
            std::span(static_cast<const std::byte*>(t.data_ptr()), t.nbytes())});
    }
    writeSafetensors(file, out);
}

std::filesystem::path modelFolder(const std::string& tag)
{
    const auto dir = test::scratchDir(tag);
    for (const char* name : {"config.json", "preprocessor_config.json", "vocab.json", "merges.txt",
             "tokenizer_config.json", "special_tokens_map.json"})
        std::filesystem::copy_file(test::fixtureDir("clip-tiny-a") / name, dir / name);
    return dir;
}

std::filesystem::path folderWith(const std::string& tag, const std::function<void(TensorMap&)>& edit)
{
    TensorMap tensors = fixtureTensors();
    edit(tensors);
    const auto dir = modelFolder(tag);
    writeTensors(dir / "model.safetensors", tensors);
    return dir;
}

std::string loadError(const std::filesystem::path& dir)
{
    try {
        clip::ClipModel::load(dir, nn::resolveDevice(nn::DeviceChoice::Cpu));
    } catch (const Error& e) {
        return e.what();
    }
    return "(loaded)";
}

at::Tensor imageEmbeds(const std::filesystem::path& dir)
{
    c10::InferenceMode guard;
    auto model = clip::ClipModel::load(dir, nn::resolveDevice(nn::DeviceChoice::Cpu));
    auto pixels = SafetensorsFile::open(
        test::fixtureDir("clip-tiny-a") / "cases" / "expected_pixel_values.safetensors");
    return model->encodeImages(test::loadGolden(*pixels, "pixel_values")).image_embeds;
}

at::Tensor goldenImageEmbeds()
{
    auto file = SafetensorsFile::open(
        test::fixtureDir("clip-tiny-a") / "cases" / "expected_image_embeds.safetensors");
    return test::loadGolden(*file, "image_embeds");
}

TEST(Binder, ScopesBuildCheckpointNames)
{
    nn::ParameterTable table;
    at::Tensor a, b;
    const nn::Scope root(table);
    (root / "text_model" / "encoder" / "layers" / std::size_t(3)).param("weight", {2, 2}, a);
    root.param("logit_scale", {}, b, /*optional=*/true);
    ASSERT_EQ(table.slots().size(), 2u);
    EXPECT_EQ(table.slots()[0].name, "text_model.encoder.layers.3.weight");
    EXPECT_EQ(table.slots()[1].name, "logit_scale");
    EXPECT_TRUE(table.slots()[1].optional);
}

TEST(Binder, MissingTensorIsNamed)
{
    const auto message
        = loadError(folderWith("missing", [](TensorMap& t) { t.erase("text_projection.weight"); }));
    EXPECT_NE(
        message.find("missing tensor 'text_projection.weight' (expected shape [32, 64])"), std::string::npos)
        << message;
}

TEST(Binder, UnexpectedTensorIsNamed)
{
    const auto message
        = loadError(folderWith("unexpected", [](TensorMap& t) { t["extra.weight"] = at::zeros({3}); }));
    EXPECT_NE(message.find("unexpected tensor 'extra.weight' [3] F32"), std::string::npos) << message;
}

TEST(Binder, WrongShapeIsNamedWithExpectedAndActual)
{
    const auto message = loadError(folderWith("shape", [](TensorMap& t) {
        t["visual_projection.weight"] = at::zeros({32, 63});
    }));
    EXPECT_NE(message.find(
                  "shape mismatch for tensor 'visual_projection.weight': expected [32, 64], checkpoint has "
                  "[32, 63]"),
        std::string::npos)
        << message;
}

TEST(Binder, IntegerTensorForAWeightIsADtypeError)
{
    const auto message = loadError(folderWith(
        "dtype", [](TensorMap& t) { t["text_model.final_layer_norm.bias"] = at::zeros({64}, at::kLong); }));
    EXPECT_NE(message.find("dtype mismatch for tensor 'text_model.final_layer_norm.bias'"), std::string::npos)
        << message;
    EXPECT_NE(message.find("I64"), std::string::npos) << message;
}

TEST(Binder, LegacyPositionIdsAreIgnored)
{
    const auto dir = folderWith("position_ids", [](TensorMap& t) {
        t["text_model.embeddings.position_ids"] = at::arange(77, at::kLong).unsqueeze(0);
        t["vision_model.embeddings.position_ids"] = at::arange(50, at::kLong).unsqueeze(0);
    });
    EXPECT_TRUE(test::tensorsClose("image_embeds", imageEmbeds(dir), goldenImageEmbeds(), 1e-4));
}

TEST(Binder, HalfPrecisionCheckpointsConvertToTheWorkingDtype)
{
    for (auto type : {at::kHalf, at::kBFloat16}) {
        const auto dir = folderWith("half", [type](TensorMap& t) {
            for (auto& [name, tensor] : t)
                tensor = tensor.to(type);
        });
        const at::Tensor embeds = imageEmbeds(dir);
        EXPECT_EQ(embeds.scalar_type(), at::kFloat);
        // Rounding the weights to 8 or 11 mantissa bits moves outputs by far less than their scale (~1).
        EXPECT_TRUE(test::tensorsClose(std::string("image_embeds from ") + c10::toString(type), embeds,
            goldenImageEmbeds(), type == at::kHalf ? 1e-2 : 1e-1));
    }
}

TEST(Binder, ShardedCheckpointLoadsIdentically)
{
    TensorMap first = fixtureTensors(), second;
    for (auto it = first.begin(); it != first.end();) {
        if (it->first.starts_with("vision_model.")) {
            second.insert(*it);
            it = first.erase(it);
        } else {
            ++it;
        }
    }
    const auto dir = modelFolder("sharded");
    writeTensors(dir / "model-00001-of-00002.safetensors", first);
    writeTensors(dir / "model-00002-of-00002.safetensors", second);
    nlohmann::json index {{"metadata", nlohmann::json::object()}, {"weight_map", nlohmann::json::object()}};
    for (const auto& [name, tensor] : first)
        index["weight_map"][name] = "model-00001-of-00002.safetensors";
    for (const auto& [name, tensor] : second)
        index["weight_map"][name] = "model-00002-of-00002.safetensors";
    std::ofstream(dir / "model.safetensors.index.json") << index.dump();
    EXPECT_TRUE(test::tensorsClose("image_embeds (sharded)", imageEmbeds(dir), goldenImageEmbeds(), 1e-4));
}

TEST(Binder, SeveralProblemsAreAllReported)
{
    const auto message = loadError(folderWith("several", [](TensorMap& t) {
        t.erase("logit_scale");
        t["bogus"] = at::zeros({1});
    }));
    EXPECT_NE(message.find("2 problem(s)"), std::string::npos) << message;
    EXPECT_NE(message.find("'logit_scale'"), std::string::npos) << message;
    EXPECT_NE(message.find("'bogus'"), std::string::npos) << message;
}

} // namespace
} // namespace pictor
