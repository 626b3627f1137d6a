// Compiled instead of sentencepiece_tokenizer.cpp when libsentencepiece was not found at configure time
// (engine-only builds on machines without Debian packages).
#include "core/error.h"
#include "core/text/tokenizer_backends.h"

namespace pictor::text {

std::unique_ptr<TextTokenizer> makeSentencePieceTokenizer(const std::filesystem::path& modelDir)
{
    PICTOR_FAIL((modelDir / "tokenizer.model").string(),
        ": this build of Pictor has no SentencePiece support (libsentencepiece-dev was not found when it was "
        "configured); install it and reconfigure to load Llama tokenizers");
}

} // namespace pictor::text
