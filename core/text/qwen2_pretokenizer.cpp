// A hand-written matcher for Qwen2's pattern: at each position the alternatives are tried in order, each
// with the backtracking the regex engine would do (worked out per alternative below), so the result is
// that of regex.findall without a regex engine.
#include "core/text/qwen2_pretokenizer.h"

#include <array>

#include <unicode/uchar.h>

#include "core/text/unicode_text.h"

namespace pictor::text {
namespace {

bool isLetter(char32_t c)
{
    if (c < 0x80)
        return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z');
    return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_L_MASK) != 0;
}

bool isNumber(char32_t c)
{
    if (c < 0x80)
        return c >= U'0' && c <= U'9';
    return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_N_MASK) != 0;
}

bool isNewline(char32_t c)
{
    return c == U'\r' || c == U'\n';
}

// [^\s\p{L}\p{N}]
bool isSymbol(char32_t c)
{
    return !isRegexSpace(c) && !isLetter(c) && !isNumber(c);
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d): IGNORECASE equates characters with the same simple case folding (for
// these letters that adds only U+017F LONG S for 's').
std::size_t matchContraction(std::u32string_view text, std::size_t pos)
{
    static constexpr std::array<std::u32string_view, 7> kSuffixes
        = {U"s", U"t", U"re", U"ve", U"m", U"ll", U"d"};
    if (text[pos] != U'\'')
        return 0;
    for (std::u32string_view suffix : kSuffixes) {
        if (text.size() - pos - 1 < suffix.size())
            continue;
        bool matches = true;
        for (std::size_t i = 0; i < suffix.size() && matches; ++i) {
            const auto c = static_cast<UChar32>(text[pos + 1 + i]);
            matches = static_cast<char32_t>(u_foldCase(c, U_FOLD_CASE_DEFAULT)) == suffix[i];
        }
        if (matches)
            return 1 + suffix.size();
    }
    return 0;
}

std::size_t skipWhile(std::u32string_view text, std::size_t pos, bool (*predicate)(char32_t))
{
    while (pos < text.size() && predicate(text[pos]))
        ++pos;
    return pos;
}

// End of the word starting at pos (pos < text.size()).
std::size_t matchAt(std::u32string_view text, std::size_t pos)
{
    const std::size_t n = text.size();
    if (const std::size_t length = matchContraction(text, pos); length > 0)
        return pos + length;
    // [^\r\n\p{L}\p{N}]?\p{L}+ : the optional character cannot be a letter, so there is one way to match.
    const char32_t c = text[pos];
    if (isLetter(c))
        return skipWhile(text, pos + 1, isLetter);
    if (!isNewline(c) && !isNumber(c) && pos + 1 < n && isLetter(text[pos + 1]))
        return skipWhile(text, pos + 2, isLetter);
    // \p{N}
    if (isNumber(c))
        return pos + 1;
    // " ?[^\s\p{L}\p{N}]+[\r\n]*" : a space is never a symbol, so the space is taken only before a symbol.
    const std::size_t symbolStart = (c == U' ' && pos + 1 < n && isSymbol(text[pos + 1])) ? pos + 1 : pos;
    if (isSymbol(text[symbolStart]))
        return skipWhile(text, skipWhile(text, symbolStart + 1, isSymbol), isNewline);
    // What is left starts with white space.
    const std::size_t spaceEnd = skipWhile(text, pos, isRegexSpace);
    // \s*[\r\n]+ : \s* backs off to the last newline of the run; [\r\n]+ then takes that one newline.
    for (std::size_t i = spaceEnd; i > pos; --i)
        if (isNewline(text[i - 1]))
            return i;
    // \s+(?!\S) : the whole run at the end of the text, else the run but its last character.
    if (spaceEnd == n)
        return n;
    if (spaceEnd - pos >= 2)
        return spaceEnd - 1;
    // \s+
    return spaceEnd;
}

} // namespace

std::vector<std::u32string_view> qwen2PreTokenize(std::u32string_view text)
{
    std::vector<std::u32string_view> words;
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t end = matchAt(text, pos);
        words.push_back(text.substr(pos, end - pos));
        pos = end;
    }
    return words;
}

} // namespace pictor::text
