#include "indexer/scanner.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/imageio/decode.h"

namespace pictor {
namespace fs = std::filesystem;

namespace {

constexpr std::array<std::pair<std::string_view, FileType>, 9> kExtensions {{
    {"jpg", FileType::Jpeg},
    {"jpeg", FileType::Jpeg},
    {"png", FileType::Png},
    {"webp", FileType::Webp},
    {"tif", FileType::Tiff},
    {"tiff", FileType::Tiff},
    {"bmp", FileType::Bmp},
    {"heic", FileType::Heif},
    {"heif", FileType::Heif},
}};

std::string lowerAscii(std::string text)
{
    for (char& c : text)
        c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return text;
}

// A file name's extension in ASCII lower case; empty when there is none of at most 4 characters.
std::string lowerExtension(const fs::path& name)
{
    const std::string& text = name.native();
    const std::size_t dot = text.rfind('.');
    if (dot == std::string::npos || text.size() - dot - 1 > 4 || text.find('/', dot) != std::string::npos)
        return {};
    return lowerAscii(text.substr(dot + 1));
}

std::string specialFileReason(mode_t mode)
{
    const char* what = S_ISFIFO(mode) ? "a FIFO" : S_ISSOCK(mode) ? "a socket" : "a device";
    return std::string("not a regular file (") + what + "): not read";
}

// Folders that hold no photos of the user's: NAS thumbnails, dependencies, the Windows recycle bin.
// Hidden names (.git, .Trash-1000, .thumbnails) are excluded by their leading dot.
constexpr std::array<std::string_view, 3> kExcludedNames {"@eaDir", "node_modules", "$RECYCLE.BIN"};

struct FolderId {
    dev_t dev;
    ino_t ino;
    bool operator==(const FolderId&) const = default;
};

struct FolderIdHash {
    std::size_t operator()(const FolderId& id) const noexcept
    {
        return std::hash<std::uint64_t>()(
            static_cast<std::uint64_t>(id.ino) * 0x9E3779B97F4A7C15ull ^ static_cast<std::uint64_t>(id.dev));
    }
};

struct Folder {
    fs::path path;
    fs::path relative; // to its root, for exclude patterns
    bool viaSymlink = false;
};

std::int64_t mtimeNs(const struct stat& st)
{
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string errnoText(int error)
{
    return std::strerror(error);
}

// Removes trailing separators ("/photos/" → "/photos"). Nothing else: resolving ".." lexically is wrong
// after a symbolic link, and the files' paths keep the root's spelling.
fs::path withoutTrailingSeparator(fs::path root)
{
    while (root.has_relative_path() && root.filename().empty())
        root = root.parent_path();
    return root;
}

class Scanner {
public:
    explicit Scanner(const ScanOptions& options) : options_(options) { }

    ScanResult run(const std::vector<fs::path>& roots)
    {
        std::vector<fs::path> sorted;
        for (const auto& root : roots)
            sorted.push_back(withoutTrailingSeparator(root));
        std::sort(sorted.begin(), sorted.end());
        sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());

        // Real folders of every root first, so that a folder reachable both ways gets its real path.
        for (const auto& root : sorted) {
            if (stopped())
                break;
            scanRoot(root);
        }
        // Then links to folders, smallest path first (deterministic), until none is left.
        while (!links_.empty() && !stopped()) {
            auto next = links_.begin();
            Folder link = std::move(next->second);
            links_.erase(next);
            walk(std::move(link));
        }
        finish();
        return std::move(result_);
    }

private:
    bool stopped()
    {
        if (!result_.cancelled && options_.cancel && options_.cancel->load(std::memory_order_relaxed))
            result_.cancelled = true;
        return result_.cancelled;
    }

    void problem(const fs::path& path, ProblemKind kind, std::string reason)
    {
        result_.problems.push_back({path, kind, std::move(reason)});
    }

    void scanRoot(const fs::path& root)
    {
        struct stat st { };
        if (::stat(root.c_str(), &st) != 0) {
            const int error = errno;
            if (error == ENOENT || error == ENOTDIR)
                problem(root, ProblemKind::Missing, "folder not found");
            else if (error == EACCES || error == EPERM)
                problem(root, ProblemKind::PermissionDenied, "permission denied");
            else
                problem(root, ProblemKind::Unreadable, "cannot read folder: " + errnoText(error));
            result_.unscannedFolders.push_back(root);
            return;
        }
        if (!S_ISDIR(st.st_mode)) {
            problem(root, ProblemKind::NotAFolder, "not a folder");
            result_.unscannedFolders.push_back(root);
            return;
        }
        const auto seen = visited_.find({st.st_dev, st.st_ino});
        if (seen != visited_.end()) {
            // A root nested in an earlier root was read with it, under the same paths. A root that is
            // another name of a folder already read is not read twice; its photos are kept.
            if (isUnder(root, seen->second))
                result_.scannedRoots.push_back(root);
            else
                result_.unscannedFolders.push_back(root);
            return;
        }
        if (walk({root, {}, false}))
            result_.scannedRoots.push_back(root);
        else
            result_.unscannedFolders.push_back(root);
    }

    // Reads `start` and its real subfolders; links to folders are queued in links_. Returns false when
    // `start` itself could not be read.
    bool walk(Folder start)
    {
        std::vector<Folder> stack;
        stack.push_back(std::move(start));
        bool startRead = true;
        bool first = true;
        while (!stack.empty()) {
            if (stopped())
                return startRead;
            Folder folder = std::move(stack.back());
            stack.pop_back();
            const bool ok = readFolder(folder, stack);
            if (first && !ok)
                startRead = false;
            first = false;
        }
        return startRead;
    }

    bool readFolder(const Folder& folder, std::vector<Folder>& stack)
    {
        const int fd = ::open(folder.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            folderOpenFailed(folder.path, errno);
            return false;
        }
        struct stat st { };
        if (::fstat(fd, &st) != 0) {
            folderOpenFailed(folder.path, errno);
            ::close(fd);
            return false;
        }
        const auto [seen, inserted] = visited_.try_emplace(FolderId {st.st_dev, st.st_ino}, folder.path);
        if (!inserted) {
            ::close(fd);
            // A link to an enclosing folder is a loop; a link to a folder read elsewhere is an alias,
            // skipped without a word (its photos are listed under the other path).
            if (folder.viaSymlink && isUnder(folder.path, seen->second))
                problem(folder.path, ProblemKind::SymlinkLoop,
                    "symbolic link loop back to " + seen->second.string() + ": not followed");
            return true;
        }
        DIR* dir = ::fdopendir(fd);
        if (!dir) {
            folderOpenFailed(folder.path, errno);
            ::close(fd);
            return false;
        }

        std::vector<std::pair<std::string, unsigned char>> entries; // name, d_type
        errno = 0;
        while (const dirent* entry = ::readdir(dir)) {
            const char* name = entry->d_name;
            if (std::strcmp(name, ".") != 0 && std::strcmp(name, "..") != 0)
                entries.emplace_back(name, entry->d_type);
            errno = 0;
        }
        if (errno != 0) {
            // Some entries are unknown: keep the catalog's photos below this folder.
            problem(folder.path, ProblemKind::Unreadable, "cannot list folder: " + errnoText(errno));
            result_.unscannedFolders.push_back(folder.path);
        }
        std::sort(entries.begin(), entries.end());

        std::vector<Folder> subfolders;
        const std::size_t firstFile = result_.files.size();
        const int dirFd = ::dirfd(dir);
        for (const auto& [name, dType] : entries) {
            fs::path relative = folder.relative / name;
            if (excluded(name, relative))
                continue;
            readEntry(dirFd, folder, name, dType, std::move(relative), subfolders);
        }
        ::closedir(dir);
        setRawCompanionsAside(firstFile);
        ++result_.foldersVisited;
        // Pushed in reverse so the stack pops them in name order.
        for (auto it = subfolders.rbegin(); it != subfolders.rend(); ++it)
            stack.push_back(std::move(*it));
        if (options_.progress)
            options_.progress(
                {result_.foldersVisited, static_cast<std::int64_t>(result_.files.size()), folder.path});
        return true;
    }

    void folderOpenFailed(const fs::path& path, int error)
    {
        if (error == ENOENT || error == ENOTDIR) {
            // Gone (or replaced by a file) since its parent was listed: its photos are really gone.
            problem(path, ProblemKind::Vanished, "folder vanished during the scan");
            return;
        }
        if (error == EACCES || error == EPERM)
            problem(path, ProblemKind::PermissionDenied, "permission denied");
        else if (error == ELOOP)
            problem(path, ProblemKind::SymlinkLoop, "symbolic link loop: not followed");
        else
            problem(path, ProblemKind::Unreadable, "cannot read folder: " + errnoText(error));
        result_.unscannedFolders.push_back(path);
    }

    void readEntry(int dirFd, const Folder& folder, const std::string& name, unsigned char dType,
        fs::path relative, std::vector<Folder>& subfolders)
    {
        const fs::path path = folder.path / name;
        // d_type spares a stat for folders and for files that are not photos (most of a home folder).
        if (dType == DT_DIR) {
            subfolders.push_back({path, std::move(relative), folder.viaSymlink});
            return;
        }
        const std::optional<FileType> type = fileTypeFromExtension(name);
        if (dType == DT_REG && !type) {
            if (auto reason = unsupportedPhotoReason(name))
                problem(path, ProblemKind::Unsupported, std::move(*reason));
            return;
        }
        struct stat st { };
        if (::fstatat(dirFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (type && errno == ENOENT)
                problem(path, ProblemKind::Vanished, "vanished during the scan");
            else if (type)
                problem(path, ProblemKind::Unreadable, "cannot stat: " + errnoText(errno));
            return;
        }
        if (S_ISDIR(st.st_mode)) {
            subfolders.push_back({path, std::move(relative), folder.viaSymlink});
            return;
        }
        if (S_ISLNK(st.st_mode)) {
            if (!options_.followSymlinks)
                return;
            if (::fstatat(dirFd, name.c_str(), &st, 0) != 0) {
                const int error = errno;
                if (error == ELOOP) {
                    problem(path, ProblemKind::SymlinkLoop, "symbolic link loop: not followed");
                } else if (error == ENOENT || error == ENOTDIR) {
                    problem(path, ProblemKind::BrokenSymlink, "broken symbolic link (its target is missing)");
                    // It may lead to an unmounted folder of photos: keep what the catalog has below it.
                    if (!type)
                        result_.unscannedFolders.push_back(path);
                } else if (error == EACCES || error == EPERM) {
                    problem(path, ProblemKind::PermissionDenied, "permission denied (symbolic link target)");
                    if (!type)
                        result_.unscannedFolders.push_back(path);
                } else {
                    problem(
                        path, ProblemKind::Unreadable, "cannot follow symbolic link: " + errnoText(error));
                }
                return;
            }
            if (S_ISDIR(st.st_mode)) {
                links_.emplace(path, Folder {path, std::move(relative), true});
                return;
            }
        }
        // FIFOs, sockets and devices are never read, whatever their name; with a photo's name they are
        // listed.
        if (!S_ISREG(st.st_mode)) {
            if (type)
                problem(path, ProblemKind::NotARegularFile, specialFileReason(st.st_mode));
        } else if (type) {
            result_.files.push_back({path, static_cast<std::int64_t>(st.st_size), mtimeNs(st), *type});
        } else if (auto reason = unsupportedPhotoReason(name)) {
            problem(path, ProblemKind::Unsupported, std::move(*reason));
        }
    }

    // A RAW file beside a photo of the same name in its folder (IMG_0001.CR2 and IMG_0001.JPG, any
    // letter case) is one shot: the camera's photo is indexed, the RAW is kept aside as its second file.
    void setRawCompanionsAside(std::size_t firstFile)
    {
        auto& files = result_.files;
        std::set<std::string> photoStems;
        for (std::size_t i = firstFile; i < files.size(); ++i)
            if (files[i].type != FileType::Raw)
                photoStems.insert(lowerAscii(files[i].path.stem().native()));
        if (photoStems.empty())
            return;
        const auto companions = std::stable_partition(files.begin() + static_cast<std::ptrdiff_t>(firstFile),
            files.end(), [&](const ScannedFile& file) {
                return file.type != FileType::Raw
                    || !photoStems.contains(lowerAscii(file.path.stem().native()));
            });
        for (auto it = companions; it != files.end(); ++it)
            result_.rawCompanions.push_back(std::move(it->path));
        files.erase(companions, files.end());
    }

    bool excluded(const std::string& name, const fs::path& relative) const
    {
        if (options_.defaultExcludes && isExcludedByDefault(name))
            return true;
        for (const std::string& pattern : options_.excludePatterns) {
            if (::fnmatch(pattern.c_str(), name.c_str(), 0) == 0
                || ::fnmatch(pattern.c_str(), relative.c_str(), 0) == 0)
                return true;
        }
        return false;
    }

    void finish()
    {
        std::sort(result_.files.begin(), result_.files.end(),
            [](const ScannedFile& a, const ScannedFile& b) { return a.path < b.path; });
        std::stable_sort(result_.problems.begin(), result_.problems.end(),
            [](const ScanProblem& a, const ScanProblem& b) { return a.path < b.path; });
        std::sort(result_.rawCompanions.begin(), result_.rawCompanions.end());
        auto& unscanned = result_.unscannedFolders;
        std::sort(unscanned.begin(), unscanned.end());
        unscanned.erase(std::unique(unscanned.begin(), unscanned.end()), unscanned.end());
        std::sort(result_.scannedRoots.begin(), result_.scannedRoots.end());
    }

    const ScanOptions& options_;
    ScanResult result_;
    std::unordered_map<FolderId, fs::path, FolderIdHash> visited_; // folder → the path it was read as
    std::map<fs::path, Folder> links_; // links to folders, waiting until the real folders are read
};

} // namespace

std::string_view fileTypeName(FileType type)
{
    switch (type) {
    case FileType::Jpeg:
        return "jpeg";
    case FileType::Png:
        return "png";
    case FileType::Webp:
        return "webp";
    case FileType::Tiff:
        return "tiff";
    case FileType::Bmp:
        return "bmp";
    case FileType::Heif:
        return "heif";
    case FileType::Raw:
        return "raw";
    }
    return "unknown";
}

std::optional<FileType> fileTypeFromName(std::string_view name)
{
    const std::string lower = lowerAscii(std::string(name));
    if (lower == "raw")
        return FileType::Raw;
    for (const auto& [extension, type] : kExtensions)
        if (extension == lower)
            return type;
    if (std::find(rawExtensions().begin(), rawExtensions().end(), lower) != rawExtensions().end())
        return FileType::Raw;
    return std::nullopt;
}

std::string fileTypeNames()
{
    std::string names;
    for (const auto& [extension, type] : kExtensions)
        names += (names.empty() ? "" : ", ") + std::string(extension);
    names += ", raw (";
    for (std::string_view extension : rawExtensions())
        names += std::string(extension) + (extension == rawExtensions().back() ? ")" : ", ");
    return names;
}

std::optional<FileType> fileTypeFromExtension(const fs::path& name)
{
    const std::string extension = lowerExtension(name);
    for (const auto& [known, type] : kExtensions) {
        if (extension == known)
            return type;
    }
    if (isRawFileName(name.native()))
        return FileType::Raw;
    return std::nullopt;
}

std::optional<std::string> unsupportedPhotoReason(const fs::path& name)
{
    const std::string extension = lowerExtension(name);
    if (extension == "gif")
        return "GIF is not supported (not indexed)";
    return std::nullopt;
}

std::string_view problemKindName(ProblemKind kind)
{
    switch (kind) {
    case ProblemKind::Missing:
        return "missing";
    case ProblemKind::NotAFolder:
        return "not-a-folder";
    case ProblemKind::PermissionDenied:
        return "permission-denied";
    case ProblemKind::Unreadable:
        return "unreadable";
    case ProblemKind::SymlinkLoop:
        return "symlink-loop";
    case ProblemKind::BrokenSymlink:
        return "broken-symlink";
    case ProblemKind::Vanished:
        return "vanished";
    case ProblemKind::NotARegularFile:
        return "not-a-regular-file";
    case ProblemKind::Unsupported:
        return "unsupported";
    }
    return "unknown";
}

bool isExcludedByDefault(std::string_view name)
{
    return name.starts_with('.')
        || std::find(kExcludedNames.begin(), kExcludedNames.end(), name) != kExcludedNames.end();
}

bool isUnder(const fs::path& path, const fs::path& folder)
{
    auto p = path.begin();
    for (auto f = folder.begin(); f != folder.end(); ++f) {
        if (f->empty())
            continue; // the empty last element of "/photos/"
        if (p == path.end() || *p != *f)
            return false;
        ++p;
    }
    return true;
}

ScanResult scanRoots(const std::vector<fs::path>& roots, const ScanOptions& options)
{
    return Scanner(options).run(roots);
}

} // namespace pictor
