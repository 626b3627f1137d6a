#include "plugins/unclip/unclip_config.h"

#include <algorithm>

#include "core/error.h"
#include "core/json_file.h"

namespace pictor::unclip {
namespace {

namespace fs = std::filesystem;

// Collects every unsupported option of one config file, then fails once naming all of them.
class OptionCheck {
public:
    OptionCheck(const nlohmann::json& root, fs::path file) : root_(root), file_(std::move(file)) { }

    template <typename T> void expect(const std::string& key, const T& supported, const T& fallback)
    {
        auto it = root_.find(key);
        if (it == root_.end() || it->is_null())
            return require(fallback == supported, key, "(default)");
        try {
            if (it->get<T>() == supported)
                return;
        } catch (const nlohmann::json::exception&) {
        }
        problems_.push_back(key + " = " + it->dump());
    }
    void expectNull(const std::string& key)
    {
        auto it = root_.find(key);
        if (it != root_.end() && !it->is_null())
            problems_.push_back(key + " = " + it->dump());
    }
    void problem(std::string text) { problems_.push_back(std::move(text)); }
    void done(const std::string& component) const
    {
        if (problems_.empty())
            return;
        std::string list;
        for (const auto& p : problems_)
            list += (list.empty() ? "" : ", ") + p;
        PICTOR_FAIL(file_.string(), ": ", component, " options Pictor does not implement: ", list);
    }

private:
    void require(bool ok, const std::string& key, const char* value)
    {
        if (!ok)
            problems_.push_back(key + " = " + value);
    }
    const nlohmann::json& root_;
    fs::path file_;
    std::vector<std::string> problems_;
};

std::string classNameOf(const nlohmann::json& root, const fs::path& file)
{
    return jsonFieldOr<std::string>(root, "_class_name", "", file);
}

void checkClass(const nlohmann::json& root, const fs::path& file, const std::string& expected)
{
    const auto name = classNameOf(root, file);
    PICTOR_CHECK(
        name == expected, file.string(), ": _class_name '", name, "' where ", expected, " was expected");
}

std::vector<std::int64_t> intList(const nlohmann::json& root, const std::string& key, const fs::path& file)
{
    auto it = root.find(key);
    PICTOR_CHECK(it != root.end() && it->is_array(), file.string(), ": '", key, "' must be a list");
    std::vector<std::int64_t> values;
    for (const auto& v : *it) {
        PICTOR_CHECK(v.is_number_integer() && v.get<std::int64_t>() > 0, file.string(), ": '", key,
            "' must hold positive integers");
        values.push_back(v.get<std::int64_t>());
    }
    return values;
}

std::vector<std::string> stringList(const nlohmann::json& root, const std::string& key, const fs::path& file)
{
    auto it = root.find(key);
    PICTOR_CHECK(it != root.end() && it->is_array(), file.string(), ": '", key, "' must be a list");
    std::vector<std::string> values;
    for (const auto& v : *it) {
        PICTOR_CHECK(v.is_string(), file.string(), ": '", key, "' must hold block type names");
        values.push_back(v.get<std::string>());
    }
    return values;
}

std::int64_t positive(
    const nlohmann::json& root, const std::string& key, std::int64_t fallback, const fs::path& file)
{
    const auto value = jsonFieldOr<std::int64_t>(root, key, fallback, file);
    PICTOR_CHECK(value > 0, file.string(), ": '", key, "' must be positive (got ", value, ")");
    return value;
}

bool isPickle(const fs::path& file)
{
    const auto ext = file.extension().string();
    return ext == ".bin" || ext == ".ckpt" || ext == ".pt" || ext == ".pth" || ext == ".pkl";
}

} // namespace

PriorConfig PriorConfig::load(const fs::path& componentDir)
{
    const auto file = componentDir / "config.json";
    const nlohmann::json root = readJsonFile(file);
    checkClass(root, file, "PriorTransformer");
    OptionCheck check(root, file);
    check.expect<std::string>("added_emb_type", "prd", "prd");
    check.expect<std::string>("time_embed_act_fn", "silu", "silu");
    check.expect<std::string>("encoder_hid_proj_type", "linear", "linear");
    check.expectNull("norm_in_type");
    check.expectNull("embedding_proj_norm_type");
    check.done("PriorTransformer");

    PriorConfig config;
    config.numHeads = positive(root, "num_attention_heads", 32, file);
    config.headDim = positive(root, "attention_head_dim", 64, file);
    config.numLayers = positive(root, "num_layers", 20, file);
    config.embeddingDim = positive(root, "embedding_dim", 768, file);
    config.embeddingProjDim = positive(root, "embedding_proj_dim", config.embeddingDim, file);
    config.clipEmbedDim = positive(root, "clip_embed_dim", config.embeddingDim, file);
    config.numEmbeddings = positive(root, "num_embeddings", 77, file);
    config.additionalEmbeddings = positive(root, "additional_embeddings", 4, file);
    PICTOR_CHECK(config.additionalEmbeddings == 4, file.string(),
        ": additional_embeddings must be 4 (text embedding, time, noisy embedding, prd); got ",
        config.additionalEmbeddings);
    const auto timeEmbedDim = jsonFieldOr<std::int64_t>(root, "time_embed_dim", config.inner(), file);
    PICTOR_CHECK(timeEmbedDim == config.inner(), file.string(), ": time_embed_dim ", timeEmbedDim,
        " must equal the transformer width ", config.inner());
    return config;
}

TextProjConfig TextProjConfig::load(const fs::path& componentDir)
{
    const auto file = componentDir / "config.json";
    const nlohmann::json root = readJsonFile(file);
    checkClass(root, file, "UnCLIPTextProjModel");
    TextProjConfig config;
    config.clipEmbeddingsDim = positive(root, "clip_embeddings_dim", 768, file);
    config.timeEmbedDim = positive(root, "time_embed_dim", 1280, file);
    config.crossAttentionDim = positive(root, "cross_attention_dim", 1536, file);
    config.extraContextTokens = positive(root, "clip_extra_context_tokens", 4, file);
    return config;
}

UNetConfig UNetConfig::load(const fs::path& componentDir)
{
    const auto file = componentDir / "config.json";
    const nlohmann::json root = readJsonFile(file);
    UNetConfig config;
    config.className = classNameOf(root, file);
    const bool conditional = config.className == "UNet2DConditionModel";
    PICTOR_CHECK(conditional || config.className == "UNet2DModel", file.string(), ": _class_name '",
        config.className, "' is not a UNet Pictor implements (UNet2DConditionModel, UNet2DModel)");

    OptionCheck check(root, file);
    check.expect<std::string>("act_fn", "silu", "silu");
    check.expect<std::string>("time_embedding_type", "positional", "positional");
    check.expect<bool>("center_input_sample", false, false);
    check.expect<double>("mid_block_scale_factor", 1.0, 1.0);
    const auto shift = jsonFieldOr<std::string>(root, "resnet_time_scale_shift", "default", file);
    if (shift != "default" && shift != "scale_shift")
        check.problem("resnet_time_scale_shift = \"" + shift + "\"");
    config.scaleShift = shift == "scale_shift";
    const auto classEmbed = jsonFieldOr<std::string>(root, "class_embed_type", "", file);
    if (!classEmbed.empty() && !(conditional && classEmbed == "identity"))
        check.problem("class_embed_type = \"" + classEmbed + "\"");
    config.classEmbedIdentity = classEmbed == "identity";
    check.expectNull("num_class_embeds");
    if (conditional) {
        check.expect<std::int64_t>("conv_in_kernel", 3, 3);
        check.expect<std::int64_t>("conv_out_kernel", 3, 3);
        check.expect<bool>("only_cross_attention", false, false);
        check.expect<bool>("dual_cross_attention", false, false);
        check.expect<double>("resnet_out_scale_factor", 1.0, 1.0);
        check.expect<bool>("resnet_skip_time_act", false, false);
        check.expect<std::string>(
            "mid_block_type", "UNetMidBlock2DSimpleCrossAttn", "UNetMidBlock2DCrossAttn");
        for (const char* key : {"addition_embed_type", "encoder_hid_dim", "encoder_hid_dim_type",
                 "time_cond_proj_dim", "time_embedding_act_fn", "timestep_post_act", "cross_attention_norm",
                 "num_attention_heads", "time_embedding_dim", "projection_class_embeddings_input_dim",
                 "mid_block_only_cross_attention"})
            check.expectNull(key);
    } else {
        check.expect<bool>("add_attention", false, true);
    }
    config.blockOutChannels = intList(root, "block_out_channels", file);
    const auto downTypes = stringList(root, "down_block_types", file);
    const auto upTypes = stringList(root, "up_block_types", file);
    for (const auto& type : downTypes) {
        if (type == "ResnetDownsampleBlock2D")
            config.downBlocks.push_back(Block::Resnet);
        else if (type == "SimpleCrossAttnDownBlock2D" && conditional)
            config.downBlocks.push_back(Block::SimpleCrossAttn);
        else
            check.problem("down block type " + type);
    }
    for (const auto& type : upTypes) {
        if (type == "ResnetUpsampleBlock2D")
            config.upBlocks.push_back(Block::Resnet);
        else if (type == "SimpleCrossAttnUpBlock2D" && conditional)
            config.upBlocks.push_back(Block::SimpleCrossAttn);
        else
            check.problem("up block type " + type);
    }
    auto headDim = root.find("attention_head_dim");
    if (headDim != root.end() && !headDim->is_null() && !headDim->is_number_integer())
        check.problem("attention_head_dim = " + headDim->dump() + " (one value for every block)");
    auto layers = root.find("layers_per_block");
    if (layers != root.end() && !layers->is_number_integer())
        check.problem("layers_per_block = " + layers->dump() + " (one value for every block)");
    check.done(config.className);

    PICTOR_CHECK(config.downBlocks.size() == config.blockOutChannels.size()
            && config.upBlocks.size() == config.blockOutChannels.size(),
        file.string(), ": ", config.blockOutChannels.size(), " block_out_channels but ", downTypes.size(),
        " down and ", upTypes.size(), " up blocks");
    config.inChannels = positive(root, "in_channels", 3, file);
    config.outChannels = positive(root, "out_channels", 3, file);
    config.sampleSize = positive(root, "sample_size", 64, file);
    config.layersPerBlock = positive(root, "layers_per_block", 2, file);
    config.attentionHeadDim = positive(root, "attention_head_dim", 8, file);
    config.normGroups = positive(root, "norm_num_groups", 32, file);
    config.normEps = jsonFieldOr<double>(root, "norm_eps", 1e-5, file);
    config.flipSinToCos = jsonFieldOr<bool>(root, "flip_sin_to_cos", true, file);
    config.freqShift = jsonFieldOr<double>(root, "freq_shift", 0.0, file);
    if (conditional) {
        config.crossAttentionDim = positive(root, "cross_attention_dim", 1280, file);
        config.midCrossAttention = true;
    }
    return config;
}

fs::path componentWeights(const fs::path& componentDir, const std::string& base)
{
    for (const std::string& name : {base + ".safetensors.index.json", base + ".safetensors",
             base + ".fp16.safetensors.index.json", base + ".fp16.safetensors"}) {
        if (fs::exists(componentDir / name))
            return componentDir / name;
    }
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(componentDir, error)) {
        if (isPickle(entry.path()))
            PICTOR_FAIL(componentDir.string(), ": only pickle weights (", entry.path().filename().string(),
                "), which Pictor never loads: they can run code. Download the repository's safetensors files "
                "(the hub's safetensors revision, e.g. refs/pr/N of the \"Adding `safetensors` variant\" "
                "pull "
                "request) or convert them with diffusers (save_pretrained(..., safe_serialization=True))");
    }
    PICTOR_FAIL(componentDir.string(), ": no ", base, ".safetensors (nor a sharded or .fp16 variant)");
}

UnclipFolder UnclipFolder::open(const fs::path& root)
{
    const auto indexFile = root / "model_index.json";
    PICTOR_CHECK(
        fs::exists(indexFile), root.string(), ": not a diffusers pipeline folder (no model_index.json)");
    const nlohmann::json index = readJsonFile(indexFile);
    UnclipFolder folder;
    folder.root = root;
    folder.pipelineClass = classNameOf(index, indexFile);
    const bool textToImage = folder.pipelineClass == "UnCLIPPipeline";
    PICTOR_CHECK(textToImage || folder.pipelineClass == "UnCLIPImageVariationPipeline", indexFile.string(),
        ": pipeline '", folder.pipelineClass,
        "' is not one Pictor runs (UnCLIPPipeline, UnCLIPImageVariationPipeline)");

    // component -> the class model_index.json must name for it ("A|B": either)
    auto component = [&](const std::string& name, const std::string& expectedClass) -> fs::path {
        auto it = index.find(name);
        PICTOR_CHECK(it != index.end() && it->is_array() && it->size() == 2 && (*it)[1].is_string(),
            indexFile.string(), ": component '", name, "' (", expectedClass, ") is not listed");
        const auto listed = (*it)[1].get<std::string>();
        const std::string alternatives = "|" + expectedClass + "|";
        PICTOR_CHECK(alternatives.find("|" + listed + "|") != std::string::npos, indexFile.string(),
            ": component '", name, "' is a ", listed, "; Pictor runs ", expectedClass, " there");
        const fs::path dir = root / name;
        PICTOR_CHECK(fs::is_directory(dir), root.string(), ": component '", name, "' (", expectedClass,
            ") is missing: no folder ", name, "/");
        return dir;
    };
    auto modelComponent = [&](const std::string& name, const std::string& expectedClass,
                              const std::string& weightsBase) -> fs::path {
        const fs::path dir = component(name, expectedClass);
        const fs::path config = dir / "config.json";
        PICTOR_CHECK(fs::exists(config), root.string(), ": component '", name, "' has no config.json");
        componentWeights(dir, weightsBase);
        return dir;
    };
    auto scheduler = [&](const std::string& name) {
        const fs::path file = component(name, "UnCLIPScheduler") / "scheduler_config.json";
        PICTOR_CHECK(
            fs::exists(file), root.string(), ": component '", name, "' has no scheduler_config.json");
        return file;
    };

    folder.textEncoder = modelComponent("text_encoder", "CLIPTextModelWithProjection", "model");
    folder.tokenizer = component("tokenizer", "CLIPTokenizer|CLIPTokenizerFast");
    folder.textProj = modelComponent("text_proj", "UnCLIPTextProjModel", "diffusion_pytorch_model");
    folder.decoder = modelComponent("decoder", "UNet2DConditionModel", "diffusion_pytorch_model");
    folder.superResFirst = modelComponent("super_res_first", "UNet2DModel", "diffusion_pytorch_model");
    folder.superResLast = modelComponent("super_res_last", "UNet2DModel", "diffusion_pytorch_model");
    folder.decoderScheduler = scheduler("decoder_scheduler");
    folder.superResScheduler = scheduler("super_res_scheduler");
    if (textToImage) {
        folder.prior = modelComponent("prior", "PriorTransformer", "diffusion_pytorch_model");
        folder.priorScheduler = scheduler("prior_scheduler");
        for (const fs::path& base : {root, root / "image_variation"}) {
            if (fs::exists(base / "image_encoder" / "config.json")) {
                folder.imageEncoder = base / "image_encoder";
                componentWeights(folder.imageEncoder, "model");
                folder.featureExtractor = base / "feature_extractor";
                break;
            }
        }
    } else {
        folder.imageEncoder = modelComponent("image_encoder", "CLIPVisionModelWithProjection", "model");
        folder.featureExtractor = component("feature_extractor", "CLIPImageProcessor|CLIPFeatureExtractor");
    }
    if (folder.hasImageEncoder())
        PICTOR_CHECK(fs::exists(folder.featureExtractor / "preprocessor_config.json"), root.string(),
            ": the image encoder has no feature_extractor/preprocessor_config.json");
    return folder;
}

} // namespace pictor::unclip
