// pictor embed --model DIR [--text T]... [--image FILE]... [--pixel-values FILE] [--device D] [--output F]
#include <cmath>
#include <cstring>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli_checks.h"
#include "app/commands.h"
#include "app/library_access.h"
#include "core/error.h"
#include "core/imageio/decode.h"
#include "core/safetensors.h"

namespace pictor::app {
namespace {

struct EmbedArgs {
    std::string model;
    std::string dtype = "auto";
    std::vector<std::string> texts;
    std::vector<std::string> images;
    std::string pixelValuesFile;
    std::string device = "auto";
    std::string output;
    int threads = 0;
    int batch = 8;
    bool reducedDecode = false;
};

struct PixelBatch {
    std::vector<float> values;
    std::vector<std::int64_t> shape; // [m, 3, H, W]
};

PixelBatch pixelsFromImages(
    const std::vector<std::string>& files, const ImagePreprocessConfig& config, bool reducedDecode)
{
    PixelBatch batch;
    batch.shape = {static_cast<std::int64_t>(files.size()), 3, config.outputHeight(), config.outputWidth()};
    DecodeOptions options;
    if (reducedDecode)
        options.targetShortEdge = config.shortestEdge;
    for (const auto& file : files) {
        const std::vector<float> one = preprocessImage(decodeImageFile(file, options).image, config);
        batch.values.insert(batch.values.end(), one.begin(), one.end());
    }
    return batch;
}

PixelBatch pixelsFromFile(const std::string& file, const ImagePreprocessConfig& config)
{
    const auto tensors = SafetensorsFile::open(file);
    const TensorView& view = tensors->at("pixel_values");
    PICTOR_CHECK(view.dtype == DType::F32, file, ": pixel_values must be F32, found ", dtypeName(view.dtype));
    PICTOR_CHECK(view.shape.size() == 4 && view.shape[1] == 3 && view.shape[2] == config.outputHeight()
            && view.shape[3] == config.outputWidth(),
        file, ": pixel_values has shape ", view.shapeString(), "; the model takes [n, 3, ",
        config.outputHeight(), ", ", config.outputWidth(), "]");
    PixelBatch batch;
    batch.shape = view.shape;
    batch.values.resize(static_cast<std::size_t>(view.numel()));
    std::memcpy(batch.values.data(), view.data, view.nbytes);
    return batch;
}

std::span<const std::byte> bytesOf(const std::vector<float>& values)
{
    return std::as_bytes(std::span(values));
}

nlohmann::json rowNorms(const EmbeddingMatrix& m)
{
    nlohmann::json norms = nlohmann::json::array();
    for (int r = 0; r < m.rows; ++r) {
        double sum = 0;
        for (int c = 0; c < m.dim; ++c)
            sum += double(m.row(r)[c]) * m.row(r)[c];
        norms.push_back(std::sqrt(sum));
    }
    return norms;
}

// Cosine similarity of every text (rows) with every image (columns).
nlohmann::json cosineMatrix(EmbeddingMatrix texts, EmbeddingMatrix images)
{
    normalizeRows(texts);
    normalizeRows(images);
    nlohmann::json matrix = nlohmann::json::array();
    for (int t = 0; t < texts.rows; ++t) {
        nlohmann::json row = nlohmann::json::array();
        for (int i = 0; i < images.rows; ++i) {
            double dot = 0;
            for (int c = 0; c < texts.dim; ++c)
                dot += double(texts.row(t)[c]) * images.row(i)[c];
            row.push_back(std::round(dot * 1e6) / 1e6);
        }
        matrix.push_back(row);
    }
    return matrix;
}

int runEmbed(const EmbedArgs& args, ModelHost& models)
{
    PICTOR_CHECK(!args.texts.empty() || !args.images.empty() || !args.pixelValuesFile.empty(),
        "nothing to embed: give --text, --image or --pixel-values");
    PICTOR_CHECK(
        args.images.empty() || args.pixelValuesFile.empty(), "--image and --pixel-values exclude each other");
    EmbedderOptions options;
    options.device = args.device;
    options.dtype = args.dtype;
    options.cpuThreads = args.threads;
    options.maxBatch = args.batch;
    const auto embedder
        = models.worker().run(JobPriority::Interactive, [&] { return models.embedder(args.model, options); });

    const PixelBatch pixels = args.pixelValuesFile.empty()
        ? pixelsFromImages(args.images, embedder->preprocessing(), args.reducedDecode)
        : pixelsFromFile(args.pixelValuesFile, embedder->preprocessing());
    const EmbeddingMatrix textEmbeds = embedder->embedTexts(args.texts);
    const EmbeddingMatrix imageEmbeds
        = embedder->embedPixelValues(pixels.values.data(), static_cast<int>(pixels.shape[0]));
    const auto dim = static_cast<std::int64_t>(embedder->dimension());

    if (!args.output.empty()) {
        writeSafetensors(args.output,
            {{"text_embeds", DType::F32, {textEmbeds.rows, dim}, bytesOf(textEmbeds.values)},
                {"image_embeds", DType::F32, {imageEmbeds.rows, dim}, bytesOf(imageEmbeds.values)},
                {"pixel_values", DType::F32, pixels.shape, bytesOf(pixels.values)}},
            {{"model_id", embedder->modelId()}, {"device", embedder->deviceDescription()},
                {"number_format_reason", embedder->numberFormatReason()}});
        return 0;
    }
    nlohmann::json summary {{"model_id", embedder->modelId()}, {"device", embedder->deviceDescription()},
        {"number_format_reason", embedder->numberFormatReason()},
        {"text_embeds", {{"shape", {textEmbeds.rows, dim}}, {"norms", rowNorms(textEmbeds)}}},
        {"image_embeds", {{"shape", {imageEmbeds.rows, dim}}, {"norms", rowNorms(imageEmbeds)}}},
        {"pixel_values", {{"shape", pixels.shape}}},
        {"cosine_text_image", cosineMatrix(textEmbeds, imageEmbeds)}};
    std::cout << summary.dump(2) << '\n';
    return 0;
}

} // namespace

CommandRun addEmbedCommand(CLI::App& parent, const CommandContext& context)
{
    auto args = std::make_shared<EmbedArgs>();
    CLI::App* command = parent.add_subcommand("embed", "Compute CLIP embeddings of texts and images");
    command->add_option("--model", args->model, "Model folder (Hugging Face layout)")
        ->required()
        ->check(CLI::ExistingDirectory);
    command->add_option("--text", args->texts, "A text to embed (repeatable)");
    command->add_option("--image", args->images, "An image file to embed (repeatable)")
        ->check(CLI::ExistingFile);
    command
        ->add_option("--pixel-values", args->pixelValuesFile,
            "A safetensors file whose 'pixel_values' [n,3,H,W] is used instead of decoding images")
        ->check(CLI::ExistingFile);
    addNumberFormatOption(*command, args->dtype);
    command->add_option("--device", args->device, "auto, cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    command->add_option("--output", args->output,
        "Write text_embeds, image_embeds and pixel_values to this safetensors file");
    command->add_option("--threads", args->threads, "CPU threads (0 = all cores)")
        ->check(wholeNumber(0, kMaxThreads));
    command->add_option("--batch", args->batch, "Inputs per forward pass")->check(wholeNumber(1, 4096));
    command->add_flag("--reduced-decode", args->reducedDecode,
        "Decode large JPEGs at reduced size (faster, slightly different pixels)");
    ModelHost* models = &context.models;
    return [args, models] { return runEmbed(*args, *models); };
}

} // namespace pictor::app
