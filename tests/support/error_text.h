// The message of the pictor::Error an action throws, or "(no error)": tests assert on what a person reads.
#pragma once

#include <functional>
#include <string>

#include "core/error.h"

namespace pictor::test {

inline std::string errorOf(const std::function<void()>& action)
{
    try {
        action();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace pictor::test
