// libFuzzer target for the SentencePiece model reader and BPE (core/text/sentencepiece_model.h): any bytes
// as a tokenizer.model must either load or be a pictor::Error, never read out of range or hang; a model
// that loads must encode texts (fixed ones and the input's own tail) into in-range ids, and decode them.
// Seeds: tests/fuzz/corpus/sentencepiece_model (small crafted models).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/text/sentencepiece_model.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    try {
        const pictor::text::SentencePieceBpe bpe(
            pictor::text::parseSentencePieceModel(bytes, "fuzz/tokenizer.model"), "fuzz/tokenizer.model");
        const std::string_view texts[] = {"Hello world", "  a\tb\n\xC3\xA9\xF0\x9F\x99\x82 \xFF<s><0x41>",
            bytes.substr(size > 64 ? size - 64 : 0)};
        for (const std::string_view text : texts) {
            for (const bool prefix : {true, false}) {
                const std::vector<int> ids = bpe.encode(text, prefix);
                for (const int id : ids)
                    if (id < 0 || id >= bpe.size())
                        __builtin_trap();
                (void)bpe.decode(ids, prefix);
            }
        }
    } catch (const pictor::Error&) {
    }
    return 0;
}
