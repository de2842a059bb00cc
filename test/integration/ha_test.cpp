// High availability against a real pair: a primary and a streaming hot standby made by
// tools/pg-cluster (pg_basebackup -R) on ports of their own (the test server's port + 20 and
// + 21), created for each test and destroyed after it — a test promotes the standby.
//  * multi-host conninfo: each target_session_attrs value connects where libpq says, in both
//    host orders;
//  * a read-only pool on the standby serves reads of what the primary wrote, and refuses
//    writes with the server's read-only error;
//  * failover: a read-write pool over both hosts, primary stopped, standby promoted: the pool
//    reconnects to the new primary by itself, nothing committed is lost, no slot leaks.
#include <asiopg.hpp>
#include <asiopg/pool.hpp>

#include "pool.hpp"
#include "server.hpp"
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

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

// One primary + standby pair, made fresh (a promoted standby of a previous run is no standby).
class ha_pair {
public:
    ha_pair() {
        const char* script = std::getenv("ASIOPG_PG_CLUSTER");
        BOOST_TEST_REQUIRE(script != nullptr, "ASIOPG_PG_CLUSTER is not set: run under tools/test or "
                                              "eval \"$(tools/pg-cluster env)\"");
        script_ = script;
        const int base = std::atoi(server_port().c_str());
        primary = std::to_string(base + 20);
        standby = std::to_string(base + 21);
        destroy();
        BOOST_TEST_REQUIRE(cluster(primary, "start") == 0, "could not start the primary on port " << primary);
        BOOST_TEST_REQUIRE(cluster(standby, "start", primary) == 0, "could not start the standby on port " << standby);
    }
    ~ha_pair() { destroy(); }
    ha_pair(const ha_pair&) = delete;
    ha_pair& operator=(const ha_pair&) = delete;

    // `tools/pg-cluster <what>` for the server on `port` (a standby of `primary_of` if given).
    int cluster(const std::string& port, const std::string& what, const std::string& primary_of = {}) const {
        std::string cmd = "env -u ASIOPG_PG_BASE ASIOPG_PG_PORT=" + port;
        if (!primary_of.empty()) cmd += " ASIOPG_PG_PRIMARY_PORT=" + primary_of;
        cmd += " ASIOPG_PG_USER=" + server_user() + " ASIOPG_PG_PASSWORD=" + server_password() +
               " ASIOPG_PG_DB=" + server_db() + " timeout 120 " + script_ + " " + what + " >/dev/null 2>&1";
        return std::system(cmd.c_str());
    }

    // Both servers, in the given order of ports.
    connect_params both(const std::string& first, const std::string& second, const std::string& attrs) const {
        connect_params p = server_params("127.0.0.1,127.0.0.1");
        p.port = first + "," + second;
        p.options.emplace_back("target_session_attrs", attrs);
        p.options.emplace_back("sslmode", "disable");
        p.connect_timeout = 10s;
        return p;
    }

    std::string primary, standby;

private:
    void destroy() const {
        cluster(standby, "destroy");
        cluster(primary, "destroy");
    }
    std::string script_;
};

// Which server a connection reached: its port, and whether it is a standby.
struct where {
    std::string port;
    bool in_recovery = false;
};

where ask(asio::io_context& ctx, connection& conn) {
    auto r = run<result>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_execute("SELECT inet_server_port()::text, pg_is_in_recovery()", tok);
    });
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    return {std::string((*r.value)[0][0].as<std::string_view>()), (*r.value)[0][1].as<bool>()};
}

where ask(asio::io_context& ctx, connection_pool& pool) {
    auto r = run<result>(style::callback, ctx, [&](auto&& tok) {
        return pool.async_execute("SELECT inet_server_port()::text, pg_is_in_recovery()", tok);
    });
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    return {std::string((*r.value)[0][0].as<std::string_view>()), (*r.value)[0][1].as<bool>()};
}

// Runs `sql` on the primary until the standby shows `check` true (replication is asynchronous).
bool replicated(asio::io_context& ctx, connection_pool& on_standby, const std::string& check) {
    auto until = steady::now() + 10s;
    while (steady::now() < until) {
        auto r = run<result>(style::callback, ctx, [&](auto&& tok) { return on_standby.async_execute(check, tok); });
        if (!r.ec && (*r.value)[0][0].as<bool>()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(high_availability)

// libpq's rules (PostgreSQL 15 docs, target_session_attrs), hosts tried in the order given.
ASIOPG_TEST_CASE(target_session_attrs_connect_where_they_should, *boost::unit_test::timeout(120)) {
    ha_pair pair;
    struct expectation {
        const char* attrs;
        bool standby_first;
        bool want_standby;
    };
    const expectation cases[] = {
        {"any", true, true},           {"any", false, false},
        {"read-write", true, false},   {"read-write", false, false},
        {"primary", true, false},      {"primary", false, false},
        {"read-only", true, true},     {"read-only", false, true},
        {"standby", true, true},       {"standby", false, true},
        {"prefer-standby", true, true}, {"prefer-standby", false, true},
    };
    asio::io_context ctx;
    int i = 0;
    for (const expectation& e : cases) {
        const style s = all_styles[i++ % std::size(all_styles)];
        connection conn(ctx);
        connect_params p = e.standby_first ? pair.both(pair.standby, pair.primary, e.attrs)
                                           : pair.both(pair.primary, pair.standby, e.attrs);
        auto c = run<no_value>(s, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); });
        BOOST_TEST_REQUIRE(!c.ec, e.attrs << " (" << s << "): " << c.ec.message() << " " << c.what);
        where w = ask(ctx, conn);
        BOOST_TEST(w.port == (e.want_standby ? pair.standby : pair.primary),
                   e.attrs << ", " << (e.standby_first ? "standby" : "primary") << " listed first: reached " << w.port);
        BOOST_TEST(w.in_recovery == e.want_standby, e.attrs);
    }
    // No server of the kind asked for: a clear connect error, not a hang.
    connection conn(ctx);
    connect_params only_primary = server_params("127.0.0.1");
    only_primary.port = pair.primary;
    only_primary.options.emplace_back("target_session_attrs", "standby");
    only_primary.options.emplace_back("sslmode", "disable");
    auto c = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(only_primary, tok); });
    BOOST_TEST(c.completed);
    BOOST_TEST((c.ec == client_errc::connect_failed), c.ec.message());
    BOOST_TEST(conn.get_diagnostics().message.find("standby") != std::string::npos, conn.get_diagnostics().message);
}

// Read scaling: a pool on the standby reads what the primary committed; writes are refused with
// the server's error (25006), and the connection stays usable.
ASIOPG_TEST_CASE(a_read_only_pool_serves_reads_from_the_standby, *boost::unit_test::timeout(120)) {
    ha_pair pair;
    asio::io_context ctx;
    pool_params writer_params = pool_params_for(1, 2);
    writer_params.connect = pair.both(pair.primary, pair.standby, "read-write");
    connection_pool writer(ctx, writer_params);
    pool_params reader_params = pool_params_for(2, 4);
    reader_params.connect = pair.both(pair.primary, pair.standby, "standby");
    connection_pool reader(ctx, reader_params);

    auto w = run<result>(style::callback, ctx, [&](auto&& tok) {
        return writer.async_execute("CREATE TABLE ha_notes AS SELECT g AS id, md5(g::text) AS body "
                                    "FROM generate_series(1, 1000) g",
                                    tok);
    });
    BOOST_TEST_REQUIRE(!w.ec, w.ec.message());
    BOOST_TEST(ask(ctx, writer).port == pair.primary);
    BOOST_TEST_REQUIRE(replicated(ctx, reader, "SELECT to_regclass('ha_notes') IS NOT NULL AND "
                                               "(SELECT count(*) = 1000 FROM ha_notes)"),
                       "the standby never showed the primary's table");
    for (style s : all_styles) {
        where at = ask(ctx, reader);
        BOOST_TEST(at.port == pair.standby);
        BOOST_TEST(at.in_recovery);
        auto r = run<result>(s, ctx, [&](auto&& tok) {
            return reader.async_execute("SELECT count(*), bool_and(body = md5(id::text)) FROM ha_notes", tok);
        });
        BOOST_TEST_REQUIRE(!r.ec, s << ": " << r.ec.message());
        BOOST_TEST((*r.value)[0][0].as<std::int64_t>() == 1000);
        BOOST_TEST((*r.value)[0][1].as<bool>());
    }
    auto refused = run<result>(style::awaitable, ctx, [&](auto&& tok) {
        return reader.async_execute("INSERT INTO ha_notes VALUES (0, 'no')", tok);
    });
    BOOST_TEST((refused.ec == sqlstate::read_only_sql_transaction), refused.ec.message());
    BOOST_TEST(refused.what.find("read-only transaction") != std::string::npos, refused.what);
    BOOST_TEST(ask(ctx, reader).port == pair.standby); // still serving
    // A row written now reaches the readers too.
    BOOST_TEST_REQUIRE(!run<result>(style::callback, ctx, [&](auto&& tok) {
                            return writer.async_execute("INSERT INTO ha_notes VALUES (1001, md5('1001'))", tok);
                        }).ec);
    BOOST_TEST(replicated(ctx, reader, "SELECT count(*) = 1001 FROM ha_notes"));
    BOOST_TEST(!run<no_value>(style::callback, ctx, [&](auto&& tok) { return reader.async_close(tok); }).ec);
    BOOST_TEST(!run<no_value>(style::callback, ctx, [&](auto&& tok) { return writer.async_close(tok); }).ec);
}

namespace {
struct failover_counts {
    int ok = 0, failed = 0, running = 0, unclear = 0;
    bool stop = false;
    std::string first_failure;
    std::string last_port;
};

asio::awaitable<void> writer_task(connection_pool& pool, std::shared_ptr<failover_counts> c, int task) {
    ++c->running;
    for (int n = 0; !c->stop; ++n) {
        bool failed = false;
        try {
            result r = co_await pool.async_execute(
                "INSERT INTO ha_log (task, n) VALUES ($1, $2) RETURNING inet_server_port()::text", params(task, n),
                asio::use_awaitable);
            ++c->ok;
            c->last_port = std::string(r[0][0].as<std::string_view>());
        } catch (const error_with_diagnostics& e) {
            failed = true;
            ++c->failed;
            if (c->first_failure.empty()) c->first_failure = e.what();
            if (std::string(e.what()).empty()) ++c->unclear;
        }
        if (failed) { // not in a tight loop while no server takes writes
            asio::steady_timer pause(co_await asio::this_coro::executor, 20ms);
            co_await pause.async_wait(asio::use_awaitable);
        }
    }
    --c->running;
}
} // namespace

// Failover: the primary stops under a writing load; the standby is promoted; the pool, given
// both hosts with target_session_attrs=read-write, reconnects to the new primary by itself.
ASIOPG_TEST_CASE(a_read_write_pool_follows_the_promoted_standby, *boost::unit_test::timeout(180)) {
    ha_pair pair;
    asio::io_context ctx;
    pool_params p = pool_params_for(2, 4);
    p.connect = pair.both(pair.primary, pair.standby, "read-write");
    p.acquire_timeout = 2s;
    p.retry_interval = 100ms;
    p.max_retry_interval = 500ms;
    connection_pool pool(ctx, p);
    BOOST_TEST_REQUIRE(!run<result>(style::callback, ctx, [&](auto&& tok) {
                            return pool.async_execute("CREATE TABLE ha_log (task int, n int, PRIMARY KEY (task, n))", tok);
                        }).ec);
    auto counts = std::make_shared<failover_counts>();
    for (int t = 0; t < 8; ++t) asio::co_spawn(ctx, writer_task(pool, counts, t), asio::detached);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return counts->ok >= 200; }, 20s));
    BOOST_TEST(counts->last_port == pair.primary);

    // The primary goes away (fast shutdown: the standby receives everything it wrote).
    auto stop_and_promote = [&](const std::string& what, const std::string& port) {
        std::atomic<bool> done{false};
        int status = -1;
        std::thread t([&] {
            status = pair.cluster(port, what);
            done = true;
        });
        run_until(ctx, [&] { return done.load(); }, 120s);
        t.join();
        return status;
    };
    BOOST_TEST_REQUIRE(stop_and_promote("stop", pair.primary) == 0);
    const int ok_at_stop = counts->ok;
    const int failed_at_stop = counts->failed;
    // Writes fail now (the standby is read-only, the primary gone): with clear errors.
    BOOST_TEST(run_until(ctx, [&] { return counts->failed > failed_at_stop; }, 20s));

    BOOST_TEST_REQUIRE(stop_and_promote("promote", pair.standby) == 0);
    auto t0 = steady::now();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return counts->ok >= ok_at_stop + 200; }, 30s),
                       "the pool did not reach the new primary: " << counts->ok - ok_at_stop
                                                                 << " writes since; first failure: " << counts->first_failure);
    BOOST_TEST_MESSAGE("failover: writes again "
                       << std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0).count()
                       << " ms after the promotion; " << counts->failed << " failed, first: " << counts->first_failure);
    BOOST_TEST(counts->last_port == pair.standby);
    BOOST_TEST(counts->unclear == 0);
    BOOST_TEST(ask(ctx, pool).port == pair.standby);
    BOOST_TEST(!ask(ctx, pool).in_recovery);

    counts->stop = true;
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return counts->running == 0; }, 20s));
    // Nothing the old primary acknowledged before its shutdown is missing on the new one.
    auto rows = run<result>(style::callback, ctx, [&](auto&& tok) { return pool.async_execute("SELECT count(*) FROM ha_log", tok); });
    BOOST_TEST_REQUIRE(!rows.ec);
    BOOST_TEST((*rows.value)[0][0].as<std::int64_t>() >= counts->ok);
    pool_stats s = pool.stats();
    BOOST_TEST(s.borrowed == 0u);
    BOOST_TEST(s.waiting == 0u);
    BOOST_TEST(s.size <= 4u);
    BOOST_TEST(!run<no_value>(style::callback, ctx, [&](auto&& tok) { return pool.async_close(tok); }).ec);
}

BOOST_AUTO_TEST_SUITE_END()
