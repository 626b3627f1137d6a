#include "indexer/change_detection.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "indexer/file_hash.h"

namespace pictor {
namespace fs = std::filesystem;

namespace {

struct PathHash {
    std::size_t operator()(const fs::path& path) const noexcept { return fs::hash_value(path); }
};

bool isUnderAny(const fs::path& path, const std::vector<fs::path>& folders)
{
    return std::any_of(folders.begin(), folders.end(), [&](const fs::path& f) { return isUnder(path, f); });
}

// Runs the hash function; a failure becomes a problem and nullopt.
std::optional<std::uint64_t> tryHash(const HashFunction& hash, const fs::path& path, ChangePlan& plan)
{
    try {
        return hash(path);
    } catch (const FileReadError& e) {
        const int error = e.errorNumber();
        const ProblemKind kind = error == ENOENT  ? ProblemKind::Vanished
            : (error == EACCES || error == EPERM) ? ProblemKind::PermissionDenied
                                                  : ProblemKind::Unreadable;
        plan.problems.push_back({path, kind, e.what()});
    } catch (const std::exception& e) {
        plan.problems.push_back({path, ProblemKind::Unreadable, e.what()});
    }
    return std::nullopt;
}

// Known files that disappeared from their path, by (size, hash), each taken by at most one new path.
class MoveCandidates {
public:
    void add(const KnownFile* file)
    {
        sizes_.insert(file->size);
        byContent_[{file->size, *file->contentHash}].push_back(file);
    }

    bool hasSize(std::int64_t size) const { return sizes_.count(size) != 0; }

    // The candidate for `file` with content `hash`: the first by path with the same file name, else the
    // first by path. Nullptr when none is left.
    const KnownFile* take(const ScannedFile& file, std::uint64_t hash)
    {
        const auto it = byContent_.find({file.size, hash});
        if (it == byContent_.end())
            return nullptr;
        auto& list = it->second;
        if (list.empty())
            return nullptr;
        auto chosen = std::find_if(list.begin(), list.end(),
            [&](const KnownFile* k) { return k->path.filename() == file.path.filename(); });
        if (chosen == list.end())
            chosen = list.begin();
        const KnownFile* result = *chosen;
        list.erase(chosen);
        taken_.insert(result);
        return result;
    }

    void sort()
    {
        for (auto& [key, list] : byContent_)
            std::sort(list.begin(), list.end(),
                [](const KnownFile* a, const KnownFile* b) { return a->path < b->path; });
    }

    bool taken(const KnownFile* file) const { return taken_.count(file) != 0; }

private:
    std::unordered_set<std::int64_t> sizes_;
    std::map<std::pair<std::int64_t, std::uint64_t>, std::vector<const KnownFile*>> byContent_;
    std::unordered_set<const KnownFile*> taken_;
};

struct ChangedCandidate {
    const KnownFile* known;
    const ScannedFile* file;
    std::uint64_t hash;
};

} // namespace

ChangePlan planChanges(const ScanResult& scan, const std::vector<KnownFile>& known, const HashFunction& hash)
{
    ChangePlan plan;
    std::unordered_map<fs::path, const KnownFile*, PathHash> knownByPath;
    knownByPath.reserve(known.size());
    for (const KnownFile& file : known)
        knownByPath.emplace(file.path, &file);

    // 1. Paths seen by the scan: unchanged, touched, changed, or new.
    std::unordered_set<const KnownFile*> found;
    std::vector<ChangedCandidate> changed;
    std::vector<const ScannedFile*> newPaths;
    for (const ScannedFile& file : scan.files) {
        const auto it = knownByPath.find(file.path);
        if (it == knownByPath.end()) {
            newPaths.push_back(&file);
            continue;
        }
        const KnownFile* old = it->second;
        found.insert(old);
        if (file.size == old->size && file.mtimeNs == old->mtimeNs) {
            plan.unchanged.push_back({old->id, file.path});
            continue;
        }
        const std::optional<std::uint64_t> content = tryHash(hash, file.path, plan);
        if (!content)
            continue;
        if (old->contentHash == content)
            plan.touched.push_back({old->id, file, *content});
        else
            changed.push_back({old, &file, *content});
    }

    // 2. Known paths not seen: gone (a move source or deleted) only where the scan really looked.
    std::vector<const KnownFile*> gone;
    MoveCandidates candidates;
    for (const KnownFile& file : known) {
        if (found.count(&file))
            continue;
        if (isUnderAny(file.path, scan.unscannedFolders)) {
            plan.unreachable.push_back(file);
            continue;
        }
        if (!isUnderAny(file.path, scan.scannedRoots))
            continue;
        if (scan.cancelled) {
            plan.unreachable.push_back(file);
            continue;
        }
        gone.push_back(&file);
        if (file.contentHash)
            candidates.add(&file);
    }
    candidates.sort();

    // 3. New paths: a move when the content of a gone file turns up; hashed only when that is possible.
    for (const ScannedFile* file : newPaths) {
        if (!candidates.hasSize(file->size)) {
            plan.added.push_back({*file, std::nullopt});
            continue;
        }
        const std::optional<std::uint64_t> content = tryHash(hash, file->path, plan);
        if (!content)
            continue;
        if (const KnownFile* source = candidates.take(*file, *content))
            plan.moved.push_back({source->id, source->path, *file, *content});
        else
            plan.added.push_back({*file, content});
    }

    // 4. Changed known paths: a gone file moved onto it, or modified in place.
    for (const ChangedCandidate& c : changed) {
        if (const KnownFile* source = candidates.take(*c.file, c.hash)) {
            plan.moved.push_back({source->id, source->path, *c.file, c.hash});
            plan.deleted.push_back(*c.known);
        } else {
            plan.modified.push_back({c.known->id, *c.file, c.hash});
        }
    }

    for (const KnownFile* file : gone) {
        if (!candidates.taken(file))
            plan.deleted.push_back(*file);
    }
    const auto byPath = [](const auto& a, const auto& b) { return a.path < b.path; };
    std::sort(plan.deleted.begin(), plan.deleted.end(), byPath);
    std::sort(plan.unreachable.begin(), plan.unreachable.end(), byPath);
    return plan;
}

} // namespace pictor
