// Explicit pipelines (connection::async_execute(pipeline)): every completion style, 10,000
// statements in one round trip, error isolation by sync points and implicit transactions,
// prepared statements and the statement cache inside a pipeline, refused values, cancellation
// (partial, cancel_after, terminal), a server-side statement_timeout and a backend terminated
// mid-pipeline.
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
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;
using results = std::vector<pipeline_result>;

outcome<results> run_pipeline(session& s, const asiopg::pipeline& p, style st = style::callback,
                              steady::duration deadline = default_deadline) {
    return run<results>(st, s.ctx, [&](auto&& tok) { return s.conn.async_execute(p, tok); }, deadline);
}

// Runs `p` and requires the operation itself to succeed with one result per statement.
results required(session& s, const asiopg::pipeline& p, steady::duration deadline = default_deadline) {
    auto out = run_pipeline(s, p, style::callback, deadline);
    BOOST_TEST_REQUIRE(out.completed, "pipeline did not complete in time");
    BOOST_TEST_REQUIRE(!out.ec, out.ec.message() << ": " << s.conn.get_diagnostics().to_string());
    BOOST_TEST_REQUIRE(out.value->size() == p.size());
    return std::move(*out.value);
}

// The callback style, keeping the results the handler gets even when the operation fails.
struct raw_outcome {
    bool done = false;
    error_code ec;
    results value;
    auto handler() {
        return [this](error_code e, results r) {
            ec = e;
            value = std::move(r);
            done = true;
        };
    }
};

int one(session& s) { return s.query("SELECT 1").at(0).at(0).as<int>(); }

bool refused_as(const error_with_diagnostics& e, client_errc expected) {
    BOOST_TEST_MESSAGE("refused: " << e.what());
    return e.code() == expected && !e.get_diagnostics().message.empty();
}

} // namespace

BOOST_AUTO_TEST_SUITE(pipeline)

using pipeline = asiopg::pipeline; // the suite's namespace has the same name

ASIOPG_TEST_CASE(small_pipeline_in_every_style) {
    session s;
    pipeline p;
    int x = 41;
    p.add("SELECT $1::int + 1", params(x)).add("SELECT 'two'::text").sync().add("SELECT $1::text || $2::text",
                                                                                params("a", std::string("b")));
    BOOST_TEST(p.size() == 3u);
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            auto out = run_pipeline(s, p, st, 10s); // the same pipeline, reused each time
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST_REQUIRE(!out.ec, out.ec.message() << " " << out.what);
            const results& r = *out.value;
            BOOST_TEST_REQUIRE(r.size() == 3u);
            BOOST_TEST(int_of(r[0]) == 42);
            BOOST_TEST(r[1].value.at(0).at(0).as<std::string>() == "two");
            BOOST_TEST(r[2].value.at(0).at(0).as<std::string>() == "ab");
            for (const auto& e : r) BOOST_TEST((e.ok() && !e.aborted() && e.diag.empty()));
        }
    }
    BOOST_TEST(one(s) == 1);
}

ASIOPG_TEST_CASE(ten_thousand_selects_come_back_in_order) {
    session s;
    constexpr int n = 10000;
    pipeline p;
    for (int i = 0; i < n; ++i) p.add("SELECT $1::int", params(i * 3 - 7));
    auto t0 = steady::now();
    results r = required(s, p, 40s);
    BOOST_TEST_MESSAGE(n << " SELECTs in one pipeline: " << ms_since(t0) << " ms");
    int wrong = 0;
    for (int i = 0; i < n; ++i)
        if (!r[i].ok() || r[i].value.at(0).at(0).as<int>() != i * 3 - 7) ++wrong;
    BOOST_TEST(wrong == 0);
    BOOST_TEST(one(s) == 1);
}

ASIOPG_TEST_CASE(ten_thousand_inserts_then_count) {
    session s;
    s.query("CREATE TEMP TABLE pipe_ins (i int NOT NULL)");
    constexpr int n = 10000;
    pipeline p;
    for (int i = 1; i <= n; ++i) p.add("INSERT INTO pipe_ins VALUES ($1)", params(i));
    p.add("SELECT count(*), sum(i) FROM pipe_ins");
    results r = required(s, p, 40s);
    int bad = 0;
    for (int i = 0; i < n; ++i)
        if (!r[i].ok() || r[i].value.affected_rows() != 1u) ++bad;
    BOOST_TEST(bad == 0);
    BOOST_TEST_REQUIRE(r[n].ok(), describe(r[n]));
    BOOST_TEST(r[n].value.at(0).at(0).as<std::int64_t>() == n);
    BOOST_TEST(r[n].value.at(0).at(1).as<std::int64_t>() == std::int64_t(n) * (n + 1) / 2);
}

ASIOPG_TEST_CASE(a_failure_skips_the_rest_of_its_sync_segment) {
    session s;
    s.query("CREATE TEMP TABLE pipe_seg (tag text)");
    pipeline p;
    p.add("INSERT INTO pipe_seg VALUES ('earlier segment')") // 0: kept
        .sync()
        .add("SELECT 1")                                      // 1
        .add("INSERT INTO pipe_seg VALUES ('same segment')")  // 2: runs, then rolled back
        .add("SELECT 10 / $1::int", params(0))                // 3: 22012
        .add("SELECT 2")                                      // 4: skipped
        .add("INSERT INTO pipe_seg VALUES ('skipped')")       // 5: skipped
        .sync()
        .add("SELECT 3")                                      // 6
        .add("INSERT INTO pipe_seg VALUES ('later segment')"); // 7: kept
    results r = required(s, p);
    BOOST_TEST(r[0].ok(), describe(r[0]));
    BOOST_TEST(int_of(r[1]) == 1);
    BOOST_TEST(r[2].ok(), describe(r[2]));
    BOOST_TEST((r[3].error == sqlstate::division_by_zero), describe(r[3]));
    BOOST_TEST((r[3].error == condition::data_exception));
    BOOST_TEST(!r[3].aborted());
    BOOST_TEST(r[3].diag.sqlstate == "22012");
    BOOST_TEST(r[3].diag.severity == "ERROR");
    BOOST_TEST(r[3].diag.message.find("division by zero") != std::string::npos, r[3].diag.message);
    for (int i : {4, 5}) {
        BOOST_TEST_CONTEXT("statement " << i) {
            BOOST_TEST(r[i].aborted(), describe(r[i]));
            BOOST_TEST((r[i].error == client_errc::pipeline_aborted));
            BOOST_TEST(!r[i].ok());
            BOOST_TEST(r[i].value.empty());
        }
    }
    BOOST_TEST(int_of(r[6]) == 3);
    BOOST_TEST(r[7].ok(), describe(r[7]));
    // Implicit transactions: the failing segment's INSERT is rolled back, the others are kept.
    auto tags = s.query("SELECT string_agg(tag, ',' ORDER BY tag) FROM pipe_seg").at(0).at(0).as<std::string>();
    BOOST_TEST(tags == "earlier segment,later segment");
    BOOST_TEST((s.conn.get_transaction_status() == transaction_status::idle));
}

// Observed (PostgreSQL 15): inside BEGIN … COMMIT a sync point does not end the transaction.
// After the failure the rest of its segment is skipped, later segments fail with 25P02
// (in_failed_sql_transaction), COMMIT "succeeds" as a ROLLBACK, and nothing is kept — not even
// the statements of the segments before the failure.
ASIOPG_TEST_CASE(a_failure_inside_an_explicit_transaction) {
    session s;
    s.query("CREATE TEMP TABLE pipe_tx (tag text)");
    pipeline p;
    p.add("BEGIN")                                        // 0
        .add("INSERT INTO pipe_tx VALUES ('a')")          // 1
        .sync()
        .add("INSERT INTO pipe_tx VALUES ('b')")          // 2
        .add("SELECT 1 / 0")                              // 3: 22012
        .add("INSERT INTO pipe_tx VALUES ('c')")          // 4: skipped
        .sync()
        .add("INSERT INTO pipe_tx VALUES ('d')")          // 5: 25P02
        .sync()
        .add("COMMIT");                                   // 6: ROLLBACK
    results r = required(s, p);
    for (int i : {0, 1, 2}) BOOST_TEST(r[i].ok(), i << ": " << describe(r[i]));
    BOOST_TEST((r[3].error == sqlstate::division_by_zero), describe(r[3]));
    BOOST_TEST(r[4].aborted(), describe(r[4]));
    BOOST_TEST((r[5].error == sqlstate::in_failed_sql_transaction), describe(r[5]));
    BOOST_TEST(r[6].ok(), describe(r[6]));
    BOOST_TEST(r[6].value.command_tag() == "ROLLBACK");
    BOOST_TEST(s.query("SELECT count(*) FROM pipe_tx").at(0).at(0).as<std::int64_t>() == 0);
    BOOST_TEST((s.conn.get_transaction_status() == transaction_status::idle));
}

ASIOPG_TEST_CASE(prepared_statements_in_a_pipeline) {
    session s;
    auto prep = [&](session& on, std::string_view sql) {
        auto out = run<statement>(style::callback, on.ctx, [&](auto&& tok) { return on.conn.async_prepare(sql, tok); });
        BOOST_TEST_REQUIRE(!out.ec, on.conn.get_diagnostics().to_string());
        return *out.value;
    };
    statement twice = prep(s, "SELECT $1::int * 2");
    pipeline p;
    p.add(twice, params(21))
        .add(twice, params(std::int64_t(5))) // another type: sent as text, converted by the server
        .add("SELECT 'plain'::text")
        .add(twice, params(1, 2)) // the wrong number of parameters
        .add(twice, params(50));
    results r = required(s, p);
    BOOST_TEST(int_of(r[0]) == 42);
    BOOST_TEST(int_of(r[1]) == 10);
    BOOST_TEST(r[2].value.at(0).at(0).as<std::string>() == "plain");
    BOOST_TEST((r[3].error == client_errc::invalid_statement), describe(r[3]));
    BOOST_TEST(int_of(r[4]) == 100);
    BOOST_CHECK_EXCEPTION(p.add(statement{}, params(1)), error_with_diagnostics,
                          [](const auto& e) { return refused_as(e, client_errc::invalid_statement); });

    // After a reconnect the statement belongs to a session that is gone.
    BOOST_TEST_REQUIRE(!s.reconnect());
    pipeline q;
    q.add("SELECT 1").add(twice, params(1)).add("SELECT 2");
    r = required(s, q);
    BOOST_TEST(int_of(r[0]) == 1);
    BOOST_TEST((r[1].error == client_errc::invalid_statement), describe(r[1]));
    BOOST_TEST(!r[1].diag.message.empty());
    BOOST_TEST(int_of(r[2]) == 2);

    // A statement of another connection: never run there, even when that connection has a
    // statement of the same server-side name (both are the first prepared on a first session).
    session a, b;
    statement of_a = prep(a, "SELECT $1::int + 1000");
    statement of_b = prep(b, "SELECT $1::int - 1000");
    BOOST_TEST_MESSAGE("statement names: " << of_a.name() << ", " << of_b.name());
    pipeline x;
    x.add(of_b, params(1)).add(of_a, params(1)).add("SELECT 3");
    r = required(b, x);
    BOOST_TEST(int_of(r[0]) == -999);
    BOOST_TEST((r[1].error == client_errc::invalid_statement), describe(r[1]) << " (value "
               << (r[1].ok() ? r[1].value.at(0).at(0).as<std::string>() : "-") << ")");
    BOOST_TEST(int_of(r[2]) == 3);
}

ASIOPG_TEST_CASE(statement_cache_inside_a_pipeline) {
    session s; // default cache: capacity 100, prepared on the 5th use
    const std::string sql = "SELECT $1::int + 7";
    pipeline p;
    for (int i = 0; i < 20; ++i) p.add(sql, params(i));
    results r = required(s, p);
    for (int i = 0; i < 20; ++i) BOOST_TEST(int_of(r[i]) == i + 7, "statement " << i);
    auto prepared = [&] {
        return s.query("SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", params(sql))
            .at(0).at(0).as<std::int64_t>();
    };
    BOOST_TEST(prepared() == 1); // the cache prepared it once, inside the pipeline
    // The cache is consistent: async_execute reuses the statement, and so does a new pipeline.
    BOOST_TEST(s.query(sql, params(100)).at(0).at(0).as<int>() == 107);
    r = required(s, p);
    BOOST_TEST(int_of(r[19]) == 26);
    BOOST_TEST(prepared() == 1);
}

// The 5th use prepares the statement inside the pipeline; with a syntax error the prepare fails
// and that statement reports the prepare's error (not pipeline_aborted) — and so must the uses
// after it, which the cache would otherwise send to a statement that does not exist (26000).
ASIOPG_TEST_CASE(a_prepare_that_fails_inside_a_pipeline) {
    session s;
    const std::string bad = "SELEC $1::int";
    pipeline p;
    for (int i = 0; i < 10; ++i) p.add(bad, params(i)).sync();
    results r = required(s, p);
    for (int i = 0; i < 10; ++i) {
        BOOST_TEST_CONTEXT("use " << i + 1) {
            BOOST_TEST((r[i].error == sqlstate::syntax_error), describe(r[i]));
            BOOST_TEST(r[i].diag.sqlstate == "42601");
        }
    }
    BOOST_TEST(one(s) == 1);
    // Without sync points: the first fails, the rest of the segment is skipped.
    pipeline q;
    for (int i = 0; i < 10; ++i) q.add(bad, params(i));
    r = required(s, q);
    BOOST_TEST((r[0].error == sqlstate::syntax_error), describe(r[0]));
    for (int i = 1; i < 10; ++i) BOOST_TEST(r[i].aborted(), "use " << i + 1 << ": " << describe(r[i]));
    // The cache is consistent afterwards: the same SQL still reports the syntax error …
    auto again = s.exec(bad, params(1));
    BOOST_TEST((again.ec == sqlstate::syntax_error), again.ec.message() << ": " << s.conn.get_diagnostics().to_string());
    // … and valid SQL goes through the cache as before, in a pipeline and alone.
    const std::string good = "SELECT $1::int * 3";
    pipeline g;
    for (int i = 0; i < 10; ++i) g.add(good, params(i));
    r = required(s, g);
    for (int i = 0; i < 10; ++i) BOOST_TEST(int_of(r[i]) == 3 * i);
    BOOST_TEST(s.query(good, params(5)).at(0).at(0).as<int>() == 15);
}

// The 5th use falls in a segment that an earlier failure aborted: the prepare is skipped by the
// server, so the next segment must not use that statement.
ASIOPG_TEST_CASE(a_skipped_prepare_does_not_break_later_segments) {
    session s;
    const std::string sql = "SELECT $1::int + 100";
    pipeline p;
    p.add("SELECT 1 / 0");
    for (int i = 0; i < 5; ++i) p.add(sql, params(i));
    p.sync();
    for (int i = 5; i < 8; ++i) p.add(sql, params(i));
    results r = required(s, p);
    BOOST_TEST((r[0].error == sqlstate::division_by_zero), describe(r[0]));
    for (int i = 1; i <= 5; ++i) BOOST_TEST(r[i].aborted(), i << ": " << describe(r[i]));
    for (int i = 6; i <= 8; ++i) BOOST_TEST((r[i].ok() && int_of(r[i]) == i - 1 + 100), i << ": " << describe(r[i]));
    BOOST_TEST(s.query(sql, params(1)).at(0).at(0).as<int>() == 101);
}

ASIOPG_TEST_CASE(empty_pipelines_and_refused_values) {
    session s;
    pipeline empty;
    BOOST_TEST(empty.empty());
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            auto out = run_pipeline(s, empty, st, 5s);
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST(!out.ec, out.ec.message());
            BOOST_TEST((out.value && out.value->empty()));
        }
    }
    pipeline syncs;
    syncs.sync().sync();
    BOOST_TEST(syncs.size() == 0u);
    BOOST_TEST(required(s, syncs).empty());

    pipeline p;
    p.add("SELECT 1");
    BOOST_CHECK_EXCEPTION(p.add(std::string_view("SELECT 1\0 --", 12)), error_with_diagnostics,
                          [](const auto& e) { return refused_as(e, client_errc::invalid_parameter); });
    BOOST_CHECK_EXCEPTION(p.add("SELECT $1::text", params(std::string("a\0b", 3))), error_with_diagnostics,
                          [](const auto& e) { return refused_as(e, client_errc::invalid_parameter); });
    BOOST_TEST(p.size() == 1u); // a refused statement is not queued
    p.add("SELECT length($1::bytea)", params(bytes{'a', 0, 'b'})); // bytea carries NUL bytes
    results r = required(s, p);
    BOOST_TEST(int_of(r[0]) == 1);
    BOOST_TEST(int_of(r[1]) == 3);
    p.clear();
    BOOST_TEST(p.empty());
    BOOST_TEST(required(s, p).empty());

    p.add("SELECT 1");
    connection closed(s.ctx);
    auto out = run<results>(style::callback, s.ctx, [&](auto&& tok) { return closed.async_execute(p, tok); }, 5s);
    BOOST_TEST((out.ec == client_errc::not_connected), out.ec.message());
}

ASIOPG_TEST_CASE(a_multi_statement_string_fails_alone) {
    session s;
    pipeline p;
    p.add("SELECT 0").add("SELECT 1; SELECT 2").sync().add("SELECT 3");
    results r = required(s, p);
    BOOST_TEST(int_of(r[0]) == 0);
    BOOST_TEST(!r[1].ok());
    BOOST_TEST(!r[1].aborted());
    BOOST_TEST(r[1].diag.from_server(), describe(r[1]));
    BOOST_TEST((r[1].error == sqlstate::syntax_error), describe(r[1])); // "cannot insert multiple commands …"
    BOOST_TEST(int_of(r[2]) == 3);
}

ASIOPG_TEST_CASE(nulls_strings_bytes_and_mixed_types) {
    session s;
    const std::string text = "h\xC3\xA9llo, 'quoted' \\ \"x\"";
    const bytes blob{0, 1, 2, 0, 255, '\\'};
    std::optional<int> none;
    pipeline p;
    p.add("SELECT $1::int IS NULL, $2::text IS NULL, $3::int", params(std::nullopt, none, std::optional<int>(4)));
    p.add("SELECT $1::text, length($1::text), $2::text = ''", params(text, std::string()));
    p.add("SELECT $1::bytea, length($1::bytea)", params(blob));
    p.add("SELECT $1::int8 + $2, $3::float8 * 2, NOT $4::bool, $5 || '!'",
          params(std::int64_t(1) << 40, 1, 1.25, true, "s"));
    p.add("SELECT NULL::text");
    results r = required(s, p);
    for (const auto& e : r) BOOST_TEST_REQUIRE(e.ok(), describe(e));
    auto row = r[0].value.at(0);
    BOOST_TEST(row.at(0).as<bool>());
    BOOST_TEST(row.at(1).as<bool>());
    BOOST_TEST(row.at(2).as<int>() == 4);
    row = r[1].value.at(0);
    BOOST_TEST(row.at(0).as<std::string>() == text);
    BOOST_TEST(row.at(1).as<int>() == 21);
    BOOST_TEST(row.at(2).as<bool>());
    BOOST_TEST((r[2].value.at(0).at(0).as<bytes>() == blob));
    BOOST_TEST(r[2].value.at(0).at(1).as<int>() == 6);
    row = r[3].value.at(0);
    BOOST_TEST(row.at(0).as<std::int64_t>() == (std::int64_t(1) << 40) + 1);
    BOOST_TEST(row.at(1).as<double>() == 2.5);
    BOOST_TEST(!row.at(2).as<bool>());
    BOOST_TEST(row.at(3).as<std::string>() == "s!");
    BOOST_TEST(!r[4].value.at(0).at(0).as<std::optional<std::string>>().has_value());
}

ASIOPG_TEST_CASE(partial_cancellation_cancels_the_running_statement) {
    session s;
    pipeline p;
    p.add("SELECT pg_sleep(10)").add("SELECT 1").add("SELECT 2").sync().add("SELECT 3");
    {
        delayed_cancel c(s.ctx, 100ms);
        raw_outcome out;
        auto t0 = steady::now();
        s.conn.async_execute(p, asio::bind_cancellation_slot(c.sig.slot(), out.handler()));
        BOOST_TEST_REQUIRE(run_until_done(s.ctx, out.done, 10s));
        BOOST_TEST(ms_since(t0) < 2000);
        BOOST_TEST((out.ec == sqlstate::query_canceled), out.ec.message());
        BOOST_TEST_REQUIRE(out.value.size() == 4u);
        BOOST_TEST((out.value[0].error == sqlstate::query_canceled), describe(out.value[0]));
        BOOST_TEST(out.value[1].aborted(), describe(out.value[1]));
        BOOST_TEST(out.value[2].aborted(), describe(out.value[2]));
        // The next segment still runs. (Observed: PostgreSQL signals a cancel to the backend and to
        // its process group, and the second SIGINT can land on a later statement too.)
        const pipeline_result& next = out.value[3];
        BOOST_TEST((next.ok() ? int_of(next) == 3 : next.error == sqlstate::query_canceled), describe(next));
        BOOST_TEST(s.conn.is_open());
        BOOST_TEST(one(s) == 1);
    }
    for (style st : {style::future, style::awaitable, style::yield}) {
        BOOST_TEST_CONTEXT(st) {
            delayed_cancel c(s.ctx, 100ms, st == style::yield ? asio::cancellation_type::total
                                                             : asio::cancellation_type::partial);
            auto t0 = steady::now();
            auto out = run<results>(st, s.ctx, [&](auto&& tok) { return s.conn.async_execute(p, with_slot(c.sig.slot(), tok)); }, 10s);
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST(ms_since(t0) < 2000);
            BOOST_TEST((out.ec == sqlstate::query_canceled), out.ec.message());
            // (A yield_context inside bind_cancellation_slot gets a plain system_error: initiate.hpp
            // looks through binders only for use_future and use_awaitable.)
            if (st != style::yield) BOOST_TEST(out.threw, out.what);
            BOOST_TEST(one(s) == 1);
        }
    }
}

ASIOPG_TEST_CASE(cancel_after_times_out_and_keeps_the_connection) {
    session s;
    pipeline slow, quick;
    slow.add("SELECT 1").add("SELECT pg_sleep(10)").add("SELECT 2");
    quick.add("SELECT 5").add("SELECT pg_sleep(0.05)");
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            auto t0 = steady::now();
            auto out = run<results>(st, s.ctx, [&](auto&& tok) { return s.conn.async_execute(slow, cancel_after(100ms, tok)); }, 10s);
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST(ms_since(t0) < 2000);
            BOOST_TEST((out.ec == client_errc::timeout), out.ec.message());
            if (throws(st)) BOOST_TEST(out.threw);
            BOOST_TEST(s.conn.is_open());
            // In time: nothing is cancelled, now or later.
            auto ok = run<results>(st, s.ctx, [&](auto&& tok) { return s.conn.async_execute(quick, cancel_after(5s, tok)); }, 10s);
            BOOST_TEST_REQUIRE(!ok.ec, ok.ec.message());
            BOOST_TEST(int_of(ok.value->at(0)) == 5);
            BOOST_TEST(one(s) == 1);
        }
    }
}

ASIOPG_TEST_CASE(terminal_cancellation_closes_the_connection) {
    session s;
    pipeline p;
    p.add("SELECT pg_sleep(10)").add("SELECT 1");
    delayed_cancel c(s.ctx, 100ms, asio::cancellation_type::terminal);
    raw_outcome out;
    auto t0 = steady::now();
    s.conn.async_execute(p, asio::bind_cancellation_slot(c.sig.slot(), out.handler()));
    BOOST_TEST_REQUIRE(run_until_done(s.ctx, out.done, 10s));
    BOOST_TEST(ms_since(t0) < 2000);
    BOOST_TEST((out.ec == asio::error::operation_aborted), out.ec.message());
    BOOST_TEST(!s.conn.is_open());
    BOOST_TEST_REQUIRE(!s.reconnect());
    pipeline q;
    q.add("SELECT 6");
    BOOST_TEST(int_of(required(s, q, 5s)[0]) == 6);
}

// Operations started while a pipeline runs wait for it (a pipeline waits like a query).
ASIOPG_TEST_CASE(a_second_operation_while_a_pipeline_runs) {
    session s;
    pipeline p;
    p.add("SELECT pg_sleep(0.3)").add("SELECT 4");
    raw_outcome first, third;
    bool second_done = false;
    error_code second_ec;
    s.conn.async_execute(p, first.handler());
    s.conn.async_execute("SELECT 2", [&](error_code ec, result) {
        second_ec = ec;
        second_done = true;
    });
    s.conn.async_execute(p, third.handler());
    p.clear(); // the waiting one runs its own copy
    BOOST_TEST_REQUIRE(run_until_done(s.ctx, second_done, 5s));
    BOOST_TEST_REQUIRE(run_until_done(s.ctx, third.done, 5s));
    BOOST_TEST(first.done); // in order
    BOOST_TEST(!second_ec, second_ec.message());
    BOOST_TEST(!third.ec, third.ec.message());
    BOOST_TEST(!first.ec, first.ec.message());
    BOOST_TEST_REQUIRE(first.value.size() == 2u);
    BOOST_TEST(int_of(first.value[1]) == 4);
    BOOST_TEST_REQUIRE(third.value.size() == 2u);
    BOOST_TEST(int_of(third.value[1]) == 4);
    BOOST_TEST(one(s) == 1);
}

ASIOPG_TEST_CASE(server_statement_timeout_is_reported_for_its_entry) {
    session s;
    s.query("SET statement_timeout = 200");
    pipeline p;
    p.add("SELECT 1").add("SELECT pg_sleep(5)").add("SELECT 2").sync().add("SELECT 3");
    auto t0 = steady::now();
    results r = required(s, p, 10s); // the operation itself succeeds: the error is the entry's
    BOOST_TEST(ms_since(t0) < 3000);
    BOOST_TEST(int_of(r[0]) == 1);
    BOOST_TEST((r[1].error == sqlstate::query_canceled), describe(r[1]));
    BOOST_TEST(r[1].diag.message.find("statement timeout") != std::string::npos, r[1].diag.message);
    BOOST_TEST(r[2].aborted(), describe(r[2]));
    BOOST_TEST(int_of(r[3]) == 3);
    s.query("RESET statement_timeout");
    BOOST_TEST(one(s) == 1);
}

ASIOPG_TEST_CASE(backend_terminated_mid_pipeline) {
    session s, admin;
    pipeline p;
    p.add("SELECT 1").sync().add("SELECT pg_sleep(10)").add("SELECT 2");
    raw_outcome out;
    auto t0 = steady::now();
    s.conn.async_execute(p, out.handler());
    s.ctx.restart();
    s.ctx.run_for(200ms);
    BOOST_TEST_REQUIRE(!out.done);
    admin.query("SELECT pg_terminate_backend($1, 5000)", params(s.conn.backend_pid()));
    BOOST_TEST_REQUIRE(run_until_done(s.ctx, out.done, 10s));
    BOOST_TEST(ms_since(t0) < 5000);
    const diagnostics& d = s.conn.get_diagnostics();
    BOOST_TEST_MESSAGE("terminated: " << out.ec.message() << " / " << d.to_string());
    BOOST_TEST((out.ec == client_errc::connection_lost || out.ec == sqlstate::admin_shutdown), out.ec.message());
    BOOST_TEST(is_fatal(out.ec));
    BOOST_TEST((out.ec == condition::connection_error));
    BOOST_TEST(d.message.find("terminating connection") != std::string::npos, d.to_string());
    BOOST_TEST(!s.conn.is_open());
    BOOST_TEST_REQUIRE(!s.reconnect());
    pipeline again;
    again.add("SELECT 9");
    BOOST_TEST(int_of(required(s, again, 5s)[0]) == 9);
}

BOOST_AUTO_TEST_SUITE_END()
