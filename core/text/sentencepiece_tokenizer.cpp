// Hugging Face's slow LlamaTokenizer (transformers 4.45 tokenization_llama.py) on the SentencePiece
// library, loaded from tokenizer.model and tokenizer_config.json:
//  1. BOS (add_bos_token, default true), then the text cut at literal added tokens ("<image>", "<s>", ...)
//     which map to their ids, then EOS when add_eos_token says so.
//  2. legacy=false (what llava-hf checkpoints save): only the text piece at the very start of the text
//     gets SentencePiece's dummy-prefix "▁" (and only with add_prefix_space, default true); every piece
//     after an added token is encoded by the model with normalizer_spec.add_dummy_prefix = false.
//     So "USER: <image>\nWhat" -> [1] + sp("USER: ") + [32000] + sp_without_prefix("\nWhat").
//  3. legacy=true (or no "legacy" key, transformers' default): every piece gets the dummy prefix.
// Decoding drops the special tokens (or writes them as text), decodes the runs between them with
// SentencePiece (byte-fallback <0xNN> pieces are joined into UTF-8; incomplete ones become U+FFFD), and
// removes the dummy-prefix space of the first piece, as LlamaTokenizer.convert_tokens_to_string does.
#include <algorithm>

#include <sentencepiece_processor.h>

#include "core/error.h"
#include "core/text/added_tokens.h"
#include "core/text/tokenizer_backends.h"

namespace pictor::text {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxModelFileBytes = std::size_t {256} << 20;

void loadProcessor(
    sentencepiece::SentencePieceProcessor& processor, std::string_view proto, const fs::path& file)
{
    const auto status = processor.LoadFromSerializedProto(proto);
    PICTOR_CHECK(status.ok(), file.string(), ": SentencePiece cannot load it: ", status.ToString());
}

class SentencePieceTokenizer final : public TextTokenizer {
public:
    SentencePieceTokenizer(const fs::path& modelDir, const TokenizerSettings& settings)
        : added_(settings.addedTokens)
    {
        const fs::path file = modelDir / "tokenizer.model";
        const std::string proto = readTokenizerFile(file, kMaxModelFileBytes);
        const std::string protoWithoutPrefix = withoutDummyPrefix(proto, file);
        loadProcessor(withPrefix_, proto, file);
        loadProcessor(withoutPrefix_, protoWithoutPrefix, file);
        pieceCount_ = withPrefix_.GetPieceSize();
        PICTOR_CHECK(pieceCount_ > 0, file.string(), ": the model has no pieces");

        legacy_ = settings.legacy.value_or(true);
        addPrefixSpace_ = settings.addPrefixSpace.value_or(true);
        const auto specialId
            = [&](const std::optional<std::string>& content, int modelId) -> std::optional<TokenId> {
            if (content)
                return tokenId(*content);
            return modelId >= 0 ? std::optional<TokenId>(modelId) : std::nullopt;
        };
        bosId_ = specialId(settings.bosToken, withPrefix_.bos_id());
        eosId_ = specialId(settings.eosToken, withPrefix_.eos_id());
        padId_ = specialId(settings.padToken, -1);
        addBos_ = settings.addBosToken.value_or(true) && bosId_;
        addEos_ = settings.addEosToken.value_or(false) && eosId_;

        vocabSize_ = pieceCount_;
        for (const AddedToken& token : added_.tokens())
            vocabSize_ = std::max<std::int64_t>(vocabSize_, token.id + 1);
    }

    std::vector<TokenId> encode(std::string_view utf8Text, SpecialTokens specialTokens) const override
    {
        std::vector<TokenId> ids;
        if (addBos_)
            ids.push_back(*bosId_);
        std::vector<AddedTokenSplitter::Piece> pieces;
        if (specialTokens == SpecialTokens::Parse)
            pieces = added_.split(utf8Text);
        else if (!utf8Text.empty())
            pieces.push_back({utf8Text, nullptr});
        std::vector<int> pieceIds;
        for (std::size_t i = 0; i < pieces.size(); ++i) {
            if (pieces[i].token != nullptr) {
                ids.push_back(pieces[i].token->id);
                continue;
            }
            const bool dummyPrefix = legacy_ || (i == 0 && addPrefixSpace_);
            const auto& processor = dummyPrefix ? withPrefix_ : withoutPrefix_;
            pieceIds.clear();
            const auto status = processor.Encode(pieces[i].text, &pieceIds);
            PICTOR_CHECK(status.ok(), "SentencePiece cannot encode the text: ", status.ToString());
            ids.insert(ids.end(), pieceIds.begin(), pieceIds.end());
        }
        if (addEos_)
            ids.push_back(*eosId_);
        return ids;
    }

    std::string decode(std::span<const TokenId> ids, bool skipSpecial) const override
    {
        std::string out;
        std::vector<int> run;
        bool firstRun = true;
        const auto flush = [&] {
            if (run.empty())
                return;
            // Only the first piece of the whole text loses its dummy-prefix space.
            out += (firstRun ? withPrefix_ : withoutPrefix_).DecodeIds(run);
            run.clear();
            firstRun = false;
        };
        for (TokenId id : ids) {
            if (const AddedToken* token = added_.byId(id)) {
                if (skipSpecial && token->special)
                    continue;
                flush();
                out += token->content;
                firstRun = false;
            } else if (id >= 0 && id < pieceCount_) {
                run.push_back(static_cast<int>(id));
            }
        }
        flush();
        return out;
    }

    std::optional<TokenId> tokenId(std::string_view token) const override
    {
        if (const AddedToken* added = added_.byContent(token))
            return added->id;
        const int id = withPrefix_.PieceToId(token);
        if (id >= 0 && withPrefix_.IdToPiece(id) == token)
            return id;
        return std::nullopt;
    }

    std::optional<std::string> tokenText(TokenId id) const override
    {
        if (const AddedToken* added = added_.byId(id))
            return added->content;
        if (id >= 0 && id < pieceCount_)
            return withPrefix_.IdToPiece(static_cast<int>(id));
        return std::nullopt;
    }

    bool isSpecial(TokenId id) const override
    {
        const AddedToken* added = added_.byId(id);
        return added != nullptr && added->special;
    }

    std::optional<TokenId> bosId() const override { return bosId_; }
    std::optional<TokenId> eosId() const override { return eosId_; }
    std::optional<TokenId> padId() const override { return padId_; }
    std::int64_t vocabSize() const override { return vocabSize_; }
    std::string_view kind() const override { return "sentencepiece"; }

private:
    sentencepiece::SentencePieceProcessor withPrefix_;
    sentencepiece::SentencePieceProcessor withoutPrefix_;
    AddedTokenSplitter added_;
    int pieceCount_ = 0;
    std::int64_t vocabSize_ = 0;
    bool legacy_ = true;
    bool addPrefixSpace_ = true;
    bool addBos_ = true;
    bool addEos_ = false;
    std::optional<TokenId> bosId_, eosId_, padId_;
};

} // namespace

std::unique_ptr<TextTokenizer> makeSentencePieceTokenizer(const fs::path& modelDir)
{
    return std::make_unique<SentencePieceTokenizer>(modelDir, loadTokenizerSettings(modelDir));
}

} // namespace pictor::text
