// Internal: the pool's I/O shell around pool_machine.
//
// One mutex guards the machine and the maps below. Every event takes the lock, feeds the
// machine, and `run()` turns the machine's actions into work: bookkeeping under the lock, then
// the I/O (connects, resets, checks, closes) and the completions after unlocking — so no
// connect, no user hook and no handler ever runs under the lock. Handlers are always posted.
#ifndef ASIOPG_POOL_SRC_POOL_IMPL_HPP
#define ASIOPG_POOL_SRC_POOL_IMPL_HPP

#include "pool_machine.hpp"
#include "waiter_table.hpp"

#include <asiopg/connection.hpp>
#include <asiopg/pool/pool_params.hpp>
#include <asiopg/pool/pool_stats.hpp>
#include <asiopg/pool/pooled_connection.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace asiopg::detail {

class pool_impl : public std::enable_shared_from_this<pool_impl> {
public:
    using executor_type = boost::asio::any_io_executor;
    using acquire_handler = boost::asio::any_completion_handler<void(error_code, pooled_connection)>;
    using close_handler = boost::asio::any_completion_handler<void(error_code)>;

    pool_impl(executor_type ex, pool_params params);

    void start();
    // `shareable`: for one statement that may_share_connection() passes (see pool_machine::acquire).
    void acquire(diagnostics* out, acquire_handler h, bool shareable = false);
    // Whether one-shot statements may share connections (max_statements_per_connection > 1).
    bool multiplexing() const noexcept { return machine_.limits().max_shared > 1; }
    void give_back(node_id n, bool reset) noexcept;
    void close() noexcept;
    void terminate() noexcept;
    void clear() noexcept;
    void wait_closed(close_handler h);

    bool is_closed() const noexcept;
    pool_stats stats() const;
    diagnostics last_connect_error() const;
    const pool_params& params() const noexcept { return params_; }
    const executor_type& get_executor() const noexcept { return ex_; }

private:
    // A connection slot. Shared with the work in flight on it, so a close never pulls it from
    // under a connect or a grant; a borrowed one stays in `nodes_` until its handle comes back.
    struct node {
        explicit node(executor_type strand) : strand(strand), conn(strand) {}
        executor_type strand;
        connection conn;
        std::size_t users = 0;      // borrowed: handles out (several when shared)
        bool shared = false;        // lent to shareable waiters: its statements run on its strand
        bool terminated = false;    // closed by terminate() while borrowed
        bool rollback_only = false; // returned with return_without_reset(): no reset query
    };
    // A pending completion keeps work on its handler's executor (an Asio rule: that context
    // must not run out of work while the operation is pending). The common executor, a plain
    // io_context's, is kept as it is: its completion is then posted straight to it, without
    // the type-erased executor and binder any other executor needs (a fifth of a pooled
    // query's own instructions, by callgrind).
    class work_guard {
    public:
        explicit work_guard(const boost::asio::any_completion_executor& ex);
        // The io_context executor the handler runs on (untracked, to post to), if it is one.
        std::optional<boost::asio::io_context::executor_type> io_executor() const noexcept {
            if (!io_work_) return std::nullopt;
            return boost::asio::require(*io_work_, boost::asio::execution::outstanding_work.untracked);
        }

    private:
        std::optional<boost::asio::io_context::basic_executor_type<std::allocator<void>, 4>> io_work_;
        std::optional<boost::asio::any_completion_executor> other_; // tracked
    };
    struct waiter {
        acquire_handler handler;
        diagnostics* out = nullptr;
        work_guard work;
    };
    struct closed_waiter {
        close_handler handler;
        work_guard work;
    };
    // An action with what it needs, taken under the lock, carried out after.
    // (`w` is an optional so that it is only ever move-constructed: Boost 1.81's
    // any_completion_handler breaks on move assignment.)
    struct task {
        pool_action action;
        std::shared_ptr<node> nd;
        std::optional<waiter> w;
        error_code ec;
        std::optional<diagnostics> diag; // a failure's (a large object: not built for every grant)
    };

    using lock = std::unique_lock<std::mutex>;
    void run(lock& lk);
    void prepare(task& t);
    void perform(task& t);
    void rearm();

    void open(node_id id, const std::shared_ptr<node>& nd);
    void opened(node_id id, error_code ec, diagnostics diag);
    void grant(task& t);
    void deliver(waiter w, error_code ec, pooled_connection pc);
    void released(node_id id, node& nd, bool reset) noexcept;
    void reset(node_id id, const std::shared_ptr<node>& nd);
    bool wants_reset_query(const connection& conn) const noexcept;
    void check(node_id id, const std::shared_ptr<node>& nd);
    template <class F> void with_lock(F&& f);
    // Pool events go to the connections' logger (params.connect.log), category "pool" — never
    // under mtx_: a sink may call stats().
    bool logs(log_level l) const noexcept { return params_.connect.log.enabled(l); }
    void note(log_level l, const std::string& message) const noexcept;
    template <class Handler, class... Args> void post_completion(Handler h, work_guard work, Args... args);
    template <class Handler> work_guard track(const Handler& h) const;
    template <class Finish>
    void run_hook(const connection_hook& hook, const std::shared_ptr<node>& nd, const char* name, Finish finish);

    const executor_type ex_;
    // ex_, the default executor of the handlers the pool completes. An any_completion_handler
    // converts the default it is given into an any_completion_executor at every query: from one
    // already of that type, holding the plain io_context executor (completion_executor_of), the
    // conversion is a copy, not a heap allocation.
    const boost::asio::any_completion_executor default_completion_ex_;
    const pool_params params_;
    const bool single_threaded_; // one thread runs ex_: connections get no strand of their own
    mutable std::mutex mtx_;
    pool_machine machine_;
    boost::asio::steady_timer timer_;
    pool_time armed_ = pool_time::max();
    std::uint64_t timer_generation_ = 0;
    std::unordered_map<node_id, std::shared_ptr<node>> nodes_;
    waiter_table<waiter> waiters_;
    waiter_id last_waiter_ = 0;
    std::vector<pool_action> actions_; // run()'s, under the lock
    error_code last_connect_ec_;
    diagnostics last_connect_diag_;
    std::vector<closed_waiter> closed_waiters_;
};

} // namespace asiopg::detail

#endif
