#ifndef ASIOPG_POOL_POOL_STATS_HPP
#define ASIOPG_POOL_POOL_STATS_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace asiopg {

/// A snapshot of a `connection_pool` (`connection_pool::stats()`).
struct pool_stats {
    // Now.
    std::size_t size = 0;      ///< connections open or being opened, reset or checked
    std::size_t idle = 0;      ///< ready in the pool (aiopg's `freesize`)
    std::size_t borrowed = 0;  ///< handed out and not yet returned
    std::size_t opening = 0;   ///< being connected
    std::size_t waiting = 0;   ///< `async_acquire` calls waiting for a connection
    // Since the pool was created.
    std::uint64_t acquires = 0;              ///< connections handed out
    std::uint64_t acquire_timeouts = 0;      ///< acquires that failed after the acquire timeout
    std::uint64_t acquire_cancellations = 0; ///< acquires cancelled while waiting
    std::uint64_t connections_opened = 0;
    std::uint64_t connections_closed = 0;    ///< closed by the pool (broken, old, idle, shutdown)
    std::uint64_t connect_failures = 0;
    std::uint64_t resets = 0;                ///< connections reset on return
    std::uint64_t health_check_failures = 0;
    std::uint64_t dead_on_acquire = 0;       ///< idle connections found dead when about to be handed out
    /// `async_execute` statements that joined a connection other statements were using
    /// (`pool_params::max_statements_per_connection`); also counted in `acquires`.
    std::uint64_t shared_acquires = 0;
    std::chrono::nanoseconds acquire_wait_total{0}; ///< summed over all acquires handed a connection
    std::chrono::nanoseconds acquire_wait_max{0};
};

} // namespace asiopg

#endif
