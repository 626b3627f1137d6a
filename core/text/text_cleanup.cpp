#include "core/text/text_cleanup.h"

#include <algorithm>
#include <array>

#include <unicode/uchar.h>

#include "core/text/html_entities.h"
#include "core/text/unicode_text.h"

namespace pictor::text {
namespace {

constexpr std::size_t kMaxSegmentLength = 1'000'000; // ftfy's max_decode_length

// str.translate with a mapping of single code points to strings (an empty result means "keep").
template <typename Map> std::u32string translate(std::u32string_view text, Map&& replacementOf)
{
    std::u32string out;
    out.reserve(text.size());
    for (char32_t c : text) {
        if (const std::u32string_view replacement = replacementOf(c); !replacement.empty())
            out.append(replacement);
        else
            out.push_back(c);
    }
    return out;
}

// C1 controls as the Windows-1252 characters of the same byte; bytes that Windows-1252 leaves
// undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) stay themselves (ftfy's "sloppy-windows-1252").
constexpr std::array<char32_t, 32> kWindows1252C1 = {0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020,
    0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C,
    0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

std::u32string fixC1Controls(std::u32string_view text)
{
    std::u32string out(text);
    for (char32_t& c : out)
        if (c >= 0x80 && c <= 0x9F)
            c = kWindows1252C1[c - 0x80];
    return out;
}

struct Replacement {
    char32_t from;
    std::u32string_view to;
};

// ftfy's LIGATURES: Latin typographic ligatures and legacy digraph code points (not æ, œ, ...).
constexpr Replacement kLigatures[] = {{0x0132, U"IJ"}, {0x0133, U"ij"}, {0x0149, U"\u02BCn"}, {0x01F1, U"DZ"},
    {0x01F2, U"Dz"}, {0x01F3, U"dz"}, {0x01C4, U"D\u017D"}, {0x01C5, U"D\u017E"}, {0x01C6, U"d\u017E"},
    {0x01C7, U"LJ"}, {0x01C8, U"Lj"}, {0x01C9, U"lj"}, {0x01CA, U"NJ"}, {0x01CB, U"Nj"}, {0x01CC, U"nj"},
    {0xFB00, U"ff"}, {0xFB01, U"fi"}, {0xFB02, U"fl"}, {0xFB03, U"ffi"}, {0xFB04, U"ffl"},
    {0xFB05, U"\u017Ft"}, {0xFB06, U"st"}};

std::u32string_view ligatureReplacement(char32_t c)
{
    if (c < 0x0132 || (c > 0x01F3 && c < 0xFB00) || c > 0xFB06)
        return {};
    for (const Replacement& ligature : kLigatures)
        if (ligature.from == c)
            return ligature.to;
    return {};
}

constexpr char32_t kFirstWidthForm = 0xFF01;
constexpr char32_t kLastWidthForm = 0xFFEF;

// ftfy's WIDTH_MAP: U+3000 -> space, and each U+FF01..U+FFEF form to its own NFKC normalisation
// (computed per character, so U+FFE3 FULLWIDTH MACRON becomes " \u0304").
const std::array<std::u32string, kLastWidthForm - kFirstWidthForm + 1>& widthForms()
{
    static const auto forms = [] {
        std::array<std::u32string, kLastWidthForm - kFirstWidthForm + 1> table;
        for (char32_t c = kFirstWidthForm; c <= kLastWidthForm; ++c) {
            const std::u32string original(1, c);
            std::u32string normalized = normalizeNfkc(original);
            if (normalized != original)
                table[c - kFirstWidthForm] = std::move(normalized);
        }
        return table;
    }();
    return forms;
}

std::u32string_view widthReplacement(char32_t c)
{
    if (c == 0x3000)
        return U" ";
    if (c < kFirstWidthForm || c > kLastWidthForm)
        return {};
    return widthForms()[c - kFirstWidthForm];
}

std::u32string uncurlQuotes(std::u32string_view text)
{
    std::u32string out(text);
    for (char32_t& c : out) {
        if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B))
            c = U'\'';
        else if (c >= 0x201C && c <= 0x201F)
            c = U'"';
    }
    return out;
}

std::u32string fixLineBreaks(std::u32string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char32_t c = text[i];
        if (c == U'\r' && i + 1 < text.size() && text[i + 1] == U'\n')
            continue; // the LF that follows is kept
        const bool lineBreak = c == U'\r' || c == 0x2028 || c == 0x2029 || c == 0x0085;
        out.push_back(lineBreak ? U'\n' : c);
    }
    return out;
}

bool isAsciiLetter(char32_t c)
{
    return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z');
}

// Python's re \d on str: any Unicode decimal digit (category Nd).
bool isDecimalDigit(char32_t c)
{
    return u_charType(static_cast<UChar32>(c)) == U_DECIMAL_DIGIT_NUMBER;
}

// Length of an "ANSI" escape ESC '[' (digits | ';')* letter at text[start], or 0.
std::size_t terminalEscapeLength(std::u32string_view text, std::size_t start)
{
    if (text[start] != 0x1B || start + 1 >= text.size() || text[start + 1] != U'[')
        return 0;
    std::size_t end = start + 2;
    while (end < text.size() && (text[end] == U';' || isDecimalDigit(text[end])))
        ++end;
    if (end >= text.size() || !isAsciiLetter(text[end]))
        return 0;
    return end + 1 - start;
}

std::u32string removeTerminalEscapes(std::u32string_view text)
{
    if (text.find(0x1B) == std::u32string_view::npos)
        return std::u32string(text);
    std::u32string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (const std::size_t length = terminalEscapeLength(text, i); length > 0) {
            i += length;
            continue;
        }
        out.push_back(text[i++]);
    }
    return out;
}

bool isRemovedControl(char32_t c)
{
    return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || (c >= 0x206A && c <= 0x206F)
        || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
}

std::u32string removeControlChars(std::u32string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    for (char32_t c : text)
        if (!isRemovedControl(c))
            out.push_back(c);
    return out;
}

// One round of ftfy's fix_and_explain loop body.
std::u32string applyFixers(std::u32string_view text, bool decodeHtml)
{
    std::u32string fixed = decodeHtml ? unescapeHtml(text) : std::u32string(text);
    fixed = fixC1Controls(fixed);
    fixed = translate(fixed, ligatureReplacement);
    fixed = translate(fixed, widthReplacement);
    fixed = uncurlQuotes(fixed);
    fixed = fixLineBreaks(fixed);
    fixed = removeTerminalEscapes(fixed);
    fixed = removeControlChars(fixed);
    return normalizeNfc(fixed);
}

// Printable ASCII, tabs and line feeds pass every fixer unchanged (only '&' may start a reference).
bool isAlreadyFixed(std::u32string_view text, bool decodeHtml)
{
    for (char32_t c : text) {
        const bool plain = (c >= 0x20 && c <= 0x7E) || c == U'\t' || c == U'\n';
        if (!plain || (decodeHtml && c == U'&'))
            return false;
    }
    return true;
}

// ftfy's fix_and_explain: apply the fixers until nothing changes. Every round either shortens an HTML
// reference or applies idempotent mappings, so this ends (usually after two rounds).
std::u32string fixSegment(std::u32string_view segment, bool decodeHtml)
{
    std::u32string text(segment);
    if (isAlreadyFixed(text, decodeHtml))
        return text;
    while (true) {
        std::u32string fixed = applyFixers(text, decodeHtml);
        if (fixed == text)
            return fixed;
        text = std::move(fixed);
    }
}

} // namespace

std::u32string ftfyFixText(std::u32string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    bool decodeHtml = true;
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t newline = text.find(U'\n', pos);
        std::size_t end = newline == std::u32string_view::npos ? text.size() : newline + 1;
        end = std::min(end, pos + kMaxSegmentLength);
        const std::u32string_view segment = text.substr(pos, end - pos);
        if (segment.find(U'<') != std::u32string_view::npos)
            decodeHtml = false; // this line looks like HTML, and so may everything after it
        out += fixSegment(segment, decodeHtml);
        pos = end;
    }
    return out;
}

std::u32string whitespaceClean(std::u32string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    bool inSpaceRun = false;
    for (char32_t c : text) {
        if (isRegexSpace(c)) {
            if (!inSpaceRun)
                out.push_back(U' ');
            inSpaceRun = true;
        } else {
            out.push_back(c);
            inSpaceRun = false;
        }
    }
    std::size_t begin = 0;
    std::size_t end = out.size();
    while (begin < end && isPythonSpace(out[begin]))
        ++begin;
    while (end > begin && isPythonSpace(out[end - 1]))
        --end;
    return out.substr(begin, end - begin);
}

std::u32string clipCleanText(std::u32string_view text)
{
    return pythonLower(whitespaceClean(ftfyFixText(text)));
}

} // namespace pictor::text
