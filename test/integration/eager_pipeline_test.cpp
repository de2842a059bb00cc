// Eager pipelining (connection::set_eager_pipelining): a parameterised query on an idle
// connection goes in libpq's pipeline mode too, so those started while it runs are sent at
// once. Results, errors, cancellation and transactions behave as without it, in every style.
#include <asiopg/connection.hpp>

#include "server.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <libpq-fe.h>

#include <chrono>
#include <string>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

struct eager_session : session {
    eager_session() { conn.set_eager_pipelining(true); }
};

struct pending {
    bool done = false;
    error_code ec;
    std::optional<result> value;
};

template <class... Ts>
std::shared_ptr<pending> start(connection& conn, std::string sql, const param_list<Ts...>& ps,
                               asio::cancellation_slot slot = {}) {
    auto p = std::make_shared<pending>();
    conn.async_execute(sql, ps, asio::bind_cancellation_slot(slot, [p](error_code ec, result r) {
                           p->done = true;
                           p->ec = ec;
                           if (!ec) p->value.emplace(std::move(r));
                       }));
    return p;
}

} // namespace

BOOST_AUTO_TEST_SUITE(eager_pipeline)

ASIOPG_TEST_CASE(lone_queries_in_every_style) {
    eager_session s;
    BOOST_TEST(s.conn.eager_pipelining());
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            for (int i = 0; i < 3; ++i) {
                auto out = s.exec("SELECT $1::int * 2", params(i), st);
                BOOST_TEST_REQUIRE(!out.ec, out.ec.message() << " " << out.what);
                BOOST_TEST(out.value->at(0).at(0).as<int>() == 2 * i);
            }
            auto bad = s.exec("SELECT 1 / $1::int", params(0), st);
            BOOST_TEST((bad.ec == sqlstate::division_by_zero));
            if (throws(st)) BOOST_TEST(bad.what.find("division by zero") != std::string::npos, bad.what);
        }
    }
    // Simple queries and transactions as ever.
    BOOST_TEST(s.query("SELECT 1; SELECT 2")[0][0].as<int>() == 2);
    s.query("CREATE TEMP TABLE eager_t (i int)");
    s.query("BEGIN");
    s.query("INSERT INTO eager_t VALUES ($1)", params(5));
    BOOST_TEST((s.conn.get_transaction_status() == transaction_status::in_transaction));
    s.query("ROLLBACK");
    BOOST_TEST(s.query("SELECT count(*)::int FROM eager_t")[0][0].as<int>() == 0);
    BOOST_TEST((s.conn.get_transaction_status() == transaction_status::idle));
}

// While a lone query runs, the connection is in pipeline mode: a query started then is sent at
// once. Without eager pipelining it is not (the lone query went in ordinary mode).
ASIOPG_TEST_CASE(a_lone_query_runs_in_pipeline_mode) {
    for (bool eager : {true, false}) {
        BOOST_TEST_CONTEXT("eager " << eager) {
            session s;
            s.conn.set_eager_pipelining(eager);
            auto slow = start(s.conn, "SELECT $1::int FROM pg_sleep(0.2)", params(1));
            auto* pg = reinterpret_cast<PGconn*>(s.conn.native_handle());
            BOOST_TEST((PQpipelineStatus(pg) == (eager ? PQ_PIPELINE_ON : PQ_PIPELINE_OFF)));
            auto next = start(s.conn, "SELECT $1::int", params(2));
            BOOST_TEST_REQUIRE(run_until_done(s.ctx, [&] { return slow->done && next->done; }));
            BOOST_TEST(!slow->ec);
            BOOST_TEST(next->value->at(0).at(0).as<int>() == 2);
            BOOST_TEST((PQpipelineStatus(pg) == PQ_PIPELINE_OFF)); // left when the queue drains
        }
    }
}

ASIOPG_TEST_CASE(cancelling_a_lone_query_keeps_the_connection) {
    eager_session s;
    asio::cancellation_signal cancel;
    auto slow = start(s.conn, "SELECT $1::int FROM pg_sleep(5)", params(1), cancel.slot());
    asio::steady_timer t(s.ctx, 100ms);
    t.async_wait([&](error_code) { cancel.emit(asio::cancellation_type::partial); });
    const auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST_REQUIRE(run_until_done(s.ctx, [&] { return slow->done; }));
    BOOST_TEST((slow->ec == sqlstate::query_canceled), slow->ec.message());
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 4s));
    BOOST_TEST(s.query("SELECT $1::int", params(7))[0][0].as<int>() == 7);
}

ASIOPG_TEST_CASE(a_failing_query_touches_no_neighbour) {
    eager_session s;
    auto a = start(s.conn, "SELECT $1::int FROM pg_sleep(0.05)", params(1));
    auto b = start(s.conn, "SELECT 1 / $1::int", params(0));
    auto c = start(s.conn, "SELECT $1::int", params(3));
    BOOST_TEST_REQUIRE(run_until_done(s.ctx, [&] { return a->done && b->done && c->done; }));
    BOOST_TEST(!a->ec);
    BOOST_TEST((b->ec == sqlstate::division_by_zero));
    BOOST_TEST(c->value->at(0).at(0).as<int>() == 3);
}

BOOST_AUTO_TEST_SUITE_END()
