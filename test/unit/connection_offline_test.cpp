// Connection behaviour that needs no server: every style reports errors properly, nothing
// completes inline, close is idempotent, bad conninfo is refused before any I/O.
#include <asiopg/connection.hpp>

#include "styles.hpp"
#include "test_case.hpp"

using namespace asiopg;
using namespace asiopg::test;

BOOST_AUTO_TEST_SUITE(connection_offline)

ASIOPG_TEST_CASE(execute_on_a_closed_connection_fails_in_every_style) {
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            asio::io_context ctx;
            connection conn(ctx);
            auto out = run<result>(s, ctx, [&](auto&& tok) { return conn.async_execute("SELECT 1", tok); });
            BOOST_TEST(out.completed);
            BOOST_TEST((out.ec == client_errc::not_connected));
            BOOST_TEST(out.threw == throws(s));
            if (throws(s)) BOOST_TEST(out.what.find("not open") != std::string::npos, out.what);
            else BOOST_TEST(conn.get_diagnostics().message.find("not open") != std::string::npos);
        }
    }
}

ASIOPG_TEST_CASE(malformed_conninfo_fails_in_every_style_without_the_password) {
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            asio::io_context ctx;
            connection conn(ctx);
            auto out = run<no_value>(s, ctx, [&](auto&& tok) {
                return conn.async_connect("host=localhost password=s3cretpw dbname", tok);
            });
            BOOST_TEST(out.completed);
            BOOST_TEST((out.ec == client_errc::invalid_conninfo));
            std::string message = throws(s) ? out.what : conn.get_diagnostics().message;
            BOOST_TEST(!message.empty());
            BOOST_TEST(message.find("s3cretpw") == std::string::npos, message);
            BOOST_TEST(!conn.is_open());
        }
    }
}

ASIOPG_TEST_CASE(uri_with_password_in_a_bad_uri_is_redacted) {
    asio::io_context ctx;
    connection conn(ctx);
    auto out = run<no_value>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_connect("postgresql://bob:hunter22@[::1/db", tok);
    });
    BOOST_TEST((out.ec == client_errc::invalid_conninfo));
    BOOST_TEST(conn.get_diagnostics().message.find("hunter22") == std::string::npos,
               conn.get_diagnostics().message);
}

// Found by fuzzing (test/fuzz): "password" elsewhere in the URI (a database name) was taken for
// the keyword, and the real password went out in libpq's message.
ASIOPG_TEST_CASE(a_bad_uri_naming_password_elsewhere_is_redacted) {
    asio::io_context ctx;
    connection conn(ctx);
    for (const char* uri : {"postgresql://u:SECRETPW@[::1]x/password_db?sslmode=require",
                            "postgresql://u:SECRETPW@[::1/x?password_hint=1"}) {
        auto out = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(uri, tok); });
        BOOST_TEST((out.ec == client_errc::invalid_conninfo), uri);
        BOOST_TEST(conn.get_diagnostics().message.find("SECRETPW") == std::string::npos,
                   conn.get_diagnostics().message);
    }
}

ASIOPG_TEST_CASE(nothing_completes_inside_the_initiating_function) {
    asio::io_context ctx;
    connection conn(ctx);
    bool called = false;
    conn.async_execute("SELECT 1", [&](error_code, result) { called = true; });
    BOOST_TEST(!called);
    conn.async_connect("not a conninfo", [&](error_code) { called = true; });
    BOOST_TEST(!called);
    conn.async_close([&](error_code) { called = true; });
    BOOST_TEST(!called);
    ctx.run_for(std::chrono::seconds(5));
    BOOST_TEST(called);
}

ASIOPG_TEST_CASE(close_is_idempotent_and_session_facts_are_neutral) {
    asio::io_context ctx;
    connection conn(ctx.get_executor());
    conn.close();
    conn.close();
    BOOST_TEST(!conn.is_open());
    BOOST_TEST(conn.backend_pid() == 0);
    BOOST_TEST(conn.server_version() == 0);
    BOOST_TEST(!conn.parameter_status("server_encoding"));
    BOOST_TEST((conn.get_transaction_status() == transaction_status::unknown));
    BOOST_TEST(conn.native_handle() == nullptr);
    for (style s : all_styles) {
        auto out = run<no_value>(s, ctx, [&](auto&& tok) { return conn.async_close(tok); });
        BOOST_TEST(out.completed);
        BOOST_TEST(!out.ec);
    }
}

ASIOPG_TEST_CASE(moved_connection_keeps_working) {
    asio::io_context ctx;
    connection a(ctx);
    connection b(std::move(a));
    connection c(ctx);
    c = std::move(b);
    auto out = run<result>(style::callback, ctx, [&](auto&& tok) { return c.async_execute("SELECT 1", tok); });
    BOOST_TEST((out.ec == client_errc::not_connected));
    BOOST_TEST((c.get_executor() == ctx.get_executor()));
}

ASIOPG_TEST_CASE(params_with_the_default_token) {
    asio::io_context ctx;
    connection conn(ctx);
    int x = 1;
    auto ps = params(x); // a non-const lvalue list must not be mistaken for a token
    auto op1 = conn.async_execute("SELECT $1::int", ps);
    auto op2 = conn.async_execute("SELECT $1::int", params(x));
    int completed = 0;
    auto check = [&](error_code ec, result) {
        BOOST_TEST((ec == client_errc::not_connected));
        ++completed;
    };
    std::move(op1)(check);
    std::move(op2)(check);
    ctx.run_for(std::chrono::seconds(5));
    BOOST_TEST(completed == 2);
}

BOOST_AUTO_TEST_SUITE_END()
