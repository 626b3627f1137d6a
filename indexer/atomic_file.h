// Files written so that a crash or a full disk never leaves a half one: the content goes to `path.tmp`
// with checked writes, is fsynced, renamed over `path`, and the folder is fsynced. On any error the old
// file stays, the temporary one is removed, and the error names the file. Used for the vector index, its
// sidecar and library.json.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace pictor {

// `write(fd, tmp)` writes the content (throwing on failure); `what` names the file in errors
// ("vector index").
void writeFileAtomically(const std::filesystem::path& path, const std::string& what,
    const std::function<void(int fd, const std::filesystem::path& tmp)>& write);
void writeFileAtomically(
    const std::filesystem::path& path, const std::string& what, const std::string& bytes);

// Every byte, retrying short writes and EINTR; throws naming `file`.
void writeAll(int fd, const std::string& bytes, const std::filesystem::path& file);

} // namespace pictor
