// The connection pool against the real server: acquiring, returning, resetting, sizing,
// waiting, shutdown, and the convenience execute, in every completion style.
#include <asiopg/pool.hpp>

#include "pool.hpp"
#include "server.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;

namespace {



struct pool_fixture {
    asio::io_context ctx;
    std::optional<connection_pool> pool;

    explicit pool_fixture(pool_params p = pool_params_for(1, 4)) { pool.emplace(ctx, std::move(p)); }
    ~pool_fixture() {
        if (pool) {
            bool closed = false;
            pool->async_close([&](error_code) { closed = true; });
            run_until(ctx, [&] { return closed; });
        }
    }
    pooled_connection acquire() {
        auto out = run<pooled_connection>(style::callback, ctx, [&](auto&& tok) { return pool->async_acquire(tok); });
        BOOST_TEST_REQUIRE(!out.ec, "acquire: " << out.ec.message() << " " << pool->last_connect_error().message);
        return std::move(*out.value);
    }
    result query(connection& c, std::string_view sql) {
        auto out = run<result>(style::callback, ctx, [&](auto&& tok) { return c.async_execute(sql, tok); });
        BOOST_TEST_REQUIRE(!out.ec, sql << ": " << c.get_diagnostics().to_string());
        return std::move(*out.value);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(pool)

ASIOPG_TEST_CASE(acquire_and_execute_in_every_style) {
    pool_fixture f;
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT(s) {
            auto out = run<pooled_connection>(s, f.ctx, [&](auto&& tok) { return f.pool->async_acquire(tok); });
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST_REQUIRE(!out.ec, out.ec.message());
            BOOST_TEST_REQUIRE(out.value->valid());
            result r = f.query(**out.value, "SELECT 41 + 1");
            BOOST_TEST(r.at(0).at(0).as<int>() == 42);
        }
    }
    BOOST_TEST(f.pool->stats().acquires == 5u);
}

ASIOPG_TEST_CASE(pool_execute_in_every_style) {
    pool_fixture f;
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT(s) {
            auto out = run<result>(s, f.ctx, [&](auto&& tok) {
                return f.pool->async_execute("SELECT $1::int * 2", params(21), tok);
            });
            BOOST_TEST_REQUIRE(!out.ec, out.ec.message());
            BOOST_TEST(out.value->at(0).at(0).as<int>() == 42);
            auto bad = run<result>(s, f.ctx, [&](auto&& tok) { return f.pool->async_execute("SELEC 1", tok); });
            BOOST_TEST((bad.ec == sqlstate::syntax_error));
            if (throws(s)) BOOST_TEST(bad.what.find("syntax error") != std::string::npos, bad.what);
        }
    }
    BOOST_TEST(f.pool->stats().borrowed == 0u);
}

// A full server restart (pg_ctl stop -m fast; start) with connections idle and one borrowed: the
// borrowed one fails with a clear fatal error, the idle ones are never handed out dead, and
// the pool is whole again at once.
ASIOPG_TEST_CASE(server_restart_with_connections_idle_and_borrowed) {
    const char* cluster = std::getenv("ASIOPG_PG_CLUSTER");
    BOOST_TEST_REQUIRE(cluster != nullptr, "ASIOPG_PG_CLUSTER is not set: run under tools/test or "
                                           "eval \"$(tools/pg-cluster env)\"");
    auto p = pool_params_for(3, 4);
    p.retry_interval = std::chrono::milliseconds(100);
    p.max_retry_interval = std::chrono::milliseconds(400);
    p.acquire_timeout = std::chrono::seconds(20);
    pool_fixture f(p);
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return f.pool->stats().idle == 3; }));

    pooled_connection held = f.acquire();
    std::set<int> old_pids;
    {
        std::vector<pooled_connection> all;
        all.push_back(std::move(held));
        for (int i = 0; i < 2; ++i) all.push_back(f.acquire());
        for (auto& c : all) old_pids.insert(c->backend_pid());
        held = std::move(all[0]); // the other two go back (reset, then idle)
    }
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return f.pool->stats().idle == 2; }));

    std::string cmd = std::string(cluster) + " restart >/dev/null 2>&1";
    BOOST_TEST_REQUIRE(std::system(cmd.c_str()) == 0, "could not restart the server");

    // The borrowed connection: its next statement fails, and says the connection is gone.
    auto out = run<result>(style::callback, f.ctx, [&](auto&& tok) { return held->async_execute("SELECT 1", tok); });
    BOOST_TEST_REQUIRE(out.completed);
    BOOST_TEST(!!out.ec);
    BOOST_TEST(is_fatal(out.ec), out.ec.message());
    held.release();

    // Every next acquire works: no dead connection reaches the user.
    for (int i = 0; i < 6; ++i) {
        pooled_connection c = f.acquire();
        BOOST_TEST(old_pids.count(c->backend_pid()) == 0u);
        BOOST_TEST(f.query(*c, "SELECT 1").at(0).at(0).as<int>() == 1);
    }
    pool_stats s = f.pool->stats();
    BOOST_TEST(s.borrowed == 0u);
    BOOST_TEST(s.size <= 4u);
    BOOST_TEST(s.dead_on_acquire + s.health_check_failures + s.connections_closed >= 3u);
}

ASIOPG_TEST_CASE(close_and_wait_closed_in_every_style) {
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT(s) {
            asio::io_context ctx;
            connection_pool pool(ctx, pool_params_for(2, 2));
            BOOST_TEST_REQUIRE(run_until(ctx, [&] { return pool.stats().idle == 2; }));
            auto out = run<no_value>(s, ctx, [&](auto&& tok) { return pool.async_close(tok); });
            BOOST_TEST(out.completed);
            BOOST_TEST(!out.ec);
            BOOST_TEST(pool.is_closed());
            BOOST_TEST(pool.stats().size == 0u);
            auto late = run<pooled_connection>(s, ctx, [&](auto&& tok) { return pool.async_acquire(tok); });
            BOOST_TEST((late.ec == client_errc::pool_closed));
            if (throws(s)) BOOST_TEST(late.what.find("closed") != std::string::npos, late.what);
        }
    }
}

// The handle may outlive the pool object; releasing it afterwards closes the connection.
ASIOPG_TEST_CASE(handle_outlives_the_pool_object) {
    pool_fixture f;
    pooled_connection c = f.acquire();
    f.pool.reset();
    BOOST_TEST(f.query(*c, "SELECT 7").at(0).at(0).as<int>() == 7);
    c.release();
    BOOST_TEST(!c.valid());
}

BOOST_AUTO_TEST_SUITE_END()
