// The connection pool's documented behaviour against the real server: sizing and growth, FIFO
// waiters, the acquire timeout, connect errors, cancellation, what returning a connection resets,
// broken and terminated connections, recycling, hooks, shutdown ordering, many tasks at once, and
// handles that outlive the pool object.
//
// Every wait is bounded (run_until with a deadline). State written by completion handlers lives
// in shared_ptrs or is declared before the fixture, so a handler that runs while a failed test
// unwinds (the fixture closes the pool, which completes waiters) never writes to a dead local.
// Pooled handles are always declared after the fixture: they must go back before it closes.
#include <asiopg/pool.hpp>

#include "pool.hpp"
#include "server.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}



// Runs `ctx` for `d`.
void spin_for(asio::io_context& ctx, std::chrono::milliseconds d) {
    run_until(ctx, [] { return false; }, d);
}

// An acquire started with a callback and checked later.
struct pending_acquire {
    bool done = false;
    error_code ec;
    pooled_connection conn;
    steady::time_point completed_at{};
};

std::shared_ptr<pending_acquire> start_acquire(connection_pool& pool) {
    auto p = std::make_shared<pending_acquire>();
    pool.async_acquire([p](error_code ec, pooled_connection c) {
        p->done = true;
        p->ec = ec;
        p->conn = std::move(c);
        p->completed_at = steady::now();
    });
    return p;
}

struct pending_op {
    bool done = false;
    error_code ec;
};

struct behaviour_fixture {
    asio::io_context ctx;
    std::optional<connection_pool> pool;

    explicit behaviour_fixture(pool_params p) { pool.emplace(ctx, std::move(p)); }
    ~behaviour_fixture() {
        if (!pool) return;
        auto closed = std::make_shared<bool>(false);
        pool->async_close([closed](error_code) { *closed = true; });
        if (!run_until(ctx, [&] { return *closed; }, 5s)) {
            BOOST_TEST(*closed, "the pool did not close within 5 s (a handle not returned?): terminating");
            pool->terminate();
            run_until(ctx, [&] { return *closed; }, 5s);
        }
        pool.reset();
        spin_for(ctx, 20ms); // let the last closes run
    }

    outcome<pooled_connection> try_acquire(style s = style::callback,
                                           steady::duration deadline = default_deadline) {
        return run<pooled_connection>(s, ctx, [&](auto&& tok) { return pool->async_acquire(tok); }, deadline);
    }
    pooled_connection acquire() {
        auto out = try_acquire();
        BOOST_TEST_REQUIRE(out.completed, "acquire did not complete");
        BOOST_TEST_REQUIRE(!out.ec, "acquire: " << out.ec.message() << " / " << pool->last_connect_error().message);
        BOOST_TEST_REQUIRE(out.value->valid());
        return std::move(*out.value);
    }
    outcome<result> exec(connection& c, std::string_view sql) {
        return run<result>(style::callback, ctx, [&](auto&& tok) { return c.async_execute(sql, tok); });
    }
    result query(connection& c, std::string_view sql) {
        auto out = exec(c, sql);
        BOOST_TEST_REQUIRE(out.completed, sql << ": did not complete");
        BOOST_TEST_REQUIRE(!out.ec, sql << ": " << c.get_diagnostics().to_string());
        return std::move(*out.value);
    }
    int query_int(connection& c, std::string_view sql) { return query(c, sql).at(0).at(0).as<int>(); }
    std::string query_text(connection& c, std::string_view sql) {
        return query(c, sql).at(0).at(0).as<std::string>();
    }
    bool query_bool(connection& c, std::string_view sql) { return query(c, sql).at(0).at(0).as<bool>(); }

    pool_stats stats() const { return pool->stats(); }
    // Every connection back in the pool and idle, nothing opening or waiting.
    bool settle(std::chrono::milliseconds limit = 10s) {
        return run_until(ctx, [&] {
            pool_stats s = pool->stats();
            return s.borrowed == 0 && s.waiting == 0 && s.opening == 0 && s.size == s.idle;
        }, limit);
    }
};

std::string pid_list(const std::vector<int>& pids) {
    std::string s;
    for (int p : pids) s += (s.empty() ? "" : ",") + std::to_string(p);
    return s;
}

// Polls the server (from a separate session) until none of `pids` is connected; returns that.
bool backends_gone(session& observer, asio::io_context& pool_ctx, const std::vector<int>& pids,
                   std::chrono::milliseconds limit = 5s) {
    auto until = steady::now() + limit;
    std::string sql = "SELECT count(*)::int FROM pg_stat_activity WHERE pid IN (" + pid_list(pids) + ")";
    for (;;) {
        if (observer.query(sql).at(0).at(0).as<int>() == 0) return true;
        if (steady::now() >= until) return false;
        spin_for(pool_ctx, 20ms);
    }
}

// Work shared by many tasks, possibly on several threads.
struct tally {
    std::atomic<int> ok{0};
    std::atomic<int> wrong{0};
    std::atomic<int> failed{0};
    std::mutex mtx;
    std::string first_error;

    int finished() const { return ok + wrong + failed; }
    void fail(const std::string& why) {
        std::lock_guard<std::mutex> lk(mtx);
        if (first_error.empty()) first_error = why;
        ++failed;
    }
};

asio::awaitable<void> borrow_and_query(connection_pool& pool, int i, std::shared_ptr<tally> t) {
    try {
        pooled_connection pc = co_await pool.async_acquire(asio::use_awaitable);
        result r = co_await pc->async_execute("SELECT $1::int", params(i), asio::use_awaitable);
        if (r.at(0).at(0).as<int>() == i) ++t->ok;
        else ++t->wrong;
    } catch (const std::exception& e) {
        t->fail(e.what());
    }
}

// State the hooks of hook tests share (on the connections' strands; the tests are single-threaded).
struct hook_state {
    std::atomic<int> connects{0};
    std::atomic<int> acquires{0};
    std::vector<int> connect_pids;
    bool fail_next = false;
    bool throw_next = false;
};

} // namespace

BOOST_AUTO_TEST_SUITE(pool_behaviour)

// 1. min_size connections open in the background; the pool grows on demand up to max_size and no
// further; stats follow.
ASIOPG_TEST_CASE(min_size_at_start_and_growth_to_max_size) {
    behaviour_fixture f(pool_params_for(2, 4));
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return f.stats().idle == 2; }),
                       "min_size connections not opened: " << f.pool->last_connect_error().message);
    pool_stats s = f.stats();
    BOOST_TEST(s.size == 2u);
    BOOST_TEST(s.borrowed == 0u);
    BOOST_TEST(s.opening == 0u);
    BOOST_TEST(s.waiting == 0u);
    BOOST_TEST(s.connections_opened == 2u);
    BOOST_TEST(s.acquires == 0u);
    // Nothing asked: no growth beyond min_size.
    spin_for(f.ctx, 200ms);
    BOOST_TEST(f.stats().size == 2u);
    BOOST_TEST(f.stats().connections_opened == 2u);

    std::vector<pooled_connection> held;
    held.push_back(f.acquire());
    held.push_back(f.acquire());
    s = f.stats();
    BOOST_TEST(s.size == 2u);
    BOOST_TEST(s.idle == 0u);
    BOOST_TEST(s.borrowed == 2u);
    BOOST_TEST(s.connections_opened == 2u); // served by the ones opened at start

    held.push_back(f.acquire()); // grows
    s = f.stats();
    BOOST_TEST(s.size == 3u);
    BOOST_TEST(s.borrowed == 3u);
    BOOST_TEST(s.connections_opened == 3u);
    held.push_back(f.acquire());
    s = f.stats();
    BOOST_TEST(s.size == 4u);
    BOOST_TEST(s.borrowed == 4u);
    BOOST_TEST(s.idle == 0u);
    BOOST_TEST(s.acquires == 4u);

    std::set<int> pids;
    for (auto& h : held) {
        BOOST_TEST(f.query_int(*h, "SELECT 1") == 1);
        pids.insert(h->backend_pid());
    }
    BOOST_TEST(pids.size() == 4u, "four distinct backends");

    // A fifth waits: the pool stays at max_size.
    auto fifth = start_acquire(*f.pool);
    BOOST_TEST(f.stats().waiting == 1u);
    spin_for(f.ctx, 200ms);
    s = f.stats();
    BOOST_TEST(!fifth->done);
    BOOST_TEST(s.waiting == 1u);
    BOOST_TEST(s.size == 4u);
    BOOST_TEST(s.opening == 0u);
    BOOST_TEST(s.connections_opened == 4u);

    int returned_pid = held.back()->backend_pid();
    held.pop_back(); // returned: reset, then handed to the fifth
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return fifth->done; }));
    BOOST_TEST_REQUIRE(!fifth->ec, fifth->ec.message());
    BOOST_TEST(fifth->conn->backend_pid() == returned_pid);
    s = f.stats();
    BOOST_TEST(s.waiting == 0u);
    BOOST_TEST(s.borrowed == 4u);
    BOOST_TEST(s.size == 4u);

    held.clear();
    fifth->conn.release();
    BOOST_TEST_REQUIRE(f.settle());
    s = f.stats();
    BOOST_TEST(s.size == 4u);
    BOOST_TEST(s.idle == 4u);
    BOOST_TEST(s.borrowed == 0u);
    BOOST_TEST(s.acquires == 5u);
    BOOST_TEST(s.resets == 0u); // no session changed: none needed the reset query
    BOOST_TEST(s.connections_opened == 4u);
    BOOST_TEST(s.connections_closed == 0u);
    BOOST_TEST(s.acquire_timeouts == 0u);
}

// 2. Waiters are served first come, first served.
ASIOPG_TEST_CASE(waiters_served_in_fifo_order) {
    struct fifo_state {
        std::vector<int> order;
        std::vector<std::size_t> waiting_seen;
        std::vector<int> pids;
        std::vector<std::string> errors;
    };
    auto st = std::make_shared<fifo_state>();
    behaviour_fixture f(pool_params_for(1, 1));
    pooled_connection held = f.acquire();
    int pid = held->backend_pid();
    connection_pool& pool = *f.pool;
    for (int i = 0; i < 5; ++i) {
        pool.async_acquire([st, i, &pool](error_code ec, pooled_connection pc) {
            st->order.push_back(i);
            if (ec) return st->errors.push_back(ec.message());
            st->pids.push_back(pc->backend_pid());
            st->waiting_seen.push_back(pool.stats().waiting);
            // pc goes back here, before the next waiter can be served
        });
    }
    BOOST_TEST(f.stats().waiting == 5u);
    spin_for(f.ctx, 100ms);
    BOOST_TEST(st->order.empty(), "a waiter was served while the only connection was borrowed");

    held.release();
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return st->order.size() == 5; }), "served: " << st->order.size());
    const std::vector<int> expected_order{0, 1, 2, 3, 4};
    BOOST_TEST(st->order == expected_order, boost::test_tools::per_element());
    const std::vector<std::size_t> expected_waiting{4, 3, 2, 1, 0};
    BOOST_TEST(st->waiting_seen == expected_waiting, boost::test_tools::per_element());
    BOOST_TEST(st->errors.empty(), (st->errors.empty() ? "" : st->errors.front()));
    for (int p : st->pids) BOOST_TEST(p == pid);
    BOOST_TEST_REQUIRE(f.settle());
    BOOST_TEST(f.stats().acquires == 6u);
}

// 3. The acquire timeout: pool_exhausted after ~acquire_timeout; zero fails at once.
ASIOPG_TEST_CASE(exhaustion_times_out_with_pool_exhausted) {
    {
        auto p = pool_params_for(1, 1);
        p.acquire_timeout = 300ms;
        behaviour_fixture f(p);
        pooled_connection held = f.acquire();

        auto t0 = steady::now();
        auto out = f.try_acquire(style::callback, 10s);
        long long elapsed = ms_since(t0);
        BOOST_TEST_REQUIRE(out.completed);
        BOOST_TEST((out.ec == client_errc::pool_exhausted), out.ec.message());
        BOOST_TEST(elapsed >= 250, "completed after " << elapsed << " ms");
        BOOST_TEST(elapsed <= 5000, "completed after " << elapsed << " ms");
        pool_stats s = f.stats();
        BOOST_TEST(s.acquire_timeouts == 1u);
        BOOST_TEST(s.waiting == 0u);
        BOOST_TEST(s.borrowed == 1u);
        BOOST_TEST(s.size == 1u);

        // Thrown, with a message that says why.
        auto thrown = f.try_acquire(style::future, 10s);
        BOOST_TEST_REQUIRE(thrown.completed);
        BOOST_TEST((thrown.ec == client_errc::pool_exhausted), thrown.ec.message());
        BOOST_TEST(thrown.threw);
        BOOST_TEST(contains(thrown.diag.message, "no connection available"), thrown.diag.message);
        BOOST_TEST(f.stats().acquire_timeouts == 2u);

        // The pool is fine afterwards.
        held.release();
        pooled_connection again = f.acquire();
        BOOST_TEST(f.query_int(*again, "SELECT 3") == 3);
    }
    {
        auto p = pool_params_for(1, 1);
        p.acquire_timeout = 0ms;
        behaviour_fixture f(p);
        BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return f.stats().idle == 1; }));
        pooled_connection held = f.acquire(); // an idle one: served at once
        auto t0 = steady::now();
        auto out = f.try_acquire(style::callback, 10s);
        long long elapsed = ms_since(t0);
        BOOST_TEST_REQUIRE(out.completed);
        BOOST_TEST((out.ec == client_errc::pool_exhausted), out.ec.message());
        BOOST_TEST(elapsed < 200, "acquire_timeout 0 completed after " << elapsed << " ms");
        pool_stats s = f.stats();
        BOOST_TEST(s.acquire_timeouts == 1u);
        BOOST_TEST(s.waiting == 0u);
        BOOST_TEST(s.size == 1u);
        held.release();
        BOOST_TEST_REQUIRE(f.settle());
        pooled_connection again = f.acquire();
        BOOST_TEST(f.query_int(*again, "SELECT 4") == 4);
    }
}

// 4. While the server cannot be reached, acquire fails with the connect error, not
// pool_exhausted; a server that refuses us for good fails acquires fast.
ASIOPG_TEST_CASE(unreachable_server_reports_the_connect_error) {
    pool_params p;
    p.connect.conninfo = "host=127.0.0.1 port=1 user=" + server_user() + " password=" + server_password() +
                         " dbname=" + server_db();
    p.min_size = 1;
    p.max_size = 2;
    p.acquire_timeout = 1s;
    p.connect_timeout = 3s;
    behaviour_fixture f(p);
    for (style s : {style::callback, style::future}) {
        BOOST_TEST_CONTEXT(s) {
            auto t0 = steady::now();
            auto out = f.try_acquire(s, 10s);
            long long elapsed = ms_since(t0);
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST(!(out.ec == client_errc::pool_exhausted), "pool_exhausted hides the connect error");
            BOOST_TEST((out.ec == client_errc::connect_failed), out.ec.message());
            BOOST_TEST(elapsed >= 900, "after " << elapsed << " ms");
            BOOST_TEST(elapsed <= 5000, "after " << elapsed << " ms");
            if (throws(s)) {
                BOOST_TEST(out.threw);
                BOOST_TEST(contains(out.diag.message, "refused"), out.diag.message);
                BOOST_TEST(contains(out.what, "refused"), out.what);
            }
        }
    }
    BOOST_TEST(contains(f.pool->last_connect_error().message, "refused"), f.pool->last_connect_error().message);
    pool_stats s = f.stats();
    BOOST_TEST(s.connect_failures >= 1u);
    BOOST_TEST(s.connections_opened == 0u);
    BOOST_TEST(s.acquires == 0u);
    BOOST_TEST(s.waiting == 0u);
    BOOST_TEST(s.borrowed == 0u);
}

ASIOPG_TEST_CASE(bad_password_fails_acquires_fast) {
    pool_params p;
    p.connect = server_params();
    p.connect.password = "wrong";
    p.min_size = 1;
    p.max_size = 2;
    p.acquire_timeout = 10s;
    behaviour_fixture f(p);
    // The documentation: "at once if the server refused us for good (authentication …)". Every
    // acquire, not only the first, must fail well under the 10 s acquire timeout.
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST_CONTEXT("acquire #" << i) {
            auto t0 = steady::now();
            auto out = f.try_acquire(style::future, 20s);
            long long elapsed = ms_since(t0);
            BOOST_TEST_MESSAGE("bad password: acquire #" << i << " failed after " << elapsed << " ms");
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST(out.ec.failed());
            BOOST_TEST(!(out.ec == client_errc::pool_exhausted), out.ec.message());
            BOOST_TEST((out.ec == client_errc::connect_failed), out.ec.message());
            BOOST_TEST(contains(out.diag.message, "authentication failed"), out.diag.message);
            BOOST_TEST(contains(out.what, "authentication failed"), out.what);
            BOOST_TEST(elapsed < 2500, "failed after " << elapsed << " ms (acquire timeout 10 s)");
        }
    }
    BOOST_TEST(contains(f.pool->last_connect_error().message, "authentication failed"));
    BOOST_TEST(!contains(f.pool->last_connect_error().message, "wrong"), "the password leaked into diagnostics");
    BOOST_TEST(f.stats().connections_opened == 0u);
    BOOST_TEST(f.stats().waiting == 0u);
}

// 5. A cancelled waiter completes with operation_aborted and leaves the queue.
ASIOPG_TEST_CASE(cancelled_acquire_leaves_the_queue) {
    asio::cancellation_signal sig; // outlives every handler holding its slot
    auto p = pool_params_for(1, 1);
    p.acquire_timeout = 10s;
    behaviour_fixture f(p);
    pooled_connection held = f.acquire();
    int pid = held->backend_pid();

    std::size_t expected_cancellations = 0;
    for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                      asio::cancellation_type::total}) {
        BOOST_TEST_CONTEXT("cancellation type " << static_cast<int>(type)) {
            auto pending = std::make_shared<pending_acquire>();
            auto t0 = steady::now();
            f.pool->async_acquire(asio::bind_cancellation_slot(sig.slot(), [pending](error_code ec, pooled_connection c) {
                pending->done = true;
                pending->ec = ec;
                pending->conn = std::move(c);
                pending->completed_at = steady::now();
            }));
            BOOST_TEST(f.stats().waiting == 1u);
            asio::steady_timer timer(f.ctx, 100ms);
            timer.async_wait([&sig, type](error_code ec) {
                if (!ec) sig.emit(type);
            });
            BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return pending->done; }, 5s), "the cancelled acquire never completed");
            long long elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(pending->completed_at - t0).count();
            BOOST_TEST((pending->ec == asio::error::operation_aborted), pending->ec.message());
            BOOST_TEST(!pending->conn.valid());
            BOOST_TEST(elapsed >= 90, elapsed << " ms");
            BOOST_TEST(elapsed < 2000, elapsed << " ms");
            ++expected_cancellations;
            pool_stats s = f.stats();
            BOOST_TEST(s.waiting == 0u);
            BOOST_TEST(s.acquire_cancellations == expected_cancellations);
            BOOST_TEST(s.acquire_timeouts == 0u);
            BOOST_TEST(s.borrowed == 1u);
        }
    }

    // The held connection, once returned, serves a new acquire (nothing leaked to the cancelled ones).
    held.release();
    auto next = f.try_acquire(style::callback, 5s);
    BOOST_TEST_REQUIRE(next.completed);
    BOOST_TEST_REQUIRE(!next.ec, next.ec.message());
    BOOST_TEST((*next.value)->backend_pid() == pid);
    BOOST_TEST(f.query_int(**next.value, "SELECT 5") == 5);
    // A signal emitted after completion does nothing.
    sig.emit(asio::cancellation_type::terminal);
    spin_for(f.ctx, 20ms);
    BOOST_TEST(f.query_int(**next.value, "SELECT 6") == 6);
    BOOST_TEST(f.stats().acquire_cancellations == 3u);
}

// 6. A connection returned inside a transaction (valid or failed) is rolled back; the reset query
// drops the session state; an empty reset query keeps settings but still rolls back.
ASIOPG_TEST_CASE(returned_transactions_are_rolled_back) {
    session observer;
    observer.query("DROP TABLE IF EXISTS pool_behaviour_rollback; CREATE TABLE pool_behaviour_rollback (v int)");
    {
        behaviour_fixture f(pool_params_for(1, 1));
        int pid = 0;
        {
            pooled_connection h = f.acquire();
            pid = h->backend_pid();
            f.query(*h, "BEGIN");
            f.query(*h, "INSERT INTO pool_behaviour_rollback VALUES (1)");
            BOOST_TEST((h->get_transaction_status() == transaction_status::in_transaction));
        } // returned without COMMIT
        {
            pooled_connection h = f.acquire();
            BOOST_TEST(h->backend_pid() == pid, "the same backend (max_size 1)");
            BOOST_TEST((h->get_transaction_status() == transaction_status::idle));
            BOOST_TEST(f.query_int(*h, "SELECT count(*)::int FROM pool_behaviour_rollback") == 0);
            // A failed transaction.
            f.query(*h, "BEGIN");
            auto bad = f.exec(*h, "SELECT 1/0");
            BOOST_TEST((bad.ec == sqlstate::division_by_zero), bad.ec.message());
            BOOST_TEST((h->get_transaction_status() == transaction_status::in_error));
        }
        {
            pooled_connection h = f.acquire();
            BOOST_TEST(h->backend_pid() == pid);
            BOOST_TEST((h->get_transaction_status() == transaction_status::idle));
            BOOST_TEST(f.query_int(*h, "SELECT 7") == 7);
        }
        BOOST_TEST(f.stats().connections_closed == 0u);
        BOOST_TEST(f.stats().resets >= 2u);
    }
    BOOST_TEST(observer.query("SELECT count(*)::int FROM pool_behaviour_rollback").at(0).at(0).as<int>() == 0);
    observer.query("DROP TABLE IF EXISTS pool_behaviour_rollback");
}

ASIOPG_TEST_CASE(default_reset_query_drops_session_state) {
    session observer;
    behaviour_fixture f(pool_params_for(1, 1));
    int pid = 0;
    std::string app_before, path_before;
    {
        pooled_connection h = f.acquire();
        pid = h->backend_pid();
        app_before = f.query_text(*h, "SHOW application_name");
        path_before = f.query_text(*h, "SHOW search_path");
        f.query(*h, "PREPARE behaviour_kept AS SELECT 11");
        f.query(*h, "SET application_name = 'behaviour_x'; SET search_path = pg_catalog; LISTEN behaviour_chan; "
                    "CREATE TEMP TABLE t (x int); SELECT pg_advisory_lock(4242)");
        // The state is really there before the return.
        BOOST_TEST(f.query_text(*h, "SHOW application_name") == "behaviour_x");
        BOOST_TEST(f.query_text(*h, "SHOW search_path") == "pg_catalog");
        BOOST_TEST(f.query_int(*h, "SELECT count(*)::int FROM pg_listening_channels()") == 1);
        BOOST_TEST(!f.query_bool(*h, "SELECT to_regclass('pg_temp.t') IS NULL"));
        BOOST_TEST(f.query_int(*h, "SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' "
                                   "AND pid = pg_backend_pid()") == 1);
        BOOST_TEST(!observer.query("SELECT pg_try_advisory_lock(4242)").at(0).at(0).as<bool>());
    }
    {
        pooled_connection h = f.acquire();
        BOOST_TEST_REQUIRE(h->backend_pid() == pid, "the same backend (max_size 1)");
        BOOST_TEST(f.query_text(*h, "SHOW application_name") == app_before);
        BOOST_TEST(f.query_text(*h, "SHOW search_path") == path_before);
        BOOST_TEST(f.query_int(*h, "SELECT count(*)::int FROM pg_listening_channels()") == 0);
        BOOST_TEST(f.query_bool(*h, "SELECT to_regclass('pg_temp.t') IS NULL"));
        BOOST_TEST(f.query_int(*h, "SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' "
                                   "AND pid = pg_backend_pid()") == 0);
        // Prepared statements are kept (documented: DISCARD ALL without DEALLOCATE ALL).
        BOOST_TEST(f.query_int(*h, "EXECUTE behaviour_kept") == 11);
    }
    // The advisory lock is free for others.
    BOOST_TEST(observer.query("SELECT pg_try_advisory_lock(4242)").at(0).at(0).as<bool>());
    observer.query("SELECT pg_advisory_unlock_all()");
}

// 6b. The reset query runs only for a session that may have changed: plain data access goes
// back without a round trip; a SET is undone; a function of the application's own that changes a
// setting is not seen (documented) unless marked with set_session_changed or always_reset is on.
ASIOPG_TEST_CASE(reset_runs_only_for_changed_sessions) {
    session observer;
    observer.query("CREATE OR REPLACE FUNCTION pool_behaviour_sneaky() RETURNS void LANGUAGE sql AS "
                   "$$ SELECT set_config('application_name', 'sneaky', false) $$");
    for (bool always : {false, true}) {
        auto p = pool_params_for(1, 1);
        p.always_reset = always;
        behaviour_fixture f(p);
        std::string app_before;
        {
            pooled_connection h = f.acquire();
            app_before = f.query_text(*h, "SHOW application_name");
            f.query(*h, "SELECT 1");
            f.query(*h, "BEGIN; SELECT 2; COMMIT");
            BOOST_TEST(!h->session_changed());
        }
        BOOST_TEST_REQUIRE(f.settle());
        BOOST_TEST(f.stats().resets == (always ? 1u : 0u));
        {
            pooled_connection h = f.acquire();
            f.query(*h, "SET application_name = 'changed'");
            BOOST_TEST(h->session_changed());
        }
        BOOST_TEST_REQUIRE(f.settle());
        BOOST_TEST(f.stats().resets == (always ? 2u : 1u));
        {
            pooled_connection h = f.acquire();
            BOOST_TEST(!h->session_changed(), "cleared by the reset");
            BOOST_TEST(f.query_text(*h, "SHOW application_name") == app_before);
            f.query(*h, "SELECT pool_behaviour_sneaky()"); // unseen: a function of our own
        }
        BOOST_TEST_REQUIRE(f.settle());
        {
            pooled_connection h = f.acquire();
            BOOST_TEST(f.query_text(*h, "SHOW application_name") == (always ? app_before : std::string("sneaky")));
            f.query(*h, "SELECT pool_behaviour_sneaky()");
            h->set_session_changed(true); // what an application does after such a function
        }
        BOOST_TEST_REQUIRE(f.settle());
        {
            pooled_connection h = f.acquire();
            BOOST_TEST(f.query_text(*h, "SHOW application_name") == app_before);
        }
    }
    observer.query("DROP FUNCTION IF EXISTS pool_behaviour_sneaky()");
}

ASIOPG_TEST_CASE(empty_reset_query_keeps_settings_but_rolls_back) {
    session observer;
    observer.query("DROP TABLE IF EXISTS pool_behaviour_rollback2; CREATE TABLE pool_behaviour_rollback2 (v int)");
    {
        auto p = pool_params_for(1, 1);
        p.reset_query = "";
        behaviour_fixture f(p);
        int pid = 0;
        {
            pooled_connection h = f.acquire();
            pid = h->backend_pid();
            f.query(*h, "SET application_name = 'survivor'");
        }
        {
            pooled_connection h = f.acquire();
            BOOST_TEST_REQUIRE(h->backend_pid() == pid);
            BOOST_TEST(f.query_text(*h, "SHOW application_name") == "survivor", "documented: a SET survives");
            f.query(*h, "BEGIN");
            f.query(*h, "INSERT INTO pool_behaviour_rollback2 VALUES (1)");
            f.query(*h, "SET LOCAL application_name = 'in_tx'");
        }
        {
            pooled_connection h = f.acquire();
            BOOST_TEST_REQUIRE(h->backend_pid() == pid);
            BOOST_TEST((h->get_transaction_status() == transaction_status::idle));
            BOOST_TEST(f.query_int(*h, "SELECT count(*)::int FROM pool_behaviour_rollback2") == 0);
            BOOST_TEST(f.query_text(*h, "SHOW application_name") == "survivor");
        }
        BOOST_TEST(f.stats().resets == 1u, "only the return inside a transaction needed a reset");
    }
    observer.query("DROP TABLE IF EXISTS pool_behaviour_rollback2");
}

// 7. A connection closed (or busy) when returned is discarded and replaced; the slot is not leaked.
ASIOPG_TEST_CASE(connection_closed_by_user_is_discarded) {
    auto p = pool_params_for(1, 1);
    p.acquire_timeout = 5s;
    behaviour_fixture f(p);
    std::set<int> pids;
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST_CONTEXT("round " << i) {
            pooled_connection h = f.acquire();
            int pid = h->backend_pid();
            BOOST_TEST(pids.insert(pid).second, "a closed backend came back: " << pid);
            BOOST_TEST(f.query_int(*h, "SELECT 1") == 1);
            std::uint64_t closed_before = f.stats().connections_closed;
            h->close();
            h.release();
            pool_stats s = f.stats();
            BOOST_TEST(s.connections_closed == closed_before + 1);
            BOOST_TEST(s.borrowed == 0u);
            BOOST_TEST(s.size <= 1u);
        }
    }
    // Returned with an operation still running: discarded too, the operation aborted.
    auto op = std::make_shared<pending_op>();
    int busy_pid = 0;
    {
        pooled_connection h = f.acquire();
        busy_pid = h->backend_pid();
        BOOST_TEST(pids.insert(busy_pid).second);
        h->async_execute("SELECT pg_sleep(10)", [op](error_code ec, result) {
            op->done = true;
            op->ec = ec;
        });
        spin_for(f.ctx, 50ms);
        BOOST_TEST((h->get_transaction_status() == transaction_status::active));
    }
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return op->done; }, 5s), "the running query was not aborted");
    BOOST_TEST(op->ec.failed());
    pooled_connection h = f.acquire();
    BOOST_TEST(pids.count(h->backend_pid()) == 0u, "a discarded backend came back");
    BOOST_TEST(f.query_int(*h, "SELECT 8") == 8);
    pool_stats s = f.stats();
    BOOST_TEST(s.size <= 1u);
    BOOST_TEST(s.borrowed == 1u);
    BOOST_TEST(s.connections_closed >= 4u);
    h.release();
    BOOST_TEST(f.settle());
    BOOST_TEST(f.stats().borrowed == 0u);
}

// 8. Idle backends terminated on the server are never handed out.
namespace {
void check_terminated_idle_backends_are_replaced(const std::string& conninfo) {
    session observer;
    auto p = pool_params_for(3, 3);
    p.connect.conninfo = conninfo;
    p.health_check_interval = 0ms; // the acquire path must notice, not a health check
    behaviour_fixture f(p);
    std::vector<int> old_pids;
    {
        std::vector<pooled_connection> held;
        for (int i = 0; i < 3; ++i) held.push_back(f.acquire());
        for (auto& h : held) old_pids.push_back(h->backend_pid());
    }
    BOOST_TEST_REQUIRE(f.settle());
    BOOST_TEST_REQUIRE(f.stats().idle == 3u);
    pool_stats before = f.stats();
    BOOST_TEST_REQUIRE(observer.query("SELECT bool_and(pg_terminate_backend(p, 5000)) FROM unnest(ARRAY[" +
                                      pid_list(old_pids) + "]) AS p")
                           .at(0).at(0).as<bool>());
    {
        std::vector<pooled_connection> held;
        for (int i = 0; i < 3; ++i) {
            BOOST_TEST_CONTEXT("acquire #" << i) {
                auto out = f.try_acquire(style::callback, 10s);
                BOOST_TEST_REQUIRE(out.completed);
                BOOST_TEST_REQUIRE(!out.ec, out.ec.message() << " " << out.diag.message);
                pooled_connection& h = *out.value;
                BOOST_TEST(std::count(old_pids.begin(), old_pids.end(), h->backend_pid()) == 0,
                           "a terminated backend was handed out: " << h->backend_pid());
                auto r = f.exec(*h, "SELECT 9");
                BOOST_TEST_REQUIRE(!r.ec, "the user saw a dead connection: " << h->get_diagnostics().to_string());
                BOOST_TEST(r.value->at(0).at(0).as<int>() == 9);
                held.push_back(std::move(h));
            }
        }
    }
    pool_stats after = f.stats();
    BOOST_TEST(after.dead_on_acquire - before.dead_on_acquire == 3u);
    BOOST_TEST(after.connections_closed - before.connections_closed >= 3u);
    BOOST_TEST(after.acquires - before.acquires == 3u, "only connections delivered count as acquires");
    BOOST_TEST(after.size <= 3u);
    BOOST_TEST(f.settle());
}
} // namespace

ASIOPG_TEST_CASE(terminated_idle_backends_are_replaced_on_acquire) {
    check_terminated_idle_backends_are_replaced(tcp_conninfo() + " sslmode=disable");
}

// The same over TLS (what libpq's default sslmode=prefer gives when the server has ssl = on).
ASIOPG_TEST_CASE(terminated_idle_backends_are_replaced_on_acquire_over_ssl) {
    // tools/pg-cluster turns TLS on (ASIOPG_PG_SSL=off is the only way to lose it).
    BOOST_TEST_REQUIRE(session().query("SHOW ssl").at(0).at(0).as<std::string>() == "on",
                       "the test server has ssl = off (tools/pg-cluster with ASIOPG_PG_SSL=off?)");
    check_terminated_idle_backends_are_replaced(tcp_conninfo() + " sslmode=require");
}

ASIOPG_TEST_CASE(health_check_notices_terminated_idle_backends) {
    session observer;
    auto p = pool_params_for(2, 2);
    p.health_check_interval = 200ms;
    behaviour_fixture f(p);
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return f.stats().idle == 2; }));
    std::vector<int> old_pids;
    {
        pooled_connection a = f.acquire(), b = f.acquire();
        old_pids = {a->backend_pid(), b->backend_pid()};
    }
    BOOST_TEST_REQUIRE(f.settle());
    BOOST_TEST_REQUIRE(observer.query("SELECT bool_and(pg_terminate_backend(p, 5000)) FROM unnest(ARRAY[" +
                                      pid_list(old_pids) + "]) AS p")
                           .at(0).at(0).as<bool>());
    // Without any acquire, the checks find both dead and the pool reopens to min_size.
    BOOST_TEST(run_until(f.ctx, [&] {
        pool_stats s = f.stats();
        return s.health_check_failures >= 2 && s.idle == 2 && s.connections_opened >= 4;
    }, 5s), "health_check_failures " << f.stats().health_check_failures << ", idle " << f.stats().idle);
    pooled_connection h = f.acquire();
    BOOST_TEST(std::count(old_pids.begin(), old_pids.end(), h->backend_pid()) == 0);
    BOOST_TEST(f.query_int(*h, "SELECT 10") == 10);
    BOOST_TEST(f.stats().dead_on_acquire == 0u);
}

// 9. max_lifetime recycles connections, idle or borrowed; clear() renews every session.
ASIOPG_TEST_CASE(max_lifetime_recycles_connections) {
    auto p = pool_params_for(1, 1);
    p.max_lifetime = 300ms;
    p.health_check_interval = 0ms;
    behaviour_fixture f(p);
    int pid1 = 0, pid2 = 0;
    {
        pooled_connection h = f.acquire();
        pid1 = h->backend_pid();
    }
    spin_for(f.ctx, 500ms);
    {
        pooled_connection h = f.acquire();
        pid2 = h->backend_pid();
        BOOST_TEST(pid2 != pid1, "a connection older than max_lifetime was reused");
        BOOST_TEST(f.query_int(*h, "SELECT 12") == 12);
        BOOST_TEST(f.stats().connections_closed >= 1u);
        // Borrowed past its lifetime: closed when returned.
        spin_for(f.ctx, 400ms);
    }
    pooled_connection h = f.acquire();
    BOOST_TEST(h->backend_pid() != pid2, "a connection returned after its lifetime was reused");
    BOOST_TEST(h->backend_pid() != pid1);
    BOOST_TEST(f.query_int(*h, "SELECT 13") == 13);
    BOOST_TEST(f.stats().size <= 1u);
}

ASIOPG_TEST_CASE(clear_gives_new_sessions) {
    behaviour_fixture f(pool_params_for(2, 2));
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return f.stats().idle == 2; }));
    pooled_connection kept = f.acquire();
    std::vector<int> old_pids{kept->backend_pid()};
    {
        pooled_connection other = f.acquire();
        old_pids.push_back(other->backend_pid());
    }
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return f.stats().idle == 1; }));
    f.pool->clear();
    BOOST_TEST(f.query_int(*kept, "SELECT 14") == 14, "a borrowed connection stays usable after clear()");
    kept.release();
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return f.stats().idle == 2 && f.stats().size == 2; }));
    pooled_connection a = f.acquire(), b = f.acquire();
    for (int pid : {a->backend_pid(), b->backend_pid()})
        BOOST_TEST(std::count(old_pids.begin(), old_pids.end(), pid) == 0, "an old session after clear(): " << pid);
}

// 10. Hooks: on_connect once per physical connection, on_acquire on every acquire; a failing
// on_acquire fails that acquire only.
ASIOPG_TEST_CASE(on_connect_runs_once_per_connection) {
    auto hooks = std::make_shared<hook_state>();
    auto p = pool_params_for(1, 2);
    p.on_connect = [hooks](connection& c, asio::any_completion_handler<void(error_code)> done) {
        ++hooks->connects;
        hooks->connect_pids.push_back(c.backend_pid());
        // An asynchronous hook. Its SET stays while no user changes the session (no reset then).
        c.async_execute("SET application_name = 'hooked'",
                        [done = std::move(done)](error_code ec, result) mutable { std::move(done)(ec); });
    };
    behaviour_fixture f(p);
    std::set<int> used; // backends that had their first user
    {
        pooled_connection h = f.acquire();
        BOOST_TEST(f.query_text(*h, "SHOW application_name") == "hooked");
        used.insert(h->backend_pid());
    }
    for (int i = 0; i < 20; ++i) {
        pooled_connection a = f.acquire();
        pooled_connection b;
        if (i % 2 == 0) b = f.acquire();
        for (pooled_connection* h : {&a, &b}) {
            if (!h->valid()) continue;
            int pid = (*h)->backend_pid();
            BOOST_TEST(std::count(hooks->connect_pids.begin(), hooks->connect_pids.end(), pid) == 1,
                       "backend " << pid << " not seen by on_connect");
            // Documented: users that only read (SHOW) leave the session unchanged, so no reset
            // runs and every one of them sees what on_connect set.
            used.insert(pid);
            BOOST_TEST(f.query_text(**h, "SHOW application_name") == "hooked", "backend " << pid);
        }
    }
    BOOST_TEST_REQUIRE(f.settle());
    pool_stats s = f.stats();
    BOOST_TEST(hooks->connects.load() == static_cast<int>(s.connections_opened));
    BOOST_TEST(s.connections_opened == 2u);
    BOOST_TEST(hooks->connect_pids.size() == 2u);
    BOOST_TEST(s.acquires == 31u);
}

ASIOPG_TEST_CASE(on_acquire_runs_every_time_and_its_failure_fails_that_acquire) {
    auto hooks = std::make_shared<hook_state>();
    auto p = pool_params_for(1, 1);
    p.on_acquire = [hooks](connection&, asio::any_completion_handler<void(error_code)> done) {
        ++hooks->acquires;
        if (hooks->throw_next) {
            hooks->throw_next = false;
            throw std::runtime_error("boom in on_acquire");
        }
        if (hooks->fail_next) {
            hooks->fail_next = false;
            return std::move(done)(make_error_code(boost::system::errc::permission_denied));
        }
        std::move(done)(error_code{});
    };
    behaviour_fixture f(p);
    for (int i = 0; i < 5; ++i) {
        pooled_connection h = f.acquire();
        BOOST_TEST(f.query_int(*h, "SELECT 15") == 15);
    }
    BOOST_TEST(hooks->acquires.load() == 5);

    int failed_pid = 0;
    {
        pooled_connection h = f.acquire();
        failed_pid = h->backend_pid();
        // An earlier, unrelated failure on this connection: it must not become the hook's diagnostics.
        auto bad = f.exec(*h, "SELEC 1");
        BOOST_TEST((bad.ec == sqlstate::syntax_error));
    }
    hooks->fail_next = true;
    auto out = f.try_acquire(style::future, 10s);
    BOOST_TEST_REQUIRE(out.completed);
    BOOST_TEST((out.ec == boost::system::errc::permission_denied), out.ec.message());
    BOOST_TEST(contains(out.diag.message, "on_acquire"), "diagnostics of a failed on_acquire: " << out.diag.to_string());
    BOOST_TEST(!contains(out.diag.message, "syntax error"), "stale diagnostics reported: " << out.diag.to_string());
    BOOST_TEST(hooks->acquires.load() == 7);

    // The pool stays usable; the connection the hook failed on was discarded.
    {
        pooled_connection h = f.acquire();
        BOOST_TEST(h->backend_pid() != failed_pid);
        BOOST_TEST(f.query_int(*h, "SELECT 16") == 16);
    }
    // A hook that throws.
    hooks->throw_next = true;
    auto thrown = f.try_acquire(style::future, 10s);
    BOOST_TEST_REQUIRE(thrown.completed);
    BOOST_TEST(thrown.ec.failed());
    BOOST_TEST(contains(thrown.diag.message, "boom in on_acquire"), thrown.diag.to_string());
    {
        pooled_connection h = f.acquire();
        BOOST_TEST(f.query_int(*h, "SELECT 17") == 17);
    }
    BOOST_TEST(hooks->acquires.load() == 10);
    BOOST_TEST_REQUIRE(f.settle());
    pool_stats s = f.stats();
    BOOST_TEST(s.borrowed == 0u);
    BOOST_TEST(s.size == 1u);
    BOOST_TEST(s.connections_closed >= 2u);
}

// 11. Shutdown: close() waits for borrowed connections, terminate() does not.
ASIOPG_TEST_CASE(close_waits_for_borrowed_connections) {
    session observer;
    auto closed = std::make_shared<bool>(false);
    behaviour_fixture f(pool_params_for(1, 2));
    pooled_connection h = f.acquire();
    int pid = h->backend_pid();
    f.pool->close();
    BOOST_TEST(f.pool->is_closed());
    auto out = f.try_acquire(style::callback, 5s);
    BOOST_TEST_REQUIRE(out.completed);
    BOOST_TEST((out.ec == client_errc::pool_closed), out.ec.message());
    auto thrown = f.try_acquire(style::future, 5s);
    BOOST_TEST((thrown.ec == client_errc::pool_closed), thrown.ec.message());
    BOOST_TEST(contains(thrown.what, "closed"), thrown.what);
    auto ex = run<result>(style::callback, f.ctx, [&](auto&& tok) { return f.pool->async_execute("SELECT 1", tok); }, 5s);
    BOOST_TEST((ex.ec == client_errc::pool_closed), ex.ec.message());

    f.pool->async_wait_closed([closed](error_code) { *closed = true; });
    spin_for(f.ctx, 300ms);
    BOOST_TEST(!*closed, "async_wait_closed completed while a connection was borrowed");
    BOOST_TEST(f.query_int(*h, "SELECT 18") == 18, "a borrowed connection stays usable after close()");
    h.release();
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return *closed; }, 5s), "async_wait_closed did not complete");
    pool_stats s = f.stats();
    BOOST_TEST(s.size == 0u);
    BOOST_TEST(s.borrowed == 0u);
    BOOST_TEST(s.idle == 0u);
    BOOST_TEST(backends_gone(observer, f.ctx, {pid}), "the returned connection was not closed");
}

ASIOPG_TEST_CASE(close_fails_queued_waiters) {
    behaviour_fixture f(pool_params_for(1, 1));
    pooled_connection h = f.acquire();
    auto w1 = start_acquire(*f.pool);
    auto w2 = start_acquire(*f.pool);
    BOOST_TEST(f.stats().waiting == 2u);
    f.pool->close();
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return w1->done && w2->done; }, 5s));
    BOOST_TEST((w1->ec == client_errc::pool_closed), w1->ec.message());
    BOOST_TEST((w2->ec == client_errc::pool_closed), w2->ec.message());
    BOOST_TEST(!w1->conn.valid());
    BOOST_TEST(!w2->conn.valid());
    BOOST_TEST(f.stats().waiting == 0u);
    h.release();
}

ASIOPG_TEST_CASE(terminate_closes_borrowed_connections) {
    auto closed = std::make_shared<bool>(false);
    auto op = std::make_shared<pending_op>();
    behaviour_fixture f(pool_params_for(1, 2));
    pooled_connection h = f.acquire();
    pooled_connection busy = f.acquire();
    busy->async_execute("SELECT pg_sleep(10)", [op](error_code ec, result) {
        op->done = true;
        op->ec = ec;
    });
    spin_for(f.ctx, 100ms);
    BOOST_TEST_REQUIRE(!op->done);
    f.pool->terminate();
    f.pool->async_wait_closed([closed](error_code) { *closed = true; });
    BOOST_TEST(run_until(f.ctx, [&] { return *closed; }, 5s),
               "async_wait_closed did not complete after terminate() with handles still held");
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return op->done; }, 5s), "the running query was not broken off");
    // terminate() shuts the borrowed connection's socket down: the query fails as a lost connection.
    BOOST_TEST(is_fatal(op->ec), op->ec.message());
    auto after = f.exec(*h, "SELECT 1");
    BOOST_TEST_REQUIRE(after.completed);
    BOOST_TEST(after.ec.failed(), "a terminated connection still ran a query");
    BOOST_TEST(!h->is_open());
    h.release();
    busy.release();
    pool_stats s = f.stats();
    BOOST_TEST(s.size == 0u);
    BOOST_TEST(s.borrowed == 0u);
    auto out = f.try_acquire(style::callback, 5s);
    BOOST_TEST((out.ec == client_errc::pool_closed), out.ec.message());
}

// 12. Many tasks sharing a small pool.
ASIOPG_TEST_CASE(thousand_tasks_share_ten_connections) {
    auto t = std::make_shared<tally>();
    auto e = std::make_shared<tally>();
    auto p = pool_params_for(2, 10);
    p.acquire_timeout = 30s;
    behaviour_fixture f(p);
    constexpr int n = 1000;
    for (int i = 0; i < n; ++i) asio::co_spawn(f.ctx, borrow_and_query(*f.pool, i, t), asio::detached);
    bool all = run_until(f.ctx, [&] { return t->finished() == n; }, 30s);
    BOOST_TEST_REQUIRE(all, "finished " << t->finished() << " of " << n);
    BOOST_TEST(t->ok.load() == n, "first error: " << t->first_error << "; wrong: " << t->wrong.load());
    BOOST_TEST_REQUIRE(f.settle());
    pool_stats s = f.stats();
    BOOST_TEST(s.borrowed == 0u);
    BOOST_TEST(s.waiting == 0u);
    BOOST_TEST(s.size <= 10u);
    BOOST_TEST(s.size >= 2u);
    BOOST_TEST(s.connections_opened <= 10u);
    BOOST_TEST(s.acquires >= static_cast<std::uint64_t>(n));
    BOOST_TEST(s.acquire_timeouts == 0u);

    // The same through pool.async_execute.
    for (int i = 0; i < n; ++i) {
        f.pool->async_execute("SELECT $1::int", params(i), [e, i](error_code ec, result r) {
            if (ec) return e->fail(ec.message());
            if (r.at(0).at(0).as<int>() == i) ++e->ok;
            else ++e->wrong;
        });
    }
    all = run_until(f.ctx, [&] { return e->finished() == n; }, 30s);
    BOOST_TEST_REQUIRE(all, "finished " << e->finished() << " of " << n);
    BOOST_TEST(e->ok.load() == n, "first error: " << e->first_error << "; wrong: " << e->wrong.load());
    BOOST_TEST_REQUIRE(f.settle());
    s = f.stats();
    BOOST_TEST(s.borrowed == 0u);
    BOOST_TEST(s.waiting == 0u);
    BOOST_TEST(s.size <= 10u);
    BOOST_TEST(s.acquires >= static_cast<std::uint64_t>(2 * n));
    BOOST_TEST(s.connections_opened <= 10u);
}

ASIOPG_TEST_CASE(thousand_tasks_on_four_threads) {
    auto t = std::make_shared<tally>();
    auto p = pool_params_for(2, 10);
    p.acquire_timeout = 30s;
    behaviour_fixture f(p);
    constexpr int n = 1000;
    for (int i = 0; i < n; ++i) asio::co_spawn(f.ctx, borrow_and_query(*f.pool, i, t), asio::detached);
    {
        auto guard = asio::make_work_guard(f.ctx);
        f.ctx.restart();
        std::vector<std::thread> threads;
        for (int k = 0; k < 4; ++k) threads.emplace_back([&] { f.ctx.run(); });
        auto until = steady::now() + 30s;
        while (t->finished() < n && steady::now() < until) std::this_thread::sleep_for(5ms);
        // Return everything before stopping the threads.
        auto settled_until = steady::now() + 10s;
        auto settled = [&] {
            pool_stats s = f.stats();
            return s.borrowed == 0 && s.waiting == 0 && s.opening == 0 && s.size == s.idle;
        };
        while (!settled() && steady::now() < settled_until) std::this_thread::sleep_for(5ms);
        guard.reset();
        f.ctx.stop();
        for (auto& th : threads) th.join();
    }
    BOOST_TEST_REQUIRE(t->finished() == n, "finished " << t->finished() << " of " << n);
    BOOST_TEST(t->ok.load() == n, "first error: " << t->first_error << "; wrong: " << t->wrong.load());
    pool_stats s = f.stats();
    BOOST_TEST(s.borrowed == 0u);
    BOOST_TEST(s.waiting == 0u);
    BOOST_TEST(s.size <= 10u);
    BOOST_TEST(s.connections_opened <= 10u);
    BOOST_TEST(s.acquires >= static_cast<std::uint64_t>(n));
}

// 13. A handle outlives the connection_pool object.
ASIOPG_TEST_CASE(handle_outlives_the_pool_object) {
    session observer;
    auto waiter = std::make_shared<pending_acquire>();
    asio::io_context ctx;
    std::optional<connection_pool> pool;
    pool.emplace(ctx, pool_params_for(1, 1));
    auto out = run<pooled_connection>(style::callback, ctx, [&](auto&& tok) { return pool->async_acquire(tok); }, 10s);
    BOOST_TEST_REQUIRE(out.completed);
    BOOST_TEST_REQUIRE(!out.ec, out.ec.message());
    pooled_connection h = std::move(*out.value);
    int pid = h->backend_pid();
    pool->async_acquire([waiter](error_code ec, pooled_connection c) {
        waiter->done = true;
        waiter->ec = ec;
        waiter->conn = std::move(c);
    });
    pool.reset(); // the destructor closes the pool
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return waiter->done; }, 5s));
    BOOST_TEST((waiter->ec == client_errc::pool_closed), waiter->ec.message());

    auto r = run<result>(style::callback, ctx, [&](auto&& tok) { return h->async_execute("SELECT 19", tok); }, 10s);
    BOOST_TEST_REQUIRE(r.completed);
    BOOST_TEST_REQUIRE(!r.ec, h->get_diagnostics().to_string());
    BOOST_TEST(r.value->at(0).at(0).as<int>() == 19);
    BOOST_TEST(h->backend_pid() == pid);
    h.release(); // fine: the connection is closed now
    BOOST_TEST(!h.valid());
    BOOST_TEST(backends_gone(observer, ctx, {pid}), "the connection returned after the pool went away stayed open");
    // Nothing of the pool keeps the context busy any more.
    ctx.restart();
    ctx.run_for(5s);
    BOOST_TEST(ctx.stopped(), "work left on the context after the pool and its last handle are gone");
}

BOOST_AUTO_TEST_SUITE_END()
