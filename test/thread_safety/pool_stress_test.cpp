// The pool under several threads: an io_context run by 4 threads, 200 coroutines borrowing
// from a pool of 8, random cancellations, statistics read from another thread, then shutdown.
// Meant for ThreadSanitizer (tools/test runs this binary with thread-sanitizer=norecover too);
// it also checks that every result is right and no slot leaks.
#define BOOST_TEST_MODULE asiopg_pool_stress
#include <asiopg/pool.hpp>

#include <boost/asio/use_future.hpp>

#include "pool.hpp"
#include "server.hpp"
#include "test_case.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

using namespace asiopg;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

struct counters {
    std::atomic<int> ok{0}, wrong{0}, errors{0}, cancelled{0}, finished{0};
};

// `one_shot`: how many rounds in three use the pool's async_execute (the others borrow).
asio::awaitable<void> borrower(connection_pool& pool, int task, int rounds, int one_shot, counters& c) {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < rounds; ++i) {
        const int value = task * 1000 + i;
        try {
            if ((task + i) % 7 == 0) {
                // Give up waiting after a few milliseconds (or get the connection first).
                asio::cancellation_signal cancel;
                asio::steady_timer t(ex, std::chrono::milliseconds(1 + (task + i) % 5));
                t.async_wait([&cancel](error_code ec) {
                    if (!ec) cancel.emit(asio::cancellation_type::terminal);
                });
                auto [ec, conn] = co_await pool.async_acquire(
                    asio::bind_cancellation_slot(cancel.slot(), asio::as_tuple(asio::use_awaitable)));
                t.cancel();
                if (ec == asio::error::operation_aborted) {
                    ++c.cancelled;
                    continue;
                }
                if (ec) {
                    ++c.errors;
                    continue;
                }
                result r = co_await conn->async_execute("SELECT $1::int", params(value), asio::use_awaitable);
                (r.at(0).at(0).as<int>() == value ? c.ok : c.wrong)++;
            } else if (i % 3 < one_shot) {
                result r = co_await pool.async_execute("SELECT $1::int", params(value), asio::use_awaitable);
                (r.at(0).at(0).as<int>() == value ? c.ok : c.wrong)++;
            } else {
                pooled_connection conn = co_await pool.async_acquire(asio::use_awaitable);
                if (i % 5 == 0) co_await conn->async_execute("BEGIN", asio::use_awaitable); // left open: rolled back
                result r = co_await conn->async_execute("SELECT $1::int", params(value), asio::use_awaitable);
                (r.at(0).at(0).as<int>() == value ? c.ok : c.wrong)++;
            }
        } catch (const std::exception&) {
            ++c.errors;
        }
    }
    ++c.finished;
}


using steady = std::chrono::steady_clock;

} // namespace

// 200 tasks, 10 rounds each, on 4 threads; `multiplex`: pool_params::max_statements_per_connection.
static void stress(std::size_t multiplex, int one_shot) {
    asio::io_context ctx;
    pool_params p;
    p.connect.conninfo = test::tcp_conninfo();
    p.min_size = 2;
    p.max_size = 8;
    p.acquire_timeout = 20s;
    p.reset_query.clear(); // keep the round trips for the queries: rollback only
    p.max_statements_per_connection = multiplex;
    connection_pool pool(ctx, p);

    counters c;
    constexpr int tasks = 200, rounds = 10;
    // Each task on its own strand: its cancellation timer must not emit while the task runs on
    // another thread (Asio's rule for cancellation signals), and the pool completes each
    // acquire on the waiter's executor.
    for (int t = 0; t < tasks; ++t)
        asio::co_spawn(asio::make_strand(ctx), borrower(pool, t, rounds, one_shot, c), asio::detached);

    std::atomic<bool> done{false};
    std::atomic<std::size_t> largest{0}; // Boost.Test assertions are for the main thread only
    std::thread observer([&] {
        while (!done) {
            pool_stats s = pool.stats();
            if (s.size > largest) largest = s.size;
            std::this_thread::sleep_for(1ms);
        }
    });
    std::vector<std::thread> threads;
    auto guard = asio::make_work_guard(ctx);
    for (int i = 0; i < 4; ++i) threads.emplace_back([&] { ctx.run(); });

    auto until = std::chrono::steady_clock::now() + 45s;
    while (c.finished < tasks && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
    BOOST_TEST(c.finished.load() == tasks);

    pool_stats s = pool.stats();
    BOOST_TEST(s.borrowed == 0u);
    BOOST_TEST(s.waiting == 0u);
    BOOST_TEST(s.size <= 8u);
    BOOST_TEST(c.wrong.load() == 0);
    BOOST_TEST(c.errors.load() == 0);
    BOOST_TEST(c.ok.load() + c.cancelled.load() == tasks * rounds);
    BOOST_TEST(s.acquire_cancellations <= static_cast<std::uint64_t>(c.cancelled.load()));
    if (multiplex > 1) BOOST_TEST(s.shared_acquires > 0u);
    else BOOST_TEST(s.shared_acquires == 0u);

    // Shut down from another thread while the context runs.
    std::promise<void> closed;
    pool.async_close([&](error_code) { closed.set_value(); });
    BOOST_TEST((closed.get_future().wait_for(20s) == std::future_status::ready));
    BOOST_TEST(pool.stats().size == 0u);

    done = true;
    observer.join();
    BOOST_TEST(largest.load() <= 8u);
    guard.reset();
    ctx.stop();
    for (auto& t : threads) t.join();
}

ASIOPG_TEST_CASE(two_hundred_tasks_four_threads_one_pool) { stress(1, 1); }

// The same with statements sharing connections: they run on each connection's strand and hop
// back to their task's strand; the last one's return is looked at on the connection's strand.
ASIOPG_TEST_CASE(two_hundred_tasks_four_threads_one_multiplexed_pool) { stress(4, 2); }

// terminate() breaks a borrowed connection while its borrower uses it on another thread: it must
// not touch the connection's state there (it shuts the socket down; the borrower's thread closes).
ASIOPG_TEST_CASE(terminate_does_not_race_with_the_borrowers_thread) {
    asio::io_context pool_ctx;
    auto guard = asio::make_work_guard(pool_ctx);
    std::thread runner([&] { pool_ctx.run(); });
    {
        connection_pool pool(pool_ctx, test::pool_params_for(1, 1));
        pooled_connection h;
        try {
            h = pool.async_acquire(asio::use_future).get();
        } catch (const std::exception& e) {
            BOOST_TEST(false, e.what());
        }
        if (h) {
            std::thread terminator([&] {
                std::this_thread::sleep_for(30ms);
                pool.terminate();
            });
            auto until = steady::now() + 150ms;
            int ops = 0;
            while (steady::now() < until) { // the borrower's task, on its own thread
                if (ops % 1000 == 0) { // an operation now and then
                    auto fut = h->async_execute("SELECT 1", asio::use_future);
                    try { fut.get(); } catch (...) {}
                }
                ++ops;
                // What a borrower may look at between operations (connection_impl::pg, …).
                (void)h->is_open();
                (void)h->get_transaction_status();
            }
            terminator.join();
            BOOST_TEST_MESSAGE("borrower ran " << ops << " operations");
            h.release();
        }
        std::atomic<bool> closed{false};
        pool.async_wait_closed([&](error_code) { closed = true; });
        auto until = steady::now() + 5s;
        while (!closed && steady::now() < until) std::this_thread::sleep_for(5ms);
    }
    guard.reset();
    runner.join();
}
