#include "indexer/library_lock.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/error.h"

namespace pictor {
namespace {

// The PID written in the lock file; 0 when empty or not a number.
std::int64_t readPid(int fd)
{
    char buffer[32] = {};
    const ssize_t got = pread(fd, buffer, sizeof(buffer) - 1, 0);
    if (got <= 0)
        return 0;
    std::int64_t pid = 0;
    for (ssize_t i = 0; i < got && buffer[i] >= '0' && buffer[i] <= '9'; ++i)
        pid = pid * 10 + (buffer[i] - '0');
    return pid;
}

// The holder writes its PID right after taking the lock: give it a moment.
std::int64_t waitForPid(int fd)
{
    for (int attempt = 0; attempt < 20; ++attempt) {
        if (const auto pid = readPid(fd))
            return pid;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return 0;
}

std::string inUseMessage(const std::filesystem::path& libraryDir, std::int64_t pid)
{
    if (pid > 0)
        return strCat("library ", libraryDir.string(), " is in use by PID ", pid);
    return strCat("library ", libraryDir.string(), " is in use by another process");
}

} // namespace

LibraryLock::LibraryLock(const std::filesystem::path& libraryDir) : libraryDir_(libraryDir)
{
    std::error_code error;
    std::filesystem::create_directories(libraryDir, error);
    PICTOR_CHECK(!error, "cannot create library folder ", libraryDir.string(), ": ", error.message());
    const auto file = libraryDir / kFileName;
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    PICTOR_CHECK(fd >= 0, "cannot open the library lock ", file.string(), ": ", std::strerror(errno));
    // A few short retries: holder() probes with a brief shared lock, which must not look like a writer.
    int rc = 0;
    for (int attempt = 0; attempt < 20; ++attempt) {
        rc = ::flock(fd, LOCK_EX | LOCK_NB);
        if (rc == 0 || (errno != EWOULDBLOCK && errno != EINTR))
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (rc != 0) {
        const int flockError = errno;
        const auto pid = flockError == EWOULDBLOCK ? waitForPid(fd) : 0;
        ::close(fd);
        PICTOR_CHECK(
            flockError == EWOULDBLOCK, "cannot lock ", file.string(), ": ", std::strerror(flockError));
        PICTOR_FAIL(inUseMessage(libraryDir, pid));
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0
        || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        const int writeError = errno;
        ::close(fd);
        PICTOR_FAIL("cannot write the library lock ", file.string(), ": ", std::strerror(writeError));
    }
    fd_ = fd;
}

LibraryLock::~LibraryLock()
{
    release();
}

LibraryLock::LibraryLock(LibraryLock&& other) noexcept
    : libraryDir_(std::move(other.libraryDir_)), fd_(other.fd_)
{
    other.fd_ = -1;
}

LibraryLock& LibraryLock::operator=(LibraryLock&& other) noexcept
{
    if (this != &other) {
        release();
        libraryDir_ = std::move(other.libraryDir_);
        fd_ = other.fd_;
        other.fd_ = -1;
    }
    return *this;
}

void LibraryLock::release()
{
    if (fd_ < 0)
        return;
    // Clear the PID while still holding the lock; the file itself stays (unlinking a lock file lets two
    // processes lock two different inodes).
    [[maybe_unused]] const int ignored = ::ftruncate(fd_, 0);
    ::close(fd_); // drops the flock
    fd_ = -1;
}

std::optional<std::int64_t> LibraryLock::holder(const std::filesystem::path& libraryDir)
{
    const auto file = libraryDir / kFileName;
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt; // never locked
    std::optional<std::int64_t> pid;
    if (::flock(fd, LOCK_SH | LOCK_NB) == 0)
        ::flock(fd, LOCK_UN);
    else if (errno == EWOULDBLOCK)
        pid = waitForPid(fd);
    ::close(fd);
    return pid;
}

} // namespace pictor
