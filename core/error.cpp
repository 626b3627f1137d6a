#include "core/error.h"

namespace pictor::detail {

void throwError(const char* file, int line, std::string message)
{
    throw Error(std::move(message), strCat(file, ':', line));
}

} // namespace pictor::detail
