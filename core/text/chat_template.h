// Chat prompts of the LLaVA checkpoints, rendered exactly as their Jinja chat templates render them
// (transformers' apply_chat_template), without a Jinja engine: the checkpoint's template string
// (chat_template.json, else tokenizer_config.json "chat_template") is recognised as one of the formats
// below, and an unknown one is an error naming the supported formats.
//
//   llava-1.5:  "USER: <image>\n{text} ASSISTANT: {answer} USER: {text} ASSISTANT:"
//               (a system message is written as its text with no role, followed by a space)
//   ChatML:     "<|im_start|>user\n<image>\n{text}<|im_end|>\n<|im_start|>assistant\n"
//               (llava-interleave / llava-onevision with Qwen2; no default system message)
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace pictor {

struct ChatMessage {
    enum class Role { System, User, Assistant };
    Role role = Role::User;
    int numImages = 0; // image placeholders, written before the text as the templates do
    std::string text; // empty: the message has no text part
};

class ChatTemplate {
public:
    enum class Format { Llava15, ChatMl };

    // The checkpoint's template: chat_template.json, else "chat_template" in tokenizer_config.json.
    static ChatTemplate fromFolder(const std::filesystem::path& modelDir);
    // Recognises a template string; `source` names where it came from in error messages.
    static ChatTemplate fromTemplateString(std::string_view jinjaTemplate, const std::string& source);
    explicit ChatTemplate(Format format) : format_(format) { }

    Format format() const { return format_; }
    std::string_view name() const; // "llava-1.5" or "ChatML"
    static std::string supportedFormats(); // for messages

    // The prompt text (image placeholders included, special tokens as text, no BOS: the tokenizer adds
    // it). addGenerationPrompt appends the opening of the assistant's turn.
    std::string render(const std::vector<ChatMessage>& messages, bool addGenerationPrompt = true) const;

    static constexpr std::string_view kImageToken = "<image>";
    // Text after which generation stops: the opening of the next turn. The caller also stops on the
    // generation config's EOS ids.
    std::vector<std::string> stopStrings() const;

private:
    Format format_;
};

// Cuts generated text at the first stop string, across the pieces a stream decoder returns: push()
// returns what may be shown now, holding back an ending that could still become a stop string.
class StopStringFilter {
public:
    explicit StopStringFilter(std::vector<std::string> stopStrings);

    std::string push(std::string_view text); // text safe to show; nothing once stopped()
    std::string finish(); // at the end of generation: the held-back text (none if stopped)
    bool stopped() const { return stopped_; }

private:
    std::vector<std::string> stopStrings_;
    std::string pending_;
    bool stopped_ = false;
};

} // namespace pictor
