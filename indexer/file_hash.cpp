#include "indexer/file_hash.h"

#include "core/file_descriptor.h"

#define XXH_INLINE_ALL
#include <cerrno>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

namespace pictor {
namespace {

constexpr std::size_t kBufferSize = std::size_t(1) << 20;

[[noreturn]] void readFailed(const std::filesystem::path& path, const char* what, int error)
{
    throw FileReadError(strCat("cannot ", what, " ", path.string(), ": ", std::strerror(error)), error);
}

} // namespace

std::uint64_t hashFile(const std::filesystem::path& path)
{
    // O_NONBLOCK: a FIFO named like a photo must not hang the indexer.
    const FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (file.get() < 0)
        readFailed(path, "open", errno);
    ::posix_fadvise(file.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

    // One buffer per thread, reused: a fresh 1 MiB allocation per photo costs page faults every time.
    thread_local const std::unique_ptr<char[]> buffer(new char[kBufferSize]);
    XXH3_state_t state;
    XXH3_64bits_reset(&state);
    for (;;) {
        const ssize_t got = ::read(file.get(), buffer.get(), kBufferSize);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            readFailed(path, "read", errno);
        }
        if (got == 0)
            break;
        XXH3_64bits_update(&state, buffer.get(), static_cast<std::size_t>(got));
    }
    return XXH3_64bits_digest(&state);
}

std::uint64_t hashBytes(const void* data, std::size_t size)
{
    return XXH3_64bits(data, size);
}

} // namespace pictor
