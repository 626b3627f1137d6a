// Hugging Face CLIPTokenizer (the slow, ftfy path), read from a model folder's vocab.json, merges.txt and
// tokenizer_config.json. Thread-safe: encode() may be called from several threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pictor {

struct TokenizedText {
    std::vector<std::int64_t> inputIds; // contextLength ids: BOS, tokens, EOS, padding
    std::vector<std::int64_t> attentionMask; // 1 up to and including EOS, then 0
    int numTokens = 0; // ids before padding, BOS and EOS included
};

class ClipTokenizer {
public:
    // Loads the tokenizer files from a model folder; missing or malformed files are errors naming the file.
    static std::unique_ptr<ClipTokenizer> fromFolder(const std::filesystem::path& modelDir);
    virtual ~ClipTokenizer() = default;

    // Text cleanup + BPE + truncation to [BOS] + (contextLength - 2) tokens + [EOS] + padding.
    virtual TokenizedText encode(std::string_view utf8Text) const = 0;
    // The BPE token strings (as in vocab.json) of the text, without BOS/EOS, untruncated.
    virtual std::vector<std::string> tokenize(std::string_view utf8Text) const = 0;

    virtual int contextLength() const = 0; // model_max_length (77 for CLIP)
    virtual int vocabSize() const = 0;
    virtual std::int64_t bosId() const = 0;
    virtual std::int64_t eosId() const = 0;
    virtual std::int64_t padId() const = 0;
};

} // namespace pictor
