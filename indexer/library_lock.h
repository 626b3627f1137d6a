// One writer per library: an exclusive flock(2) on <library>/lock, whose text is the holder's PID.
// flock belongs to the open file description, so the kernel drops it when the holder exits in any
// way (kill -9 included): a stale PID in the file never blocks anyone. Readers take no lock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace pictor {

class LibraryLock {
public:
    static constexpr const char* kFileName = "lock";

    // Takes the lock, creating the library folder and the lock file when missing. Throws pictor::Error
    // "library <dir> is in use by PID <n>" when another process (or another LibraryLock) holds it.
    explicit LibraryLock(const std::filesystem::path& libraryDir);
    ~LibraryLock();
    LibraryLock(LibraryLock&& other) noexcept;
    LibraryLock& operator=(LibraryLock&& other) noexcept;
    LibraryLock(const LibraryLock&) = delete;
    LibraryLock& operator=(const LibraryLock&) = delete;

    const std::filesystem::path& libraryDir() const { return libraryDir_; }
    bool held() const { return fd_ >= 0; }
    void release();

    // The PID of the process holding the library's lock now, or nullopt when it is free (for status).
    // Returns 0 when it is held but the holder has not written its PID yet.
    static std::optional<std::int64_t> holder(const std::filesystem::path& libraryDir);

private:
    std::filesystem::path libraryDir_;
    int fd_ = -1;
};

} // namespace pictor
