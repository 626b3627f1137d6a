// The compute worker: one thread that runs model work (query embeddings, indexing batches, captions,
// generation steps) one job at a time, highest priority first. Long jobs submit one slice at a time
// (a batch, a token, a step), so an interactive job waits at most one slice (DESIGN.md "Threads and jobs").
// No Qt and no Torch here: the CLI, the indexer and the desktop app share it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
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

// The one cancel flag of jobs (searches, answers, captions, index runs, generations): cancel() from any
// thread; the job checks cancelled() between its steps and hands flag() to the engine APIs that take an
// atomic (AnswerOptions::cancel, IndexOptions::cancel, GenerationRequest::cancel). Copies share the flag.
class CancelToken {
public:
    CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) { }
    void cancel() const { flag_->store(true); }
    bool cancelled() const { return flag_->load(); }
    const std::atomic<bool>* flag() const { return flag_.get(); }

private:
    std::shared_ptr<std::atomic<bool>> flag_;
};

// Work as a stream of steps on the worker (an answer's slices, a diffusion step): each call of `step` is
// one job, and the next is queued behind any job of higher priority (a search typed meanwhile), until `step`
// returns true. Cancel is checked before every step. `done` runs on the worker at the end: cancelled, or
// with the exception a step threw.
struct StepsOutcome {
    bool cancelled = false;
    std::exception_ptr error;
};
void runSteps(ComputeWorker& worker, JobPriority priority, CancelToken cancel, std::function<bool()> step,
    std::function<void(const StepsOutcome&)> done);

// The same for a thread that waits for the end (a batch job's thread), or on the calling thread when there
// is no worker; a step's exception reaches the caller. Returns whether it stopped on `cancel`.
bool runStepsAndWait(ComputeWorker* worker, JobPriority priority, const std::atomic<bool>* cancel,
    const std::function<bool()>& step);

} // namespace pictor
