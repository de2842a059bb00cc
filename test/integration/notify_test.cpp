// LISTEN/NOTIFY: async_receive_notification while idle and while a query runs, bursts in order,
// queued notifications before the loss of the connection, cancellation.
#include <asiopg/connection.hpp>

#include "server.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <chrono>
#include <string>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

struct listener : session {
    session sender; // another connection, on its own io_context
    explicit listener(const std::string& channel = "asiopg_ch") { query("LISTEN " + channel); }
    void notify(const std::string& channel, const std::string& payload) {
        sender.query("SELECT pg_notify($1, $2)", params(channel, payload));
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(notifications)

ASIOPG_TEST_CASE(receive_in_every_style) {
    listener l;
    int sender_pid = l.sender.conn.backend_pid();
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT(s) {
            l.notify("asiopg_ch", "hello");
            auto out = run<notification>(s, l.ctx, [&](auto&& tok) { return l.conn.async_receive_notification(tok); });
            BOOST_TEST_REQUIRE(!out.ec, out.ec.message());
            BOOST_TEST(out.value->channel == "asiopg_ch");
            BOOST_TEST(out.value->payload == "hello");
            BOOST_TEST(out.value->backend_pid == sender_pid);
        }
    }
}

ASIOPG_TEST_CASE(waits_while_idle_until_a_notify_arrives) {
    listener l;
    bool done = false;
    notification got;
    error_code ec;
    l.conn.async_receive_notification([&](error_code e, notification n) {
        ec = e;
        got = std::move(n);
        done = true;
    });
    // Nothing yet: the receiver waits.
    l.ctx.restart();
    l.ctx.run_for(200ms);
    BOOST_TEST(!done);
    l.notify("asiopg_ch", "later");
    BOOST_TEST_REQUIRE(run_until_done(l.ctx, done, 10s));
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(got.payload == "later");
    BOOST_TEST(l.query("SELECT 1").at(0).at(0).as<int>() == 1); // the connection is fine
}

ASIOPG_TEST_CASE(receive_while_a_query_runs_on_the_listener) {
    listener l;
    bool received = false, queried = false;
    notification got;
    error_code rec_ec, q_ec;
    l.conn.async_receive_notification([&](error_code e, notification n) {
        rec_ec = e;
        got = std::move(n);
        received = true;
    });
    // A query on the listener while the receiver waits, and a NOTIFY from elsewhere meanwhile.
    l.conn.async_execute("SELECT pg_sleep(0.5)", [&](error_code e, result) {
        q_ec = e;
        queried = true;
    });
    l.ctx.restart();
    l.ctx.run_for(100ms);
    l.notify("asiopg_ch", "during");
    bool both = false;
    auto until = std::chrono::steady_clock::now() + 10s;
    while (!(received && queried) && std::chrono::steady_clock::now() < until) l.ctx.run_one_for(10ms);
    both = received && queried;
    BOOST_TEST_REQUIRE(both);
    BOOST_TEST(!rec_ec, rec_ec.message());
    BOOST_TEST(!q_ec, q_ec.message());
    BOOST_TEST(got.payload == "during");
}

ASIOPG_TEST_CASE(a_burst_arrives_in_order_and_complete) {
    listener l;
    constexpr int n = 5000;
    l.sender.query("SELECT pg_notify('asiopg_ch', i::text) FROM generate_series(1, " + std::to_string(n) + ") AS i");
    for (int i = 1; i <= n; ++i) {
        auto out = run<notification>(style::callback, l.ctx, [&](auto&& tok) { return l.conn.async_receive_notification(tok); });
        BOOST_TEST_REQUIRE(!out.ec, "notification " << i << ": " << out.ec.message());
        BOOST_TEST_REQUIRE(out.value->payload == std::to_string(i));
    }
    BOOST_TEST(l.conn.discard_notifications() == 0u);
}

ASIOPG_TEST_CASE(terminated_listener_delivers_the_queue_then_the_error) {
    listener l;
    int pid = l.conn.backend_pid();
    for (int i = 0; i < 3; ++i) l.notify("asiopg_ch", "q" + std::to_string(i));
    // Let them reach the listener's socket, then end its session.
    l.sender.query("SELECT pg_sleep(0.1)");
    l.sender.query("SELECT pg_terminate_backend(" + std::to_string(pid) + ", 5000)");
    std::vector<std::string> payloads;
    error_code last;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) {
        auto out = run<notification>(style::future, l.ctx, [&](auto&& tok) { return l.conn.async_receive_notification(tok); });
        BOOST_TEST_REQUIRE(out.completed);
        if (out.ec) {
            last = out.ec;
            BOOST_TEST(out.what.find("terminating connection") != std::string::npos, out.what);
            break;
        }
        payloads.push_back(out.value->payload);
    }
    BOOST_TEST((payloads == std::vector<std::string>{"q0", "q1", "q2"}));
    BOOST_TEST((last == client_errc::connection_lost), last.message());
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 5s));
    BOOST_TEST(!l.conn.is_open());
}

ASIOPG_TEST_CASE(waiting_receiver_is_woken_when_the_listener_is_terminated) {
    listener l;
    int pid = l.conn.backend_pid();
    bool done = false;
    error_code ec;
    l.conn.async_receive_notification([&](error_code e, notification) {
        ec = e;
        done = true;
    });
    l.ctx.restart();
    l.ctx.run_for(100ms);
    BOOST_TEST_REQUIRE(!done);
    l.sender.query("SELECT pg_terminate_backend(" + std::to_string(pid) + ", 5000)");
    BOOST_TEST_REQUIRE(run_until_done(l.ctx, done, 5s));
    BOOST_TEST((ec == client_errc::connection_lost), ec.message());
}

ASIOPG_TEST_CASE(cancelled_receive_leaves_the_connection_alone) {
    listener l;
    auto out = run<notification>(style::awaitable, l.ctx, [&](auto&& tok) {
        return l.conn.async_receive_notification(cancel_after(100ms, tok));
    });
    BOOST_TEST((out.ec == client_errc::timeout), out.ec.message());
    BOOST_TEST(l.conn.is_open());
    l.notify("asiopg_ch", "after");
    auto next = run<notification>(style::callback, l.ctx, [&](auto&& tok) { return l.conn.async_receive_notification(tok); });
    BOOST_TEST(!next.ec, next.ec.message());
    BOOST_TEST(next.value->payload == "after");
}

ASIOPG_TEST_CASE(receive_on_a_closed_connection) {
    asio::io_context ctx;
    connection conn(ctx);
    auto out = run<notification>(style::callback, ctx, [&](auto&& tok) { return conn.async_receive_notification(tok); });
    BOOST_TEST((out.ec == client_errc::not_connected), out.ec.message());
}

BOOST_AUTO_TEST_SUITE_END()
