// Content hash of a photo file: 64-bit XXH3 of every byte, read in 1 MiB pieces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "core/error.h"

namespace pictor {

// A file that could not be opened or read; errorNumber() is the errno (ENOENT: it vanished).
class FileReadError : public Error {
public:
    FileReadError(std::string message, int errorNumber) : Error(std::move(message)), errorNumber_(errorNumber)
    {
    }
    int errorNumber() const noexcept { return errorNumber_; }

private:
    int errorNumber_;
};

// XXH3-64 (seed 0) of the whole file. Throws FileReadError naming the file when it cannot be read.
std::uint64_t hashFile(const std::filesystem::path& path);

// XXH3-64 (seed 0) of a buffer: hashFile(f) == hashBytes(contents of f).
std::uint64_t hashBytes(const void* data, std::size_t size);

} // namespace pictor
