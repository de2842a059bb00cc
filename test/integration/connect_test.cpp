// Connecting: every style, every way of saying where, and every way it can fail.
#include <asiopg/connection.hpp>

#include "server.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

using namespace asiopg;
using namespace asiopg::test;

BOOST_AUTO_TEST_SUITE(connecting)

ASIOPG_TEST_CASE(connect_in_every_style) {
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            asio::io_context ctx;
            connection conn(ctx);
            auto out = run<no_value>(s, ctx, [&](auto&& tok) { return conn.async_connect(tcp_conninfo(), tok); });
            BOOST_TEST(out.completed);
            BOOST_TEST(!out.ec, out.ec.message() << " " << conn.get_diagnostics().message);
            BOOST_TEST(conn.is_open());
            BOOST_TEST(conn.backend_pid() > 0);
        }
    }
}

ASIOPG_TEST_CASE(connect_with_params_struct_and_uri) {
    asio::io_context ctx;
    connection conn(ctx);
    connect_params p = server_params();
    p.options.emplace_back("application_name", "asiopg-test");
    auto a = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); });
    BOOST_TEST(!a.ec, conn.get_diagnostics().message);
    BOOST_TEST(conn.parameter_status("application_name").value_or("") == "asiopg-test");

    std::string uri = "postgresql://" + server_user() + ":" + server_password() + "@" + server_host() + ":" +
                      server_port() + "/" + server_db() + "?application_name=via-uri";
    auto b = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(uri, tok); });
    BOOST_TEST(!b.ec, conn.get_diagnostics().message);
    BOOST_TEST(conn.parameter_status("application_name").value_or("") == "via-uri");
}

ASIOPG_TEST_CASE(connect_over_the_unix_socket) {
    BOOST_TEST_REQUIRE(!socket_dir().empty(), "ASIOPG_TEST_SOCKET_DIR not set");
    asio::io_context ctx;
    connection conn(ctx);
    connect_params p = server_params(socket_dir());
    auto out = run<no_value>(style::awaitable, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); });
    BOOST_TEST(!out.ec, out.what);
    auto r = run<result>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_execute("SELECT inet_server_addr() IS NULL AS via_socket", tok);
    });
    BOOST_TEST_REQUIRE(!r.ec);
    BOOST_TEST((*r.value)[0]["via_socket"].as<bool>());
}

ASIOPG_TEST_CASE(host_names_are_resolved_by_asio) {
    asio::io_context ctx;
    connection conn(ctx);
    // localhost resolves to ::1 and 127.0.0.1; the server listens on 127.0.0.1 only, so the
    // first address may be refused and the next one must be tried.
    auto out = run<no_value>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_connect("host=localhost port=" + server_port() + " user=" + server_user() +
                                      " password=" + server_password() + " dbname=" + server_db(),
                                  tok);
    });
    BOOST_TEST(!out.ec, conn.get_diagnostics().message);
    BOOST_TEST(conn.is_open());
}

ASIOPG_TEST_CASE(unknown_host_name_fails_cleanly) {
    asio::io_context ctx;
    connection conn(ctx);
    auto out = run<no_value>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_connect("host=no-such-host.invalid port=5432 user=x dbname=y", tok);
    });
    BOOST_TEST(out.completed);
    BOOST_TEST((out.ec == client_errc::connect_failed));
    BOOST_TEST(conn.get_diagnostics().message.find("no-such-host.invalid") != std::string::npos,
               conn.get_diagnostics().message);
}

ASIOPG_TEST_CASE(multi_host_first_refused) {
    asio::io_context ctx;
    connection conn(ctx);
    // Port 1 on loopback refuses at once; libpq moves on — possibly reusing the same fd number
    // for the new socket, which must not hang us.
    std::string ci = "host=127.0.0.1,127.0.0.1 port=1," + server_port() + " user=" + server_user() +
                     " password=" + server_password() + " dbname=" + server_db();
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            auto out = run<no_value>(s, ctx, [&](auto&& tok) { return conn.async_connect(ci, tok); });
            BOOST_TEST(out.completed);
            BOOST_TEST(!out.ec, conn.get_diagnostics().message);
        }
    }
    auto r = run<result>(style::callback, ctx, [&](auto&& tok) { return conn.async_execute("SELECT inet_server_port()", tok); });
    BOOST_TEST_REQUIRE(!r.ec);
    BOOST_TEST((*r.value)[0][0].as<std::string>() == server_port());
}

ASIOPG_TEST_CASE(target_session_attrs_rejects_then_moves_on) {
    asio::io_context ctx;
    connection conn(ctx);
    // The same server twice; read-only is refused by a primary on both, so the connect fails after
    // trying each host — exercising libpq's socket swap with target_session_attrs.
    std::string ci = "host=127.0.0.1,127.0.0.1 port=" + server_port() + "," + server_port() +
                     " user=" + server_user() + " password=" + server_password() + " dbname=" + server_db() +
                     " target_session_attrs=read-only";
    auto out = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(ci, tok); });
    BOOST_TEST(out.completed);
    BOOST_TEST((out.ec == client_errc::connect_failed));
    BOOST_TEST(conn.get_diagnostics().message.find("read-only") != std::string::npos, conn.get_diagnostics().message);
    std::string ok = "host=127.0.0.1,127.0.0.1 port=1," + server_port() + " user=" + server_user() +
                     " password=" + server_password() + " dbname=" + server_db() + " target_session_attrs=read-write";
    auto good = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(ok, tok); });
    BOOST_TEST(!good.ec, conn.get_diagnostics().message);
}

ASIOPG_TEST_CASE(connection_refused) {
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            asio::io_context ctx;
            connection conn(ctx);
            auto out = run<no_value>(s, ctx, [&](auto&& tok) {
                return conn.async_connect("host=127.0.0.1 port=1 user=x dbname=y connect_timeout=10", tok);
            });
            BOOST_TEST(out.completed);
            BOOST_TEST((out.ec == client_errc::connect_failed));
            BOOST_TEST((out.ec == condition::connection_error));
            BOOST_TEST(is_fatal(out.ec));
            std::string msg = throws(s) ? out.what : conn.get_diagnostics().message;
            BOOST_TEST(msg.find("Connection refused") != std::string::npos, msg);
            BOOST_TEST(!conn.is_open());
        }
    }
}

ASIOPG_TEST_CASE(connect_timeout_against_a_server_that_never_answers) {
    asio::io_context ctx;
    // A listening socket that never accepts: the kernel completes the TCP handshake, libpq sends
    // its startup packet, and nothing ever comes back.
    asio::ip::tcp::acceptor silent(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    std::string port = std::to_string(silent.local_endpoint().port());
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            connection conn(ctx);
            connect_params p;
            p.conninfo = "host=127.0.0.1 port=" + port + " user=x dbname=y";
            p.connect_timeout = std::chrono::milliseconds(300);
            auto t0 = std::chrono::steady_clock::now();
            auto out = run<no_value>(s, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); });
            auto took = std::chrono::steady_clock::now() - t0;
            BOOST_TEST(out.completed);
            BOOST_TEST((out.ec == client_errc::timeout));
            BOOST_TEST((out.ec == condition::connection_error));
            BOOST_TEST(took < std::chrono::seconds(10)); // bounded, not hanging (no timing assertion beyond that)
            BOOST_TEST(!conn.is_open());
        }
    }
}

ASIOPG_TEST_CASE(conninfo_connect_timeout_is_honoured) {
    asio::io_context ctx;
    asio::ip::tcp::acceptor silent(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    connection conn(ctx);
    std::string ci = "host=127.0.0.1 port=" + std::to_string(silent.local_endpoint().port()) +
                     " user=x dbname=y connect_timeout=2";
    auto out = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(ci, tok); });
    BOOST_TEST(out.completed);
    BOOST_TEST((out.ec == client_errc::timeout));
    BOOST_TEST(conn.get_diagnostics().message.find("timeout") != std::string::npos);
}

ASIOPG_TEST_CASE(wrong_password_never_shows_the_password) {
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            asio::io_context ctx;
            connection conn(ctx);
            connect_params p;
            p.conninfo = "host=" + server_host() + " port=" + server_port() + " dbname=" + server_db();
            p.user = server_user();
            p.password = "Wr0ngPassw0rd";
            auto out = run<no_value>(s, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); });
            BOOST_TEST(out.completed);
            BOOST_TEST((out.ec == client_errc::connect_failed));
            std::string msg = throws(s) ? out.what : conn.get_diagnostics().message;
            BOOST_TEST(msg.find("password authentication failed") != std::string::npos, msg);
            BOOST_TEST(msg.find("Wr0ngPassw0rd") == std::string::npos, msg);
            BOOST_TEST(conn.get_diagnostics().to_string().find("Wr0ngPassw0rd") == std::string::npos);
        }
    }
}

ASIOPG_TEST_CASE(cancel_a_connect_in_progress) {
    asio::io_context ctx;
    asio::ip::tcp::acceptor silent(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    connection conn(ctx);
    asio::cancellation_signal signal;
    error_code got;
    bool done = false;
    conn.async_connect("host=127.0.0.1 port=" + std::to_string(silent.local_endpoint().port()) + " user=x dbname=y",
                       asio::bind_cancellation_slot(signal.slot(), [&](error_code ec) { got = ec; done = true; }));
    asio::steady_timer t(ctx, std::chrono::milliseconds(100));
    t.async_wait([&](error_code) { signal.emit(asio::cancellation_type::terminal); });
    ctx.run_for(std::chrono::seconds(10));
    BOOST_TEST(done);
    BOOST_TEST((got == asio::error::operation_aborted));
    BOOST_TEST(!conn.is_open());
}

// libpq's connect_timeout is per host: a host that accepts but never answers is given up after
// it, and the next host is tried (aiopg users' "stale server" failover case).
ASIOPG_TEST_CASE(per_host_connect_timeout_fails_over_to_the_next_host) {
    asio::io_context ctx;
    asio::ip::tcp::acceptor silent(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    connection conn(ctx);
    std::string ci = "host=127.0.0.1,127.0.0.1 port=" + std::to_string(silent.local_endpoint().port()) + "," +
                     server_port() + " user=" + server_user() + " password=" + server_password() +
                     " dbname=" + server_db() + " connect_timeout=2";
    auto out = run<no_value>(style::awaitable, ctx, [&](auto&& tok) { return conn.async_connect(ci, tok); });
    BOOST_TEST(!out.ec, out.what);
    BOOST_TEST(conn.is_open());
}

ASIOPG_TEST_CASE(total_deadline_spans_every_host) {
    asio::io_context ctx;
    asio::ip::tcp::acceptor a(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::acceptor b(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    connection conn(ctx);
    connect_params p;
    p.conninfo = "host=127.0.0.1,127.0.0.1 port=" + std::to_string(a.local_endpoint().port()) + "," +
                 std::to_string(b.local_endpoint().port()) + " user=x dbname=y";
    p.connect_timeout = std::chrono::milliseconds(400);
    auto out = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); });
    BOOST_TEST((out.ec == client_errc::timeout));
    BOOST_TEST(conn.get_diagnostics().message.find("timeout") != std::string::npos);
}

ASIOPG_TEST_CASE(prefer_standby_falls_back_to_the_primary) {
    asio::io_context ctx;
    connection conn(ctx);
    std::string ci = tcp_conninfo() + " target_session_attrs=prefer-standby";
    auto out = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(ci, tok); });
    BOOST_TEST(!out.ec, conn.get_diagnostics().message);
    BOOST_TEST(conn.is_open());
    std::string standby = tcp_conninfo() + " target_session_attrs=standby";
    auto refused = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(standby, tok); });
    BOOST_TEST((refused.ec == client_errc::connect_failed));
}

ASIOPG_TEST_CASE(every_failed_host_is_reported) {
    asio::io_context ctx;
    connection conn(ctx);
    auto out = run<no_value>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_connect("host=127.0.0.1,no-such-host.invalid,127.0.0.1 port=1,2,3 user=x dbname=y", tok);
    });
    BOOST_TEST((out.ec == client_errc::connect_failed));
    const std::string& m = conn.get_diagnostics().message;
    BOOST_TEST(m.find("port 1") != std::string::npos, m);
    BOOST_TEST(m.find("no-such-host.invalid") != std::string::npos, m);
    BOOST_TEST(m.find("port 3") != std::string::npos, m);
}

BOOST_AUTO_TEST_SUITE_END()
