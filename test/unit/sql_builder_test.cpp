// The query builder's SQL, without a server: the text every construct compiles to, its bound
// parameters (never spliced), hostile values and names, the shape cache, and the refusals.
#include <asiopg/sql.hpp>

#include <asiopg/error.hpp>

#include "refused.hpp"
#include "sql_tables.hpp"
#include "test_case.hpp"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sql = asiopg::sql;
using asiopg::test::refused;
using asiopg::test::tbl_table;

namespace {

struct users_table : sql::table {
    sql::column<std::int64_t> id{this, "id", sql::bigserial, sql::primary_key};
    sql::column<std::string> name{this, "name"};
    sql::column<std::optional<std::int32_t>> age{this, "age"};
    sql::column<bool> active{this, "active", sql::default_value(true)};
    users_table() : table("users") {}
};

struct orders_table : sql::table {
    sql::column<std::int64_t> id{this, "id", sql::bigserial, sql::primary_key};
    sql::column<std::int64_t> user_id{this, "user_id"};
    sql::column<double> total{this, "total"};
    orders_table() : table("order", "shop") {} // a reserved word, in a schema
};

// The parameters of a compiled statement as text (NULL as "NULL").
std::vector<std::string> texts(const sql::compiled_statement& c) {
    std::vector<std::string> out;
    for (const asiopg::param_ref& r : c.params.refs())
        out.push_back(r.data ? std::string(r.data, static_cast<std::size_t>(r.length)) : "NULL");
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sql_builder)

ASIOPG_TEST_CASE(aiopg_sa_example_statements) {
    tbl_table tbl;
    auto ins = sql::compile(sql::insert_into(tbl).values(tbl.val = "abc").returning(tbl.id));
    BOOST_TEST(ins.text() == "INSERT INTO \"tbl\" (\"val\") VALUES ($1) RETURNING \"tbl\".\"id\"");
    BOOST_TEST((texts(ins) == std::vector<std::string>{"abc"}));
    auto sel = sql::compile(sql::select(tbl).where(tbl.val == "abc"));
    BOOST_TEST(sel.text() == "SELECT \"tbl\".\"id\", \"tbl\".\"val\" FROM \"tbl\" WHERE (\"tbl\".\"val\" = $1)");
    BOOST_TEST((texts(sel) == std::vector<std::string>{"abc"}));
}

ASIOPG_TEST_CASE(select_clauses) {
    users_table u;
    auto q = sql::select(u.id, u.name)
                 .where(u.age >= 18 && !(u.name == "root"))
                 .where(sql::is_not_null(u.age))
                 .order_by(sql::desc(u.age), u.name)
                 .limit(10)
                 .offset(20);
    auto c = sql::compile(q);
    BOOST_TEST(c.text() == "SELECT \"users\".\"id\", \"users\".\"name\" FROM \"users\" WHERE (((\"users\".\"age\" >= $1) AND "
                           "(NOT (\"users\".\"name\" = $2))) AND (\"users\".\"age\" IS NOT NULL)) ORDER BY \"users\".\"age\" "
                           "DESC, \"users\".\"name\" ASC LIMIT $3 OFFSET $4");
    BOOST_TEST(c.params.size() == 4u);
    BOOST_TEST(texts(c)[1] == "root");
    auto d = sql::compile(sql::select(u.name).distinct().where(u.active == true || sql::is_null(u.age)));
    BOOST_TEST(d.text() == "SELECT DISTINCT \"users\".\"name\" FROM \"users\" WHERE ((\"users\".\"active\" = $1) OR (\"users\".\"age\" IS NULL))");
}

ASIOPG_TEST_CASE(joins_group_by_having_and_aggregates) {
    users_table u;
    orders_table o;
    auto q = sql::select(u.name, sql::count().as("orders"), sql::sum(o.total).as("spent"))
                 .join(o, o.user_id == u.id)
                 .group_by(u.name)
                 .having(sql::count() > 2)
                 .order_by(sql::desc(sql::sum(o.total)));
    BOOST_TEST(sql::compile(q).text() ==
               "SELECT \"users\".\"name\", count(*) AS \"orders\", sum(\"shop\".\"order\".\"total\") AS \"spent\" FROM \"users\" "
               "JOIN \"shop\".\"order\" ON (\"shop\".\"order\".\"user_id\" = \"users\".\"id\") GROUP BY \"users\".\"name\" "
               "HAVING (count(*) > $1) ORDER BY sum(\"shop\".\"order\".\"total\") DESC");
    auto l = sql::select(u.name, sql::avg(o.total), sql::min(o.total), sql::max(o.total), sql::count(o.id))
                 .left_join(o, o.user_id == u.id)
                 .group_by(u.name);
    BOOST_TEST(sql::compile(l).text() ==
               "SELECT \"users\".\"name\", avg(\"shop\".\"order\".\"total\"), min(\"shop\".\"order\".\"total\"), "
               "max(\"shop\".\"order\".\"total\"), count(\"shop\".\"order\".\"id\") FROM \"users\" LEFT JOIN \"shop\".\"order\" ON "
               "(\"shop\".\"order\".\"user_id\" = \"users\".\"id\") GROUP BY \"users\".\"name\"");
    auto e = sql::select(sql::count()).from(o);
    BOOST_TEST(sql::compile(e).text() == "SELECT count(*) FROM \"shop\".\"order\"");
}

ASIOPG_TEST_CASE(in_like_functions_and_arithmetic) {
    users_table u;
    auto q = sql::select(u.id).where(sql::in(u.id, std::vector<int>{1, 2, 3}) && sql::not_in(u.name, std::vector<std::string>{"a"}) &&
                                     sql::like(u.name, "a%") && sql::ilike(sql::lower(u.name), "%B%"));
    auto c = sql::compile(q);
    BOOST_TEST(c.text() == "SELECT \"users\".\"id\" FROM \"users\" WHERE ((((\"users\".\"id\" = ANY($1)) AND (\"users\".\"name\" <> "
                           "ALL($2))) AND (\"users\".\"name\" LIKE $3)) AND (lower(\"users\".\"name\") ILIKE $4))");
    BOOST_TEST(c.params.size() == 4u);
    // The list is one array parameter: any length, the same text.
    auto longer = sql::compile(sql::select(u.id).where(sql::in(u.id, std::vector<int>(100, 7))));
    auto empty = sql::compile(sql::select(u.id).where(sql::in(u.id, std::vector<int>{})));
    BOOST_TEST(longer.sql == empty.sql);
    BOOST_TEST(longer.params.size() == 1u);
    auto a = sql::compile(sql::select((u.age + 1) * 2, -u.age, sql::coalesce(u.age, 0), sql::length(u.name),
                                      sql::func<std::string>("md5", u.name))
                              .from(u));
    BOOST_TEST(a.text() == "SELECT ((\"users\".\"age\" + $1) * $2), (- \"users\".\"age\"), coalesce(\"users\".\"age\", $3), "
                           "length(\"users\".\"name\"), \"md5\"(\"users\".\"name\") FROM \"users\"");
}

ASIOPG_TEST_CASE(insert_update_delete) {
    users_table u;
    auto one = sql::compile(sql::insert_into(u).values(u.name = "ann", u.age = 30, u.active = sql::default_).returning_all());
    BOOST_TEST(one.text() == "INSERT INTO \"users\" (\"name\", \"age\", \"active\") VALUES ($1, $2, DEFAULT) RETURNING "
                             "\"users\".\"id\", \"users\".\"name\", \"users\".\"age\", \"users\".\"active\"");
    auto many = sql::compile(sql::insert_into(u).values(u.name = "a", u.age = std::nullopt).values(u.name = "b", u.age = 2));
    BOOST_TEST(many.text() == "INSERT INTO \"users\" (\"name\", \"age\") VALUES ($1, $2), ($3, $4)");
    BOOST_TEST((texts(many) == std::vector<std::string>{"a", "NULL", "b", texts(many)[3]}));
    BOOST_TEST(sql::compile(sql::insert_into(u)).text() == "INSERT INTO \"users\" DEFAULT VALUES");
    auto up = sql::compile(sql::update(u).set(u.age = u.age + 1, u.name = "x").where(u.id == 7).returning(u.age));
    BOOST_TEST(up.text() == "UPDATE \"users\" SET \"age\" = (\"users\".\"age\" + $1), \"name\" = $2 WHERE (\"users\".\"id\" = $3) "
                            "RETURNING \"users\".\"age\"");
    auto del = sql::compile(sql::delete_from(u).where(u.id == 7).where(u.active == false).returning(u.id));
    BOOST_TEST(del.text() == "DELETE FROM \"users\" WHERE ((\"users\".\"id\" = $1) AND (\"users\".\"active\" = $2)) RETURNING "
                             "\"users\".\"id\"");
    BOOST_TEST(sql::compile(sql::delete_from(u)).text() == "DELETE FROM \"users\"");
}

ASIOPG_TEST_CASE(hostile_values_are_bound_never_spliced) {
    tbl_table tbl;
    const std::string evil = "x'); DROP TABLE tbl; --";
    auto c = sql::compile(sql::select(tbl).where(tbl.val == evil || sql::like(tbl.val, "\\' OR 1=1 --")));
    BOOST_TEST(c.text().find("DROP") == std::string::npos);
    BOOST_TEST(c.text().find("OR 1=1") == std::string::npos);
    BOOST_TEST((texts(c) == std::vector<std::string>{evil, "\\' OR 1=1 --"}));
    auto ins = sql::compile(sql::insert_into(tbl).values(tbl.val = evil));
    BOOST_TEST(ins.text() == "INSERT INTO \"tbl\" (\"val\") VALUES ($1)");
}

ASIOPG_TEST_CASE(hostile_names_are_quoted) {
    struct evil_table : sql::table {
        sql::column<std::int32_t> c{this, "a\"; DROP TABLE t; --"};
        evil_table() : table("x\" y") {}
    } t;
    auto c = sql::compile(sql::select(t.c).where(t.c == 1));
    BOOST_TEST(c.text() == "SELECT \"x\"\" y\".\"a\"\"; DROP TABLE t; --\" FROM \"x\"\" y\" WHERE (\"x\"\" y\".\"a\"\"; DROP TABLE t; --\" = $1)");
    BOOST_TEST(sql::compile(sql::select(sql::as_expr(t.c).as("we\"ird")).from(t)).text() ==
               "SELECT \"x\"\" y\".\"a\"\"; DROP TABLE t; --\" AS \"we\"\"ird\" FROM \"x\"\" y\"");
    BOOST_TEST(refused([&] { (void)sql::func<int>(std::string("f\0", 2), t.c); }));
}

ASIOPG_TEST_CASE(one_text_per_shape) {
    tbl_table tbl;
    auto a = sql::compile(sql::select(tbl).where(tbl.val == "a"));
    auto b = sql::compile(sql::select(tbl).where(tbl.val == "something else"));
    BOOST_TEST(a.sql == b.sql); // the same string object: not rebuilt
    BOOST_TEST(texts(b)[0] == "something else");
    auto c = sql::compile(sql::select(tbl).where(tbl.id == 1));
    BOOST_TEST(a.sql != c.sql);
    BOOST_TEST(*a.sql != *c.sql);
    // A table of the same name but another object is another shape (its own ids) with the same text.
    tbl_table other;
    auto d = sql::compile(sql::select(other).where(other.val == "a"));
    BOOST_TEST(*d.sql == *a.sql);
    // Labels and function names are part of the shape.
    auto l1 = sql::compile(sql::select(sql::as_expr(tbl.id).as("x")).from(tbl));
    auto l2 = sql::compile(sql::select(sql::as_expr(tbl.id).as("y")).from(tbl));
    BOOST_TEST(*l1.sql != *l2.sql);
    auto f1 = sql::compile(sql::select(sql::func<int>("f", tbl.id)).from(tbl));
    auto f2 = sql::compile(sql::select(sql::func<int>("g", tbl.id)).from(tbl));
    BOOST_TEST(*f1.sql != *f2.sql);
    BOOST_TEST(sql::compiled_cache_size() > 0u);
    // Arguments and list items regrouped: other shapes, other texts.
    users_table u;
    auto g1 = sql::compile(sql::select(sql::func<int>("f", u.id, u.age)).from(u));
    auto g2 = sql::compile(sql::select(sql::func<int>("f", u.id), u.age).from(u));
    BOOST_TEST(*g1.sql == "SELECT \"f\"(\"users\".\"id\", \"users\".\"age\") FROM \"users\"");
    BOOST_TEST(*g2.sql == "SELECT \"f\"(\"users\".\"id\"), \"users\".\"age\" FROM \"users\"");
    auto n1 = sql::compile(sql::select(sql::func<int>("g", sql::func<int>("f", u.id), u.age)).from(u));
    auto n2 = sql::compile(sql::select(sql::func<int>("g", sql::func<int>("f", u.id, u.age))).from(u));
    BOOST_TEST(*n1.sql != *n2.sql);
    auto r1 = sql::compile(sql::insert_into(u).values(u.name = "a").returning(u.id, u.age));
    auto r2 = sql::compile(sql::insert_into(u).values(u.name = "a").returning(u.id));
    BOOST_TEST(*r1.sql != *r2.sql);
}

ASIOPG_TEST_CASE(statements_that_cannot_be_written_are_refused) {
    users_table u;
    tbl_table tbl;
    BOOST_TEST(refused([&] { sql::compile(sql::insert_into(u).values(u.name = "a").values(u.age = 1)); }));
    BOOST_TEST(refused([&] { sql::compile(sql::insert_into(u).values(tbl.val = "a")); }));
    BOOST_TEST(refused([&] { sql::compile(sql::update(u)); }));
    BOOST_TEST(refused([&] { sql::compile(sql::update(u).set(tbl.val = "a")); }));
    BOOST_TEST(refused([&] { sql::compile(sql::select(sql::count())); })); // no table
    // A table named by an expression or by the condition is the default FROM.
    BOOST_TEST(sql::compile(sql::select(sql::lower(u.name))).text() == "SELECT lower(\"users\".\"name\") FROM \"users\"");
    BOOST_TEST(sql::compile(sql::select(sql::count()).where(u.age > 1)).text() ==
               "SELECT count(*) FROM \"users\" WHERE (\"users\".\"age\" > $1)");
}

ASIOPG_TEST_CASE(values_as_expressions_and_more_text_functions) {
    users_table u;
    auto c = sql::compile(sql::select(sql::value(10) - u.age, sql::upper(u.name)).where(sql::not_like(u.name, "x%")));
    BOOST_TEST(c.text() == "SELECT ($1 - \"users\".\"age\"), upper(\"users\".\"name\") FROM \"users\" WHERE (\"users\".\"name\" NOT LIKE $2)");
    BOOST_TEST((texts(c) == std::vector<std::string>{texts(c)[0], "x%"}));
}

// Four threads compiling the same shapes and new ones at once: every text right.
ASIOPG_TEST_CASE(compiling_from_several_threads) {
    users_table u;
    const std::string expected = sql::compile(sql::select(u.id).where(u.name == "a")).text();
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 500; ++i) {
                auto c = sql::compile(sql::select(u.id).where(u.name == std::to_string(i)));
                if (c.text() != expected || texts(c)[0] != std::to_string(i)) ++wrong;
                auto l = sql::compile(sql::select(sql::as_expr(u.id).as("l" + std::to_string(t * 1000 + i))).from(u));
                if (l.text().find("\"l" + std::to_string(t * 1000 + i) + "\"") == std::string::npos) ++wrong;
            }
        });
    }
    for (auto& th : threads) th.join();
    BOOST_TEST(wrong.load() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
