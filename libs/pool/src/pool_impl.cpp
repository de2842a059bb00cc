#include "pool_impl.hpp"

#include <asiopg/detail/erase_handler.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/container/small_vector.hpp>

#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace asiopg::detail {

namespace asio = boost::asio;

namespace {

pool_limits limits_of(const pool_params& p) {
    auto non_negative = [](std::chrono::milliseconds d) {
        return d < std::chrono::milliseconds::zero() ? pool_duration::zero() : pool_duration(d);
    };
    pool_limits l;
    l.min_size = p.min_size;
    l.max_size = p.max_size;
    l.max_concurrent_opens = p.max_concurrent_connects;
    l.acquire_timeout = p.acquire_timeout < std::chrono::milliseconds::zero() ? pool_duration(-1)
                                                                                : pool_duration(p.acquire_timeout);
    l.retry_interval = non_negative(p.retry_interval);
    l.max_retry_interval = std::max(non_negative(p.max_retry_interval), l.retry_interval);
    l.max_lifetime = non_negative(p.max_lifetime);
    l.max_idle_time = non_negative(p.max_idle_time);
    l.health_check_interval = non_negative(p.health_check_interval);
    // on_acquire prepares a connection for one user: statements joining it would skip it.
    l.max_shared = p.on_acquire ? 1 : std::max<std::size_t>(p.max_statements_per_connection, 1);
    return l;
}

// A connection discarded for being broken says something about the server or the network;
// one closed for its age or idleness is routine; closing with the pool is expected.
log_level close_log_level(close_reason why) {
    switch (why) {
    case close_reason::returned_broken:
    case close_reason::reset_failed:
    case close_reason::health_check_failed:
    case close_reason::dead: return log_level::warning;
    case close_reason::expired:
    case close_reason::idle:
    case close_reason::cleared: return log_level::info;
    case close_reason::pool_closed:
    case close_reason::terminated: break;
    }
    return log_level::debug;
}

log_level fail_log_level(acquire_failure why) {
    switch (why) {
    case acquire_failure::exhausted: return log_level::warning;
    case acquire_failure::connect_error: return log_level::error;
    case acquire_failure::closed:
    case acquire_failure::cancelled: break;
    }
    return log_level::debug;
}

// The server is up and refuses us for a reason that waiting will not fix.
bool refused_for_good(const error_code& ec, const diagnostics& d) {
    if (ec == client_errc::invalid_conninfo) return true;
    const std::string& m = d.message;
    return m.find("authentication failed") != std::string::npos || m.find("pg_hba.conf") != std::string::npos ||
           (m.find("FATAL") != std::string::npos && m.find("does not exist") != std::string::npos);
}

// Bounds a background operation on a node: when `after` passes first, the connection is
// closed, which completes the operation with an error. (No connect timeout set: 30 s.)
std::shared_ptr<asio::steady_timer> guard(const std::shared_ptr<void>& keep, connection& conn,
                                          const asio::any_io_executor& strand, std::chrono::milliseconds after) {
    if (after <= std::chrono::milliseconds::zero()) after = std::chrono::seconds(30);
    auto t = std::make_shared<asio::steady_timer>(strand, after);
    t->async_wait([keep, &conn](error_code ec) {
        if (!ec) conn.close();
    });
    return t;
}

// True when `ex` is that of an io_context created with concurrency hint 1 (`io_context
// ctx(1)`: one thread runs it), or a strand already: then the connections need no strand of
// their own. (A strand per connection costs two heap allocations per socket wait: the strand
// around an any_io_executor does not fit an any_io_executor's buffer once work is tracked.)
bool serialised(const asio::any_io_executor& ex) {
    if (ex.target<asio::strand<asio::any_io_executor>>() || ex.target<asio::strand<asio::io_context::executor_type>>())
        return true;
    const auto* io = detail::io_context_executor_in(ex);
    if (!io) return false;
    return asio::use_service<asio::detail::scheduler>(io->context()).concurrency_hint() == 1;
}

} // namespace

pool_impl::work_guard::work_guard(const asio::any_completion_executor& ex) {
    if (const auto* io = detail::io_context_executor_in(ex)) {
        io_work_.emplace(asio::prefer(*io, asio::execution::outstanding_work.tracked));
    } else {
        other_.emplace(asio::prefer(ex, asio::execution::outstanding_work.tracked));
    }
}

// Runs `h(args…)` later on its associated executor (the pool's by default), never inline. The
// handler's cancellation slot is cleared first: the waiter is no longer cancellable.
template <class Handler, class... Args>
void pool_impl::post_completion(Handler h, work_guard work, Args... args) {
    auto make = [&] {
        return [h = std::move(h), ... args = std::move(args)]([[maybe_unused]] auto keep) mutable {
            auto slot = h.get_cancellation_slot();
            if (slot.is_connected()) slot.clear();
            std::move(h)(std::move(args)...);
        };
    };
    if (auto io = work.io_executor()) {
        // The posted function is work on that context until it has run: no guard to carry.
        return asio::post(*io, [complete = make()]() mutable { complete(nullptr); });
    }
    auto ex = asio::get_associated_executor(h, default_completion_ex_);
    asio::post(ex_, asio::bind_executor(ex, [complete = make(), work = std::move(work)]() mutable {
                   complete(std::move(work)); // the guard goes once the handler has run
               }));
}

template <class Handler>
pool_impl::work_guard pool_impl::track(const Handler& h) const {
    return work_guard(asio::get_associated_executor(h, default_completion_ex_));
}

pool_impl::pool_impl(executor_type ex, pool_params params)
    : ex_(std::move(ex)), default_completion_ex_(detail::completion_executor_of(ex_)), params_(std::move(params)),
      single_threaded_(serialised(ex_)), machine_(limits_of(params_)), timer_(ex_) {}

template <class F>
void pool_impl::with_lock(F&& f) {
    lock lk(mtx_);
    f(pool_clock::now());
    run(lk);
}

void pool_impl::start() {
    with_lock([&](pool_time now) { machine_.start(now); });
}

void pool_impl::note(log_level l, const std::string& message) const noexcept {
    params_.connect.log.write(l, "pool", message);
}

// ---- the action loop ----

void pool_impl::run(lock& lk) {
    // actions_ goes back and forth with the machine (it keeps its capacity); a query's return
    // and acquire each make one task or none: no allocation on that path.
    machine_.take_actions(actions_);
    boost::container::small_vector<task, 2> tasks;
    tasks.reserve(actions_.size());
    for (const pool_action& a : actions_) {
        tasks.emplace_back().action = a;
        prepare(tasks.back());
    }
    rearm();
    std::vector<closed_waiter> closed;
    if (machine_.finished()) {
        closed.swap(closed_waiters_);
        timer_.cancel();
    }
    lk.unlock();
    for (task& t : tasks) perform(t);
    for (closed_waiter& w : closed) post_completion(std::move(w.handler), std::move(w.work), error_code{});
}

// Under the lock: find or create what the action works on.
void pool_impl::prepare(task& t) {
    const pool_action& a = t.action;
    switch (a.kind) {
    case pool_action::open:
        t.nd = std::make_shared<node>(single_threaded_ ? ex_ : executor_type(asio::make_strand(ex_)));
        nodes_.emplace(a.node, t.nd);
        break;
    case pool_action::close: {
        auto it = nodes_.find(a.node);
        if (it == nodes_.end()) break;
        t.nd = it->second;
        // A borrowed connection stays known until its handles come back (terminate()).
        if (t.nd->users > 0) t.nd->terminated = true;
        else nodes_.erase(it);
        break;
    }
    case pool_action::grant:
    case pool_action::fail: {
        t.w = waiters_.take(a.waiter.id); // constructs: t.w is empty (see task)
        if (a.kind == pool_action::grant) {
            t.nd = nodes_.at(a.node);
            ++t.nd->users;
            if (a.waiter.shareable) t.nd->shared = true;
            break;
        }
        diagnostics& diag = t.diag.emplace();
        switch (a.failure) {
        case acquire_failure::exhausted: {
            t.ec = client_errc::pool_exhausted;
            diag.message = "no connection available within " + std::to_string(params_.acquire_timeout.count()) +
                           " ms: " + std::to_string(machine_.count(pool_machine::node_state::borrowed)) +
                           " in use, max_size " + std::to_string(machine_.limits().max_size);
            break;
        }
        case acquire_failure::connect_error:
            t.ec = last_connect_ec_ ? last_connect_ec_ : error_code(client_errc::connect_failed);
            diag = last_connect_diag_;
            break;
        case acquire_failure::closed:
            t.ec = client_errc::pool_closed;
            diag.message = "the connection pool is closed";
            break;
        case acquire_failure::cancelled:
            t.ec = asio::error::operation_aborted;
            if (machine_.server_down()) diag = last_connect_diag_;
            break;
        }
        break;
    }
    case pool_action::reset:
    case pool_action::check: t.nd = nodes_.at(a.node); break;
    }
}

// After unlocking: the I/O and the completions.
void pool_impl::perform(task& t) {
    switch (t.action.kind) {
    case pool_action::open:
        if (logs(log_level::debug)) note(log_level::debug, "opening connection #" + std::to_string(t.action.node));
        return open(t.action.node, t.nd);
    case pool_action::close:
        if (!t.nd) return;
        if (const log_level l = close_log_level(t.action.why); logs(l))
            note(l, "closing connection #" + std::to_string(t.action.node) + ": " + to_string(t.action.why));
        if (t.nd->terminated) {
            // Borrowed (terminate()): its user may be running an operation on it on another
            // thread right now. shutdown() is the one thread-safe way to break it; the user's
            // thread closes it, and it is destroyed when the handle comes back.
            t.nd->conn.shutdown();
            return;
        }
        {
            executor_type strand = t.nd->strand;
            asio::post(strand, [nd = std::move(t.nd)] { nd->conn.close(); });
        }
        return;
    case pool_action::grant: return grant(t);
    case pool_action::fail:
        if (!t.w) return;
        if (const log_level l = fail_log_level(t.action.failure); t.diag && logs(l))
            note(l, "acquire failed: " + t.diag->message);
        if (t.w->out && t.diag) *t.w->out = std::move(*t.diag);
        return deliver(std::move(*t.w), t.ec, pooled_connection());
    case pool_action::reset: return reset(t.action.node, t.nd);
    case pool_action::check: return check(t.action.node, t.nd);
    }
}

// Under the lock: the timer fires at the machine's next wakeup (only ever moved earlier here; a
// wakeup that moved later just finds nothing to do and re-arms).
void pool_impl::rearm() {
    pool_time next = machine_.next_wakeup();
    if (machine_.finished() || next >= armed_) return;
    armed_ = next;
    std::uint64_t generation = ++timer_generation_;
    timer_.expires_at(next);
    timer_.async_wait([weak = weak_from_this(), generation](error_code ec) {
        auto self = weak.lock();
        if (!self || ec == asio::error::operation_aborted) return;
        lock lk(self->mtx_);
        if (generation != self->timer_generation_) return;
        self->armed_ = pool_time::max();
        self->machine_.tick(pool_clock::now());
        self->run(lk);
    });
}

// ---- opening ----

// Runs a user hook on the node's connection, on its strand. `finish(ec, diag)` runs exactly once,
// on the strand: when the hook calls its handler, or with an error if the hook throws.
template <class Finish>
void pool_impl::run_hook(const connection_hook& hook, const std::shared_ptr<node>& nd, const char* name,
                         Finish finish) {
    auto pending = std::make_shared<std::optional<Finish>>(std::move(finish));
    // The connection's diagnostics belong to the hook's failure only if the hook changed them
    // (they may hold an earlier user's error).
    auto call = [pending, nd, name](error_code ec, std::string why, const diagnostics& before) {
        if (!*pending) return; // a hook that calls back twice, or throws after calling back
        Finish f = std::move(**pending);
        pending->reset();
        diagnostics d;
        if (ec) {
            const diagnostics& now = nd->conn.get_diagnostics();
            if (why.empty() && !now.empty() && now.to_string() != before.to_string()) d = now;
            if (d.empty()) d.message = std::string(name) + " hook failed: " + (why.empty() ? ec.message() : why);
        }
        f(ec, std::move(d));
    };
    asio::dispatch(nd->strand, [self = shared_from_this(), &hook, nd, call0 = std::move(call)]() mutable {
        auto call = [call0, before = nd->conn.get_diagnostics()](error_code ec, std::string why = {}) mutable {
            call0(ec, std::move(why), before);
        };
        try {
            hook(nd->conn, asio::bind_executor(nd->strand, [call](error_code ec) mutable { call(ec); }));
        } catch (const std::exception& e) {
            call(client_errc::connect_failed, std::string("threw: ") + e.what());
        } catch (...) {
            call(client_errc::connect_failed, "threw an exception not derived from std::exception");
        }
    });
}

// Everything the pool does with a connection runs on the connection's strand, so that a close
// (close(), terminate()) never runs at the same time as an operation the pool started.
void pool_impl::open(node_id id, const std::shared_ptr<node>& nd) {
    asio::dispatch(nd->strand, [self = shared_from_this(), id, nd] {
        connect_params cp = self->params_.connect;
        if (self->params_.connect_timeout != std::chrono::milliseconds::zero())
            cp.connect_timeout = self->params_.connect_timeout;
        // Statements sharing a connection: each sent as soon as it starts, not after the first.
        nd->conn.set_eager_pipelining(self->multiplexing());
        nd->conn.async_connect(cp, asio::bind_executor(nd->strand, [self, id, nd](error_code ec) {
            if (ec && self->logs(log_level::warning))
                self->note(log_level::warning, "connection #" + std::to_string(id) +
                                                   " could not be opened: " + nd->conn.get_diagnostics().message);
            else if (!ec && self->logs(log_level::info))
                self->note(log_level::info, "connection #" + std::to_string(id) + " open");
            if (ec || !self->params_.on_connect) return self->opened(id, ec, nd->conn.get_diagnostics());
            self->run_hook(self->params_.on_connect, nd, "on_connect", [self, id, nd](error_code ec, diagnostics d) {
                nd->conn.set_session_changed(false); // what on_connect set is every user's starting point
                self->opened(id, ec, std::move(d));
            });
        }));
    });
}

void pool_impl::opened(node_id id, error_code ec, diagnostics diag) {
    with_lock([&](pool_time now) {
        open_outcome outcome = open_outcome::ok;
        if (ec) {
            outcome = refused_for_good(ec, diag) ? open_outcome::failed_permanently : open_outcome::failed;
            if (!machine_.closing()) { // a connect cut short by close() says nothing about the server
                last_connect_ec_ = ec;
                last_connect_diag_ = std::move(diag);
            }
            auto it = nodes_.find(id);
            if (it != nodes_.end()) {
                executor_type strand = it->second->strand;
                asio::post(strand, [nd = it->second] { nd->conn.close(); });
                nodes_.erase(it);
            }
        } else {
            last_connect_ec_ = {};
            last_connect_diag_.clear();
        }
        machine_.opened(id, outcome, now);
    });
}

// ---- acquiring ----

void pool_impl::acquire(diagnostics* out, acquire_handler h, bool shareable) {
    lock lk(mtx_);
    waiter_id id = ++last_waiter_;
    auto slot = h.get_cancellation_slot();
    work_guard work = track(h);
    waiters_.insert(id, waiter{std::move(h), out, std::move(work)});
    if (slot.is_connected()) {
        slot.template emplace<std::function<void(asio::cancellation_type)>>(
            [weak = weak_from_this(), id](asio::cancellation_type) {
                if (auto self = weak.lock()) self->with_lock([&](pool_time now) { self->machine_.cancel(id, now); });
            });
    }
    machine_.acquire(id, pool_clock::now(), shareable);
    run(lk);
}

void pool_impl::grant(task& t) {
    if (!t.w) return; // cannot happen: every granted waiter is known
    // Straight from its last user without a hook to run, or joining its users: nothing touches
    // the connection here, so no hop through its strand (the completion is posted to the
    // waiter's executor anyway).
    if (t.action.shared || (t.action.handed_over && !params_.on_acquire))
        return deliver(std::move(*t.w), {}, pooled_connection(shared_from_this(), &t.nd->conn, t.action.node));
    asio::dispatch(t.nd->strand, [self = shared_from_this(), id = t.action.node, info = t.action.waiter, nd = t.nd,
                                  w = std::make_shared<waiter>(std::move(*t.w)),
                                  probe = !t.action.handed_over]() mutable {
        // An idle connection may have died meanwhile (terminated backend, server restart): the
        // server's goodbye is already in the socket. One recv tells, before the user sees it.
        // (Not for one handed straight from its last user to a waiter: it was never idle, and
        // under load that recv would be a fifth of the syscalls of a pooled query.)
        if (probe && !nd->conn.poll_input()) {
            return self->with_lock([&](pool_time now) {
                --nd->users;
                self->waiters_.insert(info.id, std::move(*w));
                self->machine_.lost(id, info, now);
            });
        }
        pooled_connection pc(self, &nd->conn, id);
        if (!self->params_.on_acquire) return self->deliver(std::move(*w), {}, std::move(pc));
        self->run_hook(self->params_.on_acquire, nd, "on_acquire",
                       [self, w, pc = std::make_shared<pooled_connection>(std::move(pc))](error_code ec,
                                                                                         diagnostics d) {
                           if (!ec) return self->deliver(std::move(*w), {}, std::move(*pc));
                           (*pc)->close(); // so that it is discarded when given back
                           pc->release();
                           if (w->out) *w->out = std::move(d);
                           self->deliver(std::move(*w), ec, pooled_connection());
                       });
    });
}

void pool_impl::deliver(waiter w, error_code ec, pooled_connection pc) {
    if (!w.handler) return; // already completed (cannot happen; defensive)
    post_completion(std::move(w.handler), std::move(w.work), ec, std::move(pc));
}

// ---- returning ----

void pool_impl::give_back(node_id id, bool reset) noexcept {
    try {
        std::shared_ptr<node> nd;
        bool shared = false;
        {
            lock lk(mtx_);
            auto it = nodes_.find(id);
            if (it == nodes_.end()) return;
            nd = it->second;
            --nd->users;
            if (nd->terminated) {
                if (nd->users == 0) nodes_.erase(it);
                return;
            }
            if (!machine_.leave(id, pool_clock::now())) return run(lk); // others still use it
            shared = std::exchange(nd->shared, false);
        }
        // The statements of a shared connection ran on its strand, and the last of them may
        // still be finishing there: look at the connection there.
        if (shared)
            return asio::dispatch(nd->strand, [self = shared_from_this(), id, nd, reset] { self->released(id, *nd, reset); });
        released(id, *nd, reset);
    } catch (...) {
        // Only allocation can throw here; the slot is then lost with the connection.
    }
}

// The last user of a connection is done: what it needs before reuse, as found, to the machine.
void pool_impl::released(node_id id, node& nd, bool reset) noexcept try {
    release_kind kind = release_kind::discard;
    if (nd.conn.is_open()) {
        switch (nd.conn.get_transaction_status()) {
        case transaction_status::idle:
            kind = reset && wants_reset_query(nd.conn) ? release_kind::reset : release_kind::clean;
            break;
        case transaction_status::in_transaction:
        case transaction_status::in_error:
            kind = release_kind::reset;
            nd.rollback_only = !reset; // return_without_reset(): ROLLBACK, not the reset query
            break;
        default: break; // an operation still running, or a broken session
        }
    }
    with_lock([&](pool_time now) { machine_.released(id, kind, now); });
} catch (...) {
    // Only allocation can throw here; the slot is then lost with the connection.
}

// The reset query runs when the session may have changed (or always, if so configured).
bool pool_impl::wants_reset_query(const connection& conn) const noexcept {
    return !params_.reset_query.empty() && (params_.always_reset || conn.session_changed());
}

void pool_impl::reset(node_id id, const std::shared_ptr<node>& nd) {
    connection& conn = nd->conn;
    transaction_status ts = conn.get_transaction_status();
    std::string sql;
    if (ts == transaction_status::in_transaction || ts == transaction_status::in_error) sql = "ROLLBACK";
    const bool full = !nd->rollback_only && wants_reset_query(conn);
    if (full) sql += sql.empty() ? params_.reset_query : "; " + params_.reset_query;
    nd->rollback_only = false;
    auto timer = guard(nd, conn, nd->strand, params_.connect_timeout);
    asio::post(nd->strand, [self = shared_from_this(), id, nd, sql = std::move(sql), timer, full]() {
        nd->conn.async_execute(sql, asio::bind_executor(nd->strand, [self, id, nd, timer, full](error_code ec, result) {
                                   if (timer) timer->cancel();
                                   if (!ec && full) nd->conn.set_session_changed(false);
                                   nd->conn.discard_notifications(); // the last user's, not the next's
                                   self->with_lock([&](pool_time now) { self->machine_.reset_done(id, !ec, now); });
                               }));
    });
}

void pool_impl::check(node_id id, const std::shared_ptr<node>& nd) {
    asio::post(nd->strand, [self = shared_from_this(), id, nd] {
        if (!nd->conn.poll_input()) {
            return self->with_lock([&](pool_time now) { self->machine_.checked(id, false, now); });
        }
        auto timer = guard(nd, nd->conn, nd->strand, self->params_.connect_timeout);
        nd->conn.async_ping(asio::bind_executor(nd->strand, [self, id, nd, timer](error_code ec) {
            if (timer) timer->cancel();
            self->with_lock([&](pool_time now) { self->machine_.checked(id, !ec, now); });
        }));
    });
}

// ---- shutdown and observers ----

void pool_impl::close() noexcept {
    try {
        with_lock([&](pool_time now) { machine_.close(now); });
    } catch (...) {
    }
}

void pool_impl::terminate() noexcept {
    try {
        with_lock([&](pool_time now) { machine_.terminate(now); });
    } catch (...) {
    }
}

void pool_impl::clear() noexcept {
    try {
        with_lock([&](pool_time now) { machine_.clear(now); });
    } catch (...) {
    }
}

void pool_impl::wait_closed(close_handler h) {
    lock lk(mtx_);
    work_guard work = track(h);
    if (!machine_.finished()) {
        closed_waiters_.push_back(closed_waiter{std::move(h), std::move(work)});
        return;
    }
    lk.unlock();
    post_completion(std::move(h), std::move(work), error_code{});
}

bool pool_impl::is_closed() const noexcept {
    lock lk(mtx_);
    return machine_.closing();
}

pool_stats pool_impl::stats() const {
    lock lk(mtx_);
    pool_stats s;
    using st = pool_machine::node_state;
    s.size = machine_.size();
    s.idle = machine_.idle();
    s.borrowed = machine_.count(st::borrowed);
    s.opening = machine_.count(st::opening);
    s.waiting = machine_.waiting();
    const pool_counters& c = machine_.counters();
    s.acquires = c.acquires;
    s.acquire_timeouts = c.acquire_timeouts;
    s.acquire_cancellations = c.acquire_cancellations;
    s.connections_opened = c.opened;
    s.connections_closed = c.closed;
    s.connect_failures = c.open_failures;
    s.resets = c.resets;
    s.health_check_failures = c.health_check_failures;
    s.dead_on_acquire = c.dead_on_acquire;
    s.shared_acquires = c.shared_acquires;
    s.acquire_wait_total = std::chrono::duration_cast<std::chrono::nanoseconds>(c.wait_total);
    s.acquire_wait_max = std::chrono::duration_cast<std::chrono::nanoseconds>(c.wait_max);
    return s;
}

diagnostics pool_impl::last_connect_error() const {
    lock lk(mtx_);
    return last_connect_diag_;
}

} // namespace asiopg::detail
