// Cancellation and timeouts: partial cancellation cancels the query on the server and keeps the
// connection; cancel_after() is a per-operation timeout on top of it; a server-side
// statement_timeout stays itself; late or racing cancellations never hit the next command.
#include <asiopg/cancel_after.hpp>
#include <asiopg/connection.hpp>

#include "cancel.hpp"
#include "server.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <random>
#include <string>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

int one(session& s) { return s.query("SELECT 1").at(0).at(0).as<int>(); }

} // namespace

BOOST_AUTO_TEST_SUITE(cancellation)

ASIOPG_TEST_CASE(partial_cancellation_cancels_on_the_server_and_keeps_the_connection) {
    session s;
    // (Boost 1.81 cannot bind a cancellation slot to asio::deferred; cancel_after below covers it.)
    for (style st : {style::callback, style::future, style::awaitable}) {
        BOOST_TEST_CONTEXT(st) {
            delayed_cancel c(s.ctx, 100ms);
            auto t0 = steady::now();
            auto out = run<result>(st, s.ctx, [&](auto&& tok) {
                return s.conn.async_execute("SELECT pg_sleep(10)", with_slot(c.sig.slot(), tok));
            });
            auto took = steady::now() - t0;
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST((out.ec == sqlstate::query_canceled), out.ec.message());
            BOOST_TEST((out.ec == condition::query_canceled));
            BOOST_TEST(took < 1s, std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
            BOOST_TEST(s.conn.is_open());
            BOOST_TEST(one(s) == 1);
        }
    }
}

ASIOPG_TEST_CASE(total_cancellation_behaves_as_partial_and_terminal_closes) {
    session s;
    {
        delayed_cancel c(s.ctx, 100ms, asio::cancellation_type::total);
        auto out = run<result>(style::callback, s.ctx, [&](auto&& tok) {
            return s.conn.async_execute("SELECT pg_sleep(10)", with_slot(c.sig.slot(), tok));
        });
        BOOST_TEST((out.ec == sqlstate::query_canceled), out.ec.message());
        BOOST_TEST(one(s) == 1);
    }
    {
        delayed_cancel c(s.ctx, 100ms, asio::cancellation_type::terminal);
        auto out = run<result>(style::callback, s.ctx, [&](auto&& tok) {
            return s.conn.async_execute("SELECT pg_sleep(10)", with_slot(c.sig.slot(), tok));
        });
        BOOST_TEST((out.ec == asio::error::operation_aborted), out.ec.message());
        BOOST_TEST(!s.conn.is_open());
    }
}

ASIOPG_TEST_CASE(cancel_after_times_out_in_every_style) {
    session s;
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            auto t0 = steady::now();
            auto out = run<result>(st, s.ctx, [&](auto&& tok) {
                return s.conn.async_execute("SELECT pg_sleep(10)", cancel_after(100ms, tok));
            });
            auto took = steady::now() - t0;
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST((out.ec == client_errc::timeout), out.ec.message());
            if (throws(st)) BOOST_TEST(out.threw);
            BOOST_TEST(took < 1s, std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
            BOOST_TEST(s.conn.is_open());
            BOOST_TEST(one(s) == 1);
            // Fast enough: the timeout does not fire, nothing is cancelled later.
            auto quick = run<result>(st, s.ctx, [&](auto&& tok) {
                return s.conn.async_execute("SELECT 2", cancel_after(5s, tok));
            });
            BOOST_TEST(!quick.ec, quick.ec.message());
        }
    }
}

ASIOPG_TEST_CASE(cancel_after_with_parameters_and_the_caller_s_own_slot) {
    session s;
    int seconds = 10;
    auto out = run<result>(style::awaitable, s.ctx, [&](auto&& tok) {
        return s.conn.async_execute("SELECT pg_sleep($1)", params(seconds), cancel_after(100ms, tok));
    });
    BOOST_TEST((out.ec == client_errc::timeout), out.ec.message());
    // The caller's own cancellation still works inside cancel_after (and is not a timeout).
    delayed_cancel c(s.ctx, 100ms);
    auto own = run<result>(style::callback, s.ctx, [&](auto&& tok) {
        return s.conn.async_execute("SELECT pg_sleep(10)",
                                    cancel_after(10s, with_slot(c.sig.slot(), tok)));
    });
    BOOST_TEST((own.ec == sqlstate::query_canceled), own.ec.message());
    BOOST_TEST(one(s) == 1);
}

ASIOPG_TEST_CASE(server_statement_timeout_is_not_our_timeout) {
    session s;
    s.query("SET statement_timeout = 100");
    auto out = run<result>(style::future, s.ctx, [&](auto&& tok) {
        return s.conn.async_execute("SELECT pg_sleep(10)", cancel_after(5s, tok));
    });
    BOOST_TEST((out.ec == sqlstate::query_canceled), out.ec.message());
    BOOST_TEST(out.what.find("statement timeout") != std::string::npos, out.what);
    s.query("RESET statement_timeout");
    BOOST_TEST(one(s) == 1);
}

ASIOPG_TEST_CASE(cancelling_a_finished_query_is_harmless) {
    session s;
    asio::cancellation_signal sig;
    auto out = run<result>(style::callback, s.ctx, [&](auto&& tok) {
        return s.conn.async_execute("SELECT 3", with_slot(sig.slot(), tok));
    });
    BOOST_TEST(!out.ec);
    sig.emit(asio::cancellation_type::partial); // after completion: nothing to cancel
    sig.emit(asio::cancellation_type::terminal);
    BOOST_TEST(s.conn.is_open());
    BOOST_TEST(one(s) == 1);
}

// A cancellation racing the query's completion: whatever the query's outcome, the connection
// stays usable and the NEXT command is never the one cancelled.
ASIOPG_TEST_CASE(cancel_racing_completion_never_hits_the_next_command) {
    session s;
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> delay_us(0, 4000);
    int cancelled = 0, finished = 0;
    for (int i = 0; i < 60; ++i) {
        asio::steady_timer t(s.ctx, std::chrono::microseconds(delay_us(rng)));
        asio::cancellation_signal sig;
        t.async_wait([&](error_code ec) {
            if (!ec) sig.emit(asio::cancellation_type::partial);
        });
        auto out = run<result>(style::callback, s.ctx, [&](auto&& tok) {
            return s.conn.async_execute("SELECT pg_sleep(0.002)", with_slot(sig.slot(), tok));
        });
        t.cancel();
        BOOST_TEST_REQUIRE(out.completed);
        BOOST_TEST((!out.ec || out.ec == sqlstate::query_canceled), out.ec.message());
        (out.ec ? cancelled : finished)++;
        BOOST_TEST_REQUIRE(s.conn.is_open());
        // The next command must not be cancelled by a late request.
        auto next = s.exec("SELECT pg_sleep(0.01), 7");
        BOOST_TEST_REQUIRE(!next.ec, "iteration " << i << ": " << next.ec.message());
        BOOST_TEST(next.value->at(0).at(1).as<int>() == 7);
    }
    BOOST_TEST_MESSAGE("cancelled " << cancelled << ", finished " << finished);
}

ASIOPG_TEST_CASE(cancel_after_on_connect) {
    asio::io_context ctx;
    // A server that accepts the TCP connection and never answers the startup packet.
    asio::ip::tcp::acceptor silent(ctx, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::string conninfo = "host=127.0.0.1 port=" + std::to_string(silent.local_endpoint().port()) +
                           " user=x dbname=x sslmode=disable connect_timeout=30";
    connection conn(ctx);
    auto t0 = steady::now();
    auto out = run<no_value>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_connect(conninfo, cancel_after(200ms, tok));
    });
    BOOST_TEST((out.ec == client_errc::timeout), out.ec.message());
    BOOST_TEST((steady::now() - t0 < 2s));
    BOOST_TEST(!conn.is_open());
}

BOOST_AUTO_TEST_SUITE_END()
