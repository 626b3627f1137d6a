#include "core/text/text_tokenizer.h"

#include "core/error.h"
#include "core/text/tokenizer_backends.h"

namespace pictor {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD"; // U+FFFD in UTF-8

} // namespace

std::unique_ptr<TextTokenizer> TextTokenizer::fromFolder(const fs::path& modelDir)
{
    PICTOR_CHECK(fs::is_directory(modelDir), modelDir.string(), ": not a folder");
    if (fs::exists(modelDir / "tokenizer.model"))
        return text::makeSentencePieceTokenizer(modelDir);
    const bool hasVocab = fs::exists(modelDir / "vocab.json");
    const bool hasMerges = fs::exists(modelDir / "merges.txt");
    if (hasVocab && hasMerges)
        return text::makeByteLevelBpeTokenizer(modelDir);
    PICTOR_CHECK(!hasVocab && !hasMerges, modelDir.string(), ": has ", hasVocab ? "vocab.json" : "merges.txt",
        " but not ", hasVocab ? "merges.txt" : "vocab.json", "; a byte-level BPE tokenizer needs both");
    PICTOR_FAIL(modelDir.string(),
        ": no tokenizer found (looked for tokenizer.model (SentencePiece) and vocab.json + merges.txt "
        "(byte-level BPE); tokenizer.json alone is not supported)");
}

void checkVocabularyFits(const TextTokenizer& tokenizer, std::int64_t embeddingRows, const fs::path& modelDir)
{
    const std::int64_t highest = tokenizer.vocabSize() - 1;
    PICTOR_CHECK(tokenizer.vocabSize() <= embeddingRows, modelDir.string(), ": the ", tokenizer.kind(),
        " tokenizer has ids up to ", highest, " ('", tokenizer.tokenText(highest).value_or("?"),
        "') but the language model's embedding has only ", embeddingRows,
        " rows; the tokenizer files do not belong to this checkpoint");
}

TokenStreamDecoder::TokenStreamDecoder(const TextTokenizer& tokenizer, bool skipSpecial)
    : tokenizer_(tokenizer), skipSpecial_(skipSpecial)
{
}

// The window holds the ids from the start of the last released token on: decoding it twice, without and
// with the new ids, gives the new text as the difference, and both decodes see the same context (the
// dummy-prefix space a window's first token loses is lost in both). Text is released only when it does
// not end in U+FFFD: an incomplete UTF-8 sequence decodes to U+FFFD until its last byte arrives.
std::string TokenStreamDecoder::push(TokenId id)
{
    if (skipSpecial_ && tokenizer_.isSpecial(id))
        return {};
    ids_.push_back(id);
    const std::string before = tokenizer_.decode(std::span(ids_).first(readOffset_), skipSpecial_);
    const std::string after = tokenizer_.decode(ids_, skipSpecial_);
    if (after.size() <= before.size() || !after.starts_with(before) || after.ends_with(kReplacementCharacter))
        return {};
    std::string released = after.substr(before.size());
    ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(readOffset_));
    readOffset_ = ids_.size();
    text_ += released;
    return released;
}

std::string TokenStreamDecoder::finish()
{
    const std::string before = tokenizer_.decode(std::span(ids_).first(readOffset_), skipSpecial_);
    const std::string after = tokenizer_.decode(ids_, skipSpecial_);
    std::string released = after.starts_with(before) ? after.substr(before.size()) : std::string();
    text_ += released;
    ids_.clear();
    readOffset_ = 0;
    return released;
}

} // namespace pictor
