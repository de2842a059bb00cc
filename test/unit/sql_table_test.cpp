// The query builder's tables and DDL, without a server: quoting of hostile names and defaults,
// nullability from the C++ type, primary keys, and the refusals.
#include <asiopg/sql.hpp>

#include <asiopg/error.hpp>

#include "refused.hpp"
#include "sql_tables.hpp"
#include "test_case.hpp"

#include <optional>
#include <string>

namespace sql = asiopg::sql;
using asiopg::test::refused;
using asiopg::test::tbl_table;

namespace {

// Names that need quoting: a reserved word, mixed case, quotes, a space, non-ASCII.
struct hostile_table : sql::table {
    sql::column<std::int64_t> select{this, "select", sql::primary_key};
    sql::column<std::string> mixed{this, "MixedCase", sql::unique};
    sql::column<std::optional<double>> quoted{this, "a\"b", sql::default_value(-1)};
    sql::column<bool> spaced{this, "x y; DROP TABLE t; --", sql::default_value(true)};
    sql::column<std::string> text{this, "ünï", sql::default_value("it's \\ odd")};
    hostile_table() : table("Robert'); DROP TABLE students;--", "my \"schema\"") {}
};

struct composite_table : sql::table {
    sql::column<std::int32_t> a{this, "a", sql::primary_key};
    sql::column<std::int32_t> b{this, "b", sql::primary_key};
    sql::column<std::optional<std::int16_t>> c{this, "c", sql::default_expression("42")};
    composite_table() : table("pairs") {}
};

struct unknown_type {};
struct untyped_table : sql::table {
    sql::column<unknown_type> u{this, "u"};
    untyped_table() : table("untyped") {}
};

struct twice_table : sql::table {
    sql::column<std::int32_t> a{this, "a"};
    sql::column<std::int32_t> a2{this, "a"};
    twice_table() : table("twice") {}
};

struct empty_table : sql::table {
    empty_table() : table("empty") {}
};

} // namespace

BOOST_AUTO_TEST_SUITE(sql_table)

ASIOPG_TEST_CASE(identifiers_are_always_quoted) {
    BOOST_TEST(sql::quote_identifier("users") == "\"users\"");
    BOOST_TEST(sql::quote_identifier("Users") == "\"Users\"");
    BOOST_TEST(sql::quote_identifier("select") == "\"select\"");
    BOOST_TEST(sql::quote_identifier("a\"b") == "\"a\"\"b\"");
    BOOST_TEST(sql::quote_identifier("\"; DROP TABLE t; --") == "\"\"\"; DROP TABLE t; --\"");
    BOOST_TEST(sql::quote_identifier("ünï") == "\"ünï\"");
    BOOST_TEST(refused([] { sql::quote_identifier(""); }));
    BOOST_TEST(refused([] { sql::quote_identifier(std::string("a\0b", 3)); }));
    BOOST_TEST(refused([] { sql::quote_identifier("\xff"); }));
    BOOST_TEST(refused([] { sql::quote_identifier("\xc0\xaf"); }));       // overlong '/'
    BOOST_TEST(refused([] { sql::quote_identifier("\xed\xa0\x80"); }));   // a surrogate
    BOOST_TEST(refused([] { sql::quote_identifier("ab\xe2\x82"); }));     // cut short
}

ASIOPG_TEST_CASE(literals_are_quoted_as_libpq_does) {
    BOOST_TEST(sql::quote_literal("abc") == "'abc'");
    BOOST_TEST(sql::quote_literal("") == "''");
    BOOST_TEST(sql::quote_literal("it's") == "'it''s'");
    BOOST_TEST(sql::quote_literal("a\\b'c") == " E'a\\\\b''c'");
    BOOST_TEST(refused([] { sql::quote_literal(std::string("a\0b", 3)); }));
    BOOST_TEST(refused([] { sql::quote_literal("\x80"); }));
}

ASIOPG_TEST_CASE(aiopg_example_table) {
    tbl_table tbl;
    BOOST_TEST(tbl.name() == "tbl");
    BOOST_TEST(tbl.columns().size() == 2u);
    BOOST_TEST(tbl.find("val") == &tbl.val);
    BOOST_TEST(tbl.find("nope") == nullptr);
    BOOST_TEST(&tbl.id.owner() == &tbl);
    BOOST_TEST(tbl.id.has_server_value());
    BOOST_TEST(!tbl.val.has_server_value());
    BOOST_TEST(sql::create_table(tbl) == "CREATE TABLE \"tbl\" (\"id\" serial PRIMARY KEY, \"val\" varchar(255))");
    BOOST_TEST(sql::create_table(tbl, true) ==
               "CREATE TABLE IF NOT EXISTS \"tbl\" (\"id\" serial PRIMARY KEY, \"val\" varchar(255))");
    BOOST_TEST(sql::drop_table(tbl) == "DROP TABLE \"tbl\"");
    BOOST_TEST(sql::drop_table(tbl, true) == "DROP TABLE IF EXISTS \"tbl\"");
}

ASIOPG_TEST_CASE(hostile_names_and_defaults_stay_names_and_constants) {
    hostile_table t;
    BOOST_TEST(t.quoted_name() == "\"my \"\"schema\"\"\".\"Robert'); DROP TABLE students;--\"");
    BOOST_TEST(sql::create_table(t) ==
               "CREATE TABLE \"my \"\"schema\"\"\".\"Robert'); DROP TABLE students;--\" ("
               "\"select\" bigint PRIMARY KEY, "
               "\"MixedCase\" text NOT NULL UNIQUE, "
               "\"a\"\"b\" double precision DEFAULT (-1), "
               "\"x y; DROP TABLE t; --\" boolean NOT NULL DEFAULT true, "
               "\"ünï\" text NOT NULL DEFAULT  E'it''s \\\\ odd')");
}

ASIOPG_TEST_CASE(several_key_columns_make_a_table_constraint) {
    composite_table t;
    BOOST_TEST(sql::create_table(t) == "CREATE TABLE \"pairs\" (\"a\" integer NOT NULL, \"b\" integer NOT NULL, "
                                       "\"c\" smallint DEFAULT 42, PRIMARY KEY (\"a\", \"b\"))");
    BOOST_TEST(t.c.has_server_value());
}

ASIOPG_TEST_CASE(tables_that_cannot_be_created_are_refused) {
    untyped_table u;
    BOOST_TEST(refused([&] { sql::create_table(u); }));
    twice_table tw;
    BOOST_TEST(refused([&] { sql::create_table(tw); }));
    empty_table e;
    BOOST_TEST(refused([&] { sql::create_table(e); }));
    struct bad_name : sql::table {
        bad_name() : table(std::string("a\0b", 3)) {}
    };
    BOOST_TEST(refused([] { bad_name b; }));
}

BOOST_AUTO_TEST_SUITE_END()
