// PgBouncer 1.18 (Debian) in transaction pooling mode in front of the test server
// (tools/pgbouncer, port = the server's + 30, 4 server connections): with the statement cache
// off (`connect_params::statement_cache = 0`, doc/pgbouncer.md) every query path works — the
// five completion styles, errors, transactions, automatic pipelining, pipelines, streaming,
// COPY — and a pool of many clients shares the few server connections.
#include <asiopg.hpp>
#include <asiopg/pool.hpp>

#include "pool.hpp"
#include "server.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

// Starts tools/pgbouncer for the test server (idempotent) and stops it at the end.
class bouncer {
public:
    bouncer() {
        const char* cluster = std::getenv("ASIOPG_PG_CLUSTER");
        BOOST_TEST_REQUIRE(cluster != nullptr, "ASIOPG_PG_CLUSTER is not set: run under tools/test or "
                                               "eval \"$(tools/pg-cluster env)\"");
        std::string tools(cluster);
        script_ = tools.substr(0, tools.rfind('/')) + "/pgbouncer";
        port = std::to_string(std::atoi(server_port().c_str()) + 30);
        BOOST_TEST_REQUIRE(run("start") == 0, "could not start PgBouncer on port " << port);
    }
    ~bouncer() { run("stop"); }
    bouncer(const bouncer&) = delete;
    bouncer& operator=(const bouncer&) = delete;

    // Through PgBouncer, PgBouncer-safe: every statement unnamed.
    connect_params params() const {
        connect_params p = server_params("127.0.0.1");
        p.port = port;
        p.options.emplace_back("sslmode", "disable"); // (PgBouncer here has no TLS for clients)
        p.statement_cache = 0;
        return p;
    }

    std::string port;

private:
    int run(const std::string& what) const {
        std::string cmd = "env ASIOPG_PG_PORT=" + server_port() + " ASIOPG_PGB_PORT=" + port +
                          " ASIOPG_PG_USER=" + server_user() + " ASIOPG_PG_PASSWORD=" + server_password() +
                          " ASIOPG_PG_DB=" + server_db() + " timeout 60 " + script_ + " " + what + " >/dev/null 2>&1";
        return std::system(cmd.c_str());
    }
    std::string script_;
};

template <class Launch>
result must(asio::io_context& ctx, Launch launch) {
    auto r = run<result>(style::callback, ctx, launch);
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    return std::move(*r.value);
}

} // namespace

BOOST_AUTO_TEST_SUITE(pgbouncer)

ASIOPG_TEST_CASE(every_query_path_through_transaction_pooling, *boost::unit_test::timeout(120)) {
    bouncer b;
    asio::io_context ctx;
    connection conn(ctx);
    connect_params p = b.params();
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); }).ec);
    must(ctx, [&](auto&& tok) { return conn.async_execute("DROP TABLE IF EXISTS pgb_items", tok); });
    must(ctx, [&](auto&& tok) {
        return conn.async_execute("CREATE TABLE pgb_items (id int PRIMARY KEY, name text NOT NULL)", tok);
    });

    // Parameters in every style, the same SQL far beyond the cache's prepare threshold.
    for (style s : all_styles) {
        for (int i = 0; i < 12; ++i) {
            const std::string text = "n" + std::to_string(i);
            auto r = run<result>(s, ctx, [&](auto&& tok) {
                return conn.async_execute("SELECT $1::int + 1, $2::text", params(i, text), tok);
            });
            BOOST_TEST_REQUIRE(!r.ec, s << ": " << r.ec.message() << " " << r.what);
            BOOST_TEST((*r.value)[0][0].as<int>() == i + 1);
            BOOST_TEST((*r.value)[0][1].as<std::string>() == text);
        }
    }
    // Nothing was prepared on any server connection behind PgBouncer.
    for (int i = 0; i < 4; ++i)
        BOOST_TEST(must(ctx, [&](auto&& tok) {
                       return conn.async_execute("SELECT count(*) FROM pg_prepared_statements", tok);
                   })[0][0].as<std::int64_t>() == 0);

    // A server error: its diagnostics, and the connection goes on.
    auto failed = run<result>(style::awaitable, ctx, [&](auto&& tok) {
        return conn.async_execute("SELECT 1 / $1::int", params(0), tok);
    });
    BOOST_TEST((failed.ec == sqlstate::division_by_zero), failed.ec.message());
    BOOST_TEST(failed.what.find("division by zero") != std::string::npos, failed.what);

    // A timeout: PgBouncer passes the cancel request to the server session running the query.
    auto slow = run<result>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_execute("SELECT pg_sleep(10)", cancel_after(200ms, tok));
    });
    BOOST_TEST((slow.ec == client_errc::timeout), slow.ec.message());
    BOOST_TEST(conn.is_open());
    BOOST_TEST(must(ctx, [&](auto&& tok) { return conn.async_execute("SELECT 5", tok); })[0][0].as<int>() == 5);

    // Transactions: a commit and a rollback (a transaction keeps its server connection).
    must(ctx, [&](auto&& tok) { return conn.async_execute("BEGIN", tok); });
    for (int i = 1; i <= 3; ++i)
        must(ctx, [&](auto&& tok) {
            return conn.async_execute("INSERT INTO pgb_items VALUES ($1, $2)", params(i, "committed"), tok);
        });
    must(ctx, [&](auto&& tok) { return conn.async_execute("COMMIT", tok); });
    must(ctx, [&](auto&& tok) { return conn.async_execute("BEGIN", tok); });
    must(ctx, [&](auto&& tok) {
        return conn.async_execute("INSERT INTO pgb_items VALUES ($1, $2)", params(4, "rolled back"), tok);
    });
    must(ctx, [&](auto&& tok) { return conn.async_execute("ROLLBACK", tok); });
    BOOST_TEST(must(ctx, [&](auto&& tok) { return conn.async_execute("SELECT count(*) FROM pgb_items", tok); })[0][0]
                   .as<std::int64_t>() == 3);

    // Automatic pipelining: 100 statements started at once on the one connection.
    std::vector<int> got(100, -1);
    int done = 0;
    for (int i = 0; i < 100; ++i)
        conn.async_execute("SELECT $1::int * 3", params(i), [&, i](error_code ec, result r) {
            ++done;
            if (!ec) got[i] = r[0][0].as<int>();
        });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return done == 100; }, 20s));
    for (int i = 0; i < 100; ++i) BOOST_TEST(got[i] == i * 3);

    // An explicit pipeline: 50 inserts and a count, one round trip.
    pipeline pl;
    for (int i = 10; i < 60; ++i) pl.add("INSERT INTO pgb_items VALUES ($1, $2)", params(i, "pipelined"));
    pl.add("SELECT count(*) FROM pgb_items");
    auto out = run<std::vector<pipeline_result>>(style::deferred, ctx, [&](auto&& tok) { return conn.async_execute(pl, tok); });
    BOOST_TEST_REQUIRE(!out.ec, out.ec.message());
    BOOST_TEST_REQUIRE(out.value->size() == 51u);
    for (const pipeline_result& r : *out.value) BOOST_TEST(r.ok(), r.diag.to_string());
    BOOST_TEST(out.value->back().value[0][0].as<std::int64_t>() == 53);

    // Streaming: 20,000 rows in batches.
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, ctx, [&](auto&& tok) {
                            return conn.async_start_stream("SELECT g FROM generate_series(1, $1::int) g", params(20000), tok);
                        }).ec);
    row_batch batch;
    std::int64_t rows = 0, sum = 0;
    for (;;) {
        auto n = run<std::size_t>(style::callback, ctx, [&](auto&& tok) { return conn.async_read_rows(batch, 1000, tok); });
        BOOST_TEST_REQUIRE(!n.ec, n.ec.message());
        if (*n.value == 0) break;
        for (row_view r : batch) {
            ++rows;
            sum += r[0].as<std::int64_t>();
        }
    }
    BOOST_TEST(rows == 20000);
    BOOST_TEST(sum == std::int64_t{20000} * 20001 / 2);

    // COPY in and out.
    {
        copy_writer writer(conn);
        BOOST_TEST_REQUIRE(!run<no_value>(style::callback, ctx, [&](auto&& tok) {
                                return writer.async_start("COPY pgb_items (id, name) FROM STDIN", tok);
                            }).ec);
        for (int i = 1000; i < 6000; ++i) writer.write_row(i, "copied " + std::to_string(i));
        auto n = run<std::uint64_t>(style::callback, ctx, [&](auto&& tok) { return writer.async_finish(tok); });
        BOOST_TEST_REQUIRE(!n.ec, n.ec.message());
        BOOST_TEST(*n.value == 5000u);
    }
    {
        copy_reader reader(conn);
        BOOST_TEST_REQUIRE(!run<no_value>(style::callback, ctx, [&](auto&& tok) {
                                return reader.async_start("COPY (SELECT id, name FROM pgb_items WHERE id >= 1000) TO STDOUT", tok);
                            }).ec);
        copy_rows copied;
        std::size_t seen = 0;
        bool intact = true;
        for (;;) {
            auto n = run<std::size_t>(style::callback, ctx, [&](auto&& tok) { return reader.async_read_rows(copied, 1000, tok); });
            BOOST_TEST_REQUIRE(!n.ec, n.ec.message());
            if (*n.value == 0) break;
            for (copy_row_view r : copied) {
                auto [id, name] = r.as<int, std::string>();
                intact = intact && name == "copied " + std::to_string(id);
                ++seen;
            }
        }
        BOOST_TEST(seen == 5000u);
        BOOST_TEST(intact);
    }
    must(ctx, [&](auto&& tok) { return conn.async_execute("DROP TABLE pgb_items", tok); });
}

namespace {
struct crowd {
    int finished = 0, wrong = 0;
    std::string failure;
};

// One client of many: statements through the pool, and transactions on a pooled connection.
asio::awaitable<void> client(connection_pool& pool, std::shared_ptr<crowd> c, int id) {
    for (int k = 0; k < 30; ++k) {
        const int v = id * 1000 + k;
        result r = co_await pool.async_execute("SELECT $1::int, $2::text", params(v, std::to_string(v)), asio::use_awaitable);
        if (r[0][0].as<int>() != v || r[0][1].as<std::string>() != std::to_string(v)) ++c->wrong;
        if (k % 10 == 0) {
            pooled_connection conn = co_await pool.async_acquire(asio::use_awaitable);
            co_await conn->async_execute("BEGIN", asio::use_awaitable);
            co_await conn->async_execute("INSERT INTO pgb_crowd VALUES ($1)", params(v), asio::use_awaitable);
            co_await conn->async_execute("COMMIT", asio::use_awaitable);
        }
    }
}
} // namespace

// 60 clients, a pool of 20 client connections, 4 server connections behind PgBouncer.
ASIOPG_TEST_CASE(a_pool_of_many_clients_over_few_server_connections, *boost::unit_test::timeout(120)) {
    bouncer b;
    asio::io_context ctx;
    pool_params p = pool_params_for(2, 20);
    p.connect = b.params();
    p.acquire_timeout = 20s;
    connection_pool pool(ctx, p);
    must(ctx, [&](auto&& tok) { return pool.async_execute("DROP TABLE IF EXISTS pgb_crowd", tok); });
    must(ctx, [&](auto&& tok) { return pool.async_execute("CREATE TABLE pgb_crowd (v int PRIMARY KEY)", tok); });
    auto c = std::make_shared<crowd>();
    for (int id = 0; id < 60; ++id)
        asio::co_spawn(ctx, client(pool, c, id), [c](std::exception_ptr e) {
            ++c->finished;
            if (!e) return;
            try { std::rethrow_exception(e); } catch (const std::exception& ex) { if (c->failure.empty()) c->failure = ex.what(); }
        });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c->finished == 60; }, 60s));
    BOOST_TEST(c->failure.empty(), c->failure);
    BOOST_TEST(c->wrong == 0);
    BOOST_TEST(must(ctx, [&](auto&& tok) { return pool.async_execute("SELECT count(*) FROM pgb_crowd", tok); })[0][0]
                   .as<std::int64_t>() == 180);
    must(ctx, [&](auto&& tok) { return pool.async_execute("DROP TABLE pgb_crowd", tok); });
    pool_stats s = pool.stats();
    BOOST_TEST(s.borrowed == 0u);
    BOOST_TEST(s.waiting == 0u);
    BOOST_TEST(!run<no_value>(style::callback, ctx, [&](auto&& tok) { return pool.async_close(tok); }).ec);
}

BOOST_AUTO_TEST_SUITE_END()
