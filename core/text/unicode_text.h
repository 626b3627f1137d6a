// Small Unicode helpers shared by the tokenizers: UTF-8 <-> code points with Python's error handling,
// and the character classes and case mapping of Python's str methods (through ICU).
#pragma once

#include <string>
#include <string_view>

namespace pictor::text {

// Decodes like Python's bytes.decode("utf-8", errors="replace"): every maximal ill-formed subsequence
// (Unicode's "maximal subpart" practice, which CPython and ICU both follow) becomes one U+FFFD.
std::u32string decodeUtf8Lossy(std::string_view bytes);

// True if the bytes are well-formed UTF-8 (what Python's strict "utf-8" codec accepts).
bool isValidUtf8(std::string_view bytes);

// Appends the UTF-8 form of a code point (callers only pass scalar values).
void appendUtf8(std::string& out, char32_t codePoint);
std::string encodeUtf8(std::u32string_view text);

// Python's str.isspace(): Unicode White_Space plus U+001C..U+001F (bidi classes B and S).
bool isPythonSpace(char32_t c);
// The `regex` module's \s for str patterns: the Unicode White_Space property.
bool isRegexSpace(char32_t c);

// Python's str.lower(): full Unicode lower-casing with the final-sigma rule, no locale tailoring
// (ICU's root-locale toLower implements the same mapping).
std::u32string pythonLower(std::u32string_view text);

// unicodedata.normalize("NFC", text) and ("NFKC", text).
std::u32string normalizeNfc(std::u32string_view text);
std::u32string normalizeNfkc(std::u32string_view text);

} // namespace pictor::text
