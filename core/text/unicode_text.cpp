#include "core/text/unicode_text.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include "core/error.h"

namespace pictor::text {
namespace {

icu::UnicodeString toIcu(std::u32string_view text)
{
    return icu::UnicodeString::fromUTF32(
        reinterpret_cast<const UChar32*>(text.data()), static_cast<int32_t>(text.size()));
}

std::u32string fromIcu(const icu::UnicodeString& text)
{
    // A UTF-16 string never has more code points than code units.
    std::u32string out(static_cast<std::size_t>(text.length()), U'\0');
    UErrorCode status = U_ZERO_ERROR;
    const int32_t length
        = text.toUTF32(reinterpret_cast<UChar32*>(out.data()), static_cast<int32_t>(out.size()), status);
    PICTOR_CHECK(U_SUCCESS(status), "ICU UTF-16 to UTF-32 conversion failed: ", u_errorName(status));
    out.resize(static_cast<std::size_t>(length));
    return out;
}

bool isAscii(std::u32string_view text)
{
    for (char32_t c : text)
        if (c >= 0x80)
            return false;
    return true;
}

// Code points below U+0300 are NFC-stable and never compose with a neighbour, so such text is already
// normalised; this skips the ICU round trip for the common Latin-1 query.
bool isTriviallyNormalized(std::u32string_view text)
{
    for (char32_t c : text)
        if (c >= 0x300)
            return false;
    return true;
}

std::u32string normalizeWith(const icu::Normalizer2* (*instance)(UErrorCode&), std::u32string_view text)
{
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* normalizer = instance(status);
    PICTOR_CHECK(U_SUCCESS(status), "ICU normaliser unavailable: ", u_errorName(status));
    const icu::UnicodeString normalized = normalizer->normalize(toIcu(text), status);
    PICTOR_CHECK(U_SUCCESS(status), "ICU normalisation failed: ", u_errorName(status));
    return fromIcu(normalized);
}

} // namespace

std::u32string decodeUtf8Lossy(std::string_view bytes)
{
    std::u32string out;
    out.reserve(bytes.size());
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    const auto length = static_cast<int32_t>(bytes.size());
    PICTOR_CHECK(static_cast<std::size_t>(length) == bytes.size(), "text too long to decode (", bytes.size(),
        " bytes)");
    for (int32_t i = 0; i < length;) {
        UChar32 c = 0;
        U8_NEXT_OR_FFFD(data, i, length, c);
        out.push_back(static_cast<char32_t>(c));
    }
    return out;
}

bool isValidUtf8(std::string_view bytes)
{
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    const auto length = static_cast<int32_t>(bytes.size());
    if (static_cast<std::size_t>(length) != bytes.size())
        return false;
    for (int32_t i = 0; i < length;) {
        UChar32 c = 0;
        U8_NEXT(data, i, length, c);
        if (c < 0)
            return false;
    }
    return true;
}

void appendUtf8(std::string& out, char32_t codePoint)
{
    const auto c = static_cast<uint32_t>(codePoint);
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

std::string encodeUtf8(std::u32string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char32_t c : text)
        appendUtf8(out, c);
    return out;
}

bool isRegexSpace(char32_t c)
{
    if (c < 0x80)
        return c == ' ' || (c >= 0x09 && c <= 0x0D);
    return u_isUWhiteSpace(static_cast<UChar32>(c));
}

bool isPythonSpace(char32_t c)
{
    return isRegexSpace(c) || (c >= 0x1C && c <= 0x1F);
}

std::u32string pythonLower(std::u32string_view text)
{
    if (isAscii(text)) {
        std::u32string out(text);
        for (char32_t& c : out)
            if (c >= U'A' && c <= U'Z')
                c += U'a' - U'A';
        return out;
    }
    icu::UnicodeString icuText = toIcu(text);
    icuText.toLower(icu::Locale::getRoot());
    return fromIcu(icuText);
}

std::u32string normalizeNfc(std::u32string_view text)
{
    if (isTriviallyNormalized(text))
        return std::u32string(text);
    return normalizeWith(&icu::Normalizer2::getNFCInstance, text);
}

std::u32string normalizeNfkc(std::u32string_view text)
{
    return normalizeWith(&icu::Normalizer2::getNFKCInstance, text);
}

} // namespace pictor::text
