#include "core/model_discovery.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <utility>

#include <sys/stat.h>

#include "core/embedder.h"

namespace pictor {
namespace {

namespace fs = std::filesystem;

std::string environment(const char* name)
{
    const char* value = std::getenv(name);
    return value ? std::string(value) : std::string();
}

bool isModelFolder(const fs::path& dir)
{
    std::error_code error;
    return fs::is_regular_file(dir / "config.json", error)
        || fs::is_regular_file(dir / "model_index.json", error);
}

std::string familyOf(const fs::path& dir)
{
    try {
        const ModelFolderType type = readModelFolderType(dir);
        // A diffusers pipeline is named by its pipeline class; unCLIP's two are one family.
        if (type.pipeline && (type.name == "UnCLIPPipeline" || type.name == "UnCLIPImageVariationPipeline"))
            return "unclip";
        return type.name;
    } catch (const std::exception&) {
        return {}; // an unreadable config: the family stays unknown; Verify says why
    }
}

fs::path canonicalOrSelf(const fs::path& path)
{
    std::error_code error;
    fs::path canonical = fs::weakly_canonical(path, error);
    return error ? path.lexically_normal() : canonical;
}

std::vector<fs::path> sortedSubfolders(const fs::path& dir)
{
    std::vector<fs::path> out;
    std::error_code error;
    for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
        std::error_code ignored;
        if (it->is_directory(ignored))
            out.push_back(it->path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// "models--openai--clip-vit-base-patch32" -> "openai/clip-vit-base-patch32" (the hub writes '/' as "--").
std::string repoName(const std::string& folder)
{
    std::string rest = folder.substr(std::string_view("models--").size());
    std::string out;
    for (std::size_t at = 0;;) {
        const std::size_t next = rest.find("--", at);
        out += rest.substr(at, next == std::string::npos ? std::string::npos : next - at);
        if (next == std::string::npos)
            return out;
        out += '/';
        at = next + 2;
    }
}

class Collector {
public:
    explicit Collector(const ModelDiscoveryOptions& options)
        : activeEmbedding_(
            options.activeEmbedding.empty() ? fs::path() : canonicalOrSelf(options.activeEmbedding)),
          activeCaptioning_(
              options.activeCaptioning.empty() ? fs::path() : canonicalOrSelf(options.activeCaptioning)),
          activeGeneration_(
              options.activeGeneration.empty() ? fs::path() : canonicalOrSelf(options.activeGeneration))
    {
    }

    void add(std::string name, const fs::path& dir, ModelSource source)
    {
        const fs::path canonical = canonicalOrSelf(dir);
        if (!seen_.insert(canonical).second)
            return;
        DiscoveredModel model;
        model.name = std::move(name);
        model.dir = dir;
        model.family = familyOf(dir);
        model.bytesOnDisk = sizeOnDisk(dir);
        model.source = source;
        model.activeEmbedding = !activeEmbedding_.empty() && canonical == activeEmbedding_;
        model.activeCaptioning = !activeCaptioning_.empty() && canonical == activeCaptioning_;
        model.activeGeneration = !activeGeneration_.empty() && canonical == activeGeneration_;
        models_.push_back(std::move(model));
    }

    std::vector<DiscoveredModel> take() { return std::move(models_); }

private:
    fs::path activeEmbedding_;
    fs::path activeCaptioning_;
    fs::path activeGeneration_;
    std::set<fs::path> seen_;
    std::vector<DiscoveredModel> models_;
};

void scanFolder(const fs::path& folder, Collector& collector)
{
    if (isModelFolder(folder)) {
        collector.add(folder.filename().string(), folder, ModelSource::ModelsFolder);
        return;
    }
    for (const fs::path& dir : sortedSubfolders(folder))
        if (isModelFolder(dir))
            collector.add(dir.filename().string(), dir, ModelSource::ModelsFolder);
}

void scanHubCache(const fs::path& cache, Collector& collector)
{
    for (const fs::path& repo : sortedSubfolders(cache)) {
        const std::string folder = repo.filename().string();
        if (!folder.starts_with("models--") || folder.size() <= std::string_view("models--").size())
            continue;
        std::vector<fs::path> snapshots = sortedSubfolders(repo / "snapshots");
        std::erase_if(snapshots, [](const fs::path& dir) { return !isModelFolder(dir); });
        for (const fs::path& snapshot : snapshots) {
            std::string name = repoName(folder);
            if (snapshots.size() > 1)
                name += '@' + snapshot.filename().string().substr(0, 8);
            collector.add(std::move(name), snapshot, ModelSource::HuggingFaceCache);
        }
    }
}

} // namespace

std::string modelDisplayName(const fs::path& dir)
{
    const fs::path normal = dir.lexically_normal();
    const fs::path clean = normal.has_filename() ? normal : normal.parent_path();
    const fs::path snapshots = clean.parent_path();
    const std::string repo = snapshots.parent_path().filename().string();
    if (snapshots.filename() == "snapshots" && repo.starts_with("models--") && repo.size() > 8)
        return repoName(repo);
    return clean.filename().string();
}

fs::path huggingFaceHubCache()
{
    if (const std::string cache = environment("HF_HUB_CACHE"); !cache.empty())
        return cache;
    if (const std::string home = environment("HF_HOME"); !home.empty())
        return fs::path(home) / "hub";
    const std::string home = environment("HOME");
    return home.empty() ? fs::path() : fs::path(home) / ".cache" / "huggingface" / "hub";
}

std::vector<DiscoveredModel> discoverModels(const ModelDiscoveryOptions& options)
{
    Collector collector(options);
    for (const fs::path& folder : options.folders)
        if (!folder.empty())
            scanFolder(folder, collector);
    if (!options.hubCache.empty())
        scanHubCache(options.hubCache, collector);
    return collector.take();
}

std::uint64_t sizeOnDisk(const fs::path& dir)
{
    std::set<std::pair<dev_t, ino_t>> counted;
    std::uint64_t total = 0;
    std::error_code error;
    for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, error), end;
         !error && it != end; it.increment(error)) {
        struct stat info { };
        // stat() follows the link to the blob; the (device, inode) pair counts each blob once.
        if (::stat(it->path().c_str(), &info) != 0 || !S_ISREG(info.st_mode))
            continue;
        if (counted.emplace(info.st_dev, info.st_ino).second)
            total += static_cast<std::uint64_t>(info.st_size);
    }
    return total;
}

ModelRole roleOfFamily(std::string_view family)
{
    if (family == "clip")
        return ModelRole::Embedding;
    if (family == "llava")
        return ModelRole::Captioning;
    if (family == "unclip")
        return ModelRole::Generation;
    return ModelRole::Unsupported;
}

} // namespace pictor
