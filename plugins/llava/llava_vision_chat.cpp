#include "plugins/llava/llava_vision_chat.h"

#include <chrono>

#include "core/error.h"
#include "core/log.h"
#include "core/text/chat_template.h"
#include "core/text/text_tokenizer.h"
#include "plugins/llava/llava_family.h"

namespace pictor::llava {
namespace {

// Where a slice must stop: `budget` after now, without overflowing for duration::max().
std::chrono::steady_clock::time_point deadlineAfter(std::chrono::steady_clock::duration budget)
{
    const auto now = std::chrono::steady_clock::now();
    return budget >= std::chrono::steady_clock::time_point::max() - now
        ? std::chrono::steady_clock::time_point::max()
        : now + budget;
}

// One answer: the session with its prompt (appended in steps by the first slices), and the text decoding
// and stop strings between its slices.
class LlavaAnswerStream final : public AnswerStream {
public:
    LlavaAnswerStream(std::shared_ptr<const TextTokenizer> tokenizer, const ChatTemplate& chatTemplate,
        std::unique_ptr<LlavaChatSession> session, const std::vector<std::int64_t>& stopTokens,
        const AnswerOptions& options)
        : tokenizer_(std::move(tokenizer)),
          session_(std::move(session)),
          options_(options),
          decoder_(*tokenizer_),
          stopFilter_(chatTemplate.stopStrings())
    {
        generation_.sampling.greedy = options.greedy;
        generation_.sampling.temperature = options.temperature;
        generation_.sampling.topK = options.topK;
        generation_.sampling.topP = options.topP;
        generation_.sampling.seed = options.seed;
        generation_.maxNewTokens = options.maxNewTokens;
        generation_.stopTokenIds = stopTokens;
        generation_.cancel = options.cancel;
        generation_.onToken = [this](std::int64_t token) {
            emit(stopFilter_.push(decoder_.push(token)));
            return !stopFilter_.stopped() && !callerStopped_;
        };
    }

    bool step(std::chrono::steady_clock::duration budget) override
    {
        if (finished_)
            return true;
        const auto until = deadlineAfter(budget);
        if (session_->appending()) {
            // One prompt step at a time, so a cancel (Stop) is seen between them as between tokens.
            do {
                if (options_.cancel && options_.cancel->load(std::memory_order_relaxed)) {
                    nn::GenerationResult cancelled;
                    cancelled.stopReason = nn::StopReason::Cancelled; // what the first token's check says
                    finish(cancelled);
                    return true;
                }
                session_->appendStep(std::chrono::steady_clock::time_point::min());
            } while (session_->appending() && std::chrono::steady_clock::now() < until);
            if (session_->appending() || std::chrono::steady_clock::now() >= until)
                return false; // the tokens start in the next slice
        }
        if (!session_->generateSlice(generation_, until))
            return false;
        finish(session_->generated());
        return true;
    }

    bool finished() const override { return finished_; }
    const ChatAnswer& answer() const override { return answer_; }

private:
    void emit(const std::string& piece)
    {
        answer_.text += piece;
        if (options_.onToken && !options_.onToken(piece))
            callerStopped_ = true;
    }

    void finish(const nn::GenerationResult& result)
    {
        finished_ = true;
        if (!stopFilter_.stopped() && !callerStopped_) {
            std::string rest = stopFilter_.push(decoder_.finish());
            rest += stopFilter_.finish();
            if (!rest.empty()) {
                answer_.text += rest;
                if (options_.onToken)
                    options_.onToken(rest);
            }
        }
        answer_.tokens = static_cast<int>(result.tokens.size());
        answer_.cancelled = result.stopReason == nn::StopReason::Cancelled;
        answer_.truncated = result.stopReason == nn::StopReason::MaxNewTokens
            || result.stopReason == nn::StopReason::ContextFull;
        if (result.stopReason == nn::StopReason::StoppedByCallback)
            answer_.stopReason = callerStopped_ ? "stopped" : "stop string";
        else
            answer_.stopReason = std::string(nn::stopReasonName(result.stopReason));
    }

    std::shared_ptr<const TextTokenizer> tokenizer_; // the decoder reads it
    std::unique_ptr<LlavaChatSession> session_;
    AnswerOptions options_;
    TokenStreamDecoder decoder_;
    StopStringFilter stopFilter_;
    nn::GenerationOptions generation_;
    ChatAnswer answer_;
    bool callerStopped_ = false;
    bool finished_ = false;
};

class LlavaVisionChat final : public VisionChat {
public:
    LlavaVisionChat(const std::filesystem::path& modelDir, const VisionChatOptions& options)
        : template_(ChatTemplate::fromFolder(modelDir))
    {
        const LlavaConfig config = LlavaConfig::load(modelDir);
        tokenizer_ = TextTokenizer::fromFolder(modelDir);
        checkVocabularyFits(*tokenizer_, config.text.vocabSize, modelDir);
        const auto imageToken = tokenizer_->tokenId(ChatTemplate::kImageToken);
        PICTOR_CHECK(imageToken && *imageToken == config.imageTokenIndex, modelDir.string(),
            ": the tokenizer's ", ChatTemplate::kImageToken, " token ",
            imageToken ? "is id " + std::to_string(*imageToken) : std::string("is missing"),
            " but config.json's image_token_index is ", config.imageTokenIndex);
        engine_ = LlavaEngine::load(modelDir,
            LlavaOptions {
                .device = options.device, .dtype = options.dtype, .cpuThreads = options.cpuThreads});
        stopTokens_ = engine_->config().eosTokenIds;
        if (stopTokens_.empty() && tokenizer_->eosId())
            stopTokens_.push_back(*tokenizer_->eosId());
        PICTOR_LOG_INFO("llava: ", engine_->modelId(), " on ", engine_->deviceDescription(),
            ", chat template ", template_.name(), ", ", tokenizer_->kind(), " tokenizer");
    }

    std::string modelId() const override { return engine_->modelId(); }
    std::string family() const override { return "llava"; }
    std::string chatTemplateName() const override { return std::string(template_.name()); }
    std::string deviceDescription() const override { return engine_->deviceDescription(); }

    std::unique_ptr<AnswerStream> startAnswer(const std::vector<RgbImage>& images,
        const std::string& question, const std::vector<ChatTurn>& history,
        const AnswerOptions& options) override
    {
        std::vector<ChatMessage> messages;
        bool imagesPlaced = false;
        for (const ChatTurn& turn : history) {
            ChatMessage message;
            message.role
                = turn.role == ChatTurn::Role::User ? ChatMessage::Role::User : ChatMessage::Role::Assistant;
            message.text = turn.text;
            if (message.role == ChatMessage::Role::User && !imagesPlaced) {
                message.numImages = static_cast<int>(images.size());
                imagesPlaced = true;
            }
            messages.push_back(std::move(message));
        }
        messages.push_back(
            {ChatMessage::Role::User, imagesPlaced ? 0 : static_cast<int>(images.size()), question});
        const std::vector<TokenId> ids = tokenizer_->encode(template_.render(messages));

        auto session = engine_->startSession(options.seed.value_or(0));
        session->beginAppend(ids, images); // refusals here; the stream's steps encode and prefill
        return std::make_unique<LlavaAnswerStream>(
            tokenizer_, template_, std::move(session), stopTokens_, options);
    }

private:
    ChatTemplate template_;
    std::shared_ptr<const TextTokenizer> tokenizer_; // shared with the answers, which may outlive this
    std::shared_ptr<const LlavaEngine> engine_;
    std::vector<std::int64_t> stopTokens_;
};

} // namespace

std::unique_ptr<VisionChat> loadLlavaVisionChat(
    const std::filesystem::path& modelDir, const VisionChatOptions& options)
{
    return std::make_unique<LlavaVisionChat>(modelDir, options);
}

void registerLlavaFamily(ModelRegistry& registry)
{
    registry.registerVisionChat(
        "llava", [](const std::filesystem::path& dir, const VisionChatOptions& options) {
            return loadLlavaVisionChat(dir, options);
        });
}

} // namespace pictor::llava
