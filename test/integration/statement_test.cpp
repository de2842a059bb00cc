// Prepared statements: explicit (async_prepare) and the automatic per-connection cache.
#include <asiopg.hpp>

#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

using namespace asiopg;
using namespace asiopg::test;

namespace {
struct statement_session : session {
    int prepared_count() {
        auto r = exec("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'asiopg_s%'");
        BOOST_TEST_REQUIRE(!r.ec);
        return (*r.value)[0][0].as<int>();
    }
};
} // namespace

BOOST_AUTO_TEST_SUITE(statements)

ASIOPG_TEST_CASE(prepare_and_execute_in_every_style) {
    statement_session s;
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT("style " << st) {
            auto prepared = run<statement>(st, s.ctx, [&](auto&& tok) {
                return s.conn.async_prepare("SELECT $1::int8 * 2 AS doubled, $2::text AS word", tok);
            });
            BOOST_TEST_REQUIRE(!prepared.ec, prepared.what);
            const statement& stmt = *prepared.value;
            BOOST_TEST(stmt.valid());
            BOOST_TEST(stmt.param_count() == 2u);
            BOOST_TEST(stmt.param_type(0) == oids::int8);
            BOOST_TEST(stmt.param_type(1) == oids::text);
            BOOST_TEST(stmt.columns() == 2u);
            BOOST_TEST(stmt.column_name(0) == "doubled");
            BOOST_TEST(stmt.column_type(0) == oids::int8);
            int x = 21; // an int for a bigint parameter: converted
            auto out = run<result>(st, s.ctx, [&](auto&& tok) { return s.conn.async_execute(stmt, params(x, "w"), tok); });
            BOOST_TEST_REQUIRE(!out.ec, out.what);
            BOOST_TEST((*out.value)[0]["doubled"].as<long>() == 42);
            BOOST_TEST((*out.value)[0]["word"].as<std::string>() == "w");
        }
    }
}

ASIOPG_TEST_CASE(prepare_errors) {
    statement_session s;
    for (style st : all_styles) {
        auto bad = run<statement>(st, s.ctx, [&](auto&& tok) { return s.conn.async_prepare("SELEC 1", tok); });
        BOOST_TEST((bad.ec == sqlstate::syntax_error));
        BOOST_TEST(s.conn.is_open());
    }
    auto stmt = run<statement>(style::callback, s.ctx, [&](auto&& tok) { return s.conn.async_prepare("SELECT $1::int", tok); });
    BOOST_TEST_REQUIRE(!stmt.ec);
    auto wrong_count = run<result>(style::callback, s.ctx, [&](auto&& tok) {
        return s.conn.async_execute(*stmt.value, params(1, 2), tok);
    });
    BOOST_TEST((wrong_count.ec == client_errc::invalid_statement));
    auto no_params = run<result>(style::callback, s.ctx, [&](auto&& tok) { return s.conn.async_execute(*stmt.value, tok); });
    BOOST_TEST((no_params.ec == client_errc::invalid_statement));
    BOOST_TEST_REQUIRE(!s.reconnect());
    auto stale = run<result>(style::callback, s.ctx, [&](auto&& tok) {
        return s.conn.async_execute(*stmt.value, params(1), tok);
    });
    BOOST_TEST((stale.ec == client_errc::invalid_statement)); // another session
    auto unprepared = run<result>(style::callback, s.ctx, [&](auto&& tok) { return s.conn.async_execute(statement(), tok); });
    BOOST_TEST((unprepared.ec == client_errc::invalid_statement));
}

// Two fresh connections name their first statements alike: a statement of one must never run
// on the other (where the same name holds other SQL).
ASIOPG_TEST_CASE(a_statement_of_another_connection_is_refused) {
    statement_session a, b;
    auto sa = run<statement>(style::callback, a.ctx, [&](auto&& tok) { return a.conn.async_prepare("SELECT 'a'::text", tok); });
    auto sb = run<statement>(style::callback, b.ctx, [&](auto&& tok) { return b.conn.async_prepare("SELECT 'b'::text", tok); });
    BOOST_TEST_REQUIRE(!sa.ec);
    BOOST_TEST_REQUIRE(!sb.ec);
    BOOST_TEST(sa.value->name() == sb.value->name()); // the precondition of the hazard
    auto crossed = run<result>(style::callback, b.ctx, [&](auto&& tok) { return b.conn.async_execute(*sa.value, tok); });
    BOOST_TEST((crossed.ec == client_errc::invalid_statement), crossed.ec.message());
    auto own = run<result>(style::callback, b.ctx, [&](auto&& tok) { return b.conn.async_execute(*sb.value, tok); });
    BOOST_TEST_REQUIRE(!own.ec);
    BOOST_TEST((*own.value)[0][0].as<std::string>() == "b");
}

ASIOPG_TEST_CASE(automatic_cache_prepares_at_the_threshold) {
    statement_session s;
    s.conn.set_statement_cache(100, 3);
    for (int i = 1; i <= 6; ++i) {
        auto r = s.exec("SELECT $1::int + 1", params(i));
        BOOST_TEST_REQUIRE(!r.ec, s.conn.get_diagnostics().message);
        BOOST_TEST((*r.value)[0][0].as<int>() == i + 1);
        if (i == 2) BOOST_TEST(s.prepared_count() == 0);
    }
    BOOST_TEST(s.prepared_count() == 1);
    // Same SQL, other parameter types: another statement.
    for (int i = 0; i < 3; ++i) BOOST_TEST(!s.exec("SELECT $1::int + 1", params(std::int64_t{5})).ec);
    BOOST_TEST(s.prepared_count() == 2);
}

ASIOPG_TEST_CASE(cache_off_for_pgbouncer) {
    statement_session s;
    s.conn.set_statement_cache(0);
    for (int i = 0; i < 8; ++i) BOOST_TEST(!s.exec("SELECT $1::int", params(i)).ec);
    BOOST_TEST(s.prepared_count() == 0);
}

ASIOPG_TEST_CASE(least_recently_used_statements_are_deallocated) {
    statement_session s;
    s.conn.set_statement_cache(2, 1);
    BOOST_TEST(!s.exec("SELECT $1::int AS a", params(1)).ec);
    BOOST_TEST(!s.exec("SELECT $1::int AS b", params(1)).ec);
    BOOST_TEST(!s.exec("SELECT $1::int AS c", params(1)).ec); // evicts "a"
    BOOST_TEST(!s.exec("SELECT $1::int AS d", params(1)).ec); // deallocates "a", evicts "b"
    BOOST_TEST(s.prepared_count() <= 3);
    for (int round = 0; round < 3; ++round)
        for (const char* sql : {"SELECT $1::int AS a", "SELECT $1::int AS b", "SELECT $1::int AS c"}) {
            auto r = s.exec(sql, params(round));
            BOOST_TEST_REQUIRE(!r.ec, sql << ": " << s.conn.get_diagnostics().message);
            BOOST_TEST((*r.value)[0][0].as<int>() == round);
        }
    BOOST_TEST(s.prepared_count() <= 3); // the cache never holds more than capacity (+1 being dropped)
}

ASIOPG_TEST_CASE(changed_result_type_is_reprepared_transparently) {
    statement_session s;
    s.conn.set_statement_cache(100, 1);
    BOOST_TEST(!s.exec("CREATE TEMP TABLE evolving (a int)").ec);
    BOOST_TEST(!s.exec("INSERT INTO evolving VALUES (1)").ec);
    auto first = s.exec("SELECT * FROM evolving WHERE a = $1", params(1));
    BOOST_TEST_REQUIRE(!first.ec);
    BOOST_TEST(first.value->columns() == 1u);
    BOOST_TEST(!s.exec("ALTER TABLE evolving ADD COLUMN b text DEFAULT 'new'").ec);
    auto second = s.exec("SELECT * FROM evolving WHERE a = $1", params(1)); // 0A000 inside, retried
    BOOST_TEST_REQUIRE(!second.ec, s.conn.get_diagnostics().to_string());
    BOOST_TEST(second.value->columns() == 2u);
    BOOST_TEST((*second.value)[0]["b"].as<std::string>() == "new");
}

ASIOPG_TEST_CASE(vanished_statement_is_reprepared_transparently) {
    statement_session s;
    s.conn.set_statement_cache(100, 1);
    BOOST_TEST(!s.exec("SELECT $1::int", params(1)).ec);
    BOOST_TEST(s.prepared_count() == 1);
    BOOST_TEST(!s.exec("DEALLOCATE ALL").ec); // behind the cache's back (DISCARD ALL does this too)
    auto again = s.exec("SELECT $1::int", params(2)); // 26000 inside, retried
    BOOST_TEST_REQUIRE(!again.ec, s.conn.get_diagnostics().to_string());
    BOOST_TEST((*again.value)[0][0].as<int>() == 2);
}

ASIOPG_TEST_CASE(stale_statement_inside_a_transaction_is_reported) {
    statement_session s;
    s.conn.set_statement_cache(100, 1);
    BOOST_TEST(!s.exec("SELECT $1::int", params(1)).ec);
    BOOST_TEST(!s.exec("DEALLOCATE ALL").ec);
    BOOST_TEST(!s.exec("BEGIN").ec);
    auto inside = s.exec("SELECT $1::int", params(2));
    BOOST_TEST((inside.ec == sqlstate::invalid_sql_statement_name)); // the transaction is aborted: no retry
    BOOST_TEST(!s.exec("ROLLBACK").ec);
    auto after = s.exec("SELECT $1::int", params(3)); // prepared afresh
    BOOST_TEST_REQUIRE(!after.ec, s.conn.get_diagnostics().to_string());
    BOOST_TEST((*after.value)[0][0].as<int>() == 3);
}

// The cache's column types are learnt again after the result type changed.
ASIOPG_TEST_CASE(column_types_relearnt_after_reprepare) {
    statement_session s;
    s.conn.set_statement_cache(100, 1);
    BOOST_TEST(!s.exec("CREATE TEMP TABLE shape (a int, t timestamptz)").ec);
    BOOST_TEST(!s.exec("INSERT INTO shape VALUES (1, now())").ec);
    for (int i = 0; i < 2; ++i) BOOST_TEST(!s.exec("SELECT * FROM shape WHERE a = $1", params(1)).ec);
    BOOST_TEST(!s.exec("ALTER TABLE shape ADD COLUMN r int4range DEFAULT '[1,5)'").ec);
    auto r = s.exec("SELECT * FROM shape WHERE a = $1", params(1));
    BOOST_TEST_REQUIRE(!r.ec, s.conn.get_diagnostics().message);
    BOOST_TEST((*r.value)[0]["r"].as<std::string>() == "[1,5)");
}

// Dropping evicted statements must not abort the user's transaction.
ASIOPG_TEST_CASE(eviction_inside_a_transaction_is_deferred) {
    statement_session s;
    s.conn.set_statement_cache(1, 1);
    BOOST_TEST(!s.exec("BEGIN").ec);
    BOOST_TEST(!s.exec("SELECT $1::int AS a", params(1)).ec);
    BOOST_TEST(!s.exec("DEALLOCATE ALL").ec);
    auto b = s.exec("SELECT $1::int AS b", params(2)); // evicts a: its DEALLOCATE waits
    BOOST_TEST_REQUIRE(!b.ec, s.conn.get_diagnostics().message);
    BOOST_TEST(!s.exec("COMMIT").ec);
    BOOST_TEST(!s.exec("SELECT $1::int AS c", params(3)).ec); // now outside: dropped (error ignored)
}

// Binary results where they are faster (date/time columns), text elsewhere — once the
// statement's columns are known.
ASIOPG_TEST_CASE(result_format_is_chosen_per_statement) {
    statement_session s;
    BOOST_TEST(!s.conn.result_format()); // automatic by default
    s.conn.set_statement_cache(100, 1);
    auto fmt = [&](std::string_view sql) {
        auto r = s.exec(sql, params(1));
        BOOST_TEST_REQUIRE(!r.ec, s.conn.get_diagnostics().message);
        return r.value->column_format(0);
    };
    const char* times = "SELECT now() + $1 * interval '1 day', 'x'::text";
    BOOST_TEST((fmt(times) == data_format::text));   // first run: columns unknown
    BOOST_TEST((fmt(times) == data_format::binary)); // known: a timestamptz column
    const char* numbers = "SELECT $1::numeric, now()";
    fmt(numbers);
    BOOST_TEST((fmt(numbers) == data_format::text)); // numeric is slower in binary
    const char* composite = "SELECT ROW($1, now())";
    fmt(composite);
    BOOST_TEST((fmt(composite) == data_format::text)); // a type asiopg cannot render from binary
    auto st = run<statement>(style::callback, s.ctx, [&](auto&& tok) { return s.conn.async_prepare("SELECT $1::date", tok); });
    BOOST_TEST_REQUIRE(!st.ec);
    auto r = run<result>(style::callback, s.ctx, [&](auto&& tok) {
        return s.conn.async_execute(*st.value, params("2024-02-29"), tok);
    });
    BOOST_TEST_REQUIRE(!r.ec);
    BOOST_TEST((r.value->column_format(0) == data_format::binary)); // known from Describe
    BOOST_TEST((*r.value)[0][0].as<std::string>() == "2024-02-29");
    s.conn.set_result_format(data_format::text);
    BOOST_TEST((fmt(times) == data_format::text)); // forced
}

BOOST_AUTO_TEST_SUITE_END()
