// What a model folder says about added and special tokens (tokenizer_config.json, or for folders saved
// before transformers 4.34, added_tokens.json and special_tokens_map.json), and the split of a text at
// literal added tokens that Hugging Face's slow tokenizers do before their model runs.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/text/text_tokenizer.h"

namespace pictor::text {

// Token ids above this are refused when a tokenizer is loaded (they would size tables).
constexpr TokenId kMaxTokenId = TokenId {1} << 24;

struct AddedToken {
    std::string content;
    TokenId id = 0;
    bool lstrip = false; // white space on its left is removed from the neighbouring text
    bool rstrip = false; // ... and on its right
    bool special = false; // one of the special-token attributes: skipped by decode(skipSpecial)
};

struct TokenizerSettings {
    std::filesystem::path configFile; // tokenizer_config.json (it may be absent)
    std::vector<AddedToken> addedTokens; // ascending ids; "special" is filled in by markSpecialTokens
    std::optional<std::string> bosToken, eosToken, padToken, unkToken;
    std::vector<std::string> additionalSpecialTokens;
    std::optional<bool> addBosToken, addEosToken, legacy, addPrefixSpace;
    std::string tokenizerClass;
};

// Reads the settings; errors name the file and the key.
TokenizerSettings loadTokenizerSettings(const std::filesystem::path& modelDir);

// Every content of a special-token attribute (bos, eos, unk, pad, additional_special_tokens, ...).
std::vector<std::string> specialTokenContents(const TokenizerSettings& settings);

// Splits text at literal added tokens: leftmost match first, the longest token where several start at
// the same place (Hugging Face's Trie.split), then applies the lstrip / rstrip flags.
class AddedTokenSplitter {
public:
    struct Piece {
        std::string_view text; // a view into the split text (or the token's content)
        const AddedToken* token = nullptr; // set when the piece is an added token
    };

    explicit AddedTokenSplitter(std::vector<AddedToken> tokens);

    std::vector<Piece> split(std::string_view text) const; // no empty text pieces
    const AddedToken* byContent(std::string_view content) const;
    const AddedToken* byId(TokenId id) const;
    const std::vector<AddedToken>& tokens() const { return tokens_; }

private:
    const AddedToken* longestAt(std::string_view text, std::size_t pos) const;

    std::vector<AddedToken> tokens_;
    std::vector<std::size_t> byLength_; // indices into tokens_, longest content first
    std::unordered_map<std::string, std::size_t> indexByContent_;
    std::unordered_map<TokenId, std::size_t> indexById_;
};

// Files of a tokenizer are hostile input: they are read whole, with a size bound, and errors name them.
std::string readTokenizerFile(const std::filesystem::path& file, std::size_t maxBytes);

} // namespace pictor::text
