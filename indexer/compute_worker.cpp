#include "indexer/compute_worker.h"

namespace pictor {

ComputeWorker::ComputeWorker() : thread_([this] { loop(); }) { }

ComputeWorker::~ComputeWorker()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        queue_.clear(); // destroying the packaged tasks breaks their promises
    }
    wake_.notify_all();
    thread_.join();
}

std::size_t ComputeWorker::queued() const
{
    std::lock_guard lock(mutex_);
    return queue_.size();
}

void ComputeWorker::enqueue(JobPriority priority, std::function<void()> work)
{
    {
        std::lock_guard lock(mutex_);
        queue_.emplace(std::pair {static_cast<int>(priority), sequence_++}, std::move(work));
    }
    wake_.notify_one();
}

void ComputeWorker::loop()
{
    for (;;) {
        std::function<void()> work;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_)
                return;
            auto next = queue_.begin();
            work = std::move(next->second);
            queue_.erase(next);
        }
        work(); // a packaged task: exceptions land in its future
    }
}

void runSteps(ComputeWorker& worker, JobPriority priority, CancelToken cancel, std::function<bool()> step,
    std::function<void(const StepsOutcome&)> done)
{
    worker.submit(
        priority, [&worker, priority, cancel, step = std::move(step), done = std::move(done)]() mutable {
            StepsOutcome outcome;
            try {
                if (cancel.cancelled())
                    outcome.cancelled = true;
                else if (!step()) {
                    runSteps(worker, priority, std::move(cancel), std::move(step), std::move(done));
                    return;
                }
            } catch (...) {
                outcome.error = std::current_exception();
            }
            done(outcome);
        });
}

bool runStepsAndWait(ComputeWorker* worker, JobPriority priority, const std::atomic<bool>* cancel,
    const std::function<bool()>& step)
{
    for (;;) {
        if (cancel && cancel->load())
            return true;
        if (worker ? worker->run(priority, step) : step())
            return false;
    }
}

} // namespace pictor
