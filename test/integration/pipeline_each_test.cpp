// connection::async_execute_each(pipeline, on_result): every completion style, results handed
// over in order as they come (before the pipeline ends), refused statements in their place,
// error isolation, an on_result that throws or closes the connection, cancellation and a
// backend terminated midway — and, for the collecting async_execute(pipeline), what the
// statements whose outcome never came report.
#include <asiopg/cancel_after.hpp>
#include <asiopg/connection.hpp>
#include <asiopg/pipeline.hpp>

#include "cancel.hpp"
#include "pipeline_outcome.hpp"
#include "server.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

// What on_result saw: the indexes, in call order, and the outcomes.
struct received {
    std::vector<std::size_t> indexes;
    std::vector<pipeline_result> outcomes;
    auto sink() {
        return [this](std::size_t i, pipeline_result&& r) {
            indexes.push_back(i);
            outcomes.push_back(std::move(r));
        };
    }
    bool in_order() const {
        for (std::size_t i = 0; i < indexes.size(); ++i)
            if (indexes[i] != i) return false;
        return true;
    }
};

outcome<no_value> run_each(session& s, const asiopg::pipeline& p, received& got, style st = style::callback,
                           steady::duration deadline = default_deadline) {
    return run<no_value>(st, s.ctx, [&](auto&& tok) { return s.conn.async_execute_each(p, got.sink(), tok); },
                         deadline);
}

int one(session& s) { return s.query("SELECT 1").at(0).at(0).as<int>(); }

statement prepare(session& on, std::string_view sql) {
    auto out = run<statement>(style::callback, on.ctx, [&](auto&& tok) { return on.conn.async_prepare(sql, tok); });
    BOOST_TEST_REQUIRE(!out.ec, on.conn.get_diagnostics().to_string());
    return *out.value;
}

} // namespace

BOOST_AUTO_TEST_SUITE(pipeline_each)

using pipeline = asiopg::pipeline;

ASIOPG_TEST_CASE(every_style) {
    session s;
    pipeline p;
    p.add("SELECT $1::int + 1", params(41)).add("SELECT 'two'::text").sync().add("SELECT $1::text || $2::text",
                                                                                 params("a", std::string("b")));
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            received got;
            auto out = run_each(s, p, got, st, 10s);
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST_REQUIRE(!out.ec, out.ec.message() << " " << out.what);
            BOOST_TEST_REQUIRE(got.outcomes.size() == 3u);
            BOOST_TEST(got.in_order());
            BOOST_TEST(int_of(got.outcomes[0]) == 42);
            BOOST_TEST(got.outcomes[1].value.at(0).at(0).as<std::string>() == "two");
            BOOST_TEST(got.outcomes[2].value.at(0).at(0).as<std::string>() == "ab");
        }
    }
    BOOST_TEST(one(s) == 1);
}

// The first results reach on_result while the server still works on a later statement.
ASIOPG_TEST_CASE(results_arrive_before_the_pipeline_ends) {
    session s;
    pipeline p;
    for (int i = 0; i < 1000; ++i) p.add("SELECT $1::int", params(i));
    p.sync().add("SELECT pg_sleep(0.5)"); // the server sends what it buffered at a sync point
    std::vector<long long> at_ms;
    auto t0 = steady::now();
    bool done = false;
    error_code ec;
    s.conn.async_execute_each(p, [&](std::size_t, pipeline_result&&) { at_ms.push_back(ms_since(t0)); },
                              [&](error_code e) {
                                  ec = e;
                                  done = true;
                              });
    BOOST_TEST_REQUIRE(run_until_done(s.ctx, done, 10s));
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST_REQUIRE(at_ms.size() == 1001u);
    BOOST_TEST_MESSAGE("first result after " << at_ms.front() << " ms, last after " << at_ms.back() << " ms");
    BOOST_TEST(at_ms.back() >= 450);
    BOOST_TEST(at_ms[999] < at_ms.back() - 200); // the SELECTs came before the sleep ended
}

ASIOPG_TEST_CASE(twenty_thousand_in_order_with_failures_and_refusals) {
    session s, other;
    statement twice = prepare(s, "SELECT $1::int * 2");
    statement foreign = prepare(other, "SELECT $1::int");
    constexpr int n = 20000;
    pipeline p;
    for (int i = 0; i < n; ++i) {
        if (i % 5000 == 1) p.add("SELECT 1/0"); // fails: the rest of its segment is skipped
        else if (i % 5000 == 2) p.add("SELECT $1::int", params(i));
        else if (i % 5000 == 3) p.sync().add(foreign, params(i)); // refused: never sent
        else if (i % 5000 == 4) p.add(twice, params(i));
        else p.add("SELECT $1::int", params(i));
    }
    received got;
    auto out = run_each(s, p, got, style::awaitable, 60s);
    BOOST_TEST_REQUIRE(out.completed);
    BOOST_TEST_REQUIRE(!out.ec, out.ec.message() << " " << out.what);
    BOOST_TEST_REQUIRE(got.outcomes.size() == std::size_t{n});
    BOOST_TEST(got.in_order());
    int wrong = 0;
    for (int i = 0; i < n; ++i) {
        const pipeline_result& r = got.outcomes[static_cast<std::size_t>(i)];
        bool right = i % 5000 == 1 ? r.error == sqlstate::division_by_zero
                   : i % 5000 == 2 ? r.aborted()
                   : i % 5000 == 3 ? r.error == client_errc::invalid_statement && !r.diag.message.empty()
                   : i % 5000 == 4 ? r.ok() && r.value.at(0).at(0).as<int>() == 2 * i
                                   : r.ok() && r.value.at(0).at(0).as<int>() == i;
        if (!right && ++wrong < 5) BOOST_TEST_MESSAGE("entry " << i << ": " << describe(r));
    }
    BOOST_TEST(wrong == 0);
    BOOST_TEST(one(s) == 1);
}

ASIOPG_TEST_CASE(an_on_result_that_throws_is_not_called_again) {
    session s;
    s.query("CREATE TEMP TABLE each_t (i int)");
    pipeline p;
    for (int i = 0; i < 10; ++i) p.add("INSERT INTO each_t VALUES ($1)", params(i));
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            int calls = 0;
            auto out = run<no_value>(st, s.ctx, [&](auto&& tok) {
                return s.conn.async_execute_each(p, [&](std::size_t i, pipeline_result&&) {
                    ++calls;
                    if (i == 2) throw std::runtime_error("no room for entry 2");
                }, tok);
            }, 10s);
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST((out.ec == client_errc::result_handler_failed), out.ec.message());
            BOOST_TEST(calls == 3);
            if (throws(st)) {
                BOOST_TEST(out.threw);
                BOOST_TEST(out.diag.message.find("no room for entry 2") != std::string::npos, out.diag.message);
            }
            BOOST_TEST(s.conn.get_diagnostics().message.find("no room for entry 2") != std::string::npos);
            BOOST_TEST(s.conn.is_open());
        }
    }
    // The statements themselves ran (only their results were discarded): 10 rows a run.
    BOOST_TEST(s.query("SELECT count(*) FROM each_t").at(0).at(0).as<std::int64_t>() ==
               10 * static_cast<std::int64_t>(std::size(all_styles)));
}

ASIOPG_TEST_CASE(an_on_result_that_closes_the_connection) {
    session s;
    pipeline p;
    p.add("SELECT 1").add("SELECT 2").add("SELECT 3");
    int calls = 0;
    bool done = false;
    error_code ec;
    s.conn.async_execute_each(p, [&](std::size_t, pipeline_result&&) {
        ++calls;
        s.conn.close();
    }, [&](error_code e) {
        ec = e;
        done = true;
    });
    BOOST_TEST_REQUIRE(run_until_done(s.ctx, done, 5s));
    BOOST_TEST((ec == asio::error::operation_aborted), ec.message());
    BOOST_TEST(calls == 1);
    BOOST_TEST(!s.conn.is_open());
    BOOST_TEST_REQUIRE(!s.reconnect());
    BOOST_TEST(one(s) == 1);
}

// on_result may start another operation: it waits for the pipeline, then runs.
ASIOPG_TEST_CASE(an_on_result_that_starts_a_query) {
    session s;
    pipeline p;
    p.add("SELECT 10").add("SELECT 20");
    std::vector<int> order;
    bool done = false, query_done = false;
    s.conn.async_execute_each(p, [&](std::size_t i, pipeline_result&& r) {
        order.push_back(int_of(r));
        if (i == 0) {
            s.conn.async_execute("SELECT 30", [&](error_code ec, result q) {
                BOOST_TEST(!ec, ec.message());
                if (!ec) order.push_back(q.at(0).at(0).as<int>());
                query_done = true;
            });
        }
    }, [&](error_code ec) {
        BOOST_TEST(!ec, ec.message());
        done = true;
    });
    BOOST_TEST_REQUIRE(run_until_done(s.ctx, [&] { return done && query_done; }, 5s));
    BOOST_TEST((order == std::vector<int>{10, 20, 30}));
}

// A move-only function (it owns what it fills).
ASIOPG_TEST_CASE(a_move_only_on_result) {
    session s;
    pipeline p;
    p.add("SELECT 7").add("SELECT 8");
    auto sum = std::make_shared<int>(0);
    auto owned = std::make_unique<int>(0);
    auto out = run<no_value>(style::deferred, s.ctx, [&](auto&& tok) {
        return s.conn.async_execute_each(p, [owned = std::move(owned), sum](std::size_t, pipeline_result&& r) {
            *owned += int_of(r);
            *sum = *owned;
        }, tok);
    });
    BOOST_TEST_REQUIRE(!out.ec, out.ec.message());
    BOOST_TEST(*sum == 15);
}

ASIOPG_TEST_CASE(partial_cancellation_delivers_every_outcome) {
    session s;
    pipeline p;
    p.add("SELECT 1").add("SELECT pg_sleep(10)").add("SELECT 2").sync().add("SELECT 3");
    for (style st : {style::callback, style::future, style::awaitable}) {
        BOOST_TEST_CONTEXT(st) {
            delayed_cancel c(s.ctx, 100ms);
            received got;
            auto t0 = steady::now();
            auto out = run<no_value>(st, s.ctx, [&](auto&& tok) {
                return s.conn.async_execute_each(p, got.sink(), with_slot(c.sig.slot(), tok));
            }, 10s);
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST(ms_since(t0) < 2000);
            BOOST_TEST((out.ec == sqlstate::query_canceled), out.ec.message());
            BOOST_TEST_REQUIRE(got.outcomes.size() == 4u);
            BOOST_TEST(int_of(got.outcomes[0]) == 1);
            BOOST_TEST((got.outcomes[1].error == sqlstate::query_canceled), describe(got.outcomes[1]));
            BOOST_TEST(got.outcomes[2].aborted(), describe(got.outcomes[2]));
            BOOST_TEST(s.conn.is_open());
            BOOST_TEST(one(s) == 1);
        }
    }
}

ASIOPG_TEST_CASE(cancel_after_times_out_and_keeps_the_connection) {
    session s;
    pipeline p;
    p.add("SELECT 1").add("SELECT pg_sleep(10)");
    received got;
    auto out = run<no_value>(style::awaitable, s.ctx, [&](auto&& tok) {
        return s.conn.async_execute_each(p, got.sink(), cancel_after(100ms, tok));
    }, 10s);
    BOOST_TEST_REQUIRE(out.completed);
    BOOST_TEST((out.ec == client_errc::timeout), out.ec.message());
    BOOST_TEST(out.threw);
    BOOST_TEST(s.conn.is_open());
    BOOST_TEST(one(s) == 1);
}

// The backend dies midway: on_result got what came before; the collecting form marks the
// statements whose outcome never came with the operation's error.
ASIOPG_TEST_CASE(backend_terminated_midway) {
    session s, admin;
    pipeline p;
    p.add("SELECT 1").sync().add("SELECT pg_sleep(10)").add("SELECT 2");
    auto terminate_soon = [&] {
        s.ctx.restart();
        s.ctx.run_for(200ms);
        admin.query("SELECT pg_terminate_backend($1, 5000)", params(s.conn.backend_pid()));
    };
    {
        received got;
        bool done = false;
        error_code ec;
        s.conn.async_execute_each(p, got.sink(), [&](error_code e) {
            ec = e;
            done = true;
        });
        terminate_soon();
        BOOST_TEST_REQUIRE(run_until_done(s.ctx, done, 10s));
        BOOST_TEST(is_fatal(ec), ec.message());
        BOOST_TEST((ec == condition::connection_error));
        BOOST_TEST(!s.conn.is_open());
        BOOST_TEST(got.in_order());
        BOOST_TEST_REQUIRE(got.outcomes.size() >= 1u);
        BOOST_TEST(got.outcomes.size() < 4u);
        BOOST_TEST(int_of(got.outcomes[0]) == 1);
    }
    BOOST_TEST_REQUIRE(!s.reconnect());
    {
        bool done = false;
        error_code ec;
        std::vector<pipeline_result> r;
        s.conn.async_execute(p, [&](error_code e, std::vector<pipeline_result> v) {
            ec = e;
            r = std::move(v);
            done = true;
        });
        terminate_soon();
        BOOST_TEST_REQUIRE(run_until_done(s.ctx, done, 10s));
        BOOST_TEST(is_fatal(ec), ec.message());
        BOOST_TEST_REQUIRE(r.size() == 3u);
        BOOST_TEST(int_of(r[0]) == 1);
        for (std::size_t i = 1; i < r.size(); ++i) {
            BOOST_TEST(!r[i].ok(), "entry " << i << " looks like a success");
            BOOST_TEST(!r[i].diag.message.empty());
        }
    }
}

ASIOPG_TEST_CASE(refused_when_the_connection_is_not_open) {
    asio::io_context ctx;
    connection conn(ctx);
    pipeline p;
    p.add("SELECT 1");
    int calls = 0;
    auto out = run<no_value>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_execute_each(p, [&](std::size_t, pipeline_result&&) { ++calls; }, tok);
    });
    BOOST_TEST_REQUIRE(out.completed);
    BOOST_TEST((out.ec == client_errc::not_connected), out.ec.message());
    BOOST_TEST(calls == 0);
}

BOOST_AUTO_TEST_SUITE_END()
