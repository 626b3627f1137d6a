// The decode threads' byte budget: never more than its capacity held at once, an oversized request runs
// alone instead of never, and leases that grow while others hold the rest do not deadlock.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "indexer/memory_budget.h"

namespace pictor {
namespace {

TEST(MemoryBudget, HoldsNoMoreThanItsCapacity)
{
    MemoryBudget budget(100);
    std::atomic<std::int64_t> held {0};
    std::atomic<std::int64_t> mostHeld {0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                MemoryBudget::Lease lease = budget.acquire(10 + (t * 7 + i) % 25);
                lease.grow((t + i) % 30);
                const auto now = held += lease.bytes();
                for (auto most = mostHeld.load(); now > most && !mostHeld.compare_exchange_weak(most, now);) {
                }
                std::this_thread::yield();
                held -= lease.bytes();
            }
        });
    for (auto& thread : threads)
        thread.join();
    EXPECT_LE(mostHeld.load(), 100);
    EXPECT_LE(budget.peak(), 100);
    EXPECT_GT(budget.peak(), 50) << "the threads did run side by side";
    EXPECT_EQ(budget.inUse(), 0);
}

TEST(MemoryBudget, AnOversizedRequestRunsAlone)
{
    MemoryBudget budget(100);
    MemoryBudget::Lease small = budget.acquire(30);
    std::atomic<bool> started {false};
    std::thread big([&] {
        MemoryBudget::Lease lease = budget.acquire(1000); // clamped to the capacity: waits for the others
        started = true;
        EXPECT_EQ(lease.bytes(), 100);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(started) << "it must wait while another lease is held";
    {
        MemoryBudget::Lease released = std::move(small);
    }
    big.join();
    EXPECT_TRUE(started);
    EXPECT_EQ(budget.inUse(), 0);
}

// Each holds 60 of 100 and asks for 30 more: a lease that waited while holding its part would deadlock.
TEST(MemoryBudget, GrowingLeasesDoNotDeadlock)
{
    MemoryBudget budget(100);
    std::vector<std::thread> threads;
    std::atomic<int> done {0};
    for (int t = 0; t < 2; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                MemoryBudget::Lease lease = budget.acquire(45);
                lease.grow(40);
                EXPECT_EQ(lease.bytes(), 85);
            }
            ++done;
        });
    for (auto& thread : threads)
        thread.join();
    EXPECT_EQ(done, 2);
    EXPECT_EQ(budget.inUse(), 0);
}

} // namespace
} // namespace pictor
