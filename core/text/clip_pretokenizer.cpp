#include "core/text/clip_pretokenizer.h"

#include <array>

#include <unicode/uchar.h>

#include "core/text/unicode_text.h"

namespace pictor::text {
namespace {

enum class CharClass { Skipped, Letter, Number, Other };

constexpr char32_t kYpogegrammeni = 0x0345;

CharClass classify(char32_t c)
{
    if (c < 0x80) {
        if ((c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z'))
            return CharClass::Letter;
        if (c >= U'0' && c <= U'9')
            return CharClass::Number;
        return isRegexSpace(c) ? CharClass::Skipped : CharClass::Other;
    }
    if (isRegexSpace(c) || c == kYpogegrammeni)
        return CharClass::Skipped;
    const auto category = U_GET_GC_MASK(static_cast<UChar32>(c));
    if (category & U_GC_L_MASK)
        return CharClass::Letter;
    if (category & U_GC_N_MASK)
        return CharClass::Number;
    return CharClass::Other;
}

// Case-insensitive match of an ASCII literal at text[pos]: `regex` IGNORECASE equates characters with
// the same simple case folding (here that adds only U+017F LONG S for 's').
bool matchesLiteral(std::u32string_view text, std::size_t pos, std::u32string_view literal)
{
    if (text.size() - pos < literal.size())
        return false;
    for (std::size_t i = 0; i < literal.size(); ++i) {
        const char32_t c = text[pos + i];
        if (c != literal[i]
            && static_cast<char32_t>(u_foldCase(static_cast<UChar32>(c), U_FOLD_CASE_DEFAULT)) != literal[i])
            return false;
    }
    return true;
}

// Length of the special-token or contraction alternative matching at pos, or 0.
std::size_t literalMatchLength(std::u32string_view text, std::size_t pos)
{
    static constexpr std::array<std::u32string_view, 9> kLiterals
        = {U"<|startoftext|>", U"<|endoftext|>", U"'s", U"'t", U"'re", U"'ve", U"'m", U"'ll", U"'d"};
    if (text[pos] != U'<' && text[pos] != U'\'')
        return 0;
    for (std::u32string_view literal : kLiterals)
        if (matchesLiteral(text, pos, literal))
            return literal.size();
    return 0;
}

std::size_t runEnd(std::u32string_view text, std::size_t pos, CharClass runClass)
{
    while (pos < text.size() && classify(text[pos]) == runClass)
        ++pos;
    return pos;
}

} // namespace

std::vector<std::u32string_view> clipPreTokenize(std::u32string_view text)
{
    std::vector<std::u32string_view> words;
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (const std::size_t length = literalMatchLength(text, pos); length > 0) {
            words.push_back(text.substr(pos, length));
            pos += length;
            continue;
        }
        const CharClass charClass = classify(text[pos]);
        std::size_t end = pos + 1;
        if (charClass == CharClass::Letter || charClass == CharClass::Other)
            end = runEnd(text, pos + 1, charClass);
        if (charClass != CharClass::Skipped)
            words.push_back(text.substr(pos, end - pos));
        pos = end;
    }
    return words;
}

} // namespace pictor::text
