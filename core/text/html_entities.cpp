#include "core/text/html_entities.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>

#include "core/text/unicode_text.h"

namespace pictor::text {
namespace {

struct NamedEntity {
    std::string_view name;
    std::string_view utf8;
};

struct NumericException {
    char32_t codePoint;
    std::string_view utf8;
};

#include "core/text/html_entities_table.inc"

constexpr std::size_t kMaxReferenceBody = 24;
constexpr std::uint32_t kBeyondUnicode = 0x110000;

bool isAsciiDigit(char32_t c)
{
    return c >= U'0' && c <= U'9';
}

bool isAsciiAlnum(char32_t c)
{
    return isAsciiDigit(c) || (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z');
}

int hexValue(char32_t c)
{
    if (isAsciiDigit(c))
        return static_cast<int>(c - U'0');
    if (c >= U'a' && c <= U'f')
        return static_cast<int>(c - U'a') + 10;
    if (c >= U'A' && c <= U'F')
        return static_cast<int>(c - U'A') + 10;
    return -1;
}

// Parses digits in `base`, saturating at kBeyondUnicode (Python's int is unbounded; anything that large
// decodes to U+FFFD either way). Returns nullopt if a character is not a digit of the base.
std::optional<std::uint32_t> parseNumber(std::u32string_view digits, int base)
{
    if (digits.empty())
        return std::nullopt;
    std::uint32_t value = 0;
    for (char32_t c : digits) {
        const int digit = base == 10 ? (isAsciiDigit(c) ? static_cast<int>(c - U'0') : -1) : hexValue(c);
        if (digit < 0)
            return std::nullopt;
        value = std::min<std::uint32_t>(
            value * static_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(digit), kBeyondUnicode);
    }
    return value;
}

std::u32string decodeCodePoint(std::uint32_t number)
{
    const auto* replaced = std::find_if(std::begin(kReplacedCodePoints), std::end(kReplacedCodePoints),
        [&](const NumericException& e) { return e.codePoint == number; });
    if (replaced != std::end(kReplacedCodePoints))
        return decodeUtf8Lossy(replaced->utf8);
    if ((number >= 0xD800 && number <= 0xDFFF) || number >= kBeyondUnicode)
        return U"\uFFFD";
    if (std::binary_search(
            std::begin(kDroppedCodePoints), std::end(kDroppedCodePoints), static_cast<char32_t>(number)))
        return {};
    return std::u32string(1, static_cast<char32_t>(number));
}

// The body of "&#...;" (without "&#" and ';'), or nullopt where ftfy keeps the reference as written.
std::optional<std::u32string> decodeNumericReference(std::u32string_view body)
{
    std::optional<std::uint32_t> number;
    if (body.size() > 1 && (body[0] == U'x' || body[0] == U'X'))
        number = parseNumber(body.substr(1), 16);
    else
        number = parseNumber(body, 10);
    if (!number)
        return std::nullopt;
    std::u32string decoded = decodeCodePoint(*number);
    if (decoded.find(U';') != std::u32string::npos)
        return std::nullopt;
    return decoded;
}

std::optional<std::u32string> decodeNamedReference(std::u32string_view body)
{
    std::string name;
    for (char32_t c : body)
        name.push_back(static_cast<char>(c)); // ASCII by construction
    const auto* found = std::lower_bound(std::begin(kNamedEntities), std::end(kNamedEntities), name,
        [](const NamedEntity& e, const std::string& key) { return e.name < key; });
    if (found == std::end(kNamedEntities) || found->name != name)
        return std::nullopt;
    return decodeUtf8Lossy(found->utf8);
}

// Length of the reference starting at text[start] == '&' (up to and including ';'), or 0 if ftfy's
// pattern does not match there. A match needs 1..24 ASCII letters/digits right before the ';'.
std::size_t referenceLength(std::u32string_view text, std::size_t start)
{
    std::size_t bodyStart = start + 1;
    if (bodyStart < text.size() && text[bodyStart] == U'#')
        ++bodyStart;
    std::size_t end = bodyStart;
    while (end < text.size() && isAsciiAlnum(text[end]))
        ++end;
    const std::size_t bodyLength = end - bodyStart;
    if (bodyLength == 0 || bodyLength > kMaxReferenceBody || end >= text.size() || text[end] != U';')
        return 0;
    return end + 1 - start;
}

} // namespace

std::u32string unescapeHtml(std::u32string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t amp = text.find(U'&', pos);
        if (amp == std::u32string_view::npos) {
            out.append(text.substr(pos));
            break;
        }
        out.append(text.substr(pos, amp - pos));
        const std::size_t length = referenceLength(text, amp);
        if (length == 0) {
            out.push_back(U'&');
            pos = amp + 1;
            continue;
        }
        const std::u32string_view reference = text.substr(amp, length);
        const bool numeric = reference[1] == U'#';
        const std::u32string_view body = reference.substr(numeric ? 2 : 1, length - (numeric ? 3 : 2));
        const std::optional<std::u32string> decoded
            = numeric ? decodeNumericReference(body) : decodeNamedReference(body);
        out.append(decoded ? std::u32string_view(*decoded) : reference);
        pos = amp + length;
    }
    return out;
}

} // namespace pictor::text
