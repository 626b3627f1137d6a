// Errors: throw inside, convert at the boundary (a job, a CLI command, a test).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace pictor {

// The one exception type Pictor code throws. what() is a message meant for a person;
// where() is the source location of the check that failed (for logs and bug reports).
class Error : public std::runtime_error {
public:
    explicit Error(std::string message, std::string where = {})
        : std::runtime_error(std::move(message)), where_(std::move(where))
    {
    }
    const std::string& where() const noexcept { return where_; }

private:
    std::string where_;
};

template <typename... Parts> std::string strCat(Parts&&... parts)
{
    std::ostringstream out;
    (out << ... << std::forward<Parts>(parts));
    return out.str();
}

namespace detail {
[[noreturn]] void throwError(const char* file, int line, std::string message);
} // namespace detail

} // namespace pictor

// PICTOR_CHECK(cond, parts...): throws pictor::Error with the concatenated message and file:line.
#define PICTOR_CHECK(cond, ...)                                                                              \
    do {                                                                                                     \
        if (!(cond)) [[unlikely]]                                                                            \
            ::pictor::detail::throwError(__FILE__, __LINE__, ::pictor::strCat(__VA_ARGS__));                 \
    } while (0)

#define PICTOR_FAIL(...) ::pictor::detail::throwError(__FILE__, __LINE__, ::pictor::strCat(__VA_ARGS__))
