// libFuzzer target for the CLIP tokenizer: any bytes (invalid UTF-8, control characters, HTML
// references, literal special tokens, huge words) must encode without crashing or hanging, and the
// result must keep its shape. The tokenizer is loaded once from the model folder in
// $PICTOR_FUZZ_MODEL_DIR (for example the clip-tiny-a fixture).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "core/text/clip_tokenizer.h"

namespace {

const pictor::ClipTokenizer& tokenizer()
{
    static const std::unique_ptr<pictor::ClipTokenizer> instance = [] {
        const char* dir = std::getenv("PICTOR_FUZZ_MODEL_DIR");
        if (dir == nullptr || *dir == '\0') {
            std::fprintf(stderr, "fuzz_clip_tokenizer: set PICTOR_FUZZ_MODEL_DIR to a CLIP model folder\n");
            std::abort();
        }
        return pictor::ClipTokenizer::fromFolder(dir);
    }();
    return *instance;
}

// The output contract of encode(): fixed length, BOS ... EOS, mask of ones then zeros.
bool isWellFormed(const pictor::ClipTokenizer& clip, const pictor::TokenizedText& out)
{
    const auto length = static_cast<std::size_t>(clip.contextLength());
    if (out.inputIds.size() != length || out.attentionMask.size() != length)
        return false;
    const auto used = static_cast<std::size_t>(out.numTokens);
    if (used < 2 || used > length || out.inputIds.front() != clip.bosId()
        || out.inputIds[used - 1] != clip.eosId())
        return false;
    for (std::size_t i = 0; i < length; ++i) {
        if (out.attentionMask[i] != (i < used ? 1 : 0))
            return false;
        if (i >= used && out.inputIds[i] != clip.padId())
            return false;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const pictor::ClipTokenizer& clip = tokenizer();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (!isWellFormed(clip, clip.encode(text)))
        __builtin_trap();
    const auto tokens = clip.tokenize(text);
    const auto truncated
        = std::min<std::size_t>(tokens.size(), static_cast<std::size_t>(clip.contextLength() - 2));
    if (static_cast<std::size_t>(clip.encode(text).numTokens) != truncated + 2)
        __builtin_trap();
    return 0;
}
