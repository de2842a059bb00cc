// Queries, results, session facts, and query-time faults against the real server.
#include <asiopg/connection.hpp>

#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>

#include <cmath>
#include <limits>
#include <thread>

using namespace asiopg;
using namespace asiopg::test;

namespace {

// Here a query with parameters reports its outcome instead of requiring success.
struct connected : session {
    result query(std::string_view sql) { return session::query(sql); }
    template <class... Ts>
    outcome<result> query(std::string_view sql, const param_list<Ts...>& ps, style s = style::callback) {
        return exec(sql, ps, s);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(executing)

ASIOPG_TEST_CASE(select_in_every_style) {
    connected c;
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            auto simple = run<result>(s, c.ctx, [&](auto&& tok) { return c.conn.async_execute("SELECT 1", tok); });
            BOOST_TEST_REQUIRE(!simple.ec);
            BOOST_TEST((*simple.value)[0][0].as<int>() == 1);

            int a = 40;
            auto ps = params(a, std::string("two"));
            auto bound = c.query("SELECT $1::int + 2 AS sum, $2::text AS word", ps, s);
            BOOST_TEST_REQUIRE(!bound.ec, bound.what);
            BOOST_TEST((*bound.value)[0]["sum"].as<int>() == 42);
            BOOST_TEST((*bound.value)[0]["word"].as<std::string>() == "two");
        }
    }
}

ASIOPG_TEST_CASE(syntax_error_in_every_style) {
    connected c;
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            auto out = run<result>(s, c.ctx, [&](auto&& tok) { return c.conn.async_execute("SELEC 1", tok); });
            BOOST_TEST(out.completed);
            BOOST_TEST((out.ec == sqlstate::syntax_error));
            BOOST_TEST(!is_fatal(out.ec));
            const diagnostics& d = throws(s) ? out.diag : c.conn.get_diagnostics();
            BOOST_TEST(d.sqlstate == "42601");
            BOOST_TEST(d.severity == "ERROR");
            BOOST_TEST(d.position == 1);
            BOOST_TEST(d.message.find("syntax error") != std::string::npos, d.message);
            if (throws(s)) BOOST_TEST(out.what.find("syntax error at or near \"SELEC\"") != std::string::npos, out.what);
            BOOST_TEST(c.conn.is_open()); // still usable
        }
    }
    BOOST_TEST(c.query("SELECT 2")[0][0].as<int>() == 2);
}

// Binders around use_awaitable / use_future keep the server's message in the exception.
ASIOPG_TEST_CASE(bound_exception_tokens_keep_diagnostics) {
    connected c;
    auto strand = asio::make_strand(c.ctx);
    asio::cancellation_signal signal;
    std::string what;
    bool done = false;
    asio::co_spawn(c.ctx, [&]() -> asio::awaitable<void> {
        try {
            co_await c.conn.async_execute(
                "SELEC 1", asio::bind_cancellation_slot(signal.slot(), asio::bind_executor(strand, asio::use_awaitable)));
        } catch (const error_with_diagnostics& e) {
            what = e.what();
        }
        done = true;
    }, asio::detached);
    c.ctx.run_for(std::chrono::seconds(10));
    BOOST_TEST(done);
    BOOST_TEST(what.find("syntax error") != std::string::npos, what);
    // Started before the thread runs the context: a context without work returns at once.
    auto fut = c.conn.async_execute("SELEC 2", asio::bind_executor(strand, asio::use_future));
    std::thread io([&] { c.ctx.restart(); c.ctx.run_for(std::chrono::seconds(10)); });
    try {
        fut.get();
        BOOST_FAIL("no exception");
    } catch (const error_with_diagnostics& e) {
        BOOST_TEST(std::string(e.what()).find("syntax error") != std::string::npos);
        BOOST_TEST(e.get_diagnostics().position == 1);
    }
    io.join();
}

ASIOPG_TEST_CASE(undefined_table_with_diagnostics) {
    connected c;
    auto out = run<result>(style::awaitable, c.ctx, [&](auto&& tok) {
        return c.conn.async_execute("SELECT * FROM no_such_table", tok);
    });
    BOOST_TEST((out.ec == sqlstate::undefined_table));
    BOOST_TEST((out.ec == condition::syntax_error_or_access_rule_violation));
    BOOST_TEST(out.diag.sqlstate == "42P01");
    BOOST_TEST(out.diag.position == 15);
    BOOST_TEST(out.what.find("no_such_table") != std::string::npos, out.what);
}

ASIOPG_TEST_CASE(constraint_fields_are_reported) {
    connected c;
    c.query("CREATE TEMP TABLE u (id int PRIMARY KEY, name text NOT NULL)");
    c.query("INSERT INTO u VALUES (1, 'a')");
    auto dup = c.query("INSERT INTO u VALUES ($1, $2)", params(1, "b"));
    BOOST_TEST((dup.ec == sqlstate::unique_violation));
    BOOST_TEST((dup.ec == condition::unique_violation));
    BOOST_TEST((dup.ec == condition::integrity_constraint_violation));
    const diagnostics& d = c.conn.get_diagnostics();
    BOOST_TEST(d.constraint == "u_pkey");
    BOOST_TEST(d.table == "u");
    BOOST_TEST(!d.detail.empty());
    auto null = c.query("INSERT INTO u VALUES ($1, $2)", params(2, std::nullopt));
    BOOST_TEST((null.ec == condition::not_null_violation));
    BOOST_TEST(c.conn.get_diagnostics().column == "name");
}

ASIOPG_TEST_CASE(results_rows_columns_and_tags) {
    connected c;
    c.query("CREATE TEMP TABLE t (id int, name text, score float8, blob bytea)");
    result ins = c.query("INSERT INTO t VALUES (1, 'one', 1.5, '\\x0001ff'), (2, NULL, NULL, NULL), (3, 'three', 'NaN', '')");
    BOOST_TEST(ins.affected_rows() == 3u);
    BOOST_TEST(ins.command_tag() == "INSERT 0 3");
    BOOST_TEST(ins.columns() == 0u);

    result r = c.query("SELECT id, name, score, blob FROM t ORDER BY id");
    BOOST_TEST(r.size() == 3u);
    BOOST_TEST(r.affected_rows() == 3u);
    BOOST_TEST(r.command_tag() == "SELECT 3");
    BOOST_TEST(r.columns() == 4u);
    BOOST_TEST(r.column_name(1) == "name");
    BOOST_TEST(r.column_index("score").value_or(99) == 2u);
    BOOST_TEST(!r.column_index("nope"));
    BOOST_TEST(r.column_type(0) == 23u);
    BOOST_TEST(r.column_type(1) == 25u);
    BOOST_TEST(r.column_type(2) == 701u);
    BOOST_TEST(r.column_type(3) == 17u);

    int sum = 0;
    for (row_view row : r) sum += row["id"].as<int>();
    BOOST_TEST(sum == 6);
    int fields = 0;
    for (field_view f : r[0]) { (void)f; ++fields; }
    BOOST_TEST(fields == 4);

    BOOST_TEST(r[0]["score"].as<double>() == 1.5);
    BOOST_TEST(std::isnan(r[2]["score"].as<double>()));
    BOOST_TEST(r[1]["name"].is_null());
    BOOST_TEST(!r[1]["name"].as<std::optional<std::string>>());
    BOOST_TEST(r[0]["name"].as<std::optional<std::string>>().value_or("") == "one");
    BOOST_TEST(r[0]["name"].as<std::string_view>() == "one");
    BOOST_TEST((r[0]["blob"].as<bytes>() == bytes{0, 1, 255}));
    BOOST_TEST(r[2]["blob"].as<bytes>().empty());
}

ASIOPG_TEST_CASE(conversion_errors_name_column_and_types) {
    connected c;
    result r = c.query("SELECT 70000 AS big, NULL::int AS nothing, 'abc' AS word");
    try {
        (void)r[0]["big"].as<std::int16_t>();
        BOOST_FAIL("overflow not detected");
    } catch (const error_with_diagnostics& e) {
        BOOST_TEST((e.code() == client_errc::conversion_error));
        std::string w = e.what();
        BOOST_TEST(w.find("big") != std::string::npos, w);
        BOOST_TEST(w.find("integer") != std::string::npos, w);
        BOOST_TEST(w.find("short") != std::string::npos, w);
    }
    BOOST_TEST(r[0]["big"].as<std::int64_t>() == 70000);
    BOOST_CHECK_EXCEPTION((void)r[0]["nothing"].as<int>(), error_with_diagnostics,
                          [](const auto& e) { return e.code() == client_errc::unexpected_null; });
    BOOST_CHECK_EXCEPTION((void)r[0]["word"].as<int>(), error_with_diagnostics,
                          [](const auto& e) { return e.code() == client_errc::conversion_error; });
    BOOST_CHECK_EXCEPTION((void)r[0]["missing"], error_with_diagnostics,
                          [](const auto& e) { return e.code() == client_errc::column_not_found; });
    BOOST_CHECK_EXCEPTION((void)r.at(5), error_with_diagnostics,
                          [](const auto& e) { return e.code() == client_errc::index_out_of_range; });
    BOOST_CHECK_EXCEPTION((void)r[0].at(9), error_with_diagnostics,
                          [](const auto& e) { return e.code() == client_errc::index_out_of_range; });
    BOOST_CHECK_EXCEPTION((void)r[0]["big"].as<unsigned char>(), error_with_diagnostics,
                          [](const auto& e) { return e.code() == client_errc::conversion_error; });
}

ASIOPG_TEST_CASE(parameter_types_round_trip) {
    connected c;
    std::int64_t big = std::numeric_limits<std::int64_t>::min();
    std::optional<int> none;
    bytes blob{0, 'a', 0, 255};
    auto out = c.query("SELECT $1::int8, $2::int2, $3::bool, $4::float8, $5::float4, $6::text, $7::int4 IS NULL, "
                       "$8::bytea, $9::numeric, $10::text",
                       params(big, std::int16_t{-32768}, false, -2.5, 0.25f, std::string_view("päivää"), none, blob,
                              std::numeric_limits<std::uint64_t>::max(), "it's \"quoted\" \\ $1"));
    BOOST_TEST_REQUIRE(!out.ec, c.conn.get_diagnostics().to_string());
    row_view row = (*out.value)[0];
    BOOST_TEST(row[0].as<std::int64_t>() == big);
    BOOST_TEST(row[1].as<int>() == -32768);
    BOOST_TEST(!row[2].as<bool>());
    BOOST_TEST(row[3].as<double>() == -2.5);
    BOOST_TEST(row[4].as<float>() == 0.25f);
    BOOST_TEST(row[5].as<std::string>() == "päivää");
    BOOST_TEST(row[6].as<bool>());
    BOOST_TEST((row[7].as<bytes>() == blob));
    BOOST_TEST(row[8].as<std::string>() == "18446744073709551615");
    BOOST_TEST(row[9].as<std::string>() == "it's \"quoted\" \\ $1"); // bound, never spliced
}

ASIOPG_TEST_CASE(untyped_string_parameter_takes_the_column_type) {
    connected c;
    c.query("CREATE TEMP TABLE k (id int)");
    c.query("INSERT INTO k VALUES (7)");
    auto out = c.query("SELECT count(*) FROM k WHERE id = $1", params("7"));
    BOOST_TEST_REQUIRE(!out.ec, c.conn.get_diagnostics().to_string());
    BOOST_TEST((*out.value)[0][0].as<int>() == 1);
}

ASIOPG_TEST_CASE(several_statements_in_one_simple_query) {
    connected c;
    result r = c.query("CREATE TEMP TABLE m (x int); INSERT INTO m VALUES (1), (2); SELECT sum(x) FROM m");
    BOOST_TEST(r.statement_count() == 3u);
    BOOST_TEST(r.statement(0).command_tag() == "CREATE TABLE");
    BOOST_TEST(r.statement(1).affected_rows() == 2u);
    BOOST_TEST(r[0][0].as<int>() == 3); // the result_view interface is the last statement's
    result empty = c.query("");
    BOOST_TEST(empty.size() == 0u);
}

ASIOPG_TEST_CASE(session_facts) {
    connected c;
    BOOST_TEST(c.conn.backend_pid() > 0);
    BOOST_TEST(c.conn.server_version() >= 150000);
    BOOST_TEST(c.conn.parameter_status("server_encoding").value_or("") == "UTF8");
    BOOST_TEST(!c.conn.parameter_status("no_such_parameter"));
    BOOST_TEST((c.conn.get_transaction_status() == transaction_status::idle));
    c.query("BEGIN");
    BOOST_TEST((c.conn.get_transaction_status() == transaction_status::in_transaction));
    auto bad = run<result>(style::callback, c.ctx, [&](auto&& tok) { return c.conn.async_execute("SELECT 1/0", tok); });
    BOOST_TEST((bad.ec == sqlstate::division_by_zero));
    BOOST_TEST((c.conn.get_transaction_status() == transaction_status::in_error));
    c.query("ROLLBACK");
    BOOST_TEST((c.conn.get_transaction_status() == transaction_status::idle));
    BOOST_TEST(c.conn.native_handle() != nullptr);
    int pid = c.query("SELECT pg_backend_pid()")[0][0].as<int>();
    BOOST_TEST(pid == c.conn.backend_pid());
}

ASIOPG_TEST_CASE(close_and_async_close_are_idempotent) {
    connected c;
    c.conn.close();
    c.conn.close();
    BOOST_TEST(!c.conn.is_open());
    auto out = run<result>(style::callback, c.ctx, [&](auto&& tok) { return c.conn.async_execute("SELECT 1", tok); });
    BOOST_TEST((out.ec == client_errc::not_connected));
    connected d;
    for (style s : all_styles) {
        auto closed = run<no_value>(s, d.ctx, [&](auto&& tok) { return d.conn.async_close(tok); });
        BOOST_TEST(!closed.ec);
        BOOST_TEST(!d.conn.is_open());
    }
}

// A second query on a busy connection waits for its turn (automatic pipelining: see
// auto_pipeline_test.cpp); the first is not disturbed.
ASIOPG_TEST_CASE(second_operation_on_a_busy_connection) {
    connected c;
    error_code first_ec, second_ec;
    int first_value = 0, second_value = 0;
    bool first_done = false, second_done = false;
    c.conn.async_execute("SELECT pg_sleep(0.2), 7", [&](error_code ec, result r) {
        first_ec = ec;
        if (!ec) first_value = r[0][1].as<int>();
        first_done = true;
    });
    c.conn.async_execute("SELECT 8", [&](error_code ec, result r) {
        second_ec = ec;
        if (!ec) second_value = r[0][0].as<int>();
        second_done = true;
        BOOST_TEST(first_done); // in order
    });
    c.ctx.run_for(std::chrono::seconds(10));
    BOOST_TEST(second_done);
    BOOST_TEST(!second_ec, second_ec.message());
    BOOST_TEST(second_value == 8);
    BOOST_TEST(first_done);
    BOOST_TEST(!first_ec);
    BOOST_TEST(first_value == 7);
    BOOST_TEST(c.query("SELECT 9")[0][0].as<int>() == 9);
}

ASIOPG_TEST_CASE(nul_byte_in_a_text_parameter_is_refused_before_sending) {
    connected c;
    c.query("CREATE TEMP TABLE sent (v text)");
    std::string with_nul("ab\0cd", 5);
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            auto out = c.query("INSERT INTO sent VALUES ($1)", params(with_nul), s);
            BOOST_TEST((out.ec == client_errc::invalid_parameter));
            std::string msg = throws(s) ? out.what : c.conn.get_diagnostics().message;
            BOOST_TEST(msg.find("$1") != std::string::npos, msg);
            BOOST_TEST((c.conn.get_transaction_status() == transaction_status::idle));
        }
    }
    BOOST_TEST(c.query("SELECT count(*) FROM sent")[0][0].as<int>() == 0); // nothing was sent
    auto sql_nul = run<result>(style::callback, c.ctx, [&](auto&& tok) {
        return c.conn.async_execute(std::string_view("SELECT 1\0; DROP TABLE sent", 26), tok);
    });
    BOOST_TEST((sql_nul.ec == client_errc::invalid_parameter));
    BOOST_TEST(c.query("SELECT count(*) FROM sent")[0][0].as<int>() == 0);
}

ASIOPG_TEST_CASE(invalid_utf8_parameter_is_a_server_error_and_the_connection_survives) {
    connected c;
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            auto out = c.query("SELECT $1::text", params(std::string("\xc3\x28 bad")), s);
            BOOST_TEST((out.ec == sqlstate::character_not_in_repertoire));
            BOOST_TEST(c.conn.is_open());
        }
    }
    BOOST_TEST(c.query("SELECT 'still here'")[0][0].as<std::string>() == "still here");
}

ASIOPG_TEST_CASE(backend_terminated_mid_query) {
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            connected victim;
            connected killer;
            int pid = victim.conn.backend_pid();
            // The killer runs on its own context, on a thread, while the victim waits in pg_sleep.
            std::thread t([&] {
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                killer.query("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
            });
            auto out = run<result>(s, victim.ctx, [&](auto&& tok) {
                return victim.conn.async_execute("SELECT pg_sleep(10)", tok);
            });
            t.join();
            BOOST_TEST(out.completed);
            BOOST_TEST(is_fatal(out.ec), out.ec.message());
            BOOST_TEST((out.ec == condition::connection_error));
            BOOST_TEST((out.ec == sqlstate::admin_shutdown), out.ec.message());
            BOOST_TEST(!victim.conn.is_open());
            auto after = run<result>(style::callback, victim.ctx, [&](auto&& tok) {
                return victim.conn.async_execute("SELECT 1", tok);
            });
            BOOST_TEST((after.ec == client_errc::not_connected));
        }
    }
}

ASIOPG_TEST_CASE(terminal_cancellation_closes_the_connection) {
    connected c;
    asio::cancellation_signal signal;
    error_code got;
    bool done = false;
    c.conn.async_execute("SELECT pg_sleep(10)",
                         asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, result) {
                             got = ec;
                             done = true;
                         }));
    asio::steady_timer timer(c.ctx, std::chrono::milliseconds(100));
    timer.async_wait([&](error_code) { signal.emit(asio::cancellation_type::terminal); });
    c.ctx.run_for(std::chrono::seconds(5));
    BOOST_TEST(done);
    BOOST_TEST((got == asio::error::operation_aborted));
    BOOST_TEST(!c.conn.is_open());
}

ASIOPG_TEST_CASE(closing_during_a_query_aborts_it) {
    connected c;
    error_code got;
    bool done = false;
    c.conn.async_execute("SELECT pg_sleep(10)", [&](error_code ec, result) { got = ec; done = true; });
    asio::steady_timer timer(c.ctx, std::chrono::milliseconds(100));
    timer.async_wait([&](error_code) { c.conn.close(); });
    c.ctx.run_for(std::chrono::seconds(5));
    BOOST_TEST(done);
    BOOST_TEST((got == asio::error::operation_aborted));
    // and the connection can be opened again
    auto again = run<no_value>(style::callback, c.ctx, [&](auto&& tok) { return c.conn.async_connect(tcp_conninfo(), tok); });
    BOOST_TEST(!again.ec);
    BOOST_TEST(c.query("SELECT 1")[0][0].as<int>() == 1);
}

ASIOPG_TEST_CASE(notices_do_not_reach_stderr_and_notifications_are_drained) {
    connected c;
    c.query("DO $$ BEGIN RAISE NOTICE 'hello'; END $$");
    c.query("LISTEN ch; NOTIFY ch, 'payload'");
    BOOST_TEST(c.query("SELECT 1")[0][0].as<int>() == 1);
}

ASIOPG_TEST_CASE(copy_through_execute_is_refused_but_the_connection_survives) {
    connected c;
    c.query("CREATE TEMP TABLE cp (x int)");
    auto in = run<result>(style::callback, c.ctx, [&](auto&& tok) { return c.conn.async_execute("COPY cp FROM STDIN", tok); });
    BOOST_TEST(!!in.ec);
    auto out = run<result>(style::callback, c.ctx, [&](auto&& tok) {
        return c.conn.async_execute("COPY (SELECT generate_series(1, 1000)) TO STDOUT", tok);
    });
    BOOST_TEST((out.ec == client_errc::unexpected_result));
    BOOST_TEST(c.conn.is_open());
    BOOST_TEST(c.query("SELECT 5")[0][0].as<int>() == 5);
}

ASIOPG_TEST_CASE(large_query_and_large_result) {
    connected c;
    std::string big(4 << 20, 'x'); // 4 MiB parameter: libpq cannot send it in one write
    auto out = c.query("SELECT length($1::text)", params(big));
    BOOST_TEST_REQUIRE(!out.ec, c.conn.get_diagnostics().to_string());
    BOOST_TEST((*out.value)[0][0].as<int>() == 4 << 20);
    result rows = c.query("SELECT g, repeat('y', 100) FROM generate_series(1, 100000) g");
    BOOST_TEST(rows.size() == 100000u);
    BOOST_TEST(rows[99999][0].as<int>() == 100000);
}

BOOST_AUTO_TEST_SUITE_END()
