#include "indexer/model_host.h"

#include <algorithm>
#include <cstdio>

#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/model_discovery.h"
#include "core/safetensors.h"
#include "kernels/kernels.h"

namespace pictor {
namespace {

std::string gigabytes(std::uint64_t bytes)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.1f GB", static_cast<double>(bytes) / 1e9);
    return text;
}

// Weights of one checkpoint at the working precision (float tensors 4 or 2 bytes each, others as stored).
std::uint64_t checkpointBytes(const std::filesystem::path& fileOrFolder, bool halfPrecision)
{
    std::uint64_t total = 0;
    const Checkpoint checkpoint = Checkpoint::open(fileOrFolder);
    for (const TensorView* view : checkpoint.tensors()) {
        const bool floating = view->dtype == DType::F32 || view->dtype == DType::F16
            || view->dtype == DType::BF16 || view->dtype == DType::F64;
        total
            += floating ? static_cast<std::uint64_t>(view->numel()) * (halfPrecision ? 2 : 4) : view->nbytes;
    }
    return total;
}

std::string keyOf(const char* kind, const std::filesystem::path& dir, const std::string& options)
{
    std::error_code error;
    const auto canonical = std::filesystem::weakly_canonical(dir, error);
    return std::string(kind) + "|" + (error ? dir.lexically_normal() : canonical).string() + "|" + options;
}

bool wantsHalf(MemoryPlace place, const std::string& dtype = "auto")
{
    return place == MemoryPlace::Gpu || dtype == "bfloat16" || dtype == "float16";
}

const char* placeName(MemoryPlace place)
{
    return place == MemoryPlace::Gpu ? "GPU memory" : "memory";
}

} // namespace

ModelHost::ModelHost(FamilyLoader loadFamilies, std::uint64_t budgetBytes)
    : loadFamilies_(std::move(loadFamilies)),
      budget_(budgetBytes),
      gpuBudget_(budgetBytes ? defaultGpuBudget() : 0),
      worker_(std::make_unique<ComputeWorker>())
{
}

ModelHost::~ModelHost()
{
    stopWorker();
    std::lock_guard lock(mutex_);
    entries_.clear();
}

void ModelHost::stopWorker()
{
    worker_.reset();
}

ModelRegistry& ModelHost::registry()
{
    if (!familiesLoaded_ && loadFamilies_) {
        loadFamilies_(registry_);
        familiesLoaded_ = true;
    }
    return registry_;
}

std::uint64_t ModelHost::defaultBudget()
{
    const long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || pageSize <= 0)
        return 0;
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(pageSize) / 2;
}

std::uint64_t ModelHost::defaultGpuBudget()
{
    return kernels::cudaTotalMemory() / 4 * 3;
}

MemoryPlace ModelHost::placeFor(const std::string& device)
{
    return device == "cuda" || (device == "auto" && kernels::cudaAvailable()) ? MemoryPlace::Gpu
                                                                              : MemoryPlace::Cpu;
}

std::uint64_t ModelHost::estimateBytes(const std::filesystem::path& dir, bool halfPrecision)
{
    try {
        if (!std::filesystem::exists(dir / "model_index.json"))
            return checkpointBytes(dir, halfPrecision);
        std::uint64_t largest = 0;
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            if (!entry.is_directory())
                continue;
            for (const char* name : {"diffusion_pytorch_model.safetensors", "model.safetensors"})
                if (std::filesystem::exists(entry.path() / name))
                    largest = std::max(largest, checkpointBytes(entry.path() / name, halfPrecision));
        }
        return largest;
    } catch (const std::exception&) {
        return 0; // the load reports what is wrong with the folder
    }
}

std::shared_ptr<void> ModelHost::acquire(const std::string& key, const std::string& description,
    std::uint64_t bytes, const std::function<std::shared_ptr<void>()>& load, MemoryPlace place)
{
    {
        std::lock_guard lock(mutex_);
        auto it
            = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key == key; });
        if (it != entries_.end()) {
            entries_.splice(entries_.begin(), entries_, it); // most recently used
            it->lastUsed = std::chrono::steady_clock::now();
            return it->model;
        }
    }
    makeRoom(bytes, place, description);
    std::shared_ptr<void> model = load(); // throws: nothing is kept
    {
        std::lock_guard lock(mutex_);
        entries_.push_front({key, description, bytes, place, model, std::chrono::steady_clock::now()});
    }
    const std::uint64_t limit = budget(place);
    PICTOR_LOG_INFO("model host: loaded ", description, " (", gigabytes(bytes), "; ",
        gigabytes(loadedBytes(place)), " of ", limit ? gigabytes(limit) : "no", " ", placeName(place),
        " budget)");
    notify("");
    return model;
}

int ModelHost::unloadIdle(std::chrono::steady_clock::time_point now)
{
    std::vector<std::shared_ptr<void>> unloaded; // freed outside the lock
    {
        std::lock_guard lock(mutex_);
        if (idleTime_.count() <= 0)
            return 0;
        for (auto it = entries_.begin(); it != entries_.end();) {
            if (it->model.use_count() == 1 && now - it->lastUsed > idleTime_) {
                PICTOR_LOG_INFO(
                    "model host: unloading ", it->description, ", idle for over ", idleTime_.count(), " s");
                unloaded.push_back(std::move(it->model));
                it = entries_.erase(it);
            } else {
                ++it;
            }
        }
    }
    const int count = static_cast<int>(unloaded.size());
    unloaded.clear();
    if (count > 0)
        notify("");
    return count;
}

void ModelHost::setIdleTime(std::chrono::seconds idle)
{
    std::lock_guard lock(mutex_);
    idleTime_ = idle;
}

std::chrono::seconds ModelHost::idleTime() const
{
    std::lock_guard lock(mutex_);
    return idleTime_;
}

void ModelHost::makeRoom(std::uint64_t bytes, MemoryPlace place, const std::string& description)
{
    std::vector<std::shared_ptr<void>> unloaded; // freed outside the lock
    std::string warning;
    {
        std::lock_guard lock(mutex_);
        const std::uint64_t limit = place == MemoryPlace::Gpu ? gpuBudget_ : budget_;
        if (limit == 0)
            return;
        std::uint64_t used = 0;
        for (const Entry& e : entries_)
            if (e.place == place)
                used += e.bytes;
        // Least recently used first; a model someone holds (use_count > 1) stays.
        for (auto it = entries_.end(); it != entries_.begin() && used + bytes > limit;) {
            --it;
            if (it->place != place || it->model.use_count() > 1)
                continue;
            PICTOR_LOG_INFO("model host: unloading ", it->description, " to make room for ", description);
            used -= it->bytes;
            unloaded.push_back(std::move(it->model));
            it = entries_.erase(it);
        }
        const std::string budgetName
            = std::string("the ") + placeName(place) + " budget of " + gigabytes(limit);
        if (bytes > limit)
            warning = "model " + description + " (" + gigabytes(bytes) + ") is larger than " + budgetName
                + ": loaded anyway";
        else if (used + bytes > limit)
            warning = "models in use take " + gigabytes(used) + "; with " + description + " ("
                + gigabytes(bytes) + ") they exceed " + budgetName;
    }
    unloaded.clear();
    if (!warning.empty()) {
        PICTOR_LOG_WARN(warning);
        notify(warning);
    }
}

void ModelHost::notify(const std::string& warning)
{
    std::function<void(const std::string&)> listener;
    {
        std::lock_guard lock(mutex_);
        listener = listener_;
    }
    if (listener)
        listener(warning);
}

namespace {

// A registry model kept by the host under `kind`; its description names where it runs once loaded
// ("clip-vit-b32 (embedding, CPU float32)").
template <class Model, class Load>
std::shared_ptr<Model> acquireModel(ModelHost& host, const char* kind, const char* role,
    const std::filesystem::path& dir, const std::string& settings, std::uint64_t bytes, MemoryPlace place,
    Load load)
{
    const std::string name = dir.filename().string();
    std::string description = name + " (" + role + ")";
    auto model = host.acquire(
        keyOf(kind, dir, settings), description, bytes,
        [&]() -> std::shared_ptr<void> {
            std::shared_ptr<Model> loaded(load());
            description = name + " (" + role + ", " + loaded->deviceDescription() + ")";
            return loaded;
        },
        place);
    return std::static_pointer_cast<Model>(model);
}

} // namespace

std::shared_ptr<ImageTextEmbedder> ModelHost::embedder(
    const std::filesystem::path& dir, const EmbedderOptions& options)
{
    const std::string settings = options.device + "/" + options.dtype + "/"
        + std::to_string(options.cpuThreads) + "/" + std::to_string(options.maxBatch);
    const MemoryPlace place = placeFor(options.device);
    return acquireModel<ImageTextEmbedder>(*this, "embedding", "embedding", dir, settings,
        estimateBytes(dir, wantsHalf(place, options.dtype)), place,
        [&] { return registry().loadEmbedder(dir, options); });
}

std::shared_ptr<VisionChat> ModelHost::visionChat(
    const std::filesystem::path& dir, const VisionChatOptions& options)
{
    const std::string settings
        = options.device + "/" + options.dtype + "/" + std::to_string(options.cpuThreads);
    const MemoryPlace place = placeFor(options.device);
    return acquireModel<VisionChat>(*this, "chat", "captions and questions", dir, settings,
        estimateBytes(dir, wantsHalf(place, options.dtype)), place,
        [&] { return registry().loadVisionChat(dir, options); });
}

std::shared_ptr<ImageGenerator> ModelHost::imageGenerator(
    const std::filesystem::path& dir, const GeneratorOptions& options)
{
    const std::string settings
        = options.device + "/" + options.dtype + "/" + std::to_string(options.cpuThreads);
    const MemoryPlace place = placeFor(options.device);
    return acquireModel<ImageGenerator>(*this, "generator", "pictures", dir, settings,
        estimateBytes(dir, wantsHalf(place, options.dtype)), place,
        [&] { return registry().loadImageGenerator(dir, options); });
}

std::vector<ModelHost::LoadedModel> ModelHost::loaded() const
{
    std::lock_guard lock(mutex_);
    std::vector<LoadedModel> out;
    for (const Entry& e : entries_)
        out.push_back({e.key, e.description, e.bytes, e.place, e.model.use_count() > 1});
    return out;
}

std::uint64_t ModelHost::loadedBytes(MemoryPlace place) const
{
    std::lock_guard lock(mutex_);
    std::uint64_t total = 0;
    for (const Entry& e : entries_)
        if (e.place == place)
            total += e.bytes;
    return total;
}

std::uint64_t ModelHost::budget(MemoryPlace place) const
{
    std::lock_guard lock(mutex_);
    return place == MemoryPlace::Gpu ? gpuBudget_ : budget_;
}

void ModelHost::setBudget(std::uint64_t bytes, MemoryPlace place)
{
    std::lock_guard lock(mutex_);
    (place == MemoryPlace::Gpu ? gpuBudget_ : budget_) = bytes;
}

void ModelHost::setListener(std::function<void(const std::string&)> listener)
{
    std::lock_guard lock(mutex_);
    listener_ = std::move(listener);
}

} // namespace pictor
