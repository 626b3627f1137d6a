// The compute worker: priority order, results and exceptions through futures, inline runs on its own
// thread, and shutdown with jobs still queued.
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "indexer/compute_worker.h"

namespace pictor {
namespace {

TEST(ComputeWorker, RunsHigherPrioritiesFirstAndEqualOnesInOrder)
{
    ComputeWorker worker;
    std::promise<void> gate, started;
    auto blocker = worker.submit(JobPriority::Bulk, [&started, opened = gate.get_future().share()] {
        started.set_value();
        opened.wait();
    });
    started.get_future().wait(); // the blocker runs: everything below queues behind it
    std::vector<std::string> order; // written only on the worker thread
    std::vector<std::future<void>> jobs;
    auto add = [&](JobPriority priority, std::string name) {
        jobs.push_back(worker.submit(priority, [&order, name] { order.push_back(name); }));
    };
    add(JobPriority::Bulk, "bulk-1");
    add(JobPriority::Generation, "generation");
    add(JobPriority::Bulk, "bulk-2");
    add(JobPriority::Interactive, "query-1");
    add(JobPriority::Chat, "chat");
    add(JobPriority::Interactive, "query-2");
    EXPECT_EQ(worker.queued(), 6u);
    gate.set_value();
    for (auto& job : jobs)
        job.get();
    EXPECT_EQ(
        order, (std::vector<std::string> {"query-1", "query-2", "chat", "generation", "bulk-1", "bulk-2"}));
}

TEST(ComputeWorker, ResultsAndExceptionsArriveThroughTheFuture)
{
    ComputeWorker worker;
    EXPECT_EQ(worker.submit(JobPriority::Interactive, [] { return 42; }).get(), 42);
    EXPECT_EQ(worker.run(JobPriority::Bulk, [] { return std::string("done"); }), "done");
    auto failing
        = worker.submit(JobPriority::Bulk, []() -> int { throw std::runtime_error("model failed"); });
    EXPECT_THROW(failing.get(), std::runtime_error);
    // The worker survives a failed job.
    EXPECT_EQ(worker.run(JobPriority::Interactive, [] { return 7; }), 7);
}

TEST(ComputeWorker, RunFromTheWorkerThreadRunsInline)
{
    ComputeWorker worker;
    const int result = worker.run(JobPriority::Bulk, [&] {
        EXPECT_TRUE(worker.onWorkerThread());
        return worker.run(JobPriority::Interactive, [] { return 5; }) + 1; // would deadlock if queued
    });
    EXPECT_EQ(result, 6);
    EXPECT_FALSE(worker.onWorkerThread());
}

TEST(ComputeWorker, ShutdownFinishesTheRunningJobAndBreaksQueuedOnes)
{
    std::future<int> running, queued;
    std::promise<void> started, gate;
    {
        ComputeWorker worker;
        running = worker.submit(JobPriority::Bulk, [&, opened = gate.get_future().share()] {
            started.set_value();
            opened.wait();
            return 1;
        });
        queued = worker.submit(JobPriority::Bulk, [] { return 2; });
        started.get_future().wait();
        std::thread release([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            gate.set_value();
        });
        release.detach();
    } // the destructor waits for the running job
    EXPECT_EQ(running.get(), 1);
    try {
        queued.get();
        ADD_FAILURE() << "a queued job ran after shutdown";
    } catch (const std::future_error& e) {
        EXPECT_EQ(e.code(), std::future_errc::broken_promise);
    }
}

// The one slice loop: each step is its own job, so a search submitted meanwhile runs between two steps;
// cancel is checked before every step; a step's exception reaches the end.
TEST(ComputeWorker, StepsLetOtherJobsInBetweenAndStopOnCancel)
{
    ComputeWorker worker;
    std::vector<std::string> order; // worker thread only
    std::promise<StepsOutcome> finished;
    int steps = 0;
    runSteps(
        worker, JobPriority::Chat, CancelToken(),
        [&] {
            order.push_back("step" + std::to_string(++steps));
            if (steps == 1) // a search arrives while the first step runs
                worker.submit(JobPriority::Interactive, [&] { order.push_back("search"); });
            return steps == 3;
        },
        [&](const StepsOutcome& outcome) { finished.set_value(outcome); });
    const StepsOutcome outcome = finished.get_future().get();
    EXPECT_FALSE(outcome.cancelled);
    EXPECT_FALSE(outcome.error);
    EXPECT_EQ(order, (std::vector<std::string> {"step1", "search", "step2", "step3"}));

    const CancelToken cancel;
    std::promise<StepsOutcome> stopped;
    int ran = 0;
    runSteps(
        worker, JobPriority::Chat, cancel,
        [&] {
            if (++ran == 2)
                cancel.cancel();
            return false;
        },
        [&](const StepsOutcome& o) { stopped.set_value(o); });
    EXPECT_TRUE(stopped.get_future().get().cancelled);
    EXPECT_EQ(ran, 2);

    std::promise<StepsOutcome> failed;
    runSteps(
        worker, JobPriority::Chat, CancelToken(), []() -> bool { throw std::runtime_error("bad step"); },
        [&](const StepsOutcome& o) { failed.set_value(o); });
    EXPECT_THROW(std::rethrow_exception(failed.get_future().get().error), std::runtime_error);

    // Waiting from another thread, or inline without a worker.
    int waited = 0;
    EXPECT_FALSE(runStepsAndWait(&worker, JobPriority::Chat, nullptr, [&] { return ++waited == 4; }));
    EXPECT_EQ(waited, 4);
    const CancelToken already;
    already.cancel();
    EXPECT_TRUE(runStepsAndWait(nullptr, JobPriority::Chat, already.flag(), [] { return false; }));
}

} // namespace
} // namespace pictor
