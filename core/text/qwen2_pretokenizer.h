// Qwen2's pre-tokenizer: the words that byte-level BPE then merges, as regex.findall() with
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|
//   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// (Qwen2Tokenizer's PRETOKENIZE_REGEX; digits are split one by one) finds them.
#pragma once

#include <string_view>
#include <vector>

namespace pictor::text {

// Every character of the text belongs to exactly one word; the words are views into the text.
std::vector<std::u32string_view> qwen2PreTokenize(std::u32string_view text);

} // namespace pictor::text
