// A byte budget shared by threads: each takes a lease on what it is about to allocate and waits while
// the others hold the rest. The indexer's decode threads use it so that peak memory stays bounded
// whatever the thread count (a 100-megapixel PNG needs about 300 MB to decode; four at once would need
// four times that).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace pictor {

class MemoryBudget {
public:
    explicit MemoryBudget(std::int64_t capacityBytes);

    // What a thread holds; released by its destructor.
    class Lease {
    public:
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&&) = delete;
        ~Lease();
        // Holds `extra` bytes more. When they are not free, it lets go of what it holds and waits for the
        // total (never holding part of the budget while it waits, so two growing leases cannot deadlock).
        void grow(std::int64_t extra);
        std::int64_t bytes() const { return bytes_; }

    private:
        friend class MemoryBudget;
        Lease(MemoryBudget& budget, std::int64_t bytes) : budget_(&budget), bytes_(bytes) { }
        MemoryBudget* budget_;
        std::int64_t bytes_;
    };

    // Waits until `bytes` are free. A request over the capacity is clamped to it: such a file is decoded
    // alone rather than never.
    Lease acquire(std::int64_t bytes);

    std::int64_t capacity() const { return capacity_; }
    std::int64_t inUse() const;
    std::int64_t peak() const; // the most ever held at once

private:
    std::int64_t clamp(std::int64_t bytes) const;
    void take(std::unique_lock<std::mutex>& lock, std::int64_t bytes);
    void release(std::int64_t bytes);

    const std::int64_t capacity_;
    mutable std::mutex mutex_;
    std::condition_variable freed_;
    std::int64_t inUse_ = 0;
    std::int64_t peak_ = 0;
};

} // namespace pictor
