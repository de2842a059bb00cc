#ifndef ASIOPG_POOL_CONNECTION_POOL_HPP
#define ASIOPG_POOL_CONNECTION_POOL_HPP

#include <asiopg/detail/erase_handler.hpp>
#include <asiopg/connection.hpp>
#include <asiopg/detail/initiate.hpp>
#include <asiopg/diagnostics.hpp>
#include <asiopg/error.hpp>
#include <asiopg/param_buffer.hpp>
#include <asiopg/params.hpp>
#include <asiopg/pool/pool_params.hpp>
#include <asiopg/pool/pool_stats.hpp>
#include <asiopg/pool/pooled_connection.hpp>
#include <asiopg/result.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/execution_context.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace asiopg {

/// A pool of connections to one server (or one multi-host conninfo), shared by many tasks and
/// threads: aiopg's `Pool`, with what it lacked.
///
/// The pool opens `min_size` connections in the background as soon as it is constructed and
/// keeps them open; it grows on demand to `max_size`, connecting outside any lock and never
/// on a waiter's path; waiters are served first come, first served. Returned connections are
/// reset (see `pooled_connection`); idle ones are health-checked, recycled after
/// `max_lifetime` and closed after `max_idle_time`; dead ones (a terminated backend, a server
/// restart) are noticed before they are handed out and replaced. While the server cannot be
/// reached, connects are retried with exponential back-off.
///
/// Its background work (connects, checks, timers) keeps the execution context busy until the
/// pool is closed: call `close()`/`async_close()` (the destructor calls `close()`).
///
/// \par Thread safety
/// All member functions may be called concurrently from any thread (an `io_context` run by
/// several threads). Each connection gets its own strand of the pool's executor — unless that
/// executor is a strand already or belongs to an `io_context` created with concurrency hint 1
/// (`io_context ctx(1)`), which must then be run by one thread only.
///
/// \par Errors
/// `async_acquire` fails with `client_errc::pool_exhausted` when no connection came free within
/// `acquire_timeout`; when the server could not be reached meanwhile, with the last connect
/// error instead (its diagnostics say why: "Connection refused", a bad password …) — at once
/// if the server refused us for good (authentication, unknown database). After `close()`:
/// `client_errc::pool_closed`.
class connection_pool {
public:
    using executor_type = boost::asio::any_io_executor;

    /// Creates the pool and starts opening `params.min_size` connections on `ex`.
    connection_pool(executor_type ex, pool_params params);
    template <class ExecutionContext,
              class = std::enable_if_t<std::is_convertible_v<ExecutionContext&,
                                                             boost::asio::execution_context&>>>
    connection_pool(ExecutionContext& ctx, pool_params params)
        : connection_pool(executor_type(ctx.get_executor()), std::move(params)) {}

    /// A moved-from pool may only be destroyed or assigned to.
    connection_pool(connection_pool&&) noexcept = default;
    /// Closes the pool this one held, then takes `other`'s.
    connection_pool& operator=(connection_pool&& other) noexcept;
    connection_pool(const connection_pool&) = delete;
    connection_pool& operator=(const connection_pool&) = delete;
    /// Calls `close()`. Borrowed connections stay usable; they are closed when returned.
    ~connection_pool();

    executor_type get_executor() const noexcept;

    /// Borrows a connection. Signature: `void(error_code, pooled_connection)`.
    /// Waits at most `acquire_timeout` (see the class description for errors). Supports every
    /// cancellation type (per-operation cancellation): a cancelled waiter completes with
    /// `asio::error::operation_aborted` (and the last connect error in the diagnostics, if
    /// any) and leaves the queue. Never completes inside this call.
    template <class Token = boost::asio::deferred_t>
    auto async_acquire(Token&& token = {}) {
        return detail::initiate<void(error_code, pooled_connection)>(acquire_initiation{impl_}, std::forward<Token>(token));
    }

    /// Runs `sql` (simple protocol: several statements allowed) on a connection borrowed for
    /// that time: acquire, execute, release (asyncpg's `pool.execute`). Signature:
    /// `void(error_code, result)`. `sql` is copied. With
    /// `pool_params::max_statements_per_connection` above 1, a statement of plain data access
    /// may share a busy connection instead of waiting for one (see there). Cancellation reaches
    /// the acquire, then the statement.
    template <class Token = boost::asio::deferred_t>
        requires(!detail::is_param_list<std::remove_cvref_t<Token>>::value)
    auto async_execute(std::string_view sql, Token&& token = {}) {
        return detail::initiate<void(error_code, result)>(execute_initiation{impl_}, std::forward<Token>(token),
                                                          std::string(sql), std::optional<param_buffer>());
    }

    /// The same for one statement with `$1 … $n` bound to `ps`. `sql` and the values are
    /// copied before this function returns.
    template <class Params, class Token = boost::asio::deferred_t>
        requires(detail::is_param_list<std::remove_cvref_t<Params>>::value)
    auto async_execute(std::string_view sql, const Params& ps, Token&& token = {}) {
        std::optional<param_buffer> buffer;
        std::optional<error_with_diagnostics> refused;
        try {
            buffer.emplace(ps);
        } catch (const error_with_diagnostics& e) { // reported through the handler
            refused.emplace(e);
            buffer.emplace();
        }
        return detail::initiate<void(error_code, result)>(execute_initiation{impl_}, std::forward<Token>(token),
                                                          std::string(sql), std::move(buffer), std::move(refused));
    }

    /// No new acquires (they fail with `client_errc::pool_closed`, as do the waiting ones); idle
    /// connections are closed now, borrowed ones when they come back. Idempotent.
    void close() noexcept;
    /// `close()`, and breaks the borrowed connections too, safely from any thread
    /// (`connection::shutdown()`): their operations in flight fail (`connection_lost` or the
    /// server's error), later ones too; they are released when their handles come back.
    void terminate() noexcept;
    /// Closes the idle connections now and the others when they come back, then reopens to
    /// `min_size`: the next acquires get new sessions (after a failover, a schema change …).
    void clear() noexcept;

    /// Completes once the pool is closed and every connection it had is closed (borrowed ones
    /// returned). Signature: `void(error_code)`, never an error. Does not close the pool.
    template <class Token = boost::asio::deferred_t>
    auto async_wait_closed(Token&& token = {}) {
        return detail::initiate<void(error_code)>(wait_closed_initiation{impl_}, std::forward<Token>(token));
    }
    /// `close()`, then `async_wait_closed()`.
    template <class Token = boost::asio::deferred_t>
    auto async_close(Token&& token = {}) {
        close();
        return async_wait_closed(std::forward<Token>(token));
    }

    bool is_closed() const noexcept;
    pool_stats stats() const;
    /// Diagnostics of the last failed connect (empty once a connect succeeds).
    diagnostics last_connect_error() const;
    const pool_params& params() const noexcept;

private:
    using impl_ptr = std::shared_ptr<detail::pool_impl>;
    template <class Sig> using handler = boost::asio::any_completion_handler<Sig>;

    static void async_acquire_erased(impl_ptr, diagnostics*, handler<void(error_code, pooled_connection)>);
    static void async_execute_erased(impl_ptr, std::string sql, std::optional<param_buffer> ps,
                                     std::optional<error_with_diagnostics> refused, diagnostics*,
                                     handler<void(error_code, result)>);
    static void async_wait_closed_erased(impl_ptr, handler<void(error_code)>);
    static executor_type executor_of(const impl_ptr&) noexcept;

    struct initiation_base {
        impl_ptr impl;
        using executor_type = connection_pool::executor_type;
        executor_type get_executor() const noexcept { return executor_of(impl); }
    };
    struct acquire_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag) const {
            async_acquire_erased(impl, diag, detail::erase_handler<void(error_code, pooled_connection)>(std::forward<Handler>(h)));
        }
    };
    struct execute_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, std::string sql, std::optional<param_buffer> ps,
                        std::optional<error_with_diagnostics> refused = std::nullopt) const {
            async_execute_erased(impl, std::move(sql), std::move(ps), std::move(refused), diag,
                                 detail::erase_handler<void(error_code, result)>(std::forward<Handler>(h)));
        }
    };
    struct wait_closed_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics*) const {
            async_wait_closed_erased(impl, detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
        }
    };

    impl_ptr impl_;
};

} // namespace asiopg

#endif
