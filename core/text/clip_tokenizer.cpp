// Hugging Face's slow CLIPTokenizer (transformers 4.45 tokenization_clip.py, with ftfy installed), loaded
// from vocab.json, merges.txt and tokenizer_config.json.
//
// encode(text) reproduces CLIPTokenizer(text, padding="max_length", truncation=True, max_length=N):
//  1. The UTF-8 input is decoded like bytes.decode("utf-8", errors="replace"): invalid bytes become U+FFFD.
//  2. PreTrainedTokenizer.tokenize: the text is cut around literal added tokens ("<|startoftext|>",
//     "<|endoftext|>", matched case-sensitively, leftmost-longest like HF's Trie), honouring their
//     lstrip / rstrip / single_word flags.
//  3. Each other piece: whitespace_clean(ftfy.fix_text(piece)).lower() (text_cleanup.h), CLIP's
//     pattern (clip_pretokenizer.h), byte-level BPE (byte_level_bpe.h). A word that is exactly
//     "<|startoftext|>" or "<|endoftext|>" (say from "<|EndOfText|>") stays whole: CLIP's BPE cache is
//     seeded with those two strings.
//  4. Token -> id: added tokens first, then vocab.json, else the id of the unk token.
//  5. [BOS] + the first contextLength-2 ids + [EOS], then the pad id; attention mask 1 up to EOS.
#include "core/text/clip_tokenizer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <unordered_map>

#include "core/error.h"
#include "core/json_file.h"
#include "core/regular_file.h"
#include "core/text/byte_level_bpe.h"
#include "core/text/clip_pretokenizer.h"
#include "core/text/text_cleanup.h"
#include "core/text/unicode_text.h"

namespace pictor {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using text::ByteLevelBpe;

// HF keeps merges.txt lines 1 .. 49152-256-2: line 0 is the "#version" header and is skipped whatever it
// says, and CLIP's vocabulary has room for no more merges.
constexpr std::size_t kMaxMerges = 49152 - 256 - 2;
// HF writes model_max_length = int(1e30) for "no limit"; CLIP text towers always have 77 positions.
constexpr int kClipContextLength = 77;
constexpr double kLargestPlausibleContext = 1e6;
constexpr int kSmallestContext = 3; // BOS, one token, EOS

const std::string kStartOfText = "<|startoftext|>";
const std::string kEndOfText = "<|endoftext|>";

struct TokenSpec {
    std::string content;
    bool lstrip = false;
    bool rstrip = false;
    bool singleWord = false;
};

// A special-token attribute of tokenizer_config.json, in the order HF adds them.
struct SpecialToken {
    std::string key;
    std::optional<TokenSpec> spec;
};

struct TokenizerConfig {
    std::map<std::int64_t, TokenSpec> addedTokens; // id -> token
    std::vector<SpecialToken> specialTokens;
    int contextLength = kClipContextLength;
    fs::path file;
};

using Vocab = std::unordered_map<std::string, std::int64_t>;

void requireFile(const fs::path& file)
{
    PICTOR_CHECK(fs::is_regular_file(file), file.string(),
        ": file not found (a CLIP tokenizer folder needs vocab.json and merges.txt)");
}

std::string readFileBytes(const fs::path& file)
{
    return readRegularFile(file);
}

Vocab loadVocab(const fs::path& file)
{
    requireFile(file);
    const Json json = readJsonFile(file);
    PICTOR_CHECK(json.is_object() && !json.empty(), file.string(),
        ": expected a non-empty JSON object mapping tokens to ids");
    Vocab vocab;
    vocab.reserve(json.size());
    for (const auto& [token, id] : json.items()) {
        PICTOR_CHECK(id.is_number_integer() && id.get<std::int64_t>() >= 0, file.string(), ": token '", token,
            "' has no valid id (", id.dump(), ")");
        vocab.emplace(token, id.get<std::int64_t>());
    }
    return vocab;
}

// Python's open(encoding="utf-8") reads CR LF and CR as LF.
std::u32string withUniversalNewlines(std::u32string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == U'\r' && i + 1 < text.size() && text[i + 1] == U'\n')
            continue;
        out.push_back(text[i] == U'\r' ? U'\n' : text[i]);
    }
    return out;
}

std::u32string_view stripPythonSpace(std::u32string_view text)
{
    while (!text.empty() && text::isPythonSpace(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && text::isPythonSpace(text.back()))
        text.remove_suffix(1);
    return text;
}

// Python's str.split() without arguments: runs of whitespace separate, none are kept.
std::vector<std::u32string_view> splitOnPythonSpace(std::u32string_view line)
{
    std::vector<std::u32string_view> parts;
    std::size_t pos = 0;
    while (pos < line.size()) {
        while (pos < line.size() && text::isPythonSpace(line[pos]))
            ++pos;
        const std::size_t start = pos;
        while (pos < line.size() && !text::isPythonSpace(line[pos]))
            ++pos;
        if (pos > start)
            parts.push_back(line.substr(start, pos - start));
    }
    return parts;
}

// merges.txt as HF reads it: read().strip().split("\n")[1 : 49152-256-2+1], each line split on
// whitespace; the rank is the line's position. Lines that are not two symbols keep their rank but never
// match a pair.
std::vector<text::MergeRule> loadMerges(const fs::path& file)
{
    requireFile(file);
    const std::string bytes = readFileBytes(file);
    PICTOR_CHECK(text::isValidUtf8(bytes), file.string(), ": not valid UTF-8");
    const std::u32string content = withUniversalNewlines(text::decodeUtf8Lossy(bytes));
    const std::u32string_view stripped = stripPythonSpace(content);

    std::vector<text::MergeRule> merges;
    std::size_t lineIndex = 0;
    for (std::size_t pos = 0; pos <= stripped.size() && lineIndex <= kMaxMerges; ++lineIndex) {
        const std::size_t newline = std::min(stripped.find(U'\n', pos), stripped.size());
        const std::u32string_view line = stripped.substr(pos, newline - pos);
        pos = newline + 1;
        if (lineIndex == 0)
            continue;
        const auto parts = splitOnPythonSpace(line);
        if (parts.size() == 2)
            merges.push_back(
                {text::encodeUtf8(parts[0]), text::encodeUtf8(parts[1]), static_cast<int>(lineIndex - 1)});
    }
    return merges;
}

// A token given as a string, as an object with "content" (an AddedToken), or null (no such token).
std::optional<TokenSpec> parseTokenSpec(const Json& value, const fs::path& file, const std::string& key)
{
    if (value.is_null())
        return std::nullopt;
    TokenSpec spec;
    if (value.is_string()) {
        spec.content = value.get<std::string>();
    } else {
        PICTOR_CHECK(value.is_object(), file.string(), ": '", key,
            "' must be a string or an object with \"content\", not ", value.type_name());
        spec.content = jsonField<std::string>(value, "content", file);
        spec.lstrip = jsonFieldOr<bool>(value, "lstrip", false, file);
        spec.rstrip = jsonFieldOr<bool>(value, "rstrip", false, file);
        spec.singleWord = jsonFieldOr<bool>(value, "single_word", false, file);
    }
    PICTOR_CHECK(!spec.content.empty(), file.string(), ": '", key, "' is an empty token");
    return spec;
}

std::int64_t parseTokenId(const std::string& text, const fs::path& file)
{
    std::int64_t id = -1;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
    PICTOR_CHECK(error == std::errc() && end == text.data() + text.size() && id >= 0, file.string(),
        ": added token id '", text, "' is not a non-negative integer");
    return id;
}

// Saved model_max_length; "no limit" (HF's 1e30) or a missing value means CLIP's 77.
int parseContextLength(const Json& config, const fs::path& file)
{
    const auto it = config.find("model_max_length");
    if (it == config.end() || it->is_null())
        return kClipContextLength;
    PICTOR_CHECK(it->is_number(), file.string(), ": 'model_max_length' must be a number");
    const double value = it->get<double>();
    if (value > kLargestPlausibleContext)
        return kClipContextLength;
    PICTOR_CHECK(value >= kSmallestContext && value == std::floor(value), file.string(),
        ": 'model_max_length' must be an integer >= ", kSmallestContext, ", not ", it->dump());
    return static_cast<int>(value);
}

Json readOptionalJsonObject(const fs::path& file)
{
    if (!fs::exists(file))
        return Json::object();
    Json json = readJsonFile(file);
    PICTOR_CHECK(json.is_object(), file.string(), ": expected a JSON object");
    return json;
}

// Folders saved before transformers 4.34 have no added_tokens_decoder: their special tokens may be
// overridden by special_tokens_map.json, and extra tokens live in added_tokens.json.
void applyLegacyFiles(const fs::path& modelDir, Json& config, TokenizerConfig& out)
{
    const fs::path mapFile = modelDir / "special_tokens_map.json";
    const Json specialTokensMap = readOptionalJsonObject(mapFile);
    for (const auto& [key, value] : specialTokensMap.items())
        config[key] = value;
    const fs::path addedFile = modelDir / "added_tokens.json";
    const Json addedTokens = readOptionalJsonObject(addedFile);
    for (const auto& [content, id] : addedTokens.items()) {
        PICTOR_CHECK(id.is_number_integer() && id.get<std::int64_t>() >= 0, addedFile.string(), ": token '",
            content, "' has no valid id");
        PICTOR_CHECK(!content.empty(), addedFile.string(), ": empty added token");
        out.addedTokens[id.get<std::int64_t>()] = TokenSpec {content};
    }
}

std::vector<SpecialToken> parseSpecialTokens(const Json& config, const fs::path& file)
{
    // CLIPTokenizer's defaults, then the other attributes in PreTrainedTokenizer's order.
    static const std::vector<std::pair<std::string, std::optional<std::string>>> kAttributes
        = {{"bos_token", kStartOfText}, {"eos_token", kEndOfText}, {"unk_token", kEndOfText},
            {"sep_token", std::nullopt}, {"pad_token", kEndOfText}, {"cls_token", std::nullopt},
            {"mask_token", std::nullopt}};
    std::vector<SpecialToken> tokens;
    for (const auto& [key, fallback] : kAttributes) {
        if (const auto it = config.find(key); it != config.end())
            tokens.push_back({key, parseTokenSpec(*it, file, key)});
        else
            tokens.push_back(
                {key, fallback ? std::optional<TokenSpec>(TokenSpec {*fallback}) : std::nullopt});
    }
    if (const auto it = config.find("additional_special_tokens"); it != config.end() && !it->is_null()) {
        PICTOR_CHECK(it->is_array(), file.string(), ": 'additional_special_tokens' must be a list");
        for (const Json& value : *it)
            tokens.push_back(
                {"additional_special_tokens", parseTokenSpec(value, file, "additional_special_tokens")});
    }
    return tokens;
}

TokenizerConfig loadTokenizerConfig(const fs::path& modelDir)
{
    TokenizerConfig out;
    out.file = modelDir / "tokenizer_config.json";
    Json config = readOptionalJsonObject(out.file);
    if (const auto it = config.find("added_tokens_decoder"); it != config.end() && !it->is_null()) {
        PICTOR_CHECK(it->is_object(), out.file.string(), ": 'added_tokens_decoder' must be an object");
        for (const auto& [idText, token] : it->items())
            out.addedTokens[parseTokenId(idText, out.file)]
                = *parseTokenSpec(token, out.file, "added_tokens_decoder");
    } else {
        applyLegacyFiles(modelDir, config, out);
    }
    out.specialTokens = parseSpecialTokens(config, out.file);
    out.contextLength = parseContextLength(config, out.file);
    return out;
}

struct AddedToken {
    TokenSpec spec;
    std::u32string content;
    std::int64_t id = 0;
};

class HfClipTokenizer final : public ClipTokenizer {
public:
    HfClipTokenizer(Vocab vocab, const std::vector<text::MergeRule>& merges, const TokenizerConfig& config)
        : vocab_(std::move(vocab)), bpe_(merges, "</w>"), contextLength_(config.contextLength)
    {
        registerAddedTokens(config);
        resolveSpecialIds(config);
        symbolIds_.reserve(bpe_.symbolCount());
        for (std::size_t symbol = 0; symbol < bpe_.symbolCount(); ++symbol)
            symbolIds_.push_back(idOf(bpe_.symbolText(static_cast<ByteLevelBpe::SymbolId>(symbol))));
        startOfTextId_ = idOf(kStartOfText);
        endOfTextId_ = idOf(kEndOfText);
    }

    TokenizedText encode(std::string_view utf8Text) const override
    {
        const std::vector<Token> tokens = tokenizeText(utf8Text);
        const auto kept = std::min<std::size_t>(tokens.size(), static_cast<std::size_t>(contextLength_ - 2));
        TokenizedText out;
        out.inputIds.reserve(static_cast<std::size_t>(contextLength_));
        out.inputIds.push_back(bosId_);
        for (std::size_t i = 0; i < kept; ++i)
            out.inputIds.push_back(tokens[i].id);
        out.inputIds.push_back(eosId_);
        out.numTokens = static_cast<int>(out.inputIds.size());
        out.attentionMask.assign(out.inputIds.size(), 1);
        out.inputIds.resize(static_cast<std::size_t>(contextLength_), padId_);
        out.attentionMask.resize(static_cast<std::size_t>(contextLength_), 0);
        return out;
    }

    std::vector<std::string> tokenize(std::string_view utf8Text) const override
    {
        std::vector<std::string> out;
        for (const Token& token : tokenizeText(utf8Text))
            out.push_back(*token.text);
        return out;
    }

    int contextLength() const override { return contextLength_; }
    int vocabSize() const override { return static_cast<int>(vocab_.size()); }
    std::int64_t bosId() const override { return bosId_; }
    std::int64_t eosId() const override { return eosId_; }
    std::int64_t padId() const override { return padId_; }

private:
    struct Token {
        std::int64_t id;
        const std::string* text; // points into the tokenizer, valid while it lives
    };

    void addToken(const TokenSpec& spec, std::int64_t id)
    {
        addedTokens_.push_back({spec, text::decodeUtf8Lossy(spec.content), id});
    }

    // added_tokens_decoder, then the special tokens it lacks (PreTrainedTokenizer._add_tokens): a special
    // token takes its vocab.json id, or the next id after vocabulary and added tokens.
    void registerAddedTokens(const TokenizerConfig& config)
    {
        for (const auto& [id, spec] : config.addedTokens) // ascending ids: a repeated content keeps the last
            addedByContent_.insert_or_assign(spec.content, id);
        for (const auto& [id, spec] : config.addedTokens)
            if (addedByContent_.at(spec.content) == id)
                addToken(spec, id);
        std::int64_t nextId = static_cast<std::int64_t>(vocab_.size());
        for (const auto& [content, id] : addedByContent_)
            nextId += vocab_.count(content) == 0 ? 1 : 0;
        for (const SpecialToken& special : config.specialTokens) {
            if (!special.spec || addedByContent_.count(special.spec->content) != 0)
                continue;
            if (isPlainPadToken(config, special))
                continue;
            const auto inVocab = vocab_.find(special.spec->content);
            const std::int64_t id = inVocab != vocab_.end() ? inVocab->second : nextId++;
            addedByContent_.emplace(special.spec->content, id);
            addToken(*special.spec, id);
        }
        // Longest first, so that the first token found at a position is the longest one there.
        std::stable_sort(addedTokens_.begin(), addedTokens_.end(),
            [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
    }

    // A pad token that is an ordinary vocabulary piece (Karlo pads with "!", id 0) only pads: "art!" still
    // ends in the piece "!</w>", as openai's tokenizer and the unCLIP reference give it.
    bool isPlainPadToken(const TokenizerConfig& config, const SpecialToken& special) const
    {
        if (special.key != "pad_token" || vocab_.count(special.spec->content) == 0)
            return false;
        for (const SpecialToken& other : config.specialTokens)
            if (other.key != "pad_token" && other.spec && other.spec->content == special.spec->content)
                return false;
        return true;
    }

    static const TokenSpec& requiredSpecial(const TokenizerConfig& config, const std::string& key)
    {
        for (const SpecialToken& special : config.specialTokens)
            if (special.key == key && special.spec)
                return *special.spec;
        PICTOR_FAIL(config.file.string(), ": '", key, "' is null; a CLIP tokenizer needs it");
    }

    void resolveSpecialIds(const TokenizerConfig& config)
    {
        // CLIPTokenizer._convert_token_to_id falls back to vocab.json's id of the unk token.
        const std::string& unk = requiredSpecial(config, "unk_token").content;
        if (const auto it = vocab_.find(unk); it != vocab_.end())
            unkId_ = it->second;
        else
            unkId_ = addedByContent_.at(unk);
        bosId_ = idOf(requiredSpecial(config, "bos_token").content);
        eosId_ = idOf(requiredSpecial(config, "eos_token").content);
        padId_ = idOf(requiredSpecial(config, "pad_token").content);
    }

    std::int64_t idOf(const std::string& token) const
    {
        if (const auto added = addedByContent_.find(token); added != addedByContent_.end())
            return added->second;
        if (const auto inVocab = vocab_.find(token); inVocab != vocab_.end())
            return inVocab->second;
        return unkId_;
    }

    const AddedToken* addedTokenAt(std::u32string_view text, std::size_t pos) const
    {
        for (const AddedToken& token : addedTokens_)
            if (text.substr(pos, token.content.size()) == token.content)
                return &token;
        return nullptr;
    }

    const AddedToken* asAddedToken(std::u32string_view piece) const
    {
        for (const AddedToken& token : addedTokens_)
            if (piece == token.content)
                return &token;
        return nullptr;
    }

    // HF's Trie.split: text and added tokens in order, without empty pieces.
    std::vector<std::u32string> splitOnAddedTokens(std::u32string_view text) const
    {
        std::vector<std::u32string> pieces;
        std::size_t pieceStart = 0;
        for (std::size_t pos = 0; pos < text.size();) {
            const AddedToken* token = addedTokenAt(text, pos);
            if (token == nullptr) {
                ++pos;
                continue;
            }
            if (pos > pieceStart)
                pieces.emplace_back(text.substr(pieceStart, pos - pieceStart));
            pieces.push_back(token->content);
            pos += token->content.size();
            pieceStart = pos;
        }
        if (pieceStart < text.size())
            pieces.emplace_back(text.substr(pieceStart));
        return pieces;
    }

    // The lstrip / rstrip / single_word handling of PreTrainedTokenizer.tokenize, step for step: like
    // Python, the neighbours are read once, before this token changes them.
    void applyAddedTokenFlags(std::vector<std::u32string>& pieces) const
    {
        for (std::size_t i = 0; i < pieces.size(); ++i) {
            const AddedToken* token = asAddedToken(pieces[i]);
            if (token == nullptr)
                continue;
            const std::u32string left = i > 0 ? pieces[i - 1] : std::u32string();
            const std::u32string right = i + 1 < pieces.size() ? pieces[i + 1] : std::u32string();
            if (token->spec.rstrip && !right.empty())
                pieces[i + 1] = stripPythonSpaceFront(right);
            if (token->spec.lstrip && !left.empty())
                pieces[i - 1] = stripPythonSpaceBack(left);
            if (token->spec.singleWord && !left.empty() && left.back() != U' ') {
                pieces[i - 1] += pieces[i];
                pieces[i].clear();
            } else if (token->spec.singleWord && !right.empty() && right.front() != U' ') {
                pieces[i] += right;
                pieces[i + 1].clear();
            }
        }
    }

    static std::u32string stripPythonSpaceFront(std::u32string_view text)
    {
        while (!text.empty() && text::isPythonSpace(text.front()))
            text.remove_prefix(1);
        return std::u32string(text);
    }

    static std::u32string stripPythonSpaceBack(std::u32string_view text)
    {
        while (!text.empty() && text::isPythonSpace(text.back()))
            text.remove_suffix(1);
        return std::u32string(text);
    }

    // CLIPTokenizer._tokenize followed by the id lookup.
    void appendTextTokens(std::u32string_view piece, std::vector<Token>& out) const
    {
        const std::u32string cleaned = text::clipCleanText(piece);
        std::string wordUtf8;
        std::vector<ByteLevelBpe::SymbolId> symbols;
        for (std::u32string_view word : text::clipPreTokenize(cleaned)) {
            wordUtf8 = text::encodeUtf8(word);
            if (wordUtf8 == kStartOfText) {
                out.push_back({startOfTextId_, &kStartOfText});
            } else if (wordUtf8 == kEndOfText) {
                out.push_back({endOfTextId_, &kEndOfText});
            } else {
                symbols.clear();
                bpe_.encodeWord(wordUtf8, symbols);
                for (ByteLevelBpe::SymbolId symbol : symbols)
                    out.push_back({symbolIds_[static_cast<std::size_t>(symbol)], &bpe_.symbolText(symbol)});
            }
        }
    }

    std::vector<Token> tokenizeText(std::string_view utf8Text) const
    {
        std::vector<std::u32string> pieces = splitOnAddedTokens(text::decodeUtf8Lossy(utf8Text));
        applyAddedTokenFlags(pieces);
        std::vector<Token> tokens;
        for (const std::u32string& piece : pieces) {
            if (piece.empty())
                continue;
            if (const AddedToken* token = asAddedToken(piece))
                tokens.push_back({token->id, &token->spec.content});
            else
                appendTextTokens(piece, tokens);
        }
        return tokens;
    }

    Vocab vocab_;
    ByteLevelBpe bpe_;
    int contextLength_;
    std::vector<AddedToken> addedTokens_;
    std::unordered_map<std::string, std::int64_t> addedByContent_;
    std::vector<std::int64_t> symbolIds_; // BPE symbol -> token id
    std::int64_t unkId_ = 0;
    std::int64_t bosId_ = 0;
    std::int64_t eosId_ = 0;
    std::int64_t padId_ = 0;
    std::int64_t startOfTextId_ = 0;
    std::int64_t endOfTextId_ = 0;
};

} // namespace

std::unique_ptr<ClipTokenizer> ClipTokenizer::fromFolder(const std::filesystem::path& modelDir)
{
    Vocab vocab = loadVocab(modelDir / "vocab.json");
    const std::vector<text::MergeRule> merges = loadMerges(modelDir / "merges.txt");
    const TokenizerConfig config = loadTokenizerConfig(modelDir);
    return std::make_unique<HfClipTokenizer>(std::move(vocab), merges, config);
}

} // namespace pictor
