// The connection pool against the real server: acquiring, returning, resetting, sizing,
// waiting, shutdown, and the convenience execute, in every completion style.
#include <asiopg/pool.hpp>

#include "server.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <string>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;

namespace {

pool_params test_pool_params(std::size_t min_size = 1, std::size_t max_size = 4) {
    pool_params p;
    p.connect.conninfo = tcp_conninfo();
    p.min_size = min_size;
    p.max_size = max_size;
    p.acquire_timeout = std::chrono::seconds(10);
    return p;
}

// Runs the context until `pred` holds or `limit` passes; returns pred().
template <class Pred>
bool run_until(asio::io_context& ctx, Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto until = std::chrono::steady_clock::now() + limit;
    ctx.restart();
    while (!pred() && std::chrono::steady_clock::now() < until) {
        ctx.run_one_for(std::chrono::milliseconds(10));
        if (ctx.stopped()) ctx.restart();
    }
    return pred();
}

struct pool_fixture {
    asio::io_context ctx;
    std::optional<connection_pool> pool;

    explicit pool_fixture(pool_params p = test_pool_params()) { pool.emplace(ctx, std::move(p)); }
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

BOOST_AUTO_TEST_SUITE_END()
