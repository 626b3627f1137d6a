// pictor ask --model DIR [--image FILE]... [--temperature T] [--top-p P] [--top-k K] [--seed S]
//            [--max-tokens N] [--greedy] QUESTION
// Streams the answer to stdout as it is generated (flushed per token); Ctrl+C stops it.
#include <atomic>
#include <cstdio>
#include <optional>

#include "app/cli_checks.h"
#include "app/commands.h"
#include "app/library_access.h"
#include "app/stop_request.h"
#include "core/error.h"
#include "core/imageio/decode.h"
#include "indexer/compute_worker.h"

namespace pictor::app {
namespace {

struct AskArgs {
    std::string model;
    std::vector<std::string> images;
    // Sampling defaults are AnswerOptions' (core/vision_chat.h), shared with the window's Ask panel.
    float temperature = AnswerOptions {}.temperature;
    float topP = AnswerOptions {}.topP;
    int topK = AnswerOptions {}.topK;
    std::optional<std::uint64_t> seed;
    int maxTokens = AnswerOptions {}.maxNewTokens;
    bool greedy = false;
    std::string device = "auto";
    std::string dtype = "auto";
    int threads = 0;
    std::string question;
};

int runAsk(const AskArgs& args, ModelHost& models)
{
    PICTOR_CHECK(args.temperature > 0, "--temperature must be greater than 0");
    PICTOR_CHECK(args.topP > 0 && args.topP <= 1, "--top-p must be in (0, 1]");
    std::vector<RgbImage> images;
    for (const auto& file : args.images)
        images.push_back(decodeImageFile(file).image);

    ComputeWorker& worker = models.worker();
    const VisionChatOptions loadOptions {args.device, args.threads, args.dtype};
    auto chat = worker.run(JobPriority::Chat, [&] { return models.visionChat(args.model, loadOptions); });

    AnswerOptions options;
    options.greedy = args.greedy;
    options.temperature = args.temperature;
    options.topP = args.topP;
    options.topK = args.topK;
    options.seed = args.seed;
    options.maxNewTokens = args.maxTokens;
    options.cancel = &stopRequest();
    options.onToken = [](std::string_view text) {
        if (!text.empty()) {
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
        }
        return true;
    };
    const ChatAnswer answer
        = worker.run(JobPriority::Chat, [&] { return chat->ask(images, args.question, {}, options); });
    std::fputc('\n', stdout);
    std::fflush(stdout);
    return answer.cancelled ? 130 : 0;
}

} // namespace

CommandRun addAskCommand(CLI::App& parent, const CommandContext& context)
{
    auto args = std::make_shared<AskArgs>();
    CLI::App* command = parent.add_subcommand(
        "ask", "Ask a vision chat model (LLaVA) about photos; the answer streams to stdout");
    command->add_option("--model", args->model, "Model folder (Hugging Face layout, model_type llava)")
        ->required()
        ->check(CLI::ExistingDirectory);
    command->add_option("--image", args->images, "A photo to show the model (repeatable)")
        ->check(CLI::ExistingFile);
    command->add_option("--temperature", args->temperature, "Sampling temperature (default 0.7)");
    command->add_option("--top-p", args->topP, "Nucleus sampling: keep the most likely tokens up to P (0.9)");
    command->add_option("--top-k", args->topK, "Keep only the K most likely tokens (0 = no limit)")
        ->check(wholeNumber(0, 1000000));
    command->add_option("--seed", args->seed, "Random seed for sampling (default 0)");
    command->add_option("--max-tokens", args->maxTokens, "Most new tokens to generate (default 256)")
        ->check(wholeNumber(1, 32768));
    command->add_flag("--greedy", args->greedy, "Always take the most likely token (deterministic)");
    command->add_option("--device", args->device, "auto, cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    addChatNumberFormatOption(*command, args->dtype);
    command->add_option("--threads", args->threads, "CPU threads (0 = all cores)")
        ->check(wholeNumber(0, kMaxThreads));
    command->add_option("QUESTION", args->question, "The question")->required();
    ModelHost* models = &context.models;
    return [args, models] { return runAsk(*args, *models); };
}

} // namespace pictor::app
