#include "indexer/atomic_file.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file_descriptor.h"

namespace pictor {
namespace {

void fsyncFolder(const std::filesystem::path& file)
{
    const std::filesystem::path folder
        = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
    FileDescriptor fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0)
        ::fsync(fd.get()); // best effort: some file systems refuse fsync on folders
}

} // namespace

void writeFileAtomically(const std::filesystem::path& path, const std::string& what,
    const std::function<void(int fd, const std::filesystem::path& tmp)>& write)
{
    const std::filesystem::path tmp = path.string() + ".tmp";
    FileDescriptor fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    PICTOR_CHECK(fd.get() >= 0, "cannot write ", what, " ", tmp.string(), ": ", std::strerror(errno));
    try {
        write(fd.get(), tmp);
        PICTOR_CHECK(::fsync(fd.get()) == 0, "cannot write ", what, " ", tmp.string(),
            ": fsync: ", std::strerror(errno));
        PICTOR_CHECK(
            ::close(fd.release()) == 0, "cannot write ", what, " ", tmp.string(), ": ", std::strerror(errno));
        PICTOR_CHECK(::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename ", tmp.string(), " to ",
            path.string(), ": ", std::strerror(errno));
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);
        throw;
    }
    fsyncFolder(path);
}

void writeFileAtomically(const std::filesystem::path& path, const std::string& what, const std::string& bytes)
{
    writeFileAtomically(
        path, what, [&](int fd, const std::filesystem::path& tmp) { writeAll(fd, bytes, tmp); });
}

void writeAll(int fd, const std::string& bytes, const std::filesystem::path& file)
{
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        PICTOR_CHECK(n >= 0, "cannot write ", file.string(), ": ", std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
}

} // namespace pictor
