// Internal: what the pool keeps for each waiting acquire, by waiter id.
//
// Ids are handed out in increasing order and mostly leave in that order (first come, first
// served), so they index a ring of slots: once the ring has grown to the longest queue, a
// waiter costs no allocation (an unordered_map allocated a node for each, a tenth of a pooled
// query's allocations). A waiter taken out may come back (its connection died before it got it)
// under its old id, older than the others: the ring then grows at the front.
#ifndef ASIOPG_POOL_SRC_WAITER_TABLE_HPP
#define ASIOPG_POOL_SRC_WAITER_TABLE_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace asiopg::detail {

template <class T>
class waiter_table {
public:
    using id_type = std::uint64_t;

    /// Stores `value` under `id`, which is not in the table.
    void insert(id_type id, T value) {
        if (count_ == 0) {
            reserve(1);
            base_ = id;
            count_ = 1;
        } else if (id < base_) {
            const std::size_t more = static_cast<std::size_t>(base_ - id);
            reserve(count_ + more);
            head_ = (head_ + ring_.size() - more) & mask();
            base_ = id;
            count_ += more;
        } else if (id - base_ >= count_) {
            const std::size_t span = static_cast<std::size_t>(id - base_) + 1;
            reserve(span);
            count_ = span;
        }
        slot(static_cast<std::size_t>(id - base_)).emplace(std::move(value));
        ++size_;
    }

    /// Takes out what `id` holds; nullopt if nothing.
    std::optional<T> take(id_type id) {
        std::optional<T> out;
        if (id < base_ || id - base_ >= count_) return out;
        std::optional<T>& s = slot(static_cast<std::size_t>(id - base_));
        if (!s) return out;
        out.emplace(std::move(*s));
        s.reset();
        --size_;
        // Empty slots at either end are given back to the ring.
        while (count_ > 0 && !slot(0)) {
            head_ = (head_ + 1) & mask();
            ++base_;
            --count_;
        }
        while (count_ > 0 && !slot(count_ - 1)) --count_;
        return out;
    }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

private:
    std::size_t mask() const noexcept { return ring_.size() - 1; }
    std::optional<T>& slot(std::size_t i) noexcept { return ring_[(head_ + i) & mask()]; }

    // Room for `span` consecutive ids from base_ (a power of two, so that wrapping is a mask).
    void reserve(std::size_t span) {
        if (span <= ring_.size()) return;
        std::size_t cap = ring_.empty() ? 16 : ring_.size();
        while (cap < span) cap *= 2;
        std::vector<std::optional<T>> bigger(cap);
        for (std::size_t i = 0; i < count_; ++i)
            if (std::optional<T>& s = slot(i)) bigger[i].emplace(std::move(*s));
        ring_ = std::move(bigger);
        head_ = 0;
    }

    std::vector<std::optional<T>> ring_; // every slot outside [head_, head_ + count_) is empty
    std::size_t head_ = 0;               // ring index of base_
    std::size_t count_ = 0;              // ids base_ … base_ + count_ - 1 have a slot
    std::size_t size_ = 0;               // slots holding a value
    id_type base_ = 0;
};

} // namespace asiopg::detail

#endif
