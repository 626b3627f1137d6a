// Hugging Face's slow LlamaTokenizer (transformers 4.45 tokenization_llama.py) on our SentencePiece BPE
// (sentencepiece_model.h), loaded from tokenizer.model and tokenizer_config.json:
//  1. BOS (add_bos_token, default true), then the text cut at literal added tokens ("<image>", "<s>", ...)
//     which map to their ids, then EOS when add_eos_token says so.
//  2. legacy=false (what llava-hf checkpoints save): only the text piece at the very start of the text
//     gets SentencePiece's dummy-prefix "▁" (and only with add_prefix_space, default true); every piece
//     after an added token is encoded as if normalizer_spec.add_dummy_prefix were false.
//     So "USER: <image>\nWhat" -> [1] + sp("USER: ") + [32000] + sp_without_prefix("\nWhat").
//  3. legacy=true (or no "legacy" key, transformers' default): every piece gets the dummy prefix.
// Decoding drops the special tokens (or writes them as text), decodes the runs between them with
// SentencePiece's decoder (byte-fallback <0xNN> pieces are joined into UTF-8; incomplete ones become U+FFFD),
// and removes the dummy-prefix space of the first piece, as LlamaTokenizer.convert_tokens_to_string does.
#include <algorithm>

#include "core/error.h"
#include "core/text/added_tokens.h"
#include "core/text/sentencepiece_model.h"
#include "core/text/tokenizer_backends.h"

namespace pictor::text {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxModelFileBytes = std::size_t {256} << 20;

SentencePieceBpe loadModel(const fs::path& file)
{
    const std::string bytes = readTokenizerFile(file, kMaxModelFileBytes);
    return SentencePieceBpe(parseSentencePieceModel(bytes, file), file);
}

class SentencePieceTokenizer final : public TextTokenizer {
public:
    SentencePieceTokenizer(const fs::path& modelDir, const TokenizerSettings& settings)
        : model_(loadModel(modelDir / "tokenizer.model")), added_(settings.addedTokens)
    {
        pieceCount_ = model_.size();

        legacy_ = settings.legacy.value_or(true);
        addPrefixSpace_ = settings.addPrefixSpace.value_or(true);
        const auto specialId
            = [&](const std::optional<std::string>& content, int modelId) -> std::optional<TokenId> {
            if (content)
                return tokenId(*content);
            return modelId >= 0 ? std::optional<TokenId>(modelId) : std::nullopt;
        };
        bosId_ = specialId(settings.bosToken, model_.bosId().value_or(-1));
        eosId_ = specialId(settings.eosToken, model_.eosId().value_or(-1));
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
        for (std::size_t i = 0; i < pieces.size(); ++i) {
            if (pieces[i].token != nullptr) {
                ids.push_back(pieces[i].token->id);
                continue;
            }
            const bool dummyPrefix = legacy_ || (i == 0 && addPrefixSpace_);
            const std::vector<int> pieceIds = model_.encode(pieces[i].text, dummyPrefix);
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
            out += model_.decode(run, firstRun);
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
        if (const std::optional<int> id = model_.pieceId(token))
            return *id;
        return std::nullopt;
    }

    std::optional<std::string> tokenText(TokenId id) const override
    {
        if (const AddedToken* added = added_.byId(id))
            return added->content;
        if (id >= 0 && id < pieceCount_)
            return model_.piece(static_cast<int>(id));
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
    SentencePieceBpe model_;
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
