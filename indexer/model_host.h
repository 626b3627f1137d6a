// The one home of the models: the compute worker they run on, the registry of model families, and the
// models loaded, each on first use and kept while used. When loading another would exceed the memory
// budget of the place it goes to (the computer's memory, or the GPU's), the least recently used idle
// models there are unloaded first; models left idle longer than the idle time are unloaded too (Immich's
// model cache: load on first use, unload when idle). A model in use (a shared_ptr held outside the host) is
// never unloaded, and a model larger than the whole budget still loads, with a warning. Search, captions
// and generation are its peers. No Qt and no Torch here.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/embedder.h"
#include "indexer/compute_worker.h"

namespace pictor {

// Where a model's weights live: each place has its own budget.
enum class MemoryPlace { Cpu, Gpu };

class ModelHost {
public:
    // Fills the registry; runs once, on the worker, before the first model loads (it loads LibTorch).
    using FamilyLoader = std::function<void(ModelRegistry&)>;
    // `budgetBytes` 0: no budget.
    explicit ModelHost(FamilyLoader loadFamilies, std::uint64_t budgetBytes = defaultBudget());
    // Stops the worker (its running job finishes), then unloads every model.
    ~ModelHost();
    ModelHost(const ModelHost&) = delete;
    ModelHost& operator=(const ModelHost&) = delete;

    ComputeWorker& worker() { return *worker_; }
    // Finishes the running job and drops the queued ones; for owners whose jobs reference objects about to
    // be destroyed. worker() must not be used afterwards.
    void stopWorker();

    // Worker thread only: the registry, its families loaded on first use.
    ModelRegistry& registry();

    // Worker thread only: the model of this folder and options, loaded now or kept from before. Keep the
    // shared_ptr while using the model: the host counts it as in use. Load errors are thrown.
    std::shared_ptr<ImageTextEmbedder> embedder(
        const std::filesystem::path& dir, const EmbedderOptions& options);
    std::shared_ptr<VisionChat> visionChat(
        const std::filesystem::path& dir, const VisionChatOptions& options);
    std::shared_ptr<ImageGenerator> imageGenerator(
        const std::filesystem::path& dir, const GeneratorOptions& options);

    // The generic form (worker thread only): the model under `key`, or `load()`'s result kept under it.
    // `bytes` is its memory in `place`, known before loading (what the budget counts).
    std::shared_ptr<void> acquire(const std::string& key, const std::string& description, std::uint64_t bytes,
        const std::function<std::shared_ptr<void>()>& load, MemoryPlace place = MemoryPlace::Cpu);

    // Unloads the models nobody holds that were last used more than the idle time before `now`; returns
    // how many. The window calls it now and then on the worker.
    int unloadIdle(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
    void setIdleTime(std::chrono::seconds idle); // 0: never unload for idleness
    std::chrono::seconds idleTime() const;

    // Any thread.
    struct LoadedModel {
        std::string key;
        std::string description; // "clip-tiny-a (embedding, CPU float32)"
        std::uint64_t bytes = 0;
        MemoryPlace place = MemoryPlace::Cpu;
        bool inUse = false;
    };
    std::vector<LoadedModel> loaded() const; // most recently used first
    std::uint64_t loadedBytes(MemoryPlace place = MemoryPlace::Cpu) const;
    std::uint64_t budget(MemoryPlace place = MemoryPlace::Cpu) const; // 0: none
    void setBudget(
        std::uint64_t bytes, MemoryPlace place = MemoryPlace::Cpu); // takes effect at the next load
    // Called on the worker thread with one line for a person ("model X (5.1 GB) is larger than the memory
    // budget of 4.0 GB: loaded anyway"), and with "" when the list of loaded models changed.
    void setListener(std::function<void(const std::string& warning)> listener);

    // Half of this machine's memory: room for the models next to the photos, the index and the window.
    static std::uint64_t defaultBudget();
    // Three quarters of the GPU's memory (the rest for activations and the CUDA context); 0 without a GPU.
    static std::uint64_t defaultGpuBudget();
    // Where a model with these options goes: "cuda", or "auto" when this build has a usable GPU.
    static MemoryPlace placeFor(const std::string& device);
    // The memory a model folder's weights take once loaded, from the safetensors headers (no data read):
    // float32 on the CPU, float16/bfloat16 elsewhere; for a diffusers pipeline its largest component (one
    // stage is held at a time).
    static std::uint64_t estimateBytes(const std::filesystem::path& dir, bool halfPrecision);

private:
    struct Entry {
        std::string key;
        std::string description;
        std::uint64_t bytes = 0;
        MemoryPlace place = MemoryPlace::Cpu;
        std::shared_ptr<void> model;
        std::chrono::steady_clock::time_point lastUsed;
    };
    void makeRoom(std::uint64_t bytes, MemoryPlace place, const std::string& description);
    void notify(const std::string& warning);

    FamilyLoader loadFamilies_;
    ModelRegistry registry_;
    bool familiesLoaded_ = false;
    mutable std::mutex mutex_; // guards entries_, budget_ and listener_ for readers on other threads
    std::list<Entry> entries_; // most recently used first
    std::uint64_t budget_ = 0;
    std::uint64_t gpuBudget_ = 0;
    std::chrono::seconds idleTime_ {0};
    std::function<void(const std::string&)> listener_;
    std::unique_ptr<ComputeWorker> worker_;
};

} // namespace pictor
