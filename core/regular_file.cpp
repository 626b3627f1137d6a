#include "core/regular_file.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

namespace pictor {

int openRegularFile(const std::filesystem::path& file)
{
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    PICTOR_CHECK(fd >= 0, file.string(), ": cannot open (", std::strerror(errno), ")");
    struct stat info { };
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        ::close(fd);
        PICTOR_FAIL(file.string(), ": not a regular file");
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK); // a regular file reads the same either way
    return fd;
}

std::string readRegularFile(const std::filesystem::path& file, std::size_t maxBytes)
{
    const int fd = openRegularFile(file);
    struct stat info { };
    ::fstat(fd, &info);
    const auto size = static_cast<std::size_t>(info.st_size);
    if (size > maxBytes) {
        ::close(fd);
        PICTOR_FAIL(file.string(), ": ", size, " bytes is more than this file may have (", maxBytes, ")");
    }
    std::string bytes(size, '\0');
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::read(fd, bytes.data() + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int error = errno;
            ::close(fd);
            PICTOR_FAIL(
                file.string(), ": cannot read (", n == 0 ? "the file shrank" : std::strerror(error), ")");
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return bytes;
}

} // namespace pictor
