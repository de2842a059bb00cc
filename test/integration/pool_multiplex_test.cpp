// A pool whose one-shot statements share connections (pool_params::max_statements_per_connection):
// when none is idle and the pool cannot grow, a statement of plain data access joins a busy
// connection instead of waiting. Each keeps its own result, error and diagnostics; statements
// that could change the session, transaction control and async_acquire never share; a waiter
// that may not share is served in turn; a cancelled statement leaves its neighbours alone.
//
// Every wait is bounded (run_until / run with a deadline). Handler state lives in shared_ptrs,
// so a handler running while a failed test unwinds never writes to a dead local.
#include <asiopg/pool.hpp>

#include "pool.hpp"
#include "server.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

// A pool of one connection on which up to `shared` statements may run at once.
pool_params multiplexed(std::size_t shared, std::size_t size = 1) {
    pool_params p = pool_params_for(size, size);
    p.max_statements_per_connection = shared;
    return p;
}

struct fixture {
    asio::io_context ctx;
    std::optional<connection_pool> pool;

    explicit fixture(pool_params p) {
        pool.emplace(ctx, std::move(p));
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return pool->stats().idle == pool->params().min_size; }));
    }
    ~fixture() {
        bool closed = false;
        pool->async_close([&](error_code) { closed = true; });
        run_until(ctx, [&] { return closed; });
    }
};

// A statement started with a callback and checked later.
struct pending {
    bool done = false;
    error_code ec;
    std::optional<result> value;
    steady::time_point at{};
};

std::shared_ptr<pending> start(connection_pool& pool, std::string sql, asio::cancellation_slot slot = {}) {
    auto p = std::make_shared<pending>();
    pool.async_execute(sql, asio::bind_cancellation_slot(slot, [p](error_code ec, result r) {
                           p->done = true;
                           p->ec = ec;
                           if (!ec) p->value.emplace(std::move(r));
                           p->at = steady::now();
                       }));
    return p;
}

} // namespace

BOOST_AUTO_TEST_SUITE(pool_multiplex)

// Behind a long statement on the only connection, a short one joins it (in every style) and
// completes right after it, instead of waiting for the connection to come back.
ASIOPG_TEST_CASE(a_statement_joins_a_busy_connection_in_every_style) {
    fixture f(multiplexed(4));
    std::uint64_t shared = 0;
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT(s) {
            auto slow = start(*f.pool, "SELECT pg_sleep(0.2)");
            auto out = run<result>(s, f.ctx, [&](auto&& tok) {
                return f.pool->async_execute("SELECT $1::int * 2", params(21), tok);
            }, 10s);
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST_REQUIRE(!out.ec, out.ec.message() << " " << out.what);
            BOOST_TEST(out.value->at(0).at(0).as<int>() == 42);
            BOOST_TEST(++shared == f.pool->stats().shared_acquires);
            BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return slow->done; }));
            BOOST_TEST(!slow->ec, slow->ec.message());
        }
    }
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return f.pool->stats().idle == 1; }));
    pool_stats st = f.pool->stats();
    BOOST_TEST(st.borrowed == 0u);
    BOOST_TEST(st.size == 1u);
}

// Statements on one shared connection: each gets its own outcome; a failing one touches no
// neighbour, and each error carries its own server diagnostics (not a neighbour's).
ASIOPG_TEST_CASE(each_shared_statement_keeps_its_own_result_and_diagnostics) {
    fixture f(multiplexed(8));
    struct outcome_of {
        bool done = false;
        std::string error;
        int value = -1;
    };
    auto run_one = [](connection_pool& pool, std::string sql, std::shared_ptr<outcome_of> out) -> asio::awaitable<void> {
        try {
            result r = co_await pool.async_execute(sql, asio::use_awaitable);
            out->value = r.at(0).at(0).as<int>();
        } catch (const error_with_diagnostics& e) {
            out->error = e.what();
        }
        out->done = true;
    };
    const std::vector<std::string> sql = {"SELECT 6 FROM pg_sleep(0.1)", "SELECT 1/0", "SELECT 7",
                                          "SELECT * FROM no_such_table_for_multiplexing", "SELECT 8"};
    std::vector<std::shared_ptr<outcome_of>> outs;
    for (const std::string& q : sql) {
        outs.push_back(std::make_shared<outcome_of>());
        asio::co_spawn(f.ctx, run_one(*f.pool, q, outs.back()), asio::detached);
    }
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] {
        for (auto& o : outs)
            if (!o->done) return false;
        return true;
    }));
    BOOST_TEST(outs[0]->value == 6, outs[0]->error);
    BOOST_TEST(outs[1]->error.find("division by zero") != std::string::npos, outs[1]->error);
    BOOST_TEST(outs[2]->value == 7);
    BOOST_TEST(outs[3]->error.find("no_such_table_for_multiplexing") != std::string::npos, outs[3]->error);
    BOOST_TEST(outs[4]->value == 8);
    BOOST_TEST(f.pool->stats().shared_acquires == 4u);
}

// What could change the session or the transaction around its neighbours waits for a
// connection of its own, as does async_acquire: with the only one busy and a short acquire
// timeout, they fail with pool_exhausted instead of sharing.
ASIOPG_TEST_CASE(session_changes_transaction_control_and_acquires_never_share) {
    auto p = multiplexed(4);
    p.acquire_timeout = 100ms;
    fixture f(p);
    auto slow = start(*f.pool, "SELECT pg_sleep(1)");
    for (std::string sql : {"SET application_name = 'x'", "BEGIN", "SELECT 1; SELECT 2", "LISTEN some_channel",
                            "SELECT set_config('application_name', 'y', false)"}) {
        BOOST_TEST_CONTEXT(sql) {
            auto out = run<result>(style::callback, f.ctx, [&](auto&& tok) { return f.pool->async_execute(sql, tok); });
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST((out.ec == client_errc::pool_exhausted), out.ec.message());
        }
    }
    auto acq = run<pooled_connection>(style::callback, f.ctx, [&](auto&& tok) { return f.pool->async_acquire(tok); });
    BOOST_TEST((acq.ec == client_errc::pool_exhausted), acq.ec.message());
    BOOST_TEST(f.pool->stats().shared_acquires == 0u);
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return slow->done; }));
    BOOST_TEST(!slow->ec);
}

// A waiter that may not share holds its place: statements started after it wait behind it
// instead of joining the connection it waits for, so it cannot starve.
ASIOPG_TEST_CASE(an_acquire_waiting_is_served_before_later_statements) {
    fixture f(multiplexed(4));
    auto first = start(*f.pool, "SELECT pg_sleep(0.2)");
    auto acquired = std::make_shared<std::optional<steady::time_point>>();
    auto held = std::make_shared<pooled_connection>();
    f.pool->async_acquire([acquired, held](error_code ec, pooled_connection c) {
        BOOST_TEST(!ec);
        *acquired = steady::now();
        *held = std::move(c);
    });
    auto later = start(*f.pool, "SELECT 5");
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return acquired->has_value(); }));
    BOOST_TEST(first->done);
    BOOST_TEST(!later->done); // behind the acquire
    asio::steady_timer hold(f.ctx, 150ms);
    bool held_long_enough = false;
    hold.async_wait([&](error_code) { held_long_enough = true; });
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return held_long_enough; }));
    BOOST_TEST(!later->done);
    const steady::time_point given_back = steady::now();
    held->release();
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return later->done; }));
    BOOST_TEST(!later->ec);
    BOOST_TEST(later->value->at(0).at(0).as<int>() == 5);
    BOOST_TEST((later->at >= given_back));
    BOOST_TEST(f.pool->stats().shared_acquires == 0u);
}

// Cancelling one shared statement cancels that one only — even terminal cancellation, which
// would otherwise give the connection up: the statement it shares the connection with
// completes normally, and the connection stays (no new one opened).
ASIOPG_TEST_CASE(cancelling_a_shared_statement_leaves_its_neighbours_alone) {
    for (auto type : {asio::cancellation_type::partial, asio::cancellation_type::terminal}) {
        BOOST_TEST_CONTEXT("cancellation type " << static_cast<int>(type)) {
            fixture f(multiplexed(4));
            const std::uint64_t opened = f.pool->stats().connections_opened;
            auto first = start(*f.pool, "SELECT 1 FROM pg_sleep(0.3)");
            asio::cancellation_signal cancel;
            auto victim = start(*f.pool, "SELECT 2 FROM pg_sleep(5)", cancel.slot());
            auto third = start(*f.pool, "SELECT 3");
            asio::steady_timer t(f.ctx, 50ms);
            t.async_wait([&](error_code) { cancel.emit(type); });
            const steady::time_point t0 = steady::now();
            BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return first->done && victim->done && third->done; }, 10s));
            BOOST_TEST(!first->ec, first->ec.message());
            BOOST_TEST((victim->ec == asio::error::operation_aborted || victim->ec == sqlstate::query_canceled),
                       victim->ec.message());
            BOOST_TEST(!third->ec, third->ec.message());
            BOOST_TEST(third->value->at(0).at(0).as<int>() == 3);
            BOOST_TEST((steady::now() - t0 < 4s)); // the 5 s sleep did not run to its end
            BOOST_TEST(f.pool->stats().shared_acquires == 2u);
            auto after = run<result>(style::callback, f.ctx, [&](auto&& tok) { return f.pool->async_execute("SELECT 4", tok); });
            BOOST_TEST_REQUIRE(!after.ec, after.ec.message());
            BOOST_TEST(after.value->at(0).at(0).as<int>() == 4);
            BOOST_TEST(f.pool->stats().connections_opened == opened); // the connection was kept
        }
    }
}

// Many statements from four threads on two connections shared eight ways: every result right,
// every connection back, nothing left waiting.
ASIOPG_TEST_CASE(many_statements_from_four_threads) {
    asio::io_context ctx;
    auto p = multiplexed(8, 2);
    connection_pool pool(ctx, p);
    std::atomic<int> ok{0}, wrong{0}, failed{0}, finished{0};
    constexpr int tasks = 50, rounds = 20;
    auto task = [&](int t) -> asio::awaitable<void> {
        for (int i = 0; i < rounds; ++i) {
            try {
                result r = co_await pool.async_execute("SELECT $1::int", params(t * 100 + i), asio::use_awaitable);
                (r.at(0).at(0).as<int>() == t * 100 + i ? ok : wrong)++;
            } catch (const std::exception&) {
                ++failed;
            }
        }
        ++finished;
    };
    for (int t = 0; t < tasks; ++t) asio::co_spawn(asio::make_strand(ctx), task(t), asio::detached);
    auto guard = asio::make_work_guard(ctx);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([&] { ctx.run(); });
    auto until = steady::now() + 30s;
    while (finished < tasks && steady::now() < until) std::this_thread::sleep_for(5ms);
    BOOST_TEST(finished.load() == tasks);
    BOOST_TEST(ok.load() == tasks * rounds);
    BOOST_TEST(wrong.load() == 0);
    BOOST_TEST(failed.load() == 0);
    pool_stats st = pool.stats();
    BOOST_TEST(st.shared_acquires > 0u);
    BOOST_TEST(st.size <= 2u);
    std::atomic<bool> closed{false};
    pool.async_close([&](error_code) { closed = true; });
    until = steady::now() + 10s;
    while (!closed && steady::now() < until) std::this_thread::sleep_for(5ms);
    BOOST_TEST(closed.load());
    BOOST_TEST(pool.stats().borrowed == 0u);
    guard.reset();
    ctx.stop();
    for (auto& th : threads) th.join();
}

// On an io_context created for one thread (`io_context ctx(1)`) the connections get no strand:
// the pool still opens, lends, shares, resets and closes them.
ASIOPG_TEST_CASE(a_pool_on_a_one_thread_context_needs_no_strands) {
    asio::io_context ctx(1);
    std::optional<connection_pool> pool;
    pool.emplace(ctx, multiplexed(4, 2));
    auto acq = run<pooled_connection>(style::awaitable, ctx, [&](auto&& tok) { return pool->async_acquire(tok); });
    BOOST_TEST_REQUIRE(!acq.ec, acq.ec.message());
    pooled_connection& held = *acq.value;
    BOOST_TEST(!held->get_executor().target<asio::strand<asio::any_io_executor>>());
    BOOST_TEST(held->get_executor().target<asio::io_context::executor_type>() != nullptr);
    auto begin = run<result>(style::callback, ctx, [&](auto&& tok) { return held->async_execute("BEGIN", tok); });
    BOOST_TEST_REQUIRE(!begin.ec);
    held.release(); // rolled back before reuse
    std::vector<std::shared_ptr<pending>> all;
    for (int i = 0; i < 12; ++i) all.push_back(start(*pool, "SELECT " + std::to_string(i) + " FROM pg_sleep(0.01)"));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] {
        for (auto& p : all)
            if (!p->done) return false;
        return true;
    }));
    for (int i = 0; i < 12; ++i) {
        BOOST_TEST_REQUIRE(!all[i]->ec, all[i]->ec.message());
        BOOST_TEST(all[i]->value->at(0).at(0).as<int>() == i);
    }
    BOOST_TEST(pool->stats().shared_acquires > 0u);
    bool closed = false;
    pool->async_close([&](error_code) { closed = true; });
    BOOST_TEST(run_until(ctx, [&] { return closed; }));
    BOOST_TEST(pool->stats().size == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
