// Faults between client and server, injected by tools/fault-proxy: a blackhole during connect
// and during a query, connections reset mid-result and while idle in a pool, new connections
// refused, 50 ms of latency. Each case has its deadline and its documented outcome
// (doc/errors.md, "Network faults").
#include <asiopg/cancel_after.hpp>
#include <asiopg/connection.hpp>
#include <asiopg/pool.hpp>

#include "fault_proxy.hpp"
#include "pool.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// A connection through the proxy, connected.
struct proxied {
    fault_proxy proxy;             // declared first: goes last, after every operation is over
    asio::io_context ctx;
    connection conn{ctx};

    proxied() {
        auto c = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(proxy.params(), tok); });
        BOOST_TEST_REQUIRE(!c.ec, "connect through the proxy: " << conn.get_diagnostics().message);
    }
    outcome<result> exec(std::string_view sql, style s = style::callback) {
        return run<result>(s, ctx, [&](auto&& tok) { return conn.async_execute(sql, tok); });
    }
};

double seconds_since(steady::time_point t0) { return std::chrono::duration<double>(steady::now() - t0).count(); }

} // namespace

BOOST_AUTO_TEST_SUITE(network_faults)

// The server never answers the startup packet: the connect deadline ends it, in every style.
ASIOPG_TEST_CASE(blackhole_during_connect_the_connect_timeout_fires) {
    fault_proxy proxy;
    proxy.command("blackhole");
    connect_params p = proxy.params();
    p.connect_timeout = 700ms;
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT(s) {
            asio::io_context ctx;
            connection conn(ctx);
            auto t0 = steady::now();
            auto out = run<no_value>(s, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); });
            BOOST_TEST(out.completed);
            BOOST_TEST((out.ec == client_errc::timeout), out.ec.message());
            BOOST_TEST(seconds_since(t0) < 5.0);
            BOOST_TEST(!conn.is_open());
            BOOST_TEST(conn.get_diagnostics().message.find("timeout") != std::string::npos,
                       conn.get_diagnostics().message);
        }
    }
    // Healed: the next connect works.
    proxy.command("pass");
    asio::io_context ctx;
    connection conn(ctx);
    BOOST_TEST(!run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); }).ec);
}

// A query into a blackhole. Terminal cancellation by the operation's timeout gives the
// connection up at once. Partial cancellation sends a cancel request — through the same
// blackhole — then gives the connection up `cancel_bound` (5 s) later. TCP keepalives and
// tcp_user_timeout cannot see this blackhole: the proxy's kernel acknowledges every segment.
ASIOPG_TEST_CASE(blackhole_during_a_query_the_operation_timeout_fires) {
    proxied f;
    f.proxy.command("blackhole");
    auto t0 = steady::now();
    auto terminal = run<result>(style::callback, f.ctx, [&](auto&& tok) {
        return f.conn.async_execute("SELECT 1", cancel_after(300ms, tok, asio::cancellation_type::terminal));
    });
    BOOST_TEST(terminal.completed);
    BOOST_TEST((terminal.ec == client_errc::timeout), terminal.ec.message());
    BOOST_TEST(seconds_since(t0) < 3.0);
    BOOST_TEST(!f.conn.is_open());

    f.proxy.command("pass");
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, f.ctx, [&](auto&& tok) {
                           return f.conn.async_connect(f.proxy.params(), tok);
                       }).ec);
    f.proxy.command("blackhole");
    t0 = steady::now();
    auto partial = run<result>(style::awaitable, f.ctx, [&](auto&& tok) {
        return f.conn.async_execute("SELECT 2", cancel_after(300ms, tok));
    });
    BOOST_TEST(partial.completed);
    BOOST_TEST((partial.ec == client_errc::timeout), partial.ec.message());
    BOOST_TEST(seconds_since(t0) > 4.0);  // the cancel request had its 5 s
    BOOST_TEST(seconds_since(t0) < 12.0);
    BOOST_TEST(!f.conn.is_open());
    f.proxy.command("pass"); // lets the stuck cancel request finish
}

// The connection is reset while a large result streams in: a fatal error, and no partial
// result handed over as if it were complete.
ASIOPG_TEST_CASE(reset_mid_result_is_fatal_and_nothing_partial_is_delivered) {
    for (style s : {style::callback, style::future, style::awaitable}) {
        BOOST_TEST_CONTEXT(s) {
            proxied f;
            f.proxy.command("cut 200000"); // ~200 kB into a ~2 MB result
            auto out = f.exec("SELECT g, repeat('x', 20) FROM generate_series(1, 60000) g", s);
            BOOST_TEST(out.completed);
            BOOST_TEST((out.ec == client_errc::connection_lost), out.ec.message());
            BOOST_TEST(is_fatal(out.ec));
            BOOST_TEST((!out.value.has_value() || out.value->size() == 0u));
            BOOST_TEST(!f.conn.is_open());
        }
    }
    // Streaming: rows already handed over were complete rows; the stream then fails.
    proxied f;
    auto st = run<no_value>(style::callback, f.ctx, [&](auto&& tok) {
        return f.conn.async_start_stream("SELECT g FROM generate_series(1, 200000) g", tok);
    });
    BOOST_TEST_REQUIRE(!st.ec);
    f.proxy.command("cut 100000");
    error_code last;
    std::int64_t expected = 1;
    bool in_order = true;
    for (int i = 0; i < 10000 && !last; ++i) {
        row_batch batch;
        auto rows = run<std::size_t>(style::callback, f.ctx, [&](auto&& tok) { return f.conn.async_read_rows(batch, 1000, tok); });
        last = rows.ec;
        if (!last && batch.empty()) break; // the end (cannot happen: the cut comes first)
        for (std::size_t r = 0; r < batch.size(); ++r) in_order = in_order && batch[r][0].as<std::int64_t>() == expected++;
    }
    BOOST_TEST((last == client_errc::connection_lost), last.message());
    BOOST_TEST(in_order);
    BOOST_TEST(expected < 200001);
}

// Every connection of an idle pool is reset: the next acquires get new, working connections.
ASIOPG_TEST_CASE(reset_while_idle_in_the_pool_is_noticed_and_replaced) {
    fault_proxy proxy;
    asio::io_context ctx;
    pool_params p;
    p.connect = proxy.params();
    p.min_size = 3;
    p.max_size = 3;
    p.acquire_timeout = 10s;
    connection_pool pool(ctx, p);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return pool.stats().idle == 3; }));
    auto answer = proxy.command("reset");
    BOOST_TEST(answer == "ok reset 3");
    for (int i = 0; i < 6; ++i) {
        auto out = run<result>(style::callback, ctx, [&](auto&& tok) { return pool.async_execute("SELECT 41 + 1", tok); });
        BOOST_TEST_REQUIRE(!out.ec, out.ec.message() << " " << pool.last_connect_error().message);
        BOOST_TEST((*out.value)[0][0].as<int>() == 42);
    }
    pool_stats s = pool.stats();
    BOOST_TEST(s.dead_on_acquire + s.health_check_failures >= 1u);
    BOOST_TEST(s.borrowed == 0u);
    BOOST_TEST(s.size <= 3u);
    BOOST_TEST(!run<no_value>(style::callback, ctx, [&](auto&& tok) { return pool.async_close(tok); }).ec);
}

// New connections refused: acquires fail with the connect error once the acquire timeout
// passes (no hang); allowed again, the pool fills itself.
ASIOPG_TEST_CASE(refused_connections_fail_acquires_then_the_pool_recovers) {
    fault_proxy proxy;
    proxy.command("refuse");
    asio::io_context ctx;
    pool_params p;
    p.connect = proxy.params();
    p.min_size = 1;
    p.max_size = 2;
    p.acquire_timeout = 800ms;
    p.retry_interval = 50ms;
    p.max_retry_interval = 200ms;
    connection_pool pool(ctx, p);
    auto t0 = steady::now();
    auto failed = run<pooled_connection>(style::awaitable, ctx, [&](auto&& tok) { return pool.async_acquire(tok); });
    BOOST_TEST(failed.completed);
    BOOST_TEST(!!failed.ec);
    BOOST_TEST(seconds_since(t0) < 5.0);
    BOOST_TEST(failed.what.find("refused") != std::string::npos, failed.what);
    BOOST_TEST(pool.last_connect_error().message.find("refused") != std::string::npos);

    proxy.command("pass");
    auto ok = run<result>(style::callback, ctx, [&](auto&& tok) { return pool.async_execute("SELECT 1", tok); });
    BOOST_TEST(!ok.ec, ok.ec.message());
    BOOST_TEST(!run<no_value>(style::callback, ctx, [&](auto&& tok) { return pool.async_close(tok); }).ec);
}

// 50 ms each way: results stay right, and ten queries sent together (pipelined) take about
// one round trip where ten in a row take ten.
ASIOPG_TEST_CASE(latency_keeps_results_right_and_pipelining_pays) {
    proxied f;
    f.proxy.command("latency 50");
    auto t0 = steady::now();
    for (int i = 0; i < 10; ++i) {
        auto r = run<result>(style::callback, f.ctx, [&](auto&& tok) {
            return f.conn.async_execute("SELECT $1::int * 2", params(i), tok);
        });
        BOOST_TEST_REQUIRE(!r.ec);
        BOOST_TEST((*r.value)[0][0].as<int>() == 2 * i);
    }
    const double sequential = seconds_since(t0);

    t0 = steady::now();
    pipeline pl;
    for (int i = 0; i < 10; ++i) pl.add("SELECT $1::int * 3", params(i));
    auto all = run<std::vector<pipeline_result>>(style::callback, f.ctx, [&](auto&& tok) { return f.conn.async_execute(pl, tok); });
    const double pipelined = seconds_since(t0);
    BOOST_TEST_REQUIRE(!all.ec);
    BOOST_TEST_REQUIRE(all.value->size() == 10u);
    for (int i = 0; i < 10; ++i) BOOST_TEST((*all.value)[static_cast<std::size_t>(i)].value[0][0].as<int>() == 3 * i);

    // Ten queries started at once on one connection are pipelined automatically too.
    t0 = steady::now();
    int done = 0;
    std::vector<int> answers(10, -1);
    for (int i = 0; i < 10; ++i) {
        f.conn.async_execute("SELECT $1::int * 4", params(i), [&, i](error_code ec, result r) {
            if (!ec) answers[static_cast<std::size_t>(i)] = r[0][0].as<int>();
            ++done;
        });
    }
    BOOST_TEST_REQUIRE(run_until(f.ctx, [&] { return done == 10; }, 20s));
    const double concurrent = seconds_since(t0);
    for (int i = 0; i < 10; ++i) BOOST_TEST(answers[static_cast<std::size_t>(i)] == 4 * i);

    BOOST_TEST(sequential >= 0.9, sequential); // ten round trips of >= 100 ms
    BOOST_TEST(pipelined < sequential / 3, pipelined << " vs " << sequential);
    BOOST_TEST(concurrent < sequential / 3, concurrent << " vs " << sequential);
}

namespace {
struct load_counts {
    int ok = 0, failed = 0, unclear = 0, running = 0;
    bool stop = false;
    std::string first_failure;
};

// One task of the load: statements through the pool until told to stop; a failure must be a
// clear one (the session ended, or the connection was lost) with a message.
asio::awaitable<void> load_task(connection_pool& pool, std::shared_ptr<load_counts> c, int id) {
    ++c->running;
    for (int i = 0; !c->stop; ++i) {
        try {
            result r = co_await pool.async_execute("SELECT $1::int, pg_sleep(0.005)", params(id * 100000 + i),
                                                   asio::use_awaitable);
            if (r[0][0].as<int>() == id * 100000 + i) ++c->ok;
            else ++c->unclear;
        } catch (const error_with_diagnostics& e) {
            ++c->failed;
            if (c->first_failure.empty()) c->first_failure = e.what();
            const bool clear = (is_fatal(e.code()) || e.code() == client_errc::connection_lost) &&
                               !e.get_diagnostics().message.empty();
            if (!clear) ++c->unclear;
        }
    }
    --c->running;
}
} // namespace

// `pg_ctl restart -m fast` under load: statements in flight fail with clear errors, the pool is
// whole again within seconds, and no slot is leaked.
ASIOPG_TEST_CASE(server_restart_with_a_pool_under_load) {
    const char* cluster = std::getenv("ASIOPG_PG_CLUSTER");
    BOOST_TEST_REQUIRE(cluster != nullptr, "ASIOPG_PG_CLUSTER is not set: run under tools/test or "
                                           "eval \"$(tools/pg-cluster env)\"");
    auto counts = std::make_shared<load_counts>();
    asio::io_context ctx;
    pool_params p = pool_params_for(5, 5);
    p.acquire_timeout = 30s;
    p.retry_interval = 100ms;
    p.max_retry_interval = 500ms;
    connection_pool pool(ctx, p);
    for (int t = 0; t < 20; ++t) asio::co_spawn(ctx, load_task(pool, counts, t), asio::detached);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return counts->ok >= 200; }, 20s));

    std::atomic<bool> restarted{false};
    int restart_status = -1;
    std::thread restart([&] {
        restart_status = std::system((std::string(cluster) + " restart >/dev/null 2>&1").c_str());
        restarted = true;
    });
    const bool restart_done = run_until(ctx, [&] { return restarted.load(); }, 60s);
    restart.join();
    BOOST_TEST_REQUIRE(restart_done);
    BOOST_TEST_REQUIRE(restart_status == 0, "could not restart the server");
    const int ok_at_restart = counts->ok;
    auto t0 = steady::now();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return counts->ok >= ok_at_restart + 200; }, 20s),
                       "the pool did not recover: " << counts->ok - ok_at_restart << " statements since");
    BOOST_TEST_MESSAGE("recovered in " << seconds_since(t0) << " s; " << counts->failed
                                       << " statements failed, first: " << counts->first_failure);
    BOOST_TEST(counts->unclear == 0, counts->first_failure);

    counts->stop = true;
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return counts->running == 0; }, 20s));
    pool_stats s = pool.stats();
    BOOST_TEST(s.borrowed == 0u);
    BOOST_TEST(s.waiting == 0u);
    BOOST_TEST(s.size <= 5u);
    // Every slot usable: five connections at once.
    std::vector<pooled_connection> all;
    for (int i = 0; i < 5; ++i) {
        auto c = run<pooled_connection>(style::callback, ctx, [&](auto&& tok) { return pool.async_acquire(tok); });
        BOOST_TEST_REQUIRE(!c.ec, c.ec.message());
        all.push_back(std::move(*c.value));
    }
    for (auto& c : all) {
        auto r = run<result>(style::callback, ctx, [&](auto&& tok) { return c->async_execute("SELECT 1", tok); });
        BOOST_TEST(!r.ec, r.ec.message());
    }
    all.clear();
    BOOST_TEST(!run<no_value>(style::callback, ctx, [&](auto&& tok) { return pool.async_close(tok); }).ec);
}

BOOST_AUTO_TEST_SUITE_END()
