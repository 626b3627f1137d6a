// pictor generate --model DIR [--prompt TEXT]... [--image FILE] [--n N] [--seed S] [--prior-steps N]
//                 [--decoder-steps N] [--sr-steps N] [--prior-guidance G] [--decoder-guidance G] -o OUT.png
// Paints pictures with an unCLIP model: from the prompts, as variations of --image, or --image changed by
// the prompts. Writes OUT.png, or OUT-0.png, OUT-1.png ... for several pictures, each carrying how it was
// made in its PNG text chunks. Ctrl+C stops between two steps and writes nothing.
#include <atomic>
#include <cstdio>
#include <fstream>
#include <optional>

#include <unistd.h>

#include "app/cli_checks.h"
#include "app/commands.h"
#include "app/shell_quote.h"
#include "app/stop_request.h"
#include "core/error.h"
#include "core/generation_record.h"
#include "core/imageio/decode.h"
#include "core/imageio/png_text.h"
#include "core/safetensors.h"
#include "indexer/compute_worker.h"

namespace pictor::app {
namespace {

struct GenerateArgs {
    std::string model;
    std::vector<std::string> prompts;
    std::string image;
    int n = 1;
    std::uint64_t seed = 0;
    int priorSteps = 25;
    int decoderSteps = 25;
    int superResSteps = 7;
    float priorGuidance = 4.0f;
    float decoderGuidance = 8.0f;
    float strength = 0.3f;
    std::string baseCaption = "a photo";
    std::string replayNoise;
    std::string saveIntermediates;
    std::string output;
    std::string device = "auto";
    std::string dtype = "auto";
    int threads = 0;
};

std::vector<std::filesystem::path> outputFiles(const std::filesystem::path& output, int count)
{
    if (count == 1)
        return {output};
    std::vector<std::filesystem::path> files;
    for (int i = 0; i < count; ++i)
        files.push_back(output.parent_path()
            / (output.stem().string() + "-" + std::to_string(i) + output.extension().string()));
    return files;
}

// Fails now, before minutes of work, when the pictures could not be written.
void checkWritable(const std::filesystem::path& output)
{
    const std::filesystem::path folder = output.parent_path().empty() ? "." : output.parent_path();
    PICTOR_CHECK(std::filesystem::is_directory(folder), output.string(), ": the folder ", folder.string(),
        " does not exist");
    const std::filesystem::path probe = folder / (".pictor-write-test-" + std::to_string(getpid()));
    {
        std::ofstream test(probe);
        PICTOR_CHECK(test.good(), output.string(), ": cannot write in ", folder.string());
    }
    std::filesystem::remove(probe);
}

void printBar(const GenerationProgress& p)
{
    constexpr int kWidth = 30;
    const int filled = p.totalSteps > 0 ? kWidth * p.stepsDone / p.totalSteps : kWidth;
    std::fprintf(stderr, "\r[%s%s] %-16s %d/%d ", std::string(static_cast<std::size_t>(filled), '#').c_str(),
        std::string(static_cast<std::size_t>(kWidth - filled), '.').c_str(), stageName(p.stage).c_str(),
        p.stageStep, p.stageSteps);
}

void saveIntermediates(const std::filesystem::path& file, const GenerationResult& result)
{
    std::vector<TensorToWrite> tensors;
    for (const auto& [name, array] : result.intermediates)
        tensors.push_back({name, DType::F32, array.shape,
            std::as_bytes(std::span<const float>(array.values.data(), array.values.size()))});
    writeSafetensors(file, tensors, {{"format", "pt"}, {"producer", "pictor generate"}});
}

int runGenerate(const GenerateArgs& args, ModelHost& models)
{
    PICTOR_CHECK(args.n > 0, "--n must be at least 1 (got ", args.n, ")");
    PICTOR_CHECK(!args.prompts.empty() || !args.image.empty(), "give --prompt TEXT, --image FILE, or both");
    PICTOR_CHECK(args.strength >= 0 && args.strength <= 1, "--strength must be between 0 and 1");
    const std::filesystem::path output = args.output;
    checkWritable(output);
    if (!args.saveIntermediates.empty())
        checkWritable(args.saveIntermediates);

    GenerationRequest request;
    request.prompts = args.prompts;
    if (!args.image.empty())
        request.sourceImages.push_back(decodeImageFile(args.image).image);
    request.imagesPerInput = args.n;
    request.seed = args.seed;
    request.replayNoise = args.replayNoise;
    request.priorSteps = args.priorSteps;
    request.decoderSteps = args.decoderSteps;
    request.superResSteps = args.superResSteps;
    request.priorGuidance = args.priorGuidance;
    request.decoderGuidance = args.decoderGuidance;
    request.changeStrength = args.strength;
    request.baseCaption = args.baseCaption;
    request.keepIntermediates = !args.saveIntermediates.empty();
    request.cancel = &stopRequest();

    ComputeWorker& worker = models.worker();
    // Replayed draws are for comparing with the reference pipeline, which runs in float32: the automatic
    // format is then float32 even where bfloat16 would be faster.
    const std::string dtype = args.dtype == "auto" && !args.replayNoise.empty() ? "float32" : args.dtype;
    const GeneratorOptions options {args.device, dtype, args.threads};
    auto generator
        = worker.run(JobPriority::Generation, [&] { return models.imageGenerator(args.model, options); });
    const bool bar = isatty(STDERR_FILENO);
    const GenerationResult result = worker.run(JobPriority::Generation, [&] {
        return generator->generate(request, [&](const GenerationProgress& progress) {
            if (bar)
                printBar(progress);
        });
    });
    if (bar)
        std::fputc('\n', stderr);
    if (result.cancelled) {
        std::fprintf(stderr, "pictor: cancelled; nothing written\n");
        return 130;
    }

    const int count = static_cast<int>(result.images.size());
    const auto files = outputFiles(output, count);
    for (int i = 0; i < count; ++i) {
        const auto promptIndex = static_cast<std::size_t>(i / args.n);
        GenerationRecord record;
        record.prompt = args.prompts.empty() ? ""
            : args.prompts.size() == 1       ? args.prompts.front()
                                             : args.prompts[std::min(promptIndex, args.prompts.size() - 1)];
        record.settings = request;
        record.modelDir = args.model;
        record.modelId = generator->modelId();
        record.sourceImage = args.image;
        record.batchIndex = i;
        record.batchSize = count;
        record.replayedNoise = !args.replayNoise.empty();
        writePngWithText(files[static_cast<std::size_t>(i)], result.images[static_cast<std::size_t>(i)],
            generationTextChunks(record));
        std::printf("%s\n", shellQuoted(files[static_cast<std::size_t>(i)]).c_str());
    }
    if (!args.saveIntermediates.empty())
        saveIntermediates(args.saveIntermediates, result);
    return 0;
}

} // namespace

CommandRun addGenerateCommand(CLI::App& parent, const CommandContext& context)
{
    auto args = std::make_shared<GenerateArgs>();
    CLI::App* command = parent.add_subcommand("generate",
        "Paint pictures with an unCLIP model (Karlo): from prompts, as variations of --image, or --image "
        "changed by the prompts");
    command->add_option("--model", args->model, "unCLIP pipeline folder (diffusers layout, model_index.json)")
        ->required()
        ->check(CLI::ExistingDirectory);
    command->add_option("--prompt", args->prompts, "What to paint (repeatable: one picture set per prompt)");
    command->add_option("--image", args->image, "Start from this photo: variations, or changed by the prompt")
        ->check(CLI::ExistingFile);
    command->add_option("--n", args->n, "Pictures per prompt or photo (default 1)");
    command->add_option(
        "--seed", args->seed, "Random seed (default 0): the same seed gives the same pictures");
    command->add_option("--prior-steps", args->priorSteps, "Diffusion prior steps (default 25)");
    command->add_option("--decoder-steps", args->decoderSteps, "Decoder steps (default 25)");
    command->add_option("--sr-steps", args->superResSteps, "Super-resolution steps (default 7)");
    command->add_option("--prior-guidance", args->priorGuidance, "Prior guidance scale (default 4)");
    command->add_option("--decoder-guidance", args->decoderGuidance, "Decoder guidance scale (default 8)");
    command->add_option("--strength", args->strength,
        "With --image and --prompt: how far the photo turns toward the words, 0..1 (default 0.3)");
    command->add_option("--base-caption", args->baseCaption,
        "With --image and --prompt: what the photo shows before the change (default \"a photo\")");
    command
        ->add_option("--replay-noise", args->replayNoise,
            "Take every random draw, in order, from this safetensors file (random_draw.00, ...)")
        ->check(CLI::ExistingFile);
    command->add_option("--save-intermediates", args->saveIntermediates,
        "Write image_embeds, decoder_image and super_res_image to this safetensors file");
    command->add_option("-o,--output", args->output, "Output PNG (OUT-0.png, OUT-1.png ... for several)")
        ->required();
    command->add_option("--device", args->device, "auto, cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    command
        ->add_option("--dtype", args->dtype,
            "auto (float16 on CUDA; bfloat16 on CPUs with native bfloat16, else float32; float32 with "
            "--replay-noise), float32, bfloat16 or float16 (CUDA)")
        ->check(CLI::IsMember({"auto", "float32", "bfloat16", "float16"}));
    command->add_option("--threads", args->threads, "CPU threads (0 = all cores)")
        ->check(wholeNumber(0, kMaxThreads));
    ModelHost* models = &context.models;
    return [args, models] { return runGenerate(*args, *models); };
}

} // namespace pictor::app
