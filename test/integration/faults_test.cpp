// Faults around a connection's life: killed while idle, destroyed or closed mid-operation,
// reconnected while open. Each must end in a clear error — never a hang, a crash or a leak.
#include <asiopg/connection.hpp>

#include "server.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <future>
#include <memory>
#include <thread>

using namespace asiopg;
using namespace asiopg::test;

namespace {
error_code connect(asio::io_context& ctx, connection& conn, const std::string& ci = tcp_conninfo()) {
    return run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(ci, tok); }).ec;
}
outcome<result> exec(style s, asio::io_context& ctx, connection& conn, std::string sql) {
    return run<result>(s, ctx, [&](auto&& tok) { return conn.async_execute(sql, tok); });
}
} // namespace

BOOST_AUTO_TEST_SUITE(faults)

ASIOPG_TEST_CASE(idle_connection_killed_then_used) {
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            asio::io_context ctx;
            connection victim(ctx), killer(ctx);
            BOOST_TEST_REQUIRE(!connect(ctx, victim));
            BOOST_TEST_REQUIRE(!connect(ctx, killer));
            auto kill = exec(style::callback, ctx, killer,
                             "SELECT pg_terminate_backend(" + std::to_string(victim.backend_pid()) + ")");
            BOOST_TEST_REQUIRE(!kill.ec);
            // Wait until the backend is really gone.
            for (int i = 0; i < 100; ++i) {
                auto alive = exec(style::callback, ctx, killer,
                                  "SELECT count(*) FROM pg_stat_activity WHERE pid = " +
                                      std::to_string(victim.backend_pid()));
                if (!alive.ec && (*alive.value)[0][0].as<int>() == 0) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            auto out = exec(s, ctx, victim, "SELECT 1");
            BOOST_TEST(out.completed);
            BOOST_TEST(is_fatal(out.ec), out.ec.message());
            BOOST_TEST((out.ec == condition::connection_error), out.ec.message());
            BOOST_TEST(!victim.is_open());
            // the same object reconnects
            BOOST_TEST(!connect(ctx, victim));
            BOOST_TEST(exec(style::callback, ctx, victim, "SELECT 1").ec == error_code());
        }
    }
}

ASIOPG_TEST_CASE(destroying_the_connection_mid_query_completes_the_handler) {
    asio::io_context ctx;
    auto conn = std::make_unique<connection>(ctx);
    BOOST_TEST_REQUIRE(!connect(ctx, *conn));
    bool done = false;
    error_code got;
    conn->async_execute("SELECT pg_sleep(10)", [&](error_code ec, result) { got = ec; done = true; });
    asio::steady_timer t(ctx, std::chrono::milliseconds(100));
    t.async_wait([&](error_code) { conn.reset(); });
    ctx.run_for(std::chrono::seconds(5));
    BOOST_TEST(done);
    BOOST_TEST((got == asio::error::operation_aborted));
}

ASIOPG_TEST_CASE(destroying_the_connection_mid_connect_completes_the_handler) {
    asio::io_context ctx;
    asio::ip::tcp::acceptor silent(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    auto conn = std::make_unique<connection>(ctx);
    bool done = false;
    error_code got;
    conn->async_connect("host=127.0.0.1 port=" + std::to_string(silent.local_endpoint().port()) + " user=x dbname=y",
                        [&](error_code ec) { got = ec; done = true; });
    asio::steady_timer t(ctx, std::chrono::milliseconds(100));
    t.async_wait([&](error_code) { conn.reset(); });
    ctx.run_for(std::chrono::seconds(5));
    BOOST_TEST(done);
    BOOST_TEST((got == asio::error::operation_aborted));
}

ASIOPG_TEST_CASE(close_during_name_resolution) {
    asio::io_context ctx;
    connection conn(ctx);
    bool done = false;
    error_code got;
    conn.async_connect("host=localhost port=" + server_port() + " user=" + server_user() + " password=" +
                           server_password() + " dbname=" + server_db(),
                       [&](error_code ec) { got = ec; done = true; });
    conn.close(); // before the resolver answers
    ctx.run_for(std::chrono::seconds(10));
    BOOST_TEST(done);
    BOOST_TEST(!conn.is_open());
    BOOST_TEST((got == asio::error::operation_aborted), got.message());
}

ASIOPG_TEST_CASE(reconnecting_an_open_connection_replaces_the_session) {
    asio::io_context ctx;
    connection conn(ctx);
    BOOST_TEST_REQUIRE(!connect(ctx, conn));
    int first = conn.backend_pid();
    BOOST_TEST_REQUIRE(!connect(ctx, conn));
    BOOST_TEST(conn.is_open());
    BOOST_TEST(conn.backend_pid() != first);
    BOOST_TEST(conn.get_diagnostics().empty());
}

ASIOPG_TEST_CASE(connect_while_a_query_runs_is_rejected) {
    asio::io_context ctx;
    connection conn(ctx);
    BOOST_TEST_REQUIRE(!connect(ctx, conn));
    bool query_done = false, connect_done = false;
    error_code query_ec, connect_ec;
    conn.async_execute("SELECT pg_sleep(0.1)", [&](error_code ec, result) { query_ec = ec; query_done = true; });
    conn.async_connect(tcp_conninfo(), [&](error_code ec) { connect_ec = ec; connect_done = true; });
    ctx.run_for(std::chrono::seconds(10));
    BOOST_TEST(query_done);
    BOOST_TEST(!query_ec);
    BOOST_TEST(connect_done);
    BOOST_TEST((connect_ec == client_errc::operation_in_progress));
    BOOST_TEST(conn.is_open());
}

ASIOPG_TEST_CASE(wrong_password_over_the_unix_socket) {
    BOOST_TEST_REQUIRE(!socket_dir().empty());
    asio::io_context ctx;
    connection conn(ctx);
    connect_params p = server_params(socket_dir());
    p.password = "n0t-the-passw0rd";
    auto out = run<no_value>(style::future, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); });
    BOOST_TEST((out.ec == client_errc::connect_failed));
    BOOST_TEST(out.what.find("password authentication failed") != std::string::npos, out.what);
    BOOST_TEST(out.what.find("n0t-the-passw0rd") == std::string::npos);
}

ASIOPG_TEST_CASE(environment_defaults_are_used_for_an_empty_conninfo) {
    asio::io_context ctx;
    connection conn(ctx);
    // tools/test exports PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE
    BOOST_TEST(!connect(ctx, conn, ""), conn.get_diagnostics().message);
    BOOST_TEST(conn.is_open());
}

ASIOPG_TEST_CASE(many_parameters) {
    asio::io_context ctx;
    connection conn(ctx);
    BOOST_TEST_REQUIRE(!connect(ctx, conn));
    // 3 parameters of each kind, mixed, bound positionally.
    auto out = run<result>(style::awaitable, ctx, [&](auto&& tok) {
        return conn.async_execute("SELECT $1::int + $4::int + $7::int, $2::text || $5::text || $8::text, "
                                  "$3::bool AND $6::bool AND $9::bool",
                                  params(1, "a", true, 2, "b", true, 3, "c", false), tok);
    });
    BOOST_TEST_REQUIRE(!out.ec, out.what);
    BOOST_TEST((*out.value)[0][0].as<int>() == 6);
    BOOST_TEST((*out.value)[0][1].as<std::string>() == "abc");
    BOOST_TEST(!(*out.value)[0][2].as<bool>());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(review_regressions)

// An operation abandoned by close() must not touch the session that replaces it.
ASIOPG_TEST_CASE(abandoned_operation_leaves_the_next_session_alone) {
    asio::io_context ctx;
    connection conn(ctx);
    BOOST_TEST_REQUIRE(!connect(ctx, conn));
    error_code query_ec, connect_ec;
    int done = 0;
    conn.async_execute("SELECT pg_sleep(0.5)", [&](error_code ec, result) { query_ec = ec; ++done; });
    conn.close();
    conn.async_connect(tcp_conninfo(), [&](error_code ec) { connect_ec = ec; ++done; });
    ctx.run_for(std::chrono::seconds(10));
    BOOST_TEST(done == 2);
    BOOST_TEST((query_ec == asio::error::operation_aborted));
    BOOST_TEST(!connect_ec, connect_ec.message());
    BOOST_TEST(conn.is_open());
    BOOST_TEST(exec(style::callback, ctx, conn, "SELECT 1").ec == error_code());
}

ASIOPG_TEST_CASE(empty_values_are_not_null) {
    asio::io_context ctx;
    connection conn(ctx);
    BOOST_TEST_REQUIRE(!connect(ctx, conn));
    bytes empty_bytes;
    std::string_view empty_view;
    auto out = run<result>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_execute("SELECT $1::bytea IS NULL, $2::text IS NULL, length($2::text)",
                                  params(empty_bytes, empty_view), tok);
    });
    BOOST_TEST_REQUIRE(!out.ec, conn.get_diagnostics().message);
    BOOST_TEST(!(*out.value)[0][0].as<bool>());
    BOOST_TEST(!(*out.value)[0][1].as<bool>());
    BOOST_TEST((*out.value)[0][2].as<int>() == 0);
}

ASIOPG_TEST_CASE(moved_from_connection_is_usable_again) {
    asio::io_context ctx;
    connection a(ctx);
    connection b(std::move(a));
    BOOST_TEST((a.get_executor() == ctx.get_executor())); // NOLINT(bugprone-use-after-move)
    BOOST_TEST(!a.is_open());
    BOOST_TEST(!connect(ctx, a)); // reusable, like a moved-from socket
    BOOST_TEST(a.is_open());
}

// The handler's own executor must stay busy while the operation waits either way (flushing a
// large parameter), or a separate context running only handlers would run out of work.
ASIOPG_TEST_CASE(handler_executor_keeps_work_while_flushing) {
    asio::io_context io, app;
    connection conn(io);
    BOOST_TEST_REQUIRE(!connect(io, conn));
    auto guard = asio::make_work_guard(io);
    std::thread io_thread([&] { io.run(); });
    std::string big(32 << 20, 'z');
    bool done = false;
    error_code got;
    std::promise<void> started;
    asio::post(io, [&] {
        conn.async_execute("SELECT length($1::text)", params(big),
                           asio::bind_executor(app, [&](error_code ec, result) { got = ec; done = true; }));
        started.set_value();
    });
    started.get_future().wait();
    app.run_for(std::chrono::seconds(30)); // returns early if no work is counted on `app`
    guard.reset();
    io.stop();
    io_thread.join();
    BOOST_TEST(done);
    BOOST_TEST(!got, got.message());
}

ASIOPG_TEST_CASE(result_outlives_its_connection) {
    std::optional<result> kept;
    {
        asio::io_context ctx;
        connection conn(ctx);
        BOOST_TEST_REQUIRE(!connect(ctx, conn));
        auto out = exec(style::callback, ctx, conn, "SELECT 1 AS one");
        BOOST_TEST_REQUIRE(!out.ec);
        kept.emplace(std::move(*out.value));
    }
    BOOST_TEST((*kept)[0]["one"].as<int>() == 1);
    BOOST_TEST(kept->column_type(7) == 0u); // out of range: no call into libpq's notice hook
    BOOST_TEST(kept->column_name(7).empty());
    BOOST_TEST(kept->column_name(0) == "one");
}

BOOST_AUTO_TEST_SUITE_END()
