#include "app/shell_quote.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string_view>

namespace pictor::app {
namespace {

bool isPlain(unsigned char c)
{
    return std::isalnum(c) || c >= 0x80
        || std::string_view("/._-+,:@%=").find(static_cast<char>(c)) != std::string_view::npos;
}

bool isControl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

std::string ansiCQuoted(const std::string& text)
{
    std::string out = "$'";
    for (const unsigned char c : text) {
        switch (c) {
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\'':
            out += "\\'";
            break;
        case '\\':
            out += "\\\\";
            break;
        default:
            if (isControl(c)) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\%03o", c);
                out += escaped;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "'";
}

} // namespace

std::string shellQuoted(const std::filesystem::path& path)
{
    const std::string& text = path.native();
    if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
            return isPlain(static_cast<unsigned char>(c));
        }))
        return text;
    if (std::any_of(
            text.begin(), text.end(), [](char c) { return isControl(static_cast<unsigned char>(c)); }))
        return ansiCQuoted(text);
    std::string out = "'";
    for (const char c : text)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

} // namespace pictor::app
