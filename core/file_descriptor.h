// An owned POSIX file descriptor, closed on destruction.
#pragma once

#include <utility>

#include <unistd.h>

namespace pictor {

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) { }
    ~FileDescriptor()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); } // the caller closes it now

private:
    int fd_;
};

} // namespace pictor
