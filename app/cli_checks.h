// Option checks whose messages a user can act on (CLI11's own print ranges of 300 digits and
// "Could not convert" for a number that does not fit).
#pragma once

#include <charconv>
#include <string>

#include <CLI/CLI.hpp>

namespace pictor::app {

// A whole number from min to max; checked on the text, before CLI11 converts it.
inline CLI::Validator wholeNumber(long long min, long long max)
{
    const std::string range = std::to_string(min) + " to " + std::to_string(max);
    return CLI::Validator(
        [min, max, range](std::string& text) -> std::string {
            long long value = 0;
            const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (error == std::errc() && end == text.data() + text.size() && value >= min && value <= max)
                return {};
            return "takes a whole number from " + range + ", not '" + text + "'";
        },
        "INT:" + range);
}

inline constexpr long long kMaxThreads = 1024;

} // namespace pictor::app
