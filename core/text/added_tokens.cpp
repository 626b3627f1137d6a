#include "core/text/added_tokens.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <map>

#include "core/error.h"
#include "core/json_file.h"
#include "core/regular_file.h"
#include "core/text/unicode_text.h"

namespace pictor::text {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

Json readOptionalJsonObject(const fs::path& file)
{
    if (!fs::exists(file))
        return Json::object();
    Json json = readJsonFile(file);
    PICTOR_CHECK(json.is_object(), file.string(), ": expected a JSON object");
    return json;
}

// A token given as a string or as an AddedToken object {"content": ...}; null means "no such token".
std::optional<std::string> tokenContent(const Json& value, const fs::path& file, std::string_view key)
{
    if (value.is_null())
        return std::nullopt;
    std::string content;
    if (value.is_string())
        content = value.get<std::string>();
    else if (value.is_object())
        content = jsonField<std::string>(value, "content", file);
    else
        PICTOR_FAIL(file.string(), ": '", key, "' must be a string or an object with \"content\", not ",
            value.type_name());
    PICTOR_CHECK(!content.empty(), file.string(), ": '", key, "' is an empty token");
    return content;
}

TokenId parseTokenId(const std::string& text, const fs::path& file)
{
    TokenId id = -1;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
    PICTOR_CHECK(error == std::errc() && end == text.data() + text.size() && id >= 0 && id <= kMaxTokenId,
        file.string(), ": added token id '", text, "' is not an integer in [0, ", kMaxTokenId, "]");
    return id;
}

std::optional<bool> optionalBool(const Json& config, const char* key, const fs::path& file)
{
    const auto it = config.find(key);
    if (it == config.end() || it->is_null())
        return std::nullopt;
    PICTOR_CHECK(it->is_boolean(), file.string(), ": '", key, "' must be true or false, not ", it->dump());
    return it->get<bool>();
}

void readAddedTokensDecoder(const Json& decoder, const fs::path& file, std::map<TokenId, AddedToken>& out)
{
    PICTOR_CHECK(decoder.is_object(), file.string(), ": 'added_tokens_decoder' must be an object");
    for (const auto& [idText, value] : decoder.items()) {
        AddedToken token;
        token.id = parseTokenId(idText, file);
        token.content = *tokenContent(value, file, "added_tokens_decoder");
        if (value.is_object()) {
            token.lstrip = jsonFieldOr<bool>(value, "lstrip", false, file);
            token.rstrip = jsonFieldOr<bool>(value, "rstrip", false, file);
        }
        out[token.id] = std::move(token);
    }
}

void readAddedTokensJson(const fs::path& file, std::map<TokenId, AddedToken>& out)
{
    const Json tokens = readOptionalJsonObject(file);
    for (const auto& [content, id] : tokens.items()) {
        PICTOR_CHECK(id.is_number_integer() && id.get<TokenId>() >= 0 && id.get<TokenId>() <= kMaxTokenId,
            file.string(), ": token '", content, "' has no valid id (", id.dump(), ")");
        PICTOR_CHECK(!content.empty(), file.string(), ": empty added token");
        out[id.get<TokenId>()] = AddedToken {content, id.get<TokenId>()};
    }
}

} // namespace

std::string readTokenizerFile(const fs::path& file, std::size_t maxBytes)
{
    PICTOR_CHECK(fs::is_regular_file(file), file.string(), ": file not found");
    const auto size = fs::file_size(file);
    PICTOR_CHECK(size <= maxBytes, file.string(), ": ", size,
        " bytes is more than a tokenizer file may have (", maxBytes, ")");
    std::string bytes = readRegularFile(file, maxBytes);
    PICTOR_CHECK(bytes.size() == size, file.string(), ": could not read the whole file");
    return bytes;
}

TokenizerSettings loadTokenizerSettings(const fs::path& modelDir)
{
    TokenizerSettings settings;
    settings.configFile = modelDir / "tokenizer_config.json";
    Json config = readOptionalJsonObject(settings.configFile);
    const fs::path& file = settings.configFile;

    std::map<TokenId, AddedToken> added;
    if (const auto it = config.find("added_tokens_decoder"); it != config.end() && !it->is_null()) {
        readAddedTokensDecoder(*it, file, added);
    } else {
        // Older folders: special_tokens_map.json overrides the attributes, added_tokens.json adds tokens.
        const Json specialTokensMap = readOptionalJsonObject(modelDir / "special_tokens_map.json");
        for (const auto& [key, value] : specialTokensMap.items())
            config[key] = value;
        readAddedTokensJson(modelDir / "added_tokens.json", added);
    }
    // A content given twice keeps its highest id, like the dict Hugging Face builds from it.
    std::map<std::string, TokenId> idByContent;
    for (const auto& [id, token] : added)
        idByContent[token.content] = id;
    for (auto& [id, token] : added)
        if (idByContent.at(token.content) == id)
            settings.addedTokens.push_back(std::move(token));

    const auto attribute = [&](const char* key) {
        const auto it = config.find(key);
        return it == config.end() ? std::nullopt : tokenContent(*it, file, key);
    };
    settings.bosToken = attribute("bos_token");
    settings.eosToken = attribute("eos_token");
    settings.padToken = attribute("pad_token");
    settings.unkToken = attribute("unk_token");
    if (const auto it = config.find("additional_special_tokens"); it != config.end() && !it->is_null()) {
        PICTOR_CHECK(it->is_array(), file.string(), ": 'additional_special_tokens' must be a list");
        for (const Json& value : *it)
            if (auto content = tokenContent(value, file, "additional_special_tokens"))
                settings.additionalSpecialTokens.push_back(std::move(*content));
    }
    settings.addBosToken = optionalBool(config, "add_bos_token", file);
    settings.addEosToken = optionalBool(config, "add_eos_token", file);
    settings.legacy = optionalBool(config, "legacy", file);
    settings.addPrefixSpace = optionalBool(config, "add_prefix_space", file);
    settings.tokenizerClass = jsonFieldOr<std::string>(config, "tokenizer_class", "", file);

    // Decode skips what Hugging Face's all_special_ids holds: the tokens of the special attributes.
    std::vector<std::string> special = specialTokenContents(settings);
    for (const char* key : {"sep_token", "cls_token", "mask_token"})
        if (auto content = attribute(key))
            special.push_back(std::move(*content));
    for (AddedToken& token : settings.addedTokens)
        token.special = std::find(special.begin(), special.end(), token.content) != special.end();
    return settings;
}

std::vector<std::string> specialTokenContents(const TokenizerSettings& settings)
{
    std::vector<std::string> contents;
    for (const auto* token : {&settings.bosToken, &settings.eosToken, &settings.unkToken, &settings.padToken})
        if (*token)
            contents.push_back(**token);
    contents.insert(
        contents.end(), settings.additionalSpecialTokens.begin(), settings.additionalSpecialTokens.end());
    return contents;
}

AddedTokenSplitter::AddedTokenSplitter(std::vector<AddedToken> tokens) : tokens_(std::move(tokens))
{
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
        indexByContent_.insert_or_assign(tokens_[i].content, i);
        indexById_.insert_or_assign(tokens_[i].id, i);
        byLength_.push_back(i);
    }
    std::stable_sort(byLength_.begin(), byLength_.end(), [this](std::size_t a, std::size_t b) {
        return tokens_[a].content.size() > tokens_[b].content.size();
    });
}

const AddedToken* AddedTokenSplitter::byContent(std::string_view content) const
{
    const auto it = indexByContent_.find(std::string(content));
    return it == indexByContent_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedTokenSplitter::byId(TokenId id) const
{
    const auto it = indexById_.find(id);
    return it == indexById_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedTokenSplitter::longestAt(std::string_view text, std::size_t pos) const
{
    for (std::size_t index : byLength_) {
        const std::string& content = tokens_[index].content;
        if (text.compare(pos, content.size(), content) == 0)
            return &tokens_[index];
    }
    return nullptr;
}

namespace {

std::size_t utf8Size(char32_t c)
{
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

// Python's str.lstrip() / rstrip() on UTF-8 text (white space is always well-formed, so its size is known).
std::string_view stripSpaceLeft(std::string_view text)
{
    std::size_t bytes = 0;
    for (char32_t c : decodeUtf8Lossy(text)) {
        if (!isPythonSpace(c))
            break;
        bytes += utf8Size(c);
    }
    return text.substr(bytes);
}

std::string_view stripSpaceRight(std::string_view text)
{
    const std::u32string chars = decodeUtf8Lossy(text);
    std::size_t bytes = 0;
    for (auto it = chars.rbegin(); it != chars.rend() && isPythonSpace(*it); ++it)
        bytes += utf8Size(*it);
    return text.substr(0, text.size() - bytes);
}

} // namespace

std::vector<AddedTokenSplitter::Piece> AddedTokenSplitter::split(std::string_view text) const
{
    std::vector<Piece> pieces;
    std::size_t pieceStart = 0;
    for (std::size_t pos = 0; pos < text.size() && !tokens_.empty();) {
        const AddedToken* token = longestAt(text, pos);
        if (token == nullptr) {
            ++pos;
            continue;
        }
        if (pos > pieceStart)
            pieces.push_back({text.substr(pieceStart, pos - pieceStart), nullptr});
        pieces.push_back({token->content, token});
        pos += token->content.size();
        pieceStart = pos;
    }
    if (pieceStart < text.size())
        pieces.push_back({text.substr(pieceStart), nullptr});

    // lstrip / rstrip take the white space off the neighbouring text pieces.
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        if (pieces[i].token == nullptr)
            continue;
        if (pieces[i].token->lstrip && i > 0 && pieces[i - 1].token == nullptr)
            pieces[i - 1].text = stripSpaceRight(pieces[i - 1].text);
        if (pieces[i].token->rstrip && i + 1 < pieces.size() && pieces[i + 1].token == nullptr)
            pieces[i + 1].text = stripSpaceLeft(pieces[i + 1].text);
    }
    std::erase_if(pieces, [](const Piece& piece) { return piece.token == nullptr && piece.text.empty(); });
    return pieces;
}

} // namespace pictor::text
