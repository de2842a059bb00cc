// Automatic pipelining: queries started while the connection is busy wait for their turn —
// parameterised ones (and single statements without parameters) are sent at once in libpq's
// pipeline mode — and each caller gets its own result, in every completion style. Error
// isolation, initiation order, cancellation while waiting or running, operations that still
// refuse to share the connection, close() and a terminated backend with queries in flight.
#include <asiopg/cancel_after.hpp>
#include <asiopg/connection.hpp>
#include <asiopg/copy.hpp>
#include <asiopg/pipeline.hpp>

#include "cancel.hpp"
#include "server.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

// One query's outcome, filled by a callback.
struct slot {
    bool done = false;
    error_code ec;
    result value;
    std::string message; // the diagnostics the connection had when it completed
    auto handler(connection& conn) {
        return [this, &conn](error_code e, result r) {
            ec = e;
            value = std::move(r);
            if (e) message = conn.get_diagnostics().to_string();
            done = true;
        };
    }
};

bool all_done(const std::vector<slot>& slots) {
    for (const slot& s : slots)
        if (!s.done) return false;
    return true;
}

// Runs ctx until every slot completed (or the deadline passed).
bool run_all(session& s, const std::vector<slot>& slots, steady::duration deadline = 20s) {
    s.ctx.restart();
    const auto until = steady::now() + deadline;
    while (!all_done(slots) && steady::now() < until) s.ctx.run_for(10ms);
    return all_done(slots);
}

int int_of(const slot& s) {
    BOOST_TEST_REQUIRE(!s.ec, s.ec.message() << ": " << s.message);
    return s.value.at(0).at(0).as<int>();
}

} // namespace

BOOST_AUTO_TEST_SUITE(auto_pipeline)

// 200 queries started at once on one connection: none is refused, each gets its own value.
ASIOPG_TEST_CASE(concurrent_callbacks_get_their_own_results) {
    session s;
    std::vector<slot> slots(200);
    for (int i = 0; i < 200; ++i) {
        if (i % 3 == 0) s.conn.async_execute("SELECT $1::int", params(i), slots[i].handler(s.conn));
        else if (i % 3 == 1) s.conn.async_execute("SELECT $1::int * 2 / 2", params(i), slots[i].handler(s.conn));
        else s.conn.async_execute("SELECT " + std::to_string(i), slots[i].handler(s.conn)); // no parameters
    }
    BOOST_TEST_REQUIRE(run_all(s, slots));
    for (int i = 0; i < 200; ++i) BOOST_TEST(int_of(slots[i]) == i);
    BOOST_TEST(s.query("SELECT 7").at(0).at(0).as<int>() == 7);
}

// Many C++20 coroutines share one connection, each running a loop of queries.
ASIOPG_TEST_CASE(concurrent_awaitable_tasks_share_one_connection) {
    session s;
    constexpr int tasks = 50, each = 40;
    int finished = 0, wrong = 0;
    std::string failure;
    for (int t = 0; t < tasks; ++t) {
        asio::co_spawn(s.ctx, [&, t]() -> asio::awaitable<void> {
            for (int k = 0; k < each; ++k) {
                const int v = t * 1000 + k;
                result r = co_await s.conn.async_execute("SELECT $1::int, $2::text", params(v, std::to_string(v)),
                                                         asio::use_awaitable);
                if (r.at(0).at(0).as<int>() != v || r.at(0).at(1).as<std::string>() != std::to_string(v)) ++wrong;
            }
            ++finished;
        }, [&](std::exception_ptr e) {
            if (!e) return;
            try { std::rethrow_exception(e); } catch (const std::exception& ex) { failure = ex.what(); }
            ++finished;
        });
    }
    const bool done = run_until_done(s.ctx, [&] { return finished == tasks; }, 30s);
    BOOST_TEST_REQUIRE(done);
    BOOST_TEST(failure.empty(), failure);
    BOOST_TEST(wrong == 0);
    BOOST_TEST(s.query("SELECT 1").at(0).at(0).as<int>() == 1);
}

// The other styles, each with several operations in flight at once.
ASIOPG_TEST_CASE(futures_stackful_and_deferred_share_a_connection) {
    session s;
    std::vector<std::future<result>> futures;
    for (int i = 0; i < 20; ++i)
        futures.push_back(s.conn.async_execute("SELECT $1::int + 100", params(i), asio::use_future));
    int stackful_ok = 0, stackful_done = 0;
    for (int t = 0; t < 10; ++t) {
        asio::spawn(s.ctx, [&, t](asio::yield_context yield) {
            for (int k = 0; k < 10; ++k) {
                result r = s.conn.async_execute("SELECT $1::int", params(t * 10 + k), yield);
                if (r.at(0).at(0).as<int>() == t * 10 + k) ++stackful_ok;
            }
            ++stackful_done;
        }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    }
    std::vector<slot> deferred(10);
    for (int i = 0; i < 10; ++i) {
        auto op = s.conn.async_execute("SELECT $1::int - 1", params(i));
        std::move(op)(deferred[i].handler(s.conn));
    }
    BOOST_TEST_REQUIRE(run_until_done(s.ctx, [&] { return stackful_done == 10 && all_done(deferred); }, 30s));
    for (int i = 0; i < 20; ++i) {
        BOOST_TEST_REQUIRE((futures[i].wait_for(0s) == std::future_status::ready));
        BOOST_TEST(futures[i].get().at(0).at(0).as<int>() == i + 100);
    }
    BOOST_TEST(stackful_ok == 100);
    for (int i = 0; i < 10; ++i) BOOST_TEST(int_of(deferred[i]) == i - 1);
}

// Each query is its own implicit transaction: a failure touches no neighbour.
ASIOPG_TEST_CASE(a_failure_is_isolated_from_its_neighbours) {
    session s;
    s.query("CREATE TEMP TABLE iso (v int PRIMARY KEY)");
    std::vector<slot> slots(9);
    s.conn.async_execute("INSERT INTO iso VALUES ($1)", params(1), slots[0].handler(s.conn));
    s.conn.async_execute("SELECT 1 / $1::int", params(0), slots[1].handler(s.conn));      // 22012
    s.conn.async_execute("INSERT INTO iso VALUES ($1)", params(2), slots[2].handler(s.conn));
    s.conn.async_execute("INSERT INTO iso VALUES ($1)", params(1), slots[3].handler(s.conn)); // 23505
    s.conn.async_execute("INSERT INTO iso VALUES ($1)", params(3), slots[4].handler(s.conn));
    s.conn.async_execute("SELEC 1", slots[5].handler(s.conn));                              // 42601
    s.conn.async_execute("SELECT count(*)::int FROM iso", slots[6].handler(s.conn));
    s.conn.async_execute("SELECT $1::int", params("not a number"), slots[7].handler(s.conn)); // 22P02
    s.conn.async_execute("SELECT count(*)::int FROM iso", params(), slots[8].handler(s.conn));
    BOOST_TEST_REQUIRE(run_all(s, slots));
    BOOST_TEST(!slots[0].ec);
    BOOST_TEST((slots[1].ec == sqlstate::division_by_zero), slots[1].message);
    BOOST_TEST(slots[1].message.find("22012") != std::string::npos, slots[1].message);
    BOOST_TEST(!slots[2].ec);
    BOOST_TEST((slots[3].ec == sqlstate::unique_violation), slots[3].message);
    BOOST_TEST(!slots[4].ec);
    BOOST_TEST((slots[5].ec == sqlstate::syntax_error), slots[5].message);
    BOOST_TEST(int_of(slots[6]) == 3);
    BOOST_TEST((slots[7].ec == sqlstate::invalid_text_representation), slots[7].message);
    BOOST_TEST(int_of(slots[8]) == 3);
}

// Queries run in the order they were started, whatever their kind.
ASIOPG_TEST_CASE(queries_run_in_the_order_they_were_started) {
    session s;
    s.query("CREATE TEMP SEQUENCE ord");
    s.query("CREATE TEMP TABLE log (n int)");
    std::vector<slot> slots(60);
    for (int i = 0; i < 60; ++i) {
        switch (i % 4) {
        case 0: s.conn.async_execute("SELECT nextval('ord')::int", slots[i].handler(s.conn)); break;
        case 1: s.conn.async_execute("SELECT nextval($1)::int", params("ord"), slots[i].handler(s.conn)); break;
        case 2: // several statements: waits for the connection, runs alone
            s.conn.async_execute("INSERT INTO log VALUES (1); SELECT nextval('ord')::int", slots[i].handler(s.conn));
            break;
        default: s.conn.async_execute("SELECT nextval('ord')::int + $1", params(0), slots[i].handler(s.conn));
        }
    }
    BOOST_TEST_REQUIRE(run_all(s, slots));
    for (int i = 0; i < 60; ++i) BOOST_TEST(int_of(slots[i]) == i + 1, "query " << i);
    BOOST_TEST(s.query("SELECT count(*)::int FROM log").at(0).at(0).as<int>() == 15);
}

// Prepare, statements, explicit pipelines and pings wait their turn among pipelined queries.
ASIOPG_TEST_CASE(other_operations_wait_their_turn) {
    session s;
    std::vector<slot> slots(4);
    std::optional<statement> st;
    bool prepared = false, pinged = false, piped = false;
    std::vector<pipeline_result> piped_results;
    asiopg::pipeline p;
    p.add("SELECT $1::int", params(5)).add("SELECT 6");
    s.conn.async_execute("SELECT $1::int", params(1), slots[0].handler(s.conn));
    s.conn.async_prepare("SELECT $1::int * 10", [&](error_code ec, statement x) {
        BOOST_TEST(!ec, ec.message());
        st = std::move(x);
        prepared = true;
        s.conn.async_execute(*st, params(4), slots[3].handler(s.conn)); // a statement, pipelined
    });
    s.conn.async_execute(p, [&](error_code ec, std::vector<pipeline_result> r) {
        BOOST_TEST(!ec, ec.message());
        piped_results = std::move(r);
        piped = true;
    });
    p.clear(); // the waiting operation holds its own copy
    s.conn.async_ping([&](error_code ec) {
        BOOST_TEST(!ec, ec.message());
        pinged = true;
    });
    s.conn.async_execute("SELECT $1::int", params(2), slots[1].handler(s.conn));
    s.conn.async_execute("SELECT 3", slots[2].handler(s.conn));
    BOOST_TEST_REQUIRE(run_until_done(s.ctx, [&] { return all_done(slots) && prepared && pinged && piped; }, 20s));
    for (int i = 0; i < 3; ++i) BOOST_TEST(int_of(slots[i]) == i + 1);
    BOOST_TEST(int_of(slots[3]) == 40);
    BOOST_TEST_REQUIRE(piped_results.size() == 2u);
    BOOST_TEST(piped_results[0].value.at(0).at(0).as<int>() == 5);
    BOOST_TEST(piped_results[1].value.at(0).at(0).as<int>() == 6);
}

// Transactions: everything queued between BEGIN and COMMIT runs inside it, in order.
ASIOPG_TEST_CASE(a_transaction_spans_queued_queries) {
    session s;
    s.query("CREATE TEMP TABLE tx (v int)");
    std::vector<slot> slots(12);
    s.conn.async_execute("BEGIN", slots[0].handler(s.conn));
    for (int i = 1; i <= 10; ++i) s.conn.async_execute("INSERT INTO tx VALUES ($1)", params(i), slots[i].handler(s.conn));
    s.conn.async_execute("ROLLBACK", slots[11].handler(s.conn));
    BOOST_TEST_REQUIRE(run_all(s, slots));
    for (const slot& x : slots) BOOST_TEST(!x.ec, x.message);
    BOOST_TEST(s.query("SELECT count(*)::int FROM tx").at(0).at(0).as<int>() == 0);
}

// A query still waiting behind others, not sent yet, is cancelled without reaching the server.
ASIOPG_TEST_CASE(cancelling_a_query_not_yet_sent) {
    session s;
    s.query("CREATE TEMP TABLE nope (v int)");
    std::vector<slot> slots(3);
    // Several statements: runs alone, so what follows cannot be sent before it ends.
    s.conn.async_execute("SELECT pg_sleep(0.3); SELECT 1", slots[0].handler(s.conn));
    delayed_cancel cancel(s.ctx, 50ms);
    s.conn.async_execute("INSERT INTO nope VALUES ($1)", params(1),
                         asio::bind_cancellation_slot(cancel.sig.slot(), slots[1].handler(s.conn)));
    s.conn.async_execute("SELECT $1::int", params(3), slots[2].handler(s.conn));
    auto t0 = steady::now();
    BOOST_TEST_REQUIRE(run_all(s, slots));
    BOOST_TEST(!slots[0].ec, slots[0].message);
    BOOST_TEST((slots[1].ec == asio::error::operation_aborted), slots[1].ec.message());
    BOOST_TEST(slots[1].message.find("nothing ran") != std::string::npos, slots[1].message);
    BOOST_TEST(int_of(slots[2]) == 3);
    BOOST_TEST(ms_since(t0) < 3000);
    BOOST_TEST(s.query("SELECT count(*)::int FROM nope").at(0).at(0).as<int>() == 0);
}

// A query already sent behind a slow one is cancelled on the server once it is the one running.
ASIOPG_TEST_CASE(cancelling_a_sent_query_behind_a_running_one) {
    session s;
    std::vector<slot> slots(4);
    s.conn.async_execute("SELECT pg_sleep(0.1)", slots[0].handler(s.conn)); // runs alone
    s.conn.async_execute("SELECT pg_sleep($1)", params(0.2), slots[1].handler(s.conn));
    delayed_cancel cancel(s.ctx, 150ms); // while slots[1] runs: slots[2] is sent, waiting
    s.conn.async_execute("SELECT pg_sleep($1)", params(10.0),
                         asio::bind_cancellation_slot(cancel.sig.slot(), slots[2].handler(s.conn)));
    s.conn.async_execute("SELECT $1::int", params(4), slots[3].handler(s.conn));
    auto t0 = steady::now();
    BOOST_TEST_REQUIRE(run_all(s, slots));
    BOOST_TEST(ms_since(t0) < 3000);
    BOOST_TEST(!slots[0].ec, slots[0].message);
    BOOST_TEST(!slots[1].ec, slots[1].message);
    BOOST_TEST((slots[2].ec == sqlstate::query_canceled), slots[2].ec.message() << ": " << slots[2].message);
    BOOST_TEST(int_of(slots[3]) == 4);
    BOOST_TEST(s.query("SELECT 5").at(0).at(0).as<int>() == 5);
}

// The running query is cancelled on the server; those sent after it still get their results —
// also when the cancel request arrives as the query ends (run many times, at varying delays).
ASIOPG_TEST_CASE(cancelling_the_running_query_spares_the_next_ones) {
    session s;
    std::mt19937 rng(42);
    int canceled = 0, finished = 0;
    for (int round = 0; round < 40; ++round) {
        BOOST_TEST_CONTEXT("round " << round) {
            std::vector<slot> slots(4);
            const bool long_one = round < 4;
            auto delay = std::chrono::milliseconds(long_one ? 100 : std::uniform_int_distribution<int>(0, 3)(rng));
            delayed_cancel cancel(s.ctx, delay);
            if (long_one) {
                s.conn.async_execute("SELECT pg_sleep($1)", params(10.0),
                                     asio::bind_cancellation_slot(cancel.sig.slot(), slots[0].handler(s.conn)));
            } else {
                s.conn.async_execute("SELECT pg_sleep($1)", params(0.002),
                                     asio::bind_cancellation_slot(cancel.sig.slot(), slots[0].handler(s.conn)));
            }
            s.conn.async_execute("SELECT pg_sleep($1), $2::int", params(0.001, 1), slots[1].handler(s.conn));
            s.conn.async_execute("SELECT $1::int", params(2), slots[2].handler(s.conn));
            s.conn.async_execute("SELECT 3", slots[3].handler(s.conn));
            BOOST_TEST_REQUIRE(run_all(s, slots));
            if (slots[0].ec == sqlstate::query_canceled) ++canceled;
            else if (!slots[0].ec) ++finished;
            else BOOST_TEST(false, "unexpected: " << slots[0].ec.message() << ": " << slots[0].message);
            if (long_one) BOOST_TEST((slots[0].ec == sqlstate::query_canceled));
            BOOST_TEST(!slots[1].ec, slots[1].message);
            if (!slots[1].ec) BOOST_TEST(slots[1].value.at(0).at(1).as<int>() == 1);
            BOOST_TEST(int_of(slots[2]) == 2);
            BOOST_TEST(int_of(slots[3]) == 3);
            BOOST_TEST_REQUIRE(s.conn.is_open());
        }
    }
    BOOST_TEST_MESSAGE("cancelled " << canceled << ", finished first " << finished);
    BOOST_TEST(s.query("SELECT 9").at(0).at(0).as<int>() == 9);
}

// cancel_after on one pipelined query: a timeout for it, the others unharmed.
ASIOPG_TEST_CASE(a_timeout_on_one_pipelined_query) {
    session s;
    std::vector<slot> slots(3);
    s.conn.async_execute("SELECT $1::int", params(1), slots[0].handler(s.conn));
    s.conn.async_execute("SELECT pg_sleep($1)", params(10.0), cancel_after(100ms, slots[1].handler(s.conn)));
    s.conn.async_execute("SELECT $1::int", params(3), slots[2].handler(s.conn));
    auto t0 = steady::now();
    BOOST_TEST_REQUIRE(run_all(s, slots));
    BOOST_TEST(ms_since(t0) < 3000);
    BOOST_TEST(int_of(slots[0]) == 1);
    BOOST_TEST((slots[1].ec == client_errc::timeout), slots[1].ec.message() << ": " << slots[1].message);
    BOOST_TEST(int_of(slots[2]) == 3);
    BOOST_TEST(s.conn.is_open());
}

// cancel_after on a query still waiting, not sent: a timeout, and it never ran.
ASIOPG_TEST_CASE(a_timeout_while_waiting_to_be_sent) {
    session s;
    s.query("CREATE TEMP TABLE late (v int)");
    std::vector<slot> slots(3);
    s.conn.async_execute("SELECT pg_sleep(0.4); SELECT 1", slots[0].handler(s.conn)); // runs alone
    s.conn.async_execute("INSERT INTO late VALUES ($1)", params(1), cancel_after(100ms, slots[1].handler(s.conn)));
    s.conn.async_execute("SELECT $1::int", params(3), slots[2].handler(s.conn));
    BOOST_TEST_REQUIRE(run_all(s, slots));
    BOOST_TEST(!slots[0].ec, slots[0].message);
    BOOST_TEST((slots[1].ec == client_errc::timeout), slots[1].ec.message() << ": " << slots[1].message);
    BOOST_TEST(int_of(slots[2]) == 3);
    BOOST_TEST(s.query("SELECT count(*)::int FROM late").at(0).at(0).as<int>() == 0);
}

// Statements that refuse to run in a transaction block still work when pipelined: each query
// has its own sync point.
ASIOPG_TEST_CASE(statements_that_need_no_transaction_block) {
    session s;
    s.query("CREATE TEMP TABLE vac (v int)");
    std::vector<slot> slots(4);
    s.conn.async_execute("SELECT $1::int", params(1), slots[0].handler(s.conn));
    s.conn.async_execute("VACUUM vac", slots[1].handler(s.conn));
    s.conn.async_execute("SELECT $1::int", params(3), slots[2].handler(s.conn));
    s.conn.async_execute("VACUUM ANALYZE vac", slots[3].handler(s.conn));
    BOOST_TEST_REQUIRE(run_all(s, slots));
    BOOST_TEST(int_of(slots[0]) == 1);
    BOOST_TEST(!slots[1].ec, slots[1].message);
    BOOST_TEST(int_of(slots[2]) == 3);
    BOOST_TEST(!slots[3].ec, slots[3].message);
}

// Streams and COPY hold the connection between calls: nothing else waits behind them (a
// coroutine reading a stream and querying in between would wait for itself).
ASIOPG_TEST_CASE(streams_copy_and_connect_still_refuse_a_busy_connection) {
    session s;
    slot first, stream_start, connect_out;
    s.conn.async_execute("SELECT pg_sleep(0.1)", first.handler(s.conn));
    bool stream_done = false;
    error_code stream_ec;
    s.conn.async_start_stream("SELECT 1", [&](error_code ec) {
        stream_ec = ec;
        stream_done = true;
    });
    bool connect_done = false;
    error_code connect_ec;
    s.conn.async_connect(tcp_conninfo(), [&](error_code ec) {
        connect_ec = ec;
        connect_done = true;
    });
    BOOST_TEST_REQUIRE(run_until_done(s.ctx, [&] { return first.done && stream_done && connect_done; }, 10s));
    BOOST_TEST(!first.ec);
    BOOST_TEST((stream_ec == client_errc::operation_in_progress), stream_ec.message());
    BOOST_TEST((connect_ec == client_errc::operation_in_progress), connect_ec.message());
    // A COPY in progress: a query is refused, not queued.
    copy_writer w(s.conn);
    s.query("CREATE TEMP TABLE c (v int)");
    auto started = run<no_value>(style::callback, s.ctx, [&](auto&& tok) { return w.async_start("COPY c FROM STDIN", tok); });
    BOOST_TEST_REQUIRE(!started.ec);
    auto refused = s.exec("SELECT $1::int", params(1));
    BOOST_TEST((refused.ec == client_errc::operation_in_progress), refused.ec.message());
    w.write_row(1);
    auto finished = run<std::uint64_t>(style::callback, s.ctx, [&](auto&& tok) { return w.async_finish(tok); });
    BOOST_TEST_REQUIRE(!finished.ec);
    BOOST_TEST(s.query("SELECT count(*)::int FROM c").at(0).at(0).as<int>() == 1);
}

// close() with queries waiting: every one completes with operation_aborted, none hangs.
ASIOPG_TEST_CASE(close_completes_every_waiting_query) {
    session s;
    std::vector<slot> slots(20);
    s.conn.async_execute("SELECT pg_sleep(10)", slots[0].handler(s.conn));
    for (int i = 1; i < 20; ++i) {
        if (i % 2) s.conn.async_execute("SELECT $1::int", params(i), slots[i].handler(s.conn));
        else s.conn.async_execute("SELECT 1; SELECT 2", slots[i].handler(s.conn));
    }
    s.ctx.restart();
    s.ctx.run_for(100ms);
    s.conn.close();
    BOOST_TEST_REQUIRE(run_all(s, slots, 5s));
    for (const slot& x : slots) BOOST_TEST((x.ec == asio::error::operation_aborted), x.ec.message());
    BOOST_TEST_REQUIRE(!s.reconnect());
    BOOST_TEST(s.query("SELECT 1").at(0).at(0).as<int>() == 1);
}

// The backend is terminated with queries in flight and waiting: all fail, promptly.
ASIOPG_TEST_CASE(backend_terminated_with_queries_in_flight) {
    session s, admin;
    std::vector<slot> slots(10);
    s.conn.async_execute("SELECT pg_sleep($1)", params(10.0), slots[0].handler(s.conn));
    for (int i = 1; i < 10; ++i) s.conn.async_execute("SELECT $1::int", params(i), slots[i].handler(s.conn));
    s.ctx.restart();
    s.ctx.run_for(150ms);
    admin.query("SELECT pg_terminate_backend($1, 5000)", params(s.conn.backend_pid()));
    auto t0 = steady::now();
    BOOST_TEST_REQUIRE(run_all(s, slots, 10s));
    BOOST_TEST(ms_since(t0) < 5000);
    BOOST_TEST(is_fatal(slots[0].ec), slots[0].ec.message() << ": " << slots[0].message);
    for (const slot& x : slots) BOOST_TEST(x.ec.failed());
    BOOST_TEST(!s.conn.is_open());
    BOOST_TEST_REQUIRE(!s.reconnect());
    BOOST_TEST(s.query("SELECT 1").at(0).at(0).as<int>() == 1);
}

// A Unix-socket connection pipelines the same way.
ASIOPG_TEST_CASE(pipelining_over_the_unix_socket) {
    asio::io_context ctx;
    connection conn(ctx);
    BOOST_TEST_REQUIRE(!socket_dir().empty(), "ASIOPG_TEST_SOCKET_DIR is not set");
    auto c = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(server_params(socket_dir()), tok); });
    BOOST_TEST_REQUIRE(!c.ec, conn.get_diagnostics().to_string());
    std::vector<std::optional<int>> got(100);
    int done = 0;
    for (int i = 0; i < 100; ++i)
        conn.async_execute("SELECT $1::int", params(i), [&, i](error_code ec, result r) {
            if (!ec) got[i] = r.at(0).at(0).as<int>();
            ++done;
        });
    BOOST_TEST_REQUIRE(run_until_done(ctx, [&] { return done == 100; }, 20s));
    for (int i = 0; i < 100; ++i) BOOST_TEST((got[i] && *got[i] == i));
}

BOOST_AUTO_TEST_SUITE_END()
