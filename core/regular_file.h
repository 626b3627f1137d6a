// Reading the files of model folders without ever blocking: a FIFO or a device named config.json or
// model.safetensors would make a plain open() wait forever for a writer. Files are opened with O_NONBLOCK
// and anything that is not a regular file is refused with an error naming it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <limits>
#include <string>

namespace pictor {

// The open file descriptor of a regular file (the caller closes it); throws naming the file otherwise.
int openRegularFile(const std::filesystem::path& file);

// The whole file; larger than `maxBytes` is an error.
std::string readRegularFile(
    const std::filesystem::path& file, std::size_t maxBytes = std::numeric_limits<std::size_t>::max());

} // namespace pictor
