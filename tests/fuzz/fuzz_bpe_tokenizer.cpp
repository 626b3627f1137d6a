// libFuzzer target for the byte-level BPE tokenizer (Qwen2): any bytes (invalid UTF-8, literal special
// tokens, combining marks, long runs of white space or digits) must encode without crashing or hanging;
// the ids must be in the vocabulary; byte-level BPE is lossless, so decoding gives back the NFC form of the
// text; and streaming decode must add up to the whole decode. The tokenizer is loaded once from the folder
// in $PICTOR_FUZZ_MODEL_DIR (for example the llava-tiny-qwen2 fixture).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "core/text/text_tokenizer.h"
#include "core/text/unicode_text.h"

namespace {

const pictor::TextTokenizer& tokenizer()
{
    static const std::unique_ptr<pictor::TextTokenizer> instance = [] {
        const char* dir = std::getenv("PICTOR_FUZZ_MODEL_DIR");
        if (dir == nullptr || *dir == '\0') {
            std::fprintf(stderr, "fuzz_bpe_tokenizer: set PICTOR_FUZZ_MODEL_DIR to a Qwen2 model folder\n");
            std::abort();
        }
        auto loaded = pictor::TextTokenizer::fromFolder(dir);
        if (loaded->kind() != "byte-level BPE") {
            std::fprintf(stderr, "fuzz_bpe_tokenizer: %s has no byte-level BPE tokenizer\n", dir);
            std::abort();
        }
        return loaded;
    }();
    return *instance;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const pictor::TextTokenizer& bpe = tokenizer();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string normalized
        = pictor::text::encodeUtf8(pictor::text::normalizeNfc(pictor::text::decodeUtf8Lossy(text)));
    for (const auto mode : {pictor::SpecialTokens::Parse, pictor::SpecialTokens::AsText}) {
        const auto ids = bpe.encode(text, mode);
        for (pictor::TokenId id : ids)
            if (id < 0 || id >= bpe.vocabSize())
                __builtin_trap();
        if (bpe.decode(ids, false) != normalized)
            __builtin_trap();
        pictor::TokenStreamDecoder stream(bpe);
        std::string streamed;
        for (pictor::TokenId id : ids)
            streamed += stream.push(id);
        streamed += stream.finish();
        if (streamed != bpe.decode(ids))
            __builtin_trap();
    }
    return 0;
}
