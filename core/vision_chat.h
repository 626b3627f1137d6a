// The VisionChat interface (LLaVA today): describe a photo, or answer questions about photos with a
// conversation's history, streaming the answer as it is generated and stopping when asked. No Torch here:
// the app, the CLI and the compute worker see only this; families register a factory in ModelRegistry.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/image.h"

namespace pictor {

struct VisionChatOptions {
    std::string device = "auto"; // auto, cpu or cuda
    int cpuThreads = 0; // 0: every core
    std::string dtype = "auto"; // auto (nn::chooseNumberFormat: bfloat16 on CPUs that compute it natively),
                                // float32, bfloat16, float16 (CUDA)
};

// One earlier turn of a conversation.
struct ChatTurn {
    enum class Role { User, Assistant };
    Role role = Role::User;
    std::string text;
};

struct AnswerOptions {
    bool greedy = true; // argmax; otherwise temperature -> top-k -> top-p -> a seeded draw
    float temperature = 0.7f;
    int topK = 0; // 0: no limit
    float topP = 0.9f;
    std::optional<std::uint64_t> seed; // unset: a fixed per-session default
    int maxNewTokens = 256;
    // Called once per generated token with the text that became complete with it (often empty: a token
    // may end inside a UTF-8 sequence or a possible stop string). Returning false stops the answer. The
    // pieces add up to ChatAnswer::text.
    std::function<bool(std::string_view text)> onToken;
    const std::atomic<bool>* cancel = nullptr; // checked before every token
};

struct ChatAnswer {
    std::string text; // the answer as generated (stop strings cut, special tokens skipped)
    int tokens = 0; // new tokens generated
    std::string stopReason; // "end of sequence", "max new tokens", "cancelled", ...
    bool cancelled = false;
    bool truncated = false; // stopped by the token budget or the context window
};

// How long one slice of an answer runs before the compute worker may run other jobs (a search typed
// meanwhile): about 50 ms, or one part (a vision encoder layer, a prefill chunk, a token) where a part
// takes longer.
inline constexpr std::chrono::milliseconds kAnswerSlice {50};

// An answer run in slices (VisionChat::startAnswer), so the compute worker can run other jobs between
// them: first the images are encoded and the prompt prefilled, a part at a time (a vision encoder layer,
// a prefill chunk), then the tokens are generated. The conversation's state (encoder activations, KV
// cache, sampler, text decoder) stays here between slices, and the answer (tokens, draws, stop reason)
// is that of one uninterrupted ask(). One slice at a time; the stream may outlive its VisionChat.
// AnswerOptions' onToken and cancel are used by every slice; cancel is also checked before every part of
// the prompt.
class AnswerStream {
public:
    virtual ~AnswerStream() = default;
    // Runs at least one part of the prompt or one token (unless the answer is over), then stops after
    // the first one that ends `budget` or more after the call. Returns true when the answer is finished.
    virtual bool step(std::chrono::steady_clock::duration budget) = 0;
    virtual bool finished() const = 0;
    virtual const ChatAnswer& answer() const = 0; // the answer so far; complete once finished()
};

class VisionChat {
public:
    virtual ~VisionChat() = default;

    virtual std::string modelId() const = 0; // stable across runs and machines, e.g. "llava-<16 hex>"
    virtual std::string family() const = 0; // "llava"
    virtual std::string chatTemplateName() const = 0; // "llava-1.5", "ChatML"
    virtual std::string deviceDescription() const = 0; // "CPU float32", "CUDA:0 float16"

    // Answers `question` after `history` (earlier turns, oldest first). The images are shown to the model
    // with the first user message of the conversation (the first of `history`, else the question).
    // A prompt that does not fit the context window is refused with a message. One uninterrupted run.
    ChatAnswer ask(const std::vector<RgbImage>& images, const std::string& question,
        const std::vector<ChatTurn>& history, const AnswerOptions& options);
    // ask() in slices: the prompt is rendered and checked here (refusals are thrown here, nothing heavy
    // runs); AnswerStream::step encodes the images, prefills the prompt and generates.
    virtual std::unique_ptr<AnswerStream> startAnswer(const std::vector<RgbImage>& images,
        const std::string& question, const std::vector<ChatTurn>& history, const AnswerOptions& options)
        = 0;

    // A caption: ask() with captionPrompt(), then cleanCaption(). Streaming shows the raw text.
    ChatAnswer describe(const RgbImage& image, const AnswerOptions& options);
    // describe() in slices: finish the stream's answer with captionFromAnswer().
    std::unique_ptr<AnswerStream> startDescribe(const RgbImage& image, const AnswerOptions& options);
};

// describe()'s post-processing of a finished answer to captionPrompt(): cleanCaption() on its text.
ChatAnswer captionFromAnswer(ChatAnswer answer);

// The fixed caption prompt (documented in docs/ARCHITECTURE.md, "Captions and Ask"). Stored with every
// caption as its provenance, so a changed prompt re-captions photos on the next batch run.
std::string_view captionPrompt();

// Defensive clean-up of a model's caption: markdown markers removed, white space collapsed to single
// spaces, a leading "This image shows" / "The photo depicts" ... dropped, the sentence cut after its end
// (a trailing incomplete sentence is dropped when a complete one precedes it), a "Keywords:" list kept
// (its last keyword dropped when `truncated`: it may be cut). Empty when nothing is left.
std::string cleanCaption(std::string_view raw, bool truncated = false);

} // namespace pictor
