// pictor tokenize --model DIR [--json] TEXT...
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "core/text/clip_tokenizer.h"

namespace pictor::app {

CommandRun addTokenizeCommand(CLI::App& parent, const CommandContext&)
{
    struct Args {
        std::string model;
        bool json = false;
        std::vector<std::string> texts;
    };
    auto args = std::make_shared<Args>();
    CLI::App* command = parent.add_subcommand("tokenize", "Print the CLIP token ids of each text");
    command->add_option("--model", args->model, "Model folder (Hugging Face layout)")
        ->required()
        ->check(CLI::ExistingDirectory);
    command->add_flag("--json", args->json, "Print {\"input_ids\": [[...], ...]}");
    command->add_option("TEXT", args->texts, "Texts to tokenize")->required();

    return [args] {
        const auto tokenizer = ClipTokenizer::fromFolder(args->model);
        nlohmann::json ids = nlohmann::json::array();
        for (const auto& text : args->texts) {
            const TokenizedText tokens = tokenizer->encode(text);
            if (args->json) {
                ids.push_back(tokens.inputIds);
                continue;
            }
            for (std::size_t i = 0; i < tokens.inputIds.size(); ++i)
                std::cout << (i ? " " : "") << tokens.inputIds[i];
            std::cout << '\n';
        }
        if (args->json)
            std::cout << nlohmann::json {{"input_ids", ids}}.dump() << '\n';
        return 0;
    };
}

} // namespace pictor::app
