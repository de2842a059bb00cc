// format_sql against the real server: hostile values and names round-trip exactly (the server
// sees what the program had), injection attempts stay data, and the quoting follows the
// session's settings (standard_conforming_strings, client_encoding).
#include <asiopg/connection.hpp>
#include <asiopg/sql_format.hpp>
#include <asiopg/types/array.hpp>

#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/detached.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;

namespace {

struct connected : session {
    outcome<result> try_query(std::string_view sql) { return exec(sql); }
    bool table_exists(std::string_view name) {
        return query(format_sql(conn, "SELECT to_regclass({}) IS NOT NULL", escape_identifier(conn, name)))[0][0].as<bool>();
    }
};

struct thrown {
    error_code ec;
    std::string message;
};

template <class F>
thrown catch_error(F&& f) {
    thrown t;
    try {
        (void)f();
        t.message = "(no exception)";
    } catch (const error_with_diagnostics& e) {
        t.ec = e.code();
        t.message = e.get_diagnostics().message;
    }
    return t;
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

std::size_t code_points(std::string_view utf8) {
    std::size_t n = 0;
    for (char ch : utf8) n += (static_cast<unsigned char>(ch) & 0xc0) != 0x80;
    return n;
}

// Strings that break naive quoting.
const std::vector<std::string> hostile_values = {
    "it's",
    "''",
    "'",
    "\\",
    "a\\b",
    "\\'",
    "\\\\'",
    "'\\",
    "x'); DROP TABLE victims; --",
    "'; DROP TABLE victims; --",
    "\\'; DROP TABLE victims; --",
    "\"quoted\"",
    "$$ dollar $$",
    "$1 $2",
    "{} {{ }}",
    "-- comment",
    "/* comment */",
    "E'x'",
    "line\nbreak\r\ttab",
    "",
    " ",
    "päivää 日本語 🎉 \u00a0 \u200b",
    "\x01\x02\x7f",
};

} // namespace

BOOST_AUTO_TEST_SUITE(sql_format)

ASIOPG_TEST_CASE(hostile_literals_round_trip_exactly) {
    connected c;
    BOOST_TEST(c.conn.parameter_status("standard_conforming_strings").value_or("") == "on");
    for (const std::string& v : hostile_values) {
        BOOST_TEST_CONTEXT("value [" << v << "]") {
            std::string sql = format_sql(c.conn, "SELECT {} AS v, length({}) AS n", v, literal(v));
            result r = c.query(sql);
            BOOST_TEST(r[0]["v"].as<std::string>() == v, sql);
            BOOST_TEST(r[0]["n"].as<std::size_t>() == code_points(v));
            BOOST_TEST(c.query("SELECT " + escape_literal(c.conn, v))[0][0].as<std::string>() == v);
        }
    }
    BOOST_TEST(escape_literal(c.conn, "it's") == "'it''s'");
    BOOST_TEST(escape_literal(c.conn, "a\\b") == " E'a\\\\b'"); // libpq's leading space and E prefix
    BOOST_TEST(format_sql(c.conn, "SELECT {}", "it's") == "SELECT 'it''s'");
}

ASIOPG_TEST_CASE(hostile_literals_round_trip_without_standard_conforming_strings) {
    connected c;
    auto off = c.try_query("SET standard_conforming_strings = off");
    BOOST_TEST_REQUIRE(!off.ec, "PostgreSQL no longer allows standard_conforming_strings = off: "
                                    << c.conn.get_diagnostics().to_string());
    c.query("SET escape_string_warning = off");
    BOOST_TEST_REQUIRE(c.conn.parameter_status("standard_conforming_strings").value_or("") == "off");
    for (const std::string& v : hostile_values) {
        BOOST_TEST_CONTEXT("value [" << v << "]") {
            std::string sql = format_sql(c.conn, "SELECT {}", v);
            BOOST_TEST(c.query(sql)[0][0].as<std::string>() == v, sql);
        }
    }
    // The format string is lexed as the server will read it: with backslash escapes in '...',
    // 'a\', {} is one string, so the placeholder is inside it.
    auto inside = catch_error([&] { return format_sql(c.conn, "SELECT 'a\\', {}", "x"); });
    BOOST_TEST((inside.ec == client_errc::invalid_parameter));
    BOOST_TEST(contains(inside.message, "string constant"), inside.message);
    c.query("SET standard_conforming_strings = on");
    result two = c.query(format_sql(c.conn, "SELECT 'a\\', {}", "x"));
    BOOST_TEST(two[0][0].as<std::string>() == "a\\");
    BOOST_TEST(two[0][1].as<std::string>() == "x");
}

ASIOPG_TEST_CASE(injection_attempts_stay_data) {
    connected c;
    c.query("CREATE TEMP TABLE victims (v text)");
    for (const std::string& v : hostile_values)
        c.query(format_sql(c.conn, "INSERT INTO victims VALUES ({})", v));
    std::string attack = "x'); DROP TABLE victims; --";
    c.query(format_sql(c.conn, "INSERT INTO victims (v) VALUES ({}), ({})", attack, literal(attack)));
    BOOST_TEST(c.table_exists("victims"));
    BOOST_TEST(c.query("SELECT count(*) FROM victims")[0][0].as<std::size_t>() == hostile_values.size() + 2);
    BOOST_TEST(c.query(format_sql(c.conn, "SELECT count(*) FROM victims WHERE v = {}", attack))[0][0].as<int>() == 3);
    for (const std::string& v : hostile_values)
        BOOST_TEST(c.query(format_sql(c.conn, "SELECT count(*) FROM victims WHERE v = {}", v))[0][0].as<int>() >= 1, v);

    // a name is a name: the attack is looked up as a (missing) table, and nothing is dropped
    auto as_name = c.try_query(format_sql(c.conn, "SELECT * FROM {}", identifier("victims\"; DROP TABLE victims; --")));
    BOOST_TEST((as_name.ec == sqlstate::undefined_table));
    BOOST_TEST(c.table_exists("victims"));
    // a value is a value, even in a dynamic ORDER BY expression
    auto ordered = c.try_query(format_sql(c.conn, "SELECT v FROM victims ORDER BY v = {}", "1; DROP TABLE victims"));
    BOOST_TEST(!ordered.ec, c.conn.get_diagnostics().to_string());
    BOOST_TEST(c.table_exists("victims"));
}

ASIOPG_TEST_CASE(hostile_identifiers_name_exactly_that_table) {
    connected c;
    const std::vector<std::string> names = {
        "plain", "Mixed Case", "select", "with\"quote", "\"", "x\"; DROP TABLE keep; --", "tää 🎉", "a.b",
        "it's", "back\\slash", "{}", std::string(63, 'n'),
    };
    c.query("CREATE TEMP TABLE keep (k int)");
    for (const std::string& name : names) {
        BOOST_TEST_CONTEXT("name [" << name << "]") {
            std::string column = name.size() < 60 ? name + "_col" : "long_col"; // names have at most 63 bytes
            c.query(format_sql(c.conn, "CREATE TEMP TABLE {} ({} text)", identifier(name), identifier(column)));
            // the server has a relation named exactly `name`, with a column named exactly `column`
            result found = c.query(format_sql(
                c.conn,
                "SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                "WHERE c.oid = to_regclass({}) AND a.attnum = 1",
                escape_identifier(c.conn, name)));
            BOOST_TEST_REQUIRE(found.size() == 1u);
            BOOST_TEST(found[0][0].as<std::string>() == name);
            BOOST_TEST(found[0][1].as<std::string>() == column);
            BOOST_TEST(c.query(format_sql(c.conn, "SELECT count(*) FROM pg_class WHERE relname = {} AND relpersistence = 't'",
                                          name))[0][0].as<int>() == 1);
            // qualified: the temporary schema, then the table
            c.query(format_sql(c.conn, "INSERT INTO {} VALUES ({})", identifier("pg_temp", name), name));
            result back = c.query(format_sql(c.conn, "SELECT {} FROM {}", identifier(column), identifier(name)));
            BOOST_TEST(back.column_name(0) == column);
            BOOST_TEST(back[0][0].as<std::string>() == name);
            BOOST_TEST(c.query(format_sql(c.conn, "SELECT {} FROM {}", identifier(name, column),
                                          identifier(name)))[0][0].as<std::string>() == name);
        }
    }
    BOOST_TEST(c.table_exists("keep"));
    BOOST_TEST(escape_identifier(c.conn, "a\"b") == "\"a\"\"b\"");
    BOOST_TEST(format_sql(c.conn, "SELECT {}", identifier("s", "t", "c")) == "SELECT \"s\".\"t\".\"c\"");
}

ASIOPG_TEST_CASE(lists_for_in_and_null) {
    connected c;
    c.query("CREATE TEMP TABLE people (id int, name text)");
    std::vector<std::string> names = {"ann", "o'brien", "back\\slash", "x'); DROP TABLE people; --", "zoë"};
    for (std::size_t i = 0; i < names.size(); ++i)
        c.query(format_sql(c.conn, "INSERT INTO people VALUES ({}, {})", i + 1, names[i]));

    BOOST_TEST(format_sql(c.conn, "x IN ({})", std::vector<int>{1, -2, 3}) == "x IN (1,  -2, 3)");
    BOOST_TEST(c.query(format_sql(c.conn, "SELECT count(*) FROM people WHERE id IN ({})",
                                  std::vector<int>{1, 3, 5, 99}))[0][0].as<int>() == 3);
    BOOST_TEST(c.query(format_sql(c.conn, "SELECT count(*) FROM people WHERE name IN ({})", names))[0][0].as<int>() == 5);
    std::array<std::string_view, 2> two = {"o'brien", "x'); DROP TABLE people; --"};
    BOOST_TEST(c.query(format_sql(c.conn, "SELECT count(*) FROM people WHERE name NOT IN ({})", literal(two)))[0][0]
                   .as<int>() == 3);
    BOOST_TEST(c.table_exists("people"));

    // one element is still a list; NULL elements are NULL
    BOOST_TEST(c.query(format_sql(c.conn, "SELECT 2 IN ({})", std::vector<long>{2}))[0][0].as<bool>());
    std::vector<std::optional<std::string>> with_null = {"a", std::nullopt, "it's"};
    result r = c.query(format_sql(c.conn, "SELECT * FROM (VALUES ({})) AS t(a, b, c)", with_null));
    BOOST_TEST(r[0][0].as<std::string>() == "a");
    BOOST_TEST(r[0][1].is_null());
    BOOST_TEST(r[0][2].as<std::string>() == "it's");
    BOOST_TEST(c.query(format_sql(c.conn, "SELECT 'b' IN ({})", with_null))[0][0].is_null()); // SQL's three-valued IN

    // an empty list is refused: NULL would make NOT IN return no rows instead of all of them
    auto empty = catch_error([&] { return format_sql(c.conn, "SELECT count(*) FROM people WHERE id NOT IN ({})", std::vector<int>{}); });
    BOOST_TEST((empty.ec == client_errc::invalid_parameter));
    BOOST_TEST(contains(empty.message, "list is empty"), empty.message);
    BOOST_TEST(contains(empty.message, "ANY"), empty.message);
    // ... and the suggested alternative handles it: an empty array parameter
    auto any = run<result>(style::callback, c.ctx, [&](auto&& tok) {
        return c.conn.async_execute("SELECT count(*) FROM people WHERE NOT (id = ANY($1))", params(std::vector<int>{}), tok);
    });
    BOOST_TEST_REQUIRE(!any.ec, c.conn.get_diagnostics().to_string());
    BOOST_TEST((*any.value)[0][0].as<int>() == 5);

    // NULLs
    std::optional<int> none;
    std::optional<std::string> some = "v";
    const char* null_c_string = nullptr;
    result nulls = c.query(format_sql(c.conn, "SELECT {} IS NULL, {} IS NULL, {} IS NULL, {}::text, {} IS NULL", std::nullopt,
                                      none, literal(none), some, null_c_string));
    BOOST_TEST(nulls[0][0].as<bool>());
    BOOST_TEST(nulls[0][1].as<bool>());
    BOOST_TEST(nulls[0][2].as<bool>());
    BOOST_TEST(nulls[0][3].as<std::string>() == "v");
    BOOST_TEST(nulls[0][4].as<bool>());

    // a list of names: a dynamic column list
    std::vector<identifier> columns{identifier("name"), identifier("id")};
    result cols = c.query(format_sql(c.conn, "SELECT {} FROM people ORDER BY {} {} LIMIT 1", columns, identifier("id"),
                                     raw_sql("DESC")));
    BOOST_TEST(cols.column_name(0) == "name");
    BOOST_TEST(cols[0]["id"].as<int>() == 5);
}

ASIOPG_TEST_CASE(numbers_and_booleans_round_trip) {
    connected c;
    auto one = [&](auto v, std::string_view cast) {
        std::string sql = format_sql(c.conn, "SELECT ({})::" + std::string(cast), v);
        return c.query(sql);
    };
    BOOST_TEST(one(std::numeric_limits<std::int64_t>::min(), "int8")[0][0].as<std::int64_t>() ==
               std::numeric_limits<std::int64_t>::min());
    BOOST_TEST(one(std::numeric_limits<std::int64_t>::max(), "int8")[0][0].as<std::int64_t>() ==
               std::numeric_limits<std::int64_t>::max());
    BOOST_TEST(one(std::numeric_limits<std::uint64_t>::max(), "numeric")[0][0].as<std::string>() == "18446744073709551615");
    BOOST_TEST(one(std::int16_t{-32768}, "int2")[0][0].as<int>() == -32768);
    // `1-{}` with -5 must not become the comment `1--5`
    BOOST_TEST(c.query(format_sql(c.conn, "SELECT 1-{}", -5))[0][0].as<int>() == 6);
    BOOST_TEST(c.query(format_sql(c.conn, "SELECT 1-{}", -2.5))[0][0].as<double>() == 3.5);
    BOOST_TEST(c.query(format_sql(c.conn, "CREATE TEMP SEQUENCE s INCREMENT BY {} START {} MINVALUE {}; SELECT nextval('s')",
                                  -1, -10, -100))[0][0].as<int>() == -10);
    for (double d : {0.1, -2.5, 1e300, -1e-300, 5e-324, std::numeric_limits<double>::max(), 123456789.123456789, 100.0,
                     1e16, 0.0}) {
        BOOST_TEST_CONTEXT("double " << d) {
            BOOST_TEST(one(d, "float8")[0][0].as<double>() == d);
        }
    }
    BOOST_TEST(std::isnan(one(std::numeric_limits<double>::quiet_NaN(), "float8")[0][0].as<double>()));
    BOOST_TEST(one(std::numeric_limits<double>::infinity(), "float8")[0][0].as<double>() ==
               std::numeric_limits<double>::infinity());
    BOOST_TEST(one(-std::numeric_limits<double>::infinity(), "float8")[0][0].as<double>() ==
               -std::numeric_limits<double>::infinity());
    BOOST_TEST(std::signbit(one(-0.0, "float8")[0][0].as<double>()));
    BOOST_TEST(one(0.1f, "float4")[0][0].as<float>() == 0.1f);
    BOOST_TEST(one(3.4e38f, "float4")[0][0].as<float>() == 3.4e38f);
    // a whole double stays numeric: 10.0 / 4 is 2.5, not the integer division 2
    BOOST_TEST(format_sql(c.conn, "{}", 100.0) == "100.0");
    BOOST_TEST(c.query(format_sql(c.conn, "SELECT {} / 4", 10.0))[0][0].as<double>() == 2.5);
    BOOST_TEST(c.query(format_sql(c.conn, "SELECT pg_typeof({})::text", 100.0))[0][0].as<std::string>() == "numeric");
    BOOST_TEST(c.query(format_sql(c.conn, "SELECT pg_typeof({})::text", 100))[0][0].as<std::string>() == "integer");
    result b = c.query(format_sql(c.conn, "SELECT {}, {}, pg_typeof({})::text", true, false, true));
    BOOST_TEST(b[0][0].as<bool>());
    BOOST_TEST(!b[0][1].as<bool>());
    BOOST_TEST(b[0][2].as<std::string>() == "boolean");
}

ASIOPG_TEST_CASE(nul_bytes_are_refused_and_nothing_is_formatted) {
    connected c;
    c.query("CREATE TEMP TABLE sent (v text)");
    std::string nul("ab\0; DROP TABLE sent; --", 24);
    auto value = catch_error([&] { return format_sql(c.conn, "INSERT INTO sent VALUES ({})", nul); });
    BOOST_TEST((value.ec == client_errc::invalid_parameter));
    BOOST_TEST(contains(value.message, "NUL byte (at byte 2)"), value.message);
    auto name = catch_error([&] { return format_sql(c.conn, "SELECT * FROM {}", identifier(nul)); });
    BOOST_TEST((name.ec == client_errc::invalid_parameter));
    auto lit = catch_error([&] { return escape_literal(c.conn, nul); });
    BOOST_TEST((lit.ec == client_errc::invalid_parameter));
    auto id = catch_error([&] { return escape_identifier(c.conn, nul); });
    BOOST_TEST((id.ec == client_errc::invalid_parameter));
    // a later argument's NUL stops the whole call, even though earlier ones were fine
    auto later = catch_error([&] { return format_sql(c.conn, "SELECT {}, {}", "fine", std::vector<std::string>{"ok", nul}); });
    BOOST_TEST(contains(later.message, "argument 2"), later.message);
    BOOST_TEST(contains(later.message, "list element 2"), later.message);
    BOOST_TEST(c.query("SELECT count(*) FROM sent")[0][0].as<int>() == 0);
    BOOST_TEST(c.table_exists("sent"));
}

ASIOPG_TEST_CASE(invalid_utf8_is_reported_by_libpq_and_the_connection_survives) {
    connected c;
    for (std::string bad : {std::string("\xc3\x28 bad"), std::string("\xff"), std::string("trailing \xc3"),
                            std::string("\xed\xa0\x80 surrogate"), std::string("\xc0\xaf overlong")}) {
        BOOST_TEST_CONTEXT("value " << bad.size() << " bytes") {
            auto value = catch_error([&] { return format_sql(c.conn, "SELECT {}, {}", 1, bad); });
            BOOST_TEST((value.ec == client_errc::invalid_parameter));
            BOOST_TEST(contains(value.message, "argument 2"), value.message);
            BOOST_TEST(contains(value.message, "client_encoding UTF8"), value.message);
            BOOST_TEST(contains(value.message, "multibyte character"), value.message); // libpq's words
            auto name = catch_error([&] { return format_sql(c.conn, "SELECT 1 AS {}", identifier(bad)); });
            BOOST_TEST((name.ec == client_errc::invalid_parameter));
            BOOST_TEST(contains(name.message, "identifier"), name.message);
            auto lit = catch_error([&] { return escape_literal(c.conn, bad); });
            BOOST_TEST((lit.ec == client_errc::invalid_parameter));
            BOOST_TEST(contains(lit.message, "multibyte character"), lit.message);
        }
    }
    BOOST_TEST(c.conn.is_open());
    BOOST_TEST(c.query(format_sql(c.conn, "SELECT {}", "still here"))[0][0].as<std::string>() == "still here");
}

ASIOPG_TEST_CASE(quoting_follows_the_client_encoding) {
    connected c;
    // In LATIN1 the byte \xe4 is 'ä': valid there, invalid as UTF-8.
    std::string latin1_a("\xe4", 1);
    BOOST_TEST((catch_error([&] { return escape_literal(c.conn, latin1_a); }).ec == client_errc::invalid_parameter));
    c.query("SET client_encoding = 'LATIN1'");
    result r = c.query(format_sql(c.conn, "SELECT {}, ascii({})", latin1_a, latin1_a));
    BOOST_TEST(r[0][0].as<std::string>() == latin1_a);
    BOOST_TEST(r[0][1].as<int>() == 0xe4);
    // In SJIS, 'ソ' is \x83\x5c: its second byte is a backslash, which must not be escaped or
    // counted as one — libpq knows, because it quotes for the session's encoding.
    c.query("SET client_encoding = 'SJIS'");
    std::string so("\x83\x5c", 2);
    std::string quoted = escape_literal(c.conn, so);
    BOOST_TEST(quoted == "'" + so + "'");
    result s = c.query(format_sql(c.conn, "SELECT {}, ascii({}), {}", so, so, so + "'; SELECT 'x"));
    BOOST_TEST(s[0][0].as<std::string>() == so);
    BOOST_TEST(s[0][1].as<int>() == 0x30bd);
    BOOST_TEST(s[0][2].as<std::string>() == so + "'; SELECT 'x");
    c.query("SET client_encoding = 'UTF8'");
}

ASIOPG_TEST_CASE(a_one_mebibyte_value_round_trips) {
    connected c;
    std::string pattern = "a'b\\c\"d$$e{}f\n🎉";
    std::string big;
    while (big.size() < (1u << 20)) big += pattern;
    std::string sql = format_sql(c.conn, "SELECT {}, md5({})", big, big);
    BOOST_TEST(sql.size() > 2 * big.size());
    result r = c.query(sql);
    BOOST_TEST(r[0][0].as<std::string>().size() == big.size());
    BOOST_TEST((r[0][0].as<std::string>() == big));
    std::string plain(1u << 20, 'x');
    BOOST_TEST(c.query(format_sql(c.conn, "SELECT length({})", plain))[0][0].as<std::size_t>() == plain.size());
}

ASIOPG_TEST_CASE(format_string_rules) {
    connected c;
    // doubled braces are braces, also inside string constants
    result arr = c.query(format_sql(c.conn, "SELECT '{{1,2}}'::int[] = {}::int[], {}", "{1,2}", "}{"));
    BOOST_TEST(arr[0][0].as<bool>());
    BOOST_TEST(arr[0][1].as<std::string>() == "}{");
    BOOST_TEST(format_sql(c.conn, "SELECT 1") == "SELECT 1");
    // placeholders inside quotes or comments are refused: the value could end them
    for (std::string_view fmt : {"SELECT '{}'", "SELECT \"{}\"", "DO $$ BEGIN PERFORM {}; END $$", "SELECT 1 -- {}",
                                 "SELECT /* {} */ 1", "SELECT E'\\'{}'"}) {
        BOOST_TEST_CONTEXT(fmt) {
            auto t = catch_error([&] { return format_sql(c.conn, fmt, "x\n; DROP TABLE t; --'$$\"*/"); });
            BOOST_TEST((t.ec == client_errc::invalid_parameter));
            BOOST_TEST(contains(t.message, "inside"), t.message);
        }
    }
    // ... but work right after them
    result ok = c.query(format_sql(c.conn, "SELECT 'a''{{b', \"c\"\"d\".x, $q$ $$ {{ $q$, {} -- {{ {{\n FROM (SELECT 1 AS x) AS \"c\"\"d\"",
                                   "v"));
    BOOST_TEST(ok[0][0].as<std::string>() == "a'{b");
    BOOST_TEST(ok[0][3].as<std::string>() == "v");
    auto count = catch_error([&] { return format_sql(c.conn, "SELECT {}, {}", 1); });
    BOOST_TEST((count.ec == client_errc::invalid_parameter));
    BOOST_TEST(contains(count.message, "2 placeholders but 1 argument"), count.message);
    auto brace = catch_error([&] { return format_sql(c.conn, "SELECT {1}", 1); });
    BOOST_TEST((brace.ec == client_errc::invalid_parameter));
    // raw_sql: trusted fragments, composed
    std::string where = format_sql(c.conn, "x = {}", "it's");
    BOOST_TEST(format_sql(c.conn, "SELECT * FROM t WHERE {} ORDER BY {} {}", raw_sql(where), identifier("x"),
                          raw_sql("DESC")) == "SELECT * FROM t WHERE x = 'it''s' ORDER BY \"x\" DESC");
}

ASIOPG_TEST_CASE(closed_busy_and_reconnected_connections) {
    connected c;
    c.conn.close();
    auto closed = catch_error([&] { return format_sql(c.conn, "SELECT {}", "x"); });
    BOOST_TEST((closed.ec == client_errc::not_connected));
    BOOST_TEST(contains(closed.message, "not open"), closed.message);
    BOOST_TEST((catch_error([&] { return escape_identifier(c.conn, "x"); }).ec == client_errc::not_connected));

    connected busy;
    bool done = false;
    busy.conn.async_execute("SELECT pg_sleep(0.2)", [&](error_code, result) { done = true; });
    auto in_flight = catch_error([&] { return format_sql(busy.conn, "SELECT {}", "x"); });
    BOOST_TEST((in_flight.ec == client_errc::operation_in_progress));
    BOOST_TEST(contains(in_flight.message, "in flight"), in_flight.message);
    busy.ctx.run_for(std::chrono::seconds(10));
    BOOST_TEST(done);
    BOOST_TEST(format_sql(busy.conn, "SELECT {}", "x") == "SELECT 'x'"); // idle again

    // a failed escape leaves no trace on the next operation
    (void)catch_error([&] { return format_sql(busy.conn, "SELECT {}", "\xff"); });
    auto bad = busy.try_query("SELEC 1");
    BOOST_TEST((bad.ec == sqlstate::syntax_error));
    BOOST_TEST(!contains(busy.conn.get_diagnostics().message, "multibyte"), busy.conn.get_diagnostics().message);
}

ASIOPG_TEST_CASE(formatted_sql_in_every_style) {
    connected c;
    std::string name = "o'brien \"the\" \\ 🎉";
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            std::string sql = format_sql(c.conn, "SELECT {} AS {}", name, identifier(name));
            auto out = run<result>(s, c.ctx, [&](auto&& tok) { return c.conn.async_execute(sql, tok); });
            BOOST_TEST_REQUIRE(!out.ec, out.what);
            BOOST_TEST((*out.value)[0][0].as<std::string>() == name);
            BOOST_TEST((*out.value).column_name(0) == name);
        }
    }
    // formatted inside the coroutine, awaited in the same expression
    bool done = false;
    std::string got;
    asio::co_spawn(c.ctx, [&]() -> asio::awaitable<void> {
        result r = co_await c.conn.async_execute(format_sql(c.conn, "SELECT {}", name), asio::use_awaitable);
        got = r[0][0].as<std::string>();
        done = true;
    }, asio::detached);
    c.ctx.restart();
    c.ctx.run_for(std::chrono::seconds(10));
    BOOST_TEST(done);
    BOOST_TEST(got == name);
}

BOOST_AUTO_TEST_SUITE_END()
