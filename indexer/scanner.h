// The folder scanner: finds the photo files under the library's roots, with the facts change detection
// needs (size, mtime) and a list of the places it could not look into. Pure C++ (POSIX), no SQLite, no Qt.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pictor {

enum class FileType { Jpeg, Png, Webp, Tiff, Bmp, Heif, Raw };

// "jpeg", "png", "webp", "tiff", "bmp", "heif", "raw" (stable: stored in the catalog).
std::string_view fileTypeName(FileType type);
// The file type of a file name's extension (case-insensitive), nullopt for anything that is not a photo.
std::optional<FileType> fileTypeFromExtension(const std::filesystem::path& name);
// Why a file whose extension names a picture format Pictor does not read is not indexed ("GIF is not
// supported"); nullopt for every other name. Such files are listed, never skipped in silence.
std::optional<std::string> unsupportedPhotoReason(const std::filesystem::path& name);
// A type as a person names it ("jpg", "JPEG", "tif", "heic", "raw", "nef", ...); nullopt when unknown.
std::optional<FileType> fileTypeFromName(std::string_view name);
// The names fileTypeFromName accepts, for messages: "jpg, jpeg, png, ...".
std::string fileTypeNames();

struct ScannedFile {
    std::filesystem::path path; // the root as given / the names as found: raw bytes, never re-encoded
    std::int64_t size = 0;
    std::int64_t mtimeNs = 0; // st_mtim in nanoseconds since the epoch
    FileType type = FileType::Jpeg;
};

enum class ProblemKind {
    Missing, // a root that does not exist (an unmounted drive, a renamed folder)
    NotAFolder, // a root that is not a folder
    PermissionDenied, // EACCES / EPERM
    Unreadable, // any other error opening or reading a folder or a file
    SymlinkLoop, // a symbolic link to one of its own enclosing folders: skipped
    BrokenSymlink, // a symbolic link with a photo extension whose target does not exist
    Vanished, // listed by its folder, gone when looked at (deleted during the scan)
    NotARegularFile, // a FIFO, socket or device with a photo's name: never opened
    Unsupported, // a photo-like file of a format Pictor does not read (GIF)
};

std::string_view problemKindName(ProblemKind kind);

struct ScanProblem {
    std::filesystem::path path;
    ProblemKind kind = ProblemKind::Unreadable;
    std::string reason; // for a person: "permission denied", "symbolic link loop back to /photos", …
};

struct ScanProgress {
    std::int64_t foldersVisited = 0;
    std::int64_t filesFound = 0;
    std::filesystem::path folder; // the folder just read
};

struct ScanOptions {
    // Skip names starting with '.', and @eaDir, node_modules, $RECYCLE.BIN (.git is hidden).
    bool defaultExcludes = true;
    // fnmatch(3) patterns (case-sensitive, no FNM_PATHNAME), each tried on an entry's name and on its path
    // relative to its root ("2019/raw", "*.tmp.jpg", "Thumbs*"). An excluded folder is not entered.
    std::vector<std::string> excludePatterns;
    // Follow symbolic links to folders and files. Folders are entered at most once (by (st_dev, st_ino)).
    bool followSymlinks = true;
    // Checked before each folder is read; when it becomes true the scan stops and says so.
    const std::atomic<bool>* cancel = nullptr;
    // Called after each folder is read.
    std::function<void(const ScanProgress&)> progress;
};

struct ScanResult {
    std::vector<ScannedFile> files; // sorted by path, each file once
    std::vector<ScanProblem> problems; // sorted by path
    // RAW files beside a photo of the same name (IMG_0001.CR2 next to IMG_0001.JPG): one shot, so the
    // photo is indexed and the RAW is its second file, not a photo of its own. Sorted by path.
    std::vector<std::filesystem::path> rawCompanions;
    // The roots that were read (they exist and are folders). Only these may lose photos in change
    // detection.
    std::vector<std::filesystem::path> scannedRoots;
    // Folders whose contents are unknown this time (an unreadable or missing root, an unreadable
    // subfolder): the catalog's photos under them must be kept, not deleted.
    std::vector<std::filesystem::path> unscannedFolders;
    std::int64_t foldersVisited = 0;
    bool cancelled = false; // true: the lists are partial and nothing may be deleted on their account
};

// Scans every root recursively. Files' paths start with the root as given (less trailing separators):
// pass absolute, canonical roots (std::filesystem::canonical) so that paths compare across runs. Never throws
// for a file or a folder it cannot read (they become problems); a missing or unreadable root is a problem
// too.
//
// Order and symbolic links: real folders of all roots are read first; symbolic links to folders are
// followed afterwards, so a folder reachable both directly and through a link is listed under its real
// path. A link to a folder already read is skipped silently (an alias, e.g. two links to one place); a
// link to one of its own enclosing folders is reported as a SymlinkLoop problem and skipped.
ScanResult scanRoots(const std::vector<std::filesystem::path>& roots, const ScanOptions& options = {});

// The names ScanOptions::defaultExcludes skips: hidden ones, @eaDir, node_modules, $RECYCLE.BIN.
bool isExcludedByDefault(std::string_view name);

// True when `path` is `folder` or lies below it (compared by path components, so /a/bc is not under /a/b).
bool isUnder(const std::filesystem::path& path, const std::filesystem::path& folder);

} // namespace pictor
