// CLIP's pre-tokenizer: splits cleaned, lower-cased text into the words that BPE then encodes.
#pragma once

#include <string_view>
#include <vector>

namespace pictor::text {

// All matches, left to right, of the pattern Hugging Face's CLIPTokenizer compiles with the `regex`
// module and IGNORECASE:
//     <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// Alternatives are tried in that order at each position (first match wins, as in the regex); letters
// compare case-insensitively by simple case folding (so "'ſ" matches 's). Characters that no alternative
// matches are skipped: \s (Unicode White_Space) and, a quirk of `regex`'s case-insensitive classes,
// U+0345 COMBINING GREEK YPOGEGRAMMENI, which counts neither as a letter nor as "other".
std::vector<std::u32string_view> clipPreTokenize(std::u32string_view text);

} // namespace pictor::text
