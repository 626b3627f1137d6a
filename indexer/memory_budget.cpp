#include "indexer/memory_budget.h"

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace pictor {

MemoryBudget::MemoryBudget(std::int64_t capacityBytes) : capacity_(capacityBytes)
{
    PICTOR_CHECK(capacityBytes > 0, "a memory budget needs a positive capacity, not ", capacityBytes);
}

std::int64_t MemoryBudget::clamp(std::int64_t bytes) const
{
    return std::clamp<std::int64_t>(bytes, 0, capacity_);
}

void MemoryBudget::take(std::unique_lock<std::mutex>& lock, std::int64_t bytes)
{
    freed_.wait(lock, [&] { return inUse_ + bytes <= capacity_; });
    inUse_ += bytes;
    peak_ = std::max(peak_, inUse_);
}

void MemoryBudget::release(std::int64_t bytes)
{
    if (bytes == 0)
        return;
    {
        const std::lock_guard lock(mutex_);
        inUse_ -= bytes;
    }
    freed_.notify_all();
}

MemoryBudget::Lease MemoryBudget::acquire(std::int64_t bytes)
{
    bytes = clamp(bytes);
    std::unique_lock lock(mutex_);
    take(lock, bytes);
    return Lease(*this, bytes);
}

std::int64_t MemoryBudget::inUse() const
{
    const std::lock_guard lock(mutex_);
    return inUse_;
}

std::int64_t MemoryBudget::peak() const
{
    const std::lock_guard lock(mutex_);
    return peak_;
}

MemoryBudget::Lease::Lease(Lease&& other) noexcept
    : budget_(other.budget_), bytes_(std::exchange(other.bytes_, 0))
{
}

MemoryBudget::Lease::~Lease()
{
    budget_->release(bytes_);
}

void MemoryBudget::Lease::grow(std::int64_t extra)
{
    const std::int64_t total = budget_->clamp(bytes_ + std::max<std::int64_t>(extra, 0));
    std::unique_lock lock(budget_->mutex_);
    if (budget_->inUse_ + (total - bytes_) <= budget_->capacity_) {
        budget_->inUse_ += total - bytes_;
        budget_->peak_ = std::max(budget_->peak_, budget_->inUse_);
        bytes_ = total;
        return;
    }
    budget_->inUse_ -= bytes_; // let go, then wait for the whole
    bytes_ = 0;
    budget_->freed_.notify_all();
    budget_->take(lock, total);
    bytes_ = total;
}

} // namespace pictor
