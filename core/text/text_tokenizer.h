// Tokenizers of language models (Llama's SentencePiece, Qwen2's byte-level BPE) behind one interface,
// chosen from the files of a Hugging Face model folder. No Torch here: ids are plain integers.
//
//   auto tokenizer = TextTokenizer::fromFolder(dir);          // tokenizer.model or vocab.json + merges.txt
//   std::vector<TokenId> ids = tokenizer->encode(prompt);     // BOS as tokenizer_config.json says
//   TokenStreamDecoder stream(*tokenizer);                   // generation: text as it becomes complete
//   for (TokenId id : generated) std::cout << stream.push(id);
//   std::cout << stream.finish();
//
// Thread-safe: a loaded tokenizer may be used from several threads (a stream decoder may not).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pictor {

using TokenId = std::int64_t;

// Whether literal added/special tokens in the text ("<image>", "<|im_start|>") become their ids, as
// Hugging Face tokenizers do, or are tokenized as plain text (for untrusted text inside a prompt).
enum class SpecialTokens { Parse, AsText };

class TextTokenizer {
public:
    // Picks the tokenizer from the folder's files: tokenizer.model -> SentencePiece (Llama),
    // vocab.json + merges.txt -> byte-level BPE (Qwen2). Added and special tokens come from
    // tokenizer_config.json ("added_tokens_decoder", special-token attributes, add_bos_token, legacy) or,
    // for older folders, added_tokens.json and special_tokens_map.json. Missing or malformed files are
    // errors naming the file.
    static std::unique_ptr<TextTokenizer> fromFolder(const std::filesystem::path& modelDir);
    virtual ~TextTokenizer() = default;

    // Hugging Face's tokenizer(text)["input_ids"] of the slow tokenizer: BOS / EOS added as the folder says.
    virtual std::vector<TokenId> encode(
        std::string_view utf8Text, SpecialTokens specialTokens = SpecialTokens::Parse) const = 0;
    // Hugging Face's decode(ids, skip_special_tokens=skipSpecial) of the whole sequence. Incomplete or
    // invalid UTF-8 becomes U+FFFD; ids outside the vocabulary are skipped.
    virtual std::string decode(std::span<const TokenId> ids, bool skipSpecial = true) const = 0;

    // The id of an added token ("<image>") or of a vocabulary entry, if there is one.
    virtual std::optional<TokenId> tokenId(std::string_view token) const = 0;
    // The token string of an id (added token content, SentencePiece piece, byte-level BPE string).
    virtual std::optional<std::string> tokenText(TokenId id) const = 0;
    virtual bool isSpecial(TokenId id) const = 0;

    virtual std::optional<TokenId> bosId() const = 0;
    virtual std::optional<TokenId> eosId() const = 0;
    virtual std::optional<TokenId> padId() const = 0;
    // Highest id + 1 over the base vocabulary and the added tokens.
    virtual std::int64_t vocabSize() const = 0;
    // "sentencepiece" or "byte-level BPE", for messages.
    virtual std::string_view kind() const = 0;
};

// Throws, naming the tokenizer's highest id and the model folder, when the tokenizer has ids that the
// language model's embedding (embeddingRows rows) cannot look up: tokenizer files of another checkpoint.
// A smaller vocabulary is fine (llava-hf pads embeddings to a multiple of 64).
void checkVocabularyFits(
    const TextTokenizer& tokenizer, std::int64_t embeddingRows, const std::filesystem::path& modelDir);

// Streaming decode for generation: push() each new id and print what it returns. Text is released only
// when it is complete: a token that ends in the middle of a UTF-8 sequence (byte-level BPE pieces,
// SentencePiece <0xNN> byte-fallback tokens) is held back until the sequence is complete. The pieces
// returned by push() and finish() always add up to tokenizer.decode(all ids pushed, skipSpecial).
class TokenStreamDecoder {
public:
    explicit TokenStreamDecoder(const TextTokenizer& tokenizer, bool skipSpecial = true);

    std::string push(TokenId id); // the text that became complete with this token (often empty)
    std::string finish(); // at the end: what is left, an incomplete sequence as U+FFFD
    const std::string& text() const { return text_; } // everything returned so far

private:
    const TextTokenizer& tokenizer_;
    bool skipSpecial_;
    std::vector<TokenId> ids_; // ids from the start of the window; earlier ones are already text
    std::size_t readOffset_ = 0; // ids_[0, readOffset_) have been released as text
    std::string text_;
};

} // namespace pictor
