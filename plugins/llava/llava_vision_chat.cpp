#include "plugins/llava/llava_vision_chat.h"

#include "core/error.h"
#include "core/log.h"
#include "core/text/chat_template.h"
#include "core/text/text_tokenizer.h"
#include "plugins/llava/llava_family.h"

namespace pictor::llava {
namespace {

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
        engine_ = LlavaEngine::load(modelDir, LlavaOptions {options.device, options.cpuThreads});
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

    ChatAnswer ask(const std::vector<RgbImage>& images, const std::string& question,
        const std::vector<ChatTurn>& history, const AnswerOptions& options) override
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
        session->append(ids, images);

        ChatAnswer answer;
        TokenStreamDecoder stream(*tokenizer_);
        StopStringFilter stopFilter(template_.stopStrings());
        bool callerStopped = false;
        auto emit = [&](const std::string& piece) {
            answer.text += piece;
            if (options.onToken && !options.onToken(piece))
                callerStopped = true;
        };
        nn::GenerationOptions generation;
        generation.sampling.greedy = options.greedy;
        generation.sampling.temperature = options.temperature;
        generation.sampling.topK = options.topK;
        generation.sampling.topP = options.topP;
        generation.sampling.seed = options.seed;
        generation.maxNewTokens = options.maxNewTokens;
        generation.stopTokenIds = stopTokens_;
        generation.cancel = options.cancel;
        generation.onToken = [&](std::int64_t token) {
            emit(stopFilter.push(stream.push(token)));
            return !stopFilter.stopped() && !callerStopped;
        };
        const nn::GenerationResult result = session->generate(generation);
        if (!stopFilter.stopped() && !callerStopped) {
            std::string rest = stopFilter.push(stream.finish());
            rest += stopFilter.finish();
            if (!rest.empty()) {
                answer.text += rest;
                if (options.onToken)
                    options.onToken(rest);
            }
        }
        answer.tokens = static_cast<int>(result.tokens.size());
        answer.cancelled = result.stopReason == nn::StopReason::Cancelled;
        answer.truncated = result.stopReason == nn::StopReason::MaxNewTokens
            || result.stopReason == nn::StopReason::ContextFull;
        if (result.stopReason == nn::StopReason::StoppedByCallback)
            answer.stopReason = callerStopped ? "stopped" : "stop string";
        else
            answer.stopReason = std::string(nn::stopReasonName(result.stopReason));
        return answer;
    }

private:
    ChatTemplate template_;
    std::unique_ptr<TextTokenizer> tokenizer_;
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
