// Hugging Face's slow Qwen2Tokenizer (transformers 4.45 tokenization_qwen2.py), loaded from vocab.json,
// merges.txt and tokenizer_config.json:
//  1. The text is NFC-normalised (invalid UTF-8 becomes U+FFFD first).
//  2. It is cut at literal added tokens ("<|im_start|>", "<image>", ...), which map to their ids.
//  3. Every other piece is split by Qwen2's pre-tokenizer pattern (qwen2_pretokenizer.h), and each word's
//     bytes go through byte-level BPE with the ranks of merges.txt (byte_level_bpe.h, shared with CLIP).
//  4. No BOS (Qwen2 has none) unless tokenizer_config.json asks for one.
// Decoding maps each token's byte characters back to bytes and decodes them with errors="replace".
#include <algorithm>
#include <unordered_map>

#include "core/error.h"
#include "core/json_file.h"
#include "core/text/added_tokens.h"
#include "core/text/byte_level_bpe.h"
#include "core/text/qwen2_pretokenizer.h"
#include "core/text/tokenizer_backends.h"
#include "core/text/unicode_text.h"

namespace pictor::text {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr std::size_t kMaxVocabFileBytes = std::size_t {256} << 20;
constexpr std::size_t kMaxMergesFileBytes = std::size_t {256} << 20;

using Vocab = std::unordered_map<std::string, TokenId>;

Vocab loadVocab(const fs::path& file)
{
    const std::string bytes = readTokenizerFile(file, kMaxVocabFileBytes);
    const Json json = Json::parse(bytes, nullptr, false);
    PICTOR_CHECK(!json.is_discarded(), file.string(), ": not valid JSON (truncated or corrupt)");
    PICTOR_CHECK(json.is_object() && !json.empty(), file.string(),
        ": expected a non-empty JSON object mapping tokens to ids");
    Vocab vocab;
    vocab.reserve(json.size());
    for (const auto& [token, id] : json.items()) {
        PICTOR_CHECK(id.is_number_integer() && id.get<TokenId>() >= 0 && id.get<TokenId>() <= kMaxTokenId,
            file.string(), ": token '", token, "' has no valid id (", id.dump(), ")");
        vocab.emplace(token, id.get<TokenId>());
    }
    return vocab;
}

// Python's str.split() on a stripped line.
std::vector<std::string> splitOnSpace(std::u32string_view line)
{
    std::vector<std::string> parts;
    std::size_t pos = 0;
    while (pos < line.size()) {
        while (pos < line.size() && isPythonSpace(line[pos]))
            ++pos;
        const std::size_t start = pos;
        while (pos < line.size() && !isPythonSpace(line[pos]))
            ++pos;
        if (pos > start)
            parts.push_back(encodeUtf8(line.substr(start, pos - start)));
    }
    return parts;
}

// merges.txt as Qwen2Tokenizer reads it: a first line "#version: ..." is skipped, so are empty lines; the
// rank of a merge is its position among the others. Both symbols and their merge must be vocabulary
// entries (as the fast tokenizers require), which catches files of another tokenizer early.
std::vector<MergeRule> loadMerges(const fs::path& file, const Vocab& vocab)
{
    const std::string bytes = readTokenizerFile(file, kMaxMergesFileBytes);
    PICTOR_CHECK(isValidUtf8(bytes), file.string(), ": not valid UTF-8");
    const std::u32string content = decodeUtf8Lossy(bytes);
    std::vector<MergeRule> merges;
    std::size_t lineNumber = 0;
    for (std::size_t pos = 0; pos < content.size();) {
        std::size_t end = content.find_first_of(U"\r\n", pos);
        if (end == std::u32string::npos)
            end = content.size();
        const std::u32string_view line = std::u32string_view(content).substr(pos, end - pos);
        pos = end + (content.compare(end, 2, U"\r\n") == 0 ? 2 : 1);
        ++lineNumber;
        const std::vector<std::string> parts = splitOnSpace(line);
        if (parts.empty() || (lineNumber == 1 && parts.front().starts_with("#version:")))
            continue;
        PICTOR_CHECK(parts.size() == 2, file.string(), ": line ", lineNumber,
            " is not a merge of two symbols ('", encodeUtf8(line), "')");
        for (const std::string& symbol : {parts[0], parts[1], parts[0] + parts[1]})
            PICTOR_CHECK(vocab.count(symbol) != 0, file.string(), ": line ", lineNumber, " ('", parts[0], " ",
                parts[1], "') uses '", symbol, "', which is not in vocab.json");
        merges.push_back({parts[0], parts[1], static_cast<int>(merges.size())});
    }
    PICTOR_CHECK(!merges.empty(), file.string(), ": no merges");
    return merges;
}

class ByteLevelBpeTokenizer final : public TextTokenizer {
public:
    ByteLevelBpeTokenizer(const fs::path& modelDir, Vocab vocab, const std::vector<MergeRule>& merges,
        const TokenizerSettings& settings)
        : vocab_(std::move(vocab)), bpe_(merges, ""), added_(settings.addedTokens)
    {
        for (unsigned byte = 0; byte < 256; ++byte) {
            std::string symbol;
            appendUtf8(symbol, ByteLevelBpe::byteToUnicode(static_cast<std::uint8_t>(byte)));
            PICTOR_CHECK(vocab_.count(symbol) != 0, (modelDir / "vocab.json").string(), ": the byte token '",
                symbol, "' (byte ", byte, ") is missing; this is not a byte-level BPE vocabulary");
        }
        symbolIds_.reserve(bpe_.symbolCount());
        for (std::size_t symbol = 0; symbol < bpe_.symbolCount(); ++symbol) {
            const auto it = vocab_.find(bpe_.symbolText(static_cast<ByteLevelBpe::SymbolId>(symbol)));
            symbolIds_.push_back(it == vocab_.end() ? -1 : it->second); // -1: never a final symbol
        }
        TokenId highest = -1;
        for (const auto& [token, id] : vocab_)
            highest = std::max(highest, id);
        for (const AddedToken& token : added_.tokens())
            highest = std::max(highest, token.id);
        vocabSize_ = highest + 1;
        idTokens_.resize(static_cast<std::size_t>(vocabSize_));
        for (const auto& [token, id] : vocab_)
            idTokens_[static_cast<std::size_t>(id)] = &token;

        const auto specialId = [&](const std::optional<std::string>& content) -> std::optional<TokenId> {
            return content ? tokenId(*content) : std::nullopt;
        };
        bosId_ = specialId(settings.bosToken);
        eosId_ = specialId(settings.eosToken);
        padId_ = specialId(settings.padToken);
        addBos_ = settings.addBosToken.value_or(false) && bosId_;
        addEos_ = settings.addEosToken.value_or(false) && eosId_;
    }

    std::vector<TokenId> encode(std::string_view utf8Text, SpecialTokens specialTokens) const override
    {
        std::vector<TokenId> ids;
        if (addBos_)
            ids.push_back(*bosId_);
        const std::string text = encodeUtf8(normalizeNfc(decodeUtf8Lossy(utf8Text)));
        if (specialTokens == SpecialTokens::Parse) {
            for (const AddedTokenSplitter::Piece& piece : added_.split(text)) {
                if (piece.token != nullptr)
                    ids.push_back(piece.token->id);
                else
                    appendTextIds(piece.text, ids);
            }
        } else {
            appendTextIds(text, ids);
        }
        if (addEos_)
            ids.push_back(*eosId_);
        return ids;
    }

    std::string decode(std::span<const TokenId> ids, bool skipSpecial) const override
    {
        std::string out;
        std::string bytes;
        for (TokenId id : ids) {
            if (const AddedToken* token = added_.byId(id)) {
                if (skipSpecial && token->special)
                    continue;
                out += encodeUtf8(decodeUtf8Lossy(bytes));
                bytes.clear();
                out += token->content;
            } else if (id >= 0 && id < vocabSize_ && idTokens_[static_cast<std::size_t>(id)] != nullptr) {
                appendTokenBytes(*idTokens_[static_cast<std::size_t>(id)], bytes);
            }
        }
        out += encodeUtf8(decodeUtf8Lossy(bytes));
        return out;
    }

    std::optional<TokenId> tokenId(std::string_view token) const override
    {
        if (const AddedToken* added = added_.byContent(token))
            return added->id;
        if (const auto it = vocab_.find(std::string(token)); it != vocab_.end())
            return it->second;
        return std::nullopt;
    }

    std::optional<std::string> tokenText(TokenId id) const override
    {
        if (const AddedToken* added = added_.byId(id))
            return added->content;
        if (id >= 0 && id < vocabSize_ && idTokens_[static_cast<std::size_t>(id)] != nullptr)
            return *idTokens_[static_cast<std::size_t>(id)];
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
    std::string_view kind() const override { return "byte-level BPE"; }

private:
    void appendTextIds(std::string_view text, std::vector<TokenId>& ids) const
    {
        const std::u32string chars = decodeUtf8Lossy(text);
        std::vector<ByteLevelBpe::SymbolId> symbols;
        for (std::u32string_view word : qwen2PreTokenize(chars)) {
            symbols.clear();
            bpe_.encodeWord(encodeUtf8(word), symbols);
            for (ByteLevelBpe::SymbolId symbol : symbols)
                ids.push_back(symbolIds_[static_cast<std::size_t>(symbol)]);
        }
    }

    // A vocabulary string's bytes; characters outside the byte alphabet stay as their UTF-8.
    static void appendTokenBytes(std::string_view token, std::string& bytes)
    {
        for (char32_t c : decodeUtf8Lossy(token)) {
            if (const auto byte = ByteLevelBpe::unicodeToByte(c))
                bytes.push_back(static_cast<char>(*byte));
            else
                appendUtf8(bytes, c);
        }
    }

    Vocab vocab_;
    ByteLevelBpe bpe_;
    AddedTokenSplitter added_;
    std::vector<TokenId> symbolIds_; // BPE symbol -> vocabulary id
    std::vector<const std::string*> idTokens_; // id -> vocabulary string (points into vocab_)
    std::int64_t vocabSize_ = 0;
    std::optional<TokenId> bosId_, eosId_, padId_;
    bool addBos_ = false;
    bool addEos_ = false;
};

} // namespace

std::unique_ptr<TextTokenizer> makeByteLevelBpeTokenizer(const fs::path& modelDir)
{
    const TokenizerSettings settings = loadTokenizerSettings(modelDir);
    const std::string& tokenizerClass = settings.tokenizerClass;
    PICTOR_CHECK(tokenizerClass.empty() || tokenizerClass == "Qwen2Tokenizer"
            || tokenizerClass == "Qwen2TokenizerFast",
        settings.configFile.string(), ": tokenizer_class '", tokenizerClass,
        "' is not supported; byte-level BPE is implemented with Qwen2's pre-tokenizer (Qwen2Tokenizer)");
    Vocab vocab = loadVocab(modelDir / "vocab.json");
    const std::vector<MergeRule> merges = loadMerges(modelDir / "merges.txt", vocab);
    return std::make_unique<ByteLevelBpeTokenizer>(modelDir, std::move(vocab), merges, settings);
}

} // namespace pictor::text
