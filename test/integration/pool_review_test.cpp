// Review findings in the connection pool, against the real server. Each test names the defect it
// demonstrates; they fail until it is fixed. Every wait is bounded.
#include <asiopg/pool.hpp>

#include "pool.hpp"
#include "server.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;


// Runs `ctx` until `pred()` holds or `limit` passes; returns pred(). Exceptions escaping handlers
// are counted in `escaped` (when given) instead of ending the test.
template <class Pred>
bool spin_until(asio::io_context& ctx, Pred pred, std::chrono::milliseconds limit = 10s, int* escaped = nullptr) {
    auto until = steady::now() + limit;
    ctx.restart();
    while (!pred() && steady::now() < until) {
        try {
            ctx.run_one_for(5ms);
        } catch (...) {
            if (!escaped) throw;
            ++*escaped;
        }
        if (ctx.stopped()) ctx.restart();
    }
    return pred();
}

void spin_for(asio::io_context& ctx, std::chrono::milliseconds d, int* escaped = nullptr) {
    spin_until(ctx, [] { return false; }, d, escaped);
}

struct pending_acquire {
    bool done = false;
    error_code ec;
    pooled_connection conn;
};

std::shared_ptr<pending_acquire> start_acquire(connection_pool& pool) {
    auto p = std::make_shared<pending_acquire>();
    pool.async_acquire([p](error_code ec, pooled_connection c) {
        p->done = true;
        p->ec = ec;
        p->conn = std::move(c);
    });
    return p;
}

struct review_fixture {
    asio::io_context ctx;
    std::optional<connection_pool> pool;
    int escaped = 0;

    explicit review_fixture(pool_params p) { pool.emplace(ctx, std::move(p)); }
    ~review_fixture() {
        if (!pool) return;
        auto closed = std::make_shared<bool>(false);
        pool->terminate();
        pool->async_wait_closed([closed](error_code) { *closed = true; });
        spin_until(ctx, [&] { return *closed; }, 3s, &escaped);
        pool.reset();
        spin_for(ctx, 20ms, &escaped);
    }
    outcome<pooled_connection> try_acquire(steady::duration deadline = 10s) {
        return run<pooled_connection>(style::callback, ctx, [&](auto&& tok) { return pool->async_acquire(tok); },
                                      deadline);
    }
    result query(connection& c, std::string_view sql) {
        auto out = run<result>(style::callback, ctx, [&](auto&& tok) { return c.async_execute(sql, tok); });
        BOOST_TEST_REQUIRE(out.completed, sql << ": did not complete");
        BOOST_TEST_REQUIRE(!out.ec, sql << ": " << c.get_diagnostics().to_string());
        return std::move(*out.value);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(pool_review)

// Regression (busy loop, pool_machine.cpp next_wakeup()/start_opens()): after one failed connect, while
// the connects the pool wants are held back by max_concurrent_connects, the pool timer is armed
// at a time already past (next_open_allowed_), fires, finds nothing to do and re-arms at the
// same past time: the io_context spins (and takes the pool mutex) for as long as the connects in
// flight take — up to connect_timeout when the server is black-holed.
ASIOPG_TEST_CASE(no_busy_loop_while_connects_are_at_the_concurrency_limit) {
    auto calls = std::make_shared<std::atomic<int>>(0);
    auto p = pool_params_for(3, 3);
    p.max_concurrent_connects = 1;
    p.retry_interval = 50ms;
    p.health_check_interval = 0ms;
    // The first connect "fails" (on_connect error); the next ones take 1.5 s (a slow server).
    p.on_connect = [calls](connection& c, asio::any_completion_handler<void(error_code)> done) {
        if ((*calls)++ == 0) return std::move(done)(make_error_code(boost::system::errc::connection_refused));
        auto t = std::make_shared<asio::steady_timer>(c.get_executor(), 1500ms);
        t->async_wait([t, done = std::move(done)](error_code) mutable { std::move(done)(error_code{}); });
    };
    review_fixture f(p);
    BOOST_TEST_REQUIRE(spin_until(f.ctx, [&] { return calls->load() >= 2; }, 5s), "no retry after the failure");
    spin_for(f.ctx, 100ms);
    // One connect in flight (the hook's timer), nothing else to do for the next second.
    f.ctx.restart();
    std::size_t handlers = f.ctx.run_for(700ms);
    BOOST_TEST(handlers < 200u, handlers << " handlers ran in 700 ms with nothing to do (busy timer loop)");
}

// Regression (hang, pool_machine.cpp lost() with acquire_timeout == 0): "Zero: fail at once when no
// connection is idle". The zero-timeout waiter has an infinite deadline; when the idle
// connection granted to it is found dead at grant, it is queued again and waits for a
// successful reconnect — forever while reconnects fail.
ASIOPG_TEST_CASE(zero_timeout_acquire_completes_when_the_idle_connection_was_dead) {
    session observer;
    auto connects = std::make_shared<std::atomic<int>>(0);
    auto p = pool_params_for(1, 1);
    p.acquire_timeout = 0ms;
    p.health_check_interval = 0ms;
    p.retry_interval = 100ms;
    p.max_retry_interval = 200ms;
    // Every reconnect after the first connection fails (as while the server is down).
    p.on_connect = [connects](connection&, asio::any_completion_handler<void(error_code)> done) {
        if ((*connects)++ == 0) return std::move(done)(error_code{});
        std::move(done)(make_error_code(boost::system::errc::connection_refused));
    };
    review_fixture f(p);
    BOOST_TEST_REQUIRE(spin_until(f.ctx, [&] { return f.pool->stats().idle == 1; }, 5s));
    int pid = 0;
    {
        auto out = f.try_acquire();
        BOOST_TEST_REQUIRE(!out.ec, out.ec.message());
        pid = (*out.value)->backend_pid();
    }
    BOOST_TEST_REQUIRE(spin_until(f.ctx, [&] { return f.pool->stats().idle == 1; }, 5s));
    BOOST_TEST_REQUIRE(observer.query("SELECT pg_terminate_backend(" + std::to_string(pid) + ", 5000)")
                           .at(0).at(0).as<bool>());
    spin_for(f.ctx, 200ms); // the server's goodbye reaches the socket
    auto out = f.try_acquire(3s);
    BOOST_TEST(out.completed, "an acquire with acquire_timeout == 0 still waits after 3 s ("
                                  << f.pool->stats().connect_failures << " failed reconnects)");
    if (out.completed) BOOST_TEST(out.ec.failed());
}

// Regression (doc mismatch, pool_impl.cpp reset()): return_without_reset() on a connection inside a
// transaction is documented to only roll it back ("without running the reset query … A
// connection inside a transaction is still rolled back"), but reset() always appends
// params.reset_query, so the session state the borrower kept on purpose is wiped.
ASIOPG_TEST_CASE(return_without_reset_inside_a_transaction_only_rolls_back) {
    auto p = pool_params_for(1, 1);
    review_fixture f(p);
    {
        auto out = f.try_acquire();
        BOOST_TEST_REQUIRE(!out.ec, out.ec.message());
        pooled_connection h = std::move(*out.value);
        f.query(*h, "SET application_name = 'review_marker'");
        f.query(*h, "BEGIN");
        f.query(*h, "SELECT 1");
        h.return_without_reset();
    }
    BOOST_TEST_REQUIRE(spin_until(f.ctx, [&] { return f.pool->stats().idle == 1; }, 5s));
    auto out = f.try_acquire();
    BOOST_TEST_REQUIRE(!out.ec, out.ec.message());
    pooled_connection h = std::move(*out.value);
    BOOST_TEST((h->get_transaction_status() == transaction_status::idle));
    BOOST_TEST(f.query(*h, "SHOW application_name").at(0).at(0).as<std::string>() == "review_marker",
               "the reset query ran although the connection was returned without reset");
}

// Regression (slot leak, pool_impl.cpp run_hook()): run_hook catches only std::exception. A hook that
// throws anything else escapes io_context::run and the pending finish is never called: the node
// stays "opening" forever, so with max_size 1 the pool is stuck at size 1 with nothing borrowed,
// never connects again, and every acquire times out.
ASIOPG_TEST_CASE(hook_throwing_a_non_std_exception_does_not_leak_the_slot) {
    auto calls = std::make_shared<std::atomic<int>>(0);
    auto p = pool_params_for(1, 1);
    p.acquire_timeout = 2s;
    p.retry_interval = 50ms;
    p.on_connect = [calls](connection&, asio::any_completion_handler<void(error_code)> done) {
        if ((*calls)++ == 0) throw 42; // not a std::exception
        std::move(done)(error_code{});
    };
    review_fixture f(p);
    spin_until(f.ctx, [&] { return calls->load() >= 1; }, 5s, &f.escaped);
    spin_for(f.ctx, 300ms, &f.escaped);
    auto acq = start_acquire(*f.pool);
    spin_until(f.ctx, [&] { return acq->done; }, 5s, &f.escaped);
    pool_stats s = f.pool->stats();
    BOOST_TEST_MESSAGE("escaped exceptions: " << f.escaped << ", hook calls " << calls->load());
    BOOST_TEST(acq->done);
    BOOST_TEST(!acq->ec, "acquire failed: " << acq->ec.message() << "; size " << s.size << ", opening "
                                             << s.opening << ", borrowed " << s.borrowed);
    BOOST_TEST(s.opening == 0u, "a slot stuck in 'opening' after the hook threw");
}

// Regression (completion-token contract, pool_impl.cpp acquire()/wait_closed()): a pending acquire does
// not keep outstanding work on the handler's associated executor (Asio requires it until the
// handler is invoked). With the pool on one io_context and the handler bound to another, the
// other io_context's run() returns at once, before the handler could run.
ASIOPG_TEST_CASE(pending_acquire_keeps_work_on_the_handlers_executor) {
    asio::io_context pool_ctx;
    auto guard = asio::make_work_guard(pool_ctx);
    std::thread runner([&] { pool_ctx.run(); });
    asio::io_context user_ctx;
    std::atomic<bool> called{false};
    std::size_t ran = 0;
    steady::duration returned_after{};
    {
        auto p = pool_params_for(0, 1);
        // The connection becomes available only after 500 ms.
        p.on_connect = [](connection& c, asio::any_completion_handler<void(error_code)> done) {
            auto t = std::make_shared<asio::steady_timer>(c.get_executor(), 500ms);
            t->async_wait([t, done = std::move(done)](error_code) mutable { std::move(done)(error_code{}); });
        };
        connection_pool pool(pool_ctx, p);
        pool.async_acquire(asio::bind_executor(user_ctx, [&](error_code, pooled_connection) { called = true; }));
        auto t0 = steady::now();
        ran = user_ctx.run_for(5s); // must return only once the handler ran
        returned_after = steady::now() - t0;
        BOOST_TEST(called.load(), "user_ctx.run() returned after "
                                      << std::chrono::duration_cast<std::chrono::milliseconds>(returned_after).count()
                                      << " ms without running the acquire's handler (" << ran << " handlers)");
        // Let the handler run anyway, then shut down.
        user_ctx.restart();
        auto until = steady::now() + 5s;
        while (!called && steady::now() < until) {
            user_ctx.run_for(10ms);
            user_ctx.restart();
        }
        std::atomic<bool> closed{false};
        pool.async_close([&](error_code) { closed = true; });
        until = steady::now() + 5s;
        while (!closed && steady::now() < until) std::this_thread::sleep_for(5ms);
    }
    guard.reset();
    pool_ctx.stop();
    runner.join();
}


BOOST_AUTO_TEST_SUITE_END()
