#ifndef ASIOPG_POOL_POOLED_CONNECTION_HPP
#define ASIOPG_POOL_POOLED_CONNECTION_HPP

#include <asiopg/connection.hpp>

#include <cstdint>
#include <memory>
#include <utility>

namespace asiopg {

namespace detail { class pool_impl; }

/// A connection borrowed from a `connection_pool`; it goes back to the pool when this handle is
/// destroyed (or `release()`d), whatever state it is in:
/// - idle: reset with the pool's `reset_query` (in the background) and reused;
/// - inside a transaction block (also a failed one): rolled back, reset, reused;
/// - closed, broken, or with an operation still running: closed, and replaced in the
///   background when the pool needs it.
/// The slot is never leaked. Move-only; a default-constructed or moved-from handle is empty.
///
/// \par Lifetime
/// The handle keeps the pool's state alive: it may outlive the `connection_pool` object (the
/// connection is then closed when returned). The `connection&` it gives must not be used after
/// the handle is released.
///
/// \par Thread safety
/// Like the connection: use one handle from one thread at a time. Releasing it is safe from any
/// thread. The connection's executor is a strand of the pool's executor.
class pooled_connection {
public:
    pooled_connection() noexcept = default;
    pooled_connection(pooled_connection&& other) noexcept
        : pool_(std::move(other.pool_)), conn_(std::exchange(other.conn_, nullptr)), node_(other.node_) {}
    pooled_connection& operator=(pooled_connection&& other) noexcept {
        if (this != &other) {
            release();
            pool_ = std::move(other.pool_);
            conn_ = std::exchange(other.conn_, nullptr);
            node_ = other.node_;
        }
        return *this;
    }
    pooled_connection(const pooled_connection&) = delete;
    pooled_connection& operator=(const pooled_connection&) = delete;
    /// Returns the connection to the pool (see the class description).
    ~pooled_connection() { release(); }

    /// True when the handle holds a connection.
    bool valid() const noexcept { return conn_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }

    /// The connection. Precondition: `valid()`.
    connection& get() const noexcept { return *conn_; }
    connection& operator*() const noexcept { return *conn_; }
    connection* operator->() const noexcept { return conn_; }

    /// Returns the connection now (as the destructor does); the handle becomes empty.
    void release() noexcept { give_back(true); }

    /// Returns the connection now without running the reset query: for a borrower that knows
    /// it changed no session state. A connection inside a transaction is still rolled back,
    /// and a broken one still discarded.
    void return_without_reset() noexcept { give_back(false); }

private:
    friend class detail::pool_impl;
    pooled_connection(std::shared_ptr<detail::pool_impl> pool, connection* conn, std::uint64_t node) noexcept
        : pool_(std::move(pool)), conn_(conn), node_(node) {}

    void give_back(bool reset) noexcept {
        if (!conn_) return;
        conn_ = nullptr;
        give_back(std::move(pool_), node_, reset);
    }
    static void give_back(std::shared_ptr<detail::pool_impl> pool, std::uint64_t node, bool reset) noexcept;

    std::shared_ptr<detail::pool_impl> pool_;
    connection* conn_ = nullptr;
    std::uint64_t node_ = 0;
};

} // namespace asiopg

#endif
