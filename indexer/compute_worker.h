// The compute worker: one thread that runs model work (query embeddings, indexing batches, captions,
// generation steps) one job at a time, highest priority first. Long jobs submit one slice at a time
// (a batch, a token, a step), so an interactive job waits at most one slice (DESIGN.md "Threads and jobs").
// No Qt and no Torch here: the CLI, the indexer and the desktop app share it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>

namespace pictor {

// Lower runs first; equal priorities run in submission order.
enum class JobPriority { Interactive = 0, Chat = 1, Generation = 2, Bulk = 3 };

class ComputeWorker {
public:
    ComputeWorker();
    // Finishes the running job; queued jobs are dropped (their futures report broken_promise).
    ~ComputeWorker();
    ComputeWorker(const ComputeWorker&) = delete;
    ComputeWorker& operator=(const ComputeWorker&) = delete;

    // Runs `job` on the worker thread; its result or exception arrives through the future.
    template <class Job> auto submit(JobPriority priority, Job job) -> std::future<std::invoke_result_t<Job>>
    {
        using Result = std::invoke_result_t<Job>;
        auto task = std::make_shared<std::packaged_task<Result()>>(std::move(job));
        auto future = task->get_future();
        enqueue(priority, [task] { (*task)(); });
        return future;
    }

    // submit() and wait: the calling thread blocks, the work runs on the worker thread. Called from the
    // worker thread itself it runs inline (no deadlock).
    template <class Job> auto run(JobPriority priority, Job job) -> std::invoke_result_t<Job>
    {
        if (onWorkerThread())
            return job();
        return submit(priority, std::move(job)).get();
    }

    bool onWorkerThread() const { return std::this_thread::get_id() == thread_.get_id(); }
    std::size_t queued() const;

private:
    void enqueue(JobPriority priority, std::function<void()> work);
    void loop();

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    // (priority, sequence) -> work: the smallest key runs next.
    std::map<std::pair<int, std::uint64_t>, std::function<void()>> queue_;
    std::uint64_t sequence_ = 0;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace pictor
