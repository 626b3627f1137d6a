#include "core/text/chat_template.h"

#include <algorithm>

#include "core/error.h"
#include "core/json_file.h"

namespace pictor {
namespace {

namespace fs = std::filesystem;

// The templates of the llava-hf checkpoints (llava-1.5-*-hf and llava-interleave-qwen-*-hf), as they ship.
constexpr std::string_view kLlava15Template
    = "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}"
      "{% endif %}{# Render all images first #}{% for content in message['content'] | selectattr('type', "
      "'equalto', 'image') %}{{ '<image>\n' }}{% endfor %}{# Render all text next #}{% for content in "
      "message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}{% endfor %}"
      "{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}";
constexpr std::string_view kChatMlTemplate
    = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}{# Render all images first #}"
      "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\n' }}"
      "{% endfor %}{# Render all text next #}{% for content in message['content'] | selectattr('type', "
      "'equalto', 'text') %}{{ content['text'] }}{% endfor %}{{'<|im_end|>' + '\n'}}{% endfor %}"
      "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

// A form that ignores what does not change the output: comments, white space outside string literals,
// Jinja's white-space control dashes, the quote style, "\n" escapes, and {% generation %} markers.
std::string canonical(std::string_view source)
{
    std::string out;
    char quote = 0;
    for (std::size_t i = 0; i < source.size(); ++i) {
        const char c = source[i];
        if (quote != 0) {
            if (c == '\\' && i + 1 < source.size()) {
                const char next = source[++i];
                out.push_back(next == 'n' ? '\n' : next);
            } else if (c == quote) {
                out.push_back('\'');
                quote = 0;
            } else {
                out.push_back(c);
            }
            continue;
        }
        if (source.compare(i, 2, "{#") == 0) {
            const std::size_t end = source.find("#}", i + 2);
            i = end == std::string_view::npos ? source.size() : end + 1;
        } else if (c == '\'' || c == '"') {
            quote = c;
            out.push_back('\'');
        } else if (c == '-' && (out.ends_with("{%") || out.ends_with("{{"))) {
            continue;
        } else if (c == '-' && i + 1 < source.size() && (source[i + 1] == '}' || source[i + 1] == '%')) {
            continue;
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            out.push_back(c);
        }
    }
    for (std::string_view marker : {"{%generation%}", "{%endgeneration%}"})
        for (std::size_t at = out.find(marker); at != std::string::npos; at = out.find(marker))
            out.erase(at, marker.size());
    return out;
}

std::string_view roleName(ChatMessage::Role role)
{
    switch (role) {
    case ChatMessage::Role::System:
        return "system";
    case ChatMessage::Role::User:
        return "user";
    case ChatMessage::Role::Assistant:
        return "assistant";
    }
    return "user";
}

std::string upper(std::string_view text)
{
    std::string out(text);
    std::transform(
        out.begin(), out.end(), out.begin(), [](char c) { return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c; });
    return out;
}

} // namespace

ChatTemplate ChatTemplate::fromFolder(const fs::path& modelDir)
{
    const fs::path chatTemplateFile = modelDir / "chat_template.json";
    if (fs::exists(chatTemplateFile)) {
        const auto json = readJsonFile(chatTemplateFile);
        PICTOR_CHECK(json.is_object(), chatTemplateFile.string(), ": expected a JSON object");
        return fromTemplateString(
            jsonField<std::string>(json, "chat_template", chatTemplateFile), chatTemplateFile.string());
    }
    const fs::path configFile = modelDir / "tokenizer_config.json";
    if (fs::exists(configFile)) {
        const auto json = readJsonFile(configFile);
        if (json.is_object() && json.contains("chat_template")) {
            const auto& value = json["chat_template"];
            PICTOR_CHECK(value.is_string(), configFile.string(),
                ": 'chat_template' must be a string (named templates are not supported; supported formats: ",
                supportedFormats(), ")");
            return fromTemplateString(value.get<std::string>(), configFile.string() + " 'chat_template'");
        }
    }
    PICTOR_FAIL(modelDir.string(),
        ": no chat template (looked for chat_template.json and 'chat_template' in "
        "tokenizer_config.json); supported formats: ",
        supportedFormats());
}

ChatTemplate ChatTemplate::fromTemplateString(std::string_view jinjaTemplate, const std::string& source)
{
    const std::string form = canonical(jinjaTemplate);
    if (form == canonical(kLlava15Template))
        return ChatTemplate(Format::Llava15);
    if (form == canonical(kChatMlTemplate))
        return ChatTemplate(Format::ChatMl);
    PICTOR_FAIL(source, ": unknown chat template (supported formats: ", supportedFormats(),
        "); the template starts with '", jinjaTemplate.substr(0, 80), "'");
}

std::string_view ChatTemplate::name() const
{
    return format_ == Format::Llava15 ? "llava-1.5" : "ChatML";
}

std::string ChatTemplate::supportedFormats()
{
    return "llava-1.5 (\"USER: <image>\\n... ASSISTANT:\") and ChatML with images "
           "(\"<|im_start|>user\\n<image>\\n..."
           "<|im_end|>\"), as in the llava-hf checkpoints";
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool addGenerationPrompt) const
{
    std::string prompt;
    for (const ChatMessage& message : messages) {
        PICTOR_CHECK(message.numImages >= 0, "a chat message cannot have ", message.numImages, " images");
        if (format_ == Format::Llava15) {
            if (message.role != ChatMessage::Role::System)
                prompt += upper(roleName(message.role)) + ": ";
        } else {
            prompt += "<|im_start|>" + std::string(roleName(message.role)) + "\n";
        }
        for (int i = 0; i < message.numImages; ++i)
            prompt += std::string(kImageToken) + "\n";
        if (!message.text.empty())
            prompt += format_ == Format::Llava15 ? message.text + " " : message.text;
        if (format_ == Format::ChatMl)
            prompt += "<|im_end|>\n";
    }
    if (addGenerationPrompt)
        prompt += format_ == Format::Llava15 ? "ASSISTANT:" : "<|im_start|>assistant\n";
    return prompt;
}

std::vector<std::string> ChatTemplate::stopStrings() const
{
    if (format_ == Format::Llava15)
        return {"USER:", "</s>"};
    return {"<|im_end|>", "<|im_start|>", "<|endoftext|>"};
}

StopStringFilter::StopStringFilter(std::vector<std::string> stopStrings)
    : stopStrings_(std::move(stopStrings))
{
    std::erase_if(stopStrings_, [](const std::string& stop) { return stop.empty(); });
}

std::string StopStringFilter::push(std::string_view text)
{
    if (stopped_)
        return {};
    pending_ += text;
    std::size_t cut = std::string::npos;
    for (const std::string& stop : stopStrings_)
        cut = std::min(cut, pending_.find(stop));
    if (cut != std::string::npos) {
        stopped_ = true;
        std::string out = pending_.substr(0, cut);
        pending_.clear();
        return out;
    }
    // Hold back the longest ending of the pending text that starts some stop string.
    std::size_t held = 0;
    for (const std::string& stop : stopStrings_)
        for (std::size_t length = std::min(stop.size() - 1, pending_.size()); length > held; --length)
            if (pending_.compare(pending_.size() - length, length, stop, 0, length) == 0) {
                held = length;
                break;
            }
    std::string out = pending_.substr(0, pending_.size() - held);
    pending_.erase(0, pending_.size() - held);
    return out;
}

std::string StopStringFilter::finish()
{
    std::string out = stopped_ ? std::string() : pending_;
    pending_.clear();
    return out;
}

} // namespace pictor
