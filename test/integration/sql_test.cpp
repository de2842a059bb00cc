// The query builder against the real server: DDL from table descriptions, aiopg.sa's own
// behaviours (insert returns the new id, rowcount of update/delete, scalar on an empty table,
// a column that is not in the row), every completion style on a connection and on a pool,
// transactions with savepoints, hostile values and names round-tripped, and refused
// statements that send nothing.
#include <asiopg/cancel_after.hpp>
#include <asiopg/pool.hpp>
#include <asiopg/sql.hpp>
#include <asiopg/transaction.hpp>

#include "pool.hpp"
#include "server.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "sql_tables.hpp"
#include "test_case.hpp"

#include <boost/describe/class.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;
namespace sql = asiopg::sql;

namespace {

// Names that need quoting everywhere, and a schema.
struct hostile_table : sql::table {
    sql::column<std::int32_t> id{this, "select", sql::serial, sql::primary_key};
    sql::column<std::string> text{this, "Mixed \"Case\"; DROP TABLE sa_tbl; --"};
    sql::column<std::optional<std::int32_t>> n{this, "ünï", sql::default_value(5)};
    hostile_table() : table("Robert'); DROP TABLE students;--", "sa \"schema\"") {}
};

struct tbl_row {
    std::int32_t id;
    std::optional<std::string> val;
};
BOOST_DESCRIBE_STRUCT(tbl_row, (), (id, val))

// A session with the aiopg example table created afresh (and dropped at the end).
struct sa_session : session {
    tbl_table tbl{"sa_tbl"};
    sa_session() {
        query(sql::drop_table(tbl, true));
        query(sql::create_table(tbl));
    }
    ~sa_session() { exec(sql::drop_table(tbl, true)); }

    outcome<result> run_sql(const sql::statement& s, style st = style::callback) {
        return run<result>(st, ctx, [&](auto&& tok) { return sql::async_execute(conn, s, tok); });
    }
    result must(const sql::statement& s) {
        auto out = run_sql(s);
        BOOST_TEST_REQUIRE(!out.ec, out.ec.message() << ": " << conn.get_diagnostics().to_string());
        return std::move(*out.value);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(sql_builder_server)

// The aiopg.sa example: insert val='abc' (RETURNING the new id), select where val == 'abc',
// read id and val — in every completion style.
ASIOPG_TEST_CASE(aiopg_sa_example_in_every_style) {
    sa_session s;
    auto& tbl = s.tbl;
    std::int32_t expected_id = 0;
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            auto ins = s.run_sql(sql::insert_into(tbl).values(tbl.val = "abc").returning(tbl.id), st);
            BOOST_TEST_REQUIRE(ins.completed);
            BOOST_TEST_REQUIRE(!ins.ec, ins.ec.message() << " " << ins.what);
            const std::int32_t id = tbl.id.of(ins.value->at(0));
            BOOST_TEST(id == ++expected_id); // serial: 1, 2, 3 …
            auto sel = s.run_sql(sql::select(tbl).where(tbl.val == "abc" && tbl.id == id), st);
            BOOST_TEST_REQUIRE(!sel.ec, sel.ec.message() << " " << sel.what);
            const result& r = *sel.value;
            BOOST_TEST_REQUIRE(r.size() == 1u);
            // By column object, by name, by index, into a described struct.
            BOOST_TEST((tbl.val.of(r[0]) == std::optional<std::string>("abc")));
            BOOST_TEST(r[0]["id"].as<std::int32_t>() == id);
            BOOST_TEST(r[0][1].as<std::string>() == "abc");
            BOOST_TEST(r.rows<tbl_row>().at(0).id == id);
        }
    }
}

// aiopg.sa: rowcount of UPDATE and DELETE; RETURNING of both.
ASIOPG_TEST_CASE(update_and_delete_report_their_row_counts) {
    sa_session s;
    auto& tbl = s.tbl;
    s.must(sql::insert_into(tbl).values(tbl.val = "a").values(tbl.val = "b").values(tbl.val = std::nullopt));
    result up = s.must(sql::update(tbl).set(tbl.val = "z").where(sql::is_not_null(tbl.val)));
    BOOST_TEST(up.affected_rows() == 2u);
    result none = s.must(sql::update(tbl).set(tbl.val = "q").where(tbl.val == "missing"));
    BOOST_TEST(none.affected_rows() == 0u);
    result ret = s.must(sql::update(tbl).set(tbl.val = "n").where(sql::is_null(tbl.val)).returning(tbl.id, tbl.val));
    BOOST_TEST(ret.size() == 1u);
    BOOST_TEST((tbl.val.of(ret[0]) == std::optional<std::string>("n")));
    result del = s.must(sql::delete_from(tbl).where(tbl.val == "z").returning_all());
    BOOST_TEST(del.affected_rows() == 2u);
    BOOST_TEST(del.size() == 2u);
    result all = s.must(sql::delete_from(tbl));
    BOOST_TEST(all.affected_rows() == 1u);
}

// aiopg.sa's scalar: the first column of the first row; no row gives no value.
ASIOPG_TEST_CASE(scalar_in_every_style) {
    sa_session s;
    auto& tbl = s.tbl;
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            auto empty = run<std::optional<std::string>>(st, s.ctx, [&](auto&& tok) {
                return sql::async_scalar<std::string>(s.conn, sql::select(tbl.val).where(tbl.id > 0), tok);
            });
            BOOST_TEST_REQUIRE(!empty.ec, empty.ec.message());
            BOOST_TEST(!empty.value->has_value()); // an empty table: no value
            auto count = run<std::optional<std::int64_t>>(st, s.ctx, [&](auto&& tok) {
                return sql::async_scalar<std::int64_t>(s.conn, sql::select(sql::count()).from(tbl), tok);
            });
            BOOST_TEST_REQUIRE(!count.ec, count.ec.message());
            BOOST_TEST(count.value->value() == 0);
        }
    }
    s.must(sql::insert_into(tbl).values(tbl.val = "x"));
    auto v = run<std::optional<std::string>>(style::callback, s.ctx, [&](auto&& tok) {
        return sql::async_scalar<std::string>(s.conn, sql::select(tbl.val), tok);
    });
    BOOST_TEST(v.value->value_or("") == "x");
    // A value that is not a T: the conversion error, with the column named.
    auto bad = run<std::optional<std::int32_t>>(style::awaitable, s.ctx, [&](auto&& tok) {
        return sql::async_scalar<std::int32_t>(s.conn, sql::select(tbl.val), tok);
    });
    BOOST_TEST((bad.ec == client_errc::conversion_error), bad.ec.message());
    BOOST_TEST(bad.what.find("val") != std::string::npos, bad.what);
}

// cancel_after bounds builder statements as it bounds plain ones, on a connection and on a pool.
ASIOPG_TEST_CASE(cancel_after_bounds_builder_statements) {
    sa_session s;
    s.must(sql::insert_into(s.tbl).values(s.tbl.val = "one row: one sleep"));
    auto slow = sql::select(sql::func<std::string>("pg_sleep", sql::value(5.0))).from(s.tbl);
    for (style st : {style::callback, style::awaitable, style::future}) {
        BOOST_TEST_CONTEXT(st) {
            auto out = run<result>(st, s.ctx, [&](auto&& tok) {
                return sql::async_execute(s.conn, slow, cancel_after(std::chrono::milliseconds(200), tok));
            });
            BOOST_TEST((out.ec == client_errc::timeout), out.ec.message());
            BOOST_TEST(s.conn.is_open()); // partial: cancelled on the server, the connection kept
            auto n = run<std::optional<std::int64_t>>(st, s.ctx, [&](auto&& tok) {
                return sql::async_scalar<std::int64_t>(s.conn, sql::select(sql::count()).from(s.tbl),
                                                       cancel_after(std::chrono::seconds(5), tok));
            });
            BOOST_TEST_REQUIRE(!n.ec, n.ec.message());
            BOOST_TEST(n.value->value_or(-1) == 1);
        }
    }
    connection_pool pool(s.ctx, pool_params_for(1, 1));
    auto on_pool = run<result>(style::callback, s.ctx, [&](auto&& tok) {
        return sql::async_execute(pool, slow, cancel_after(std::chrono::milliseconds(200), tok));
    });
    BOOST_TEST((on_pool.ec == client_errc::timeout), on_pool.ec.message());
    BOOST_TEST(!run<no_value>(style::callback, s.ctx, [&](auto&& tok) { return pool.async_close(tok); }).ec);
}

// aiopg.sa: reading a column that is not in the row is a clear error.
ASIOPG_TEST_CASE(a_column_not_in_the_row_is_a_clear_error) {
    sa_session s;
    auto& tbl = s.tbl;
    s.must(sql::insert_into(tbl).values(tbl.val = "x"));
    result r = s.must(sql::select(tbl.id));
    try {
        (void)tbl.val.of(r.at(0));
        BOOST_FAIL("reading val from a row without it succeeded");
    } catch (const error_with_diagnostics& e) {
        BOOST_TEST((e.code() == client_errc::column_not_found));
        BOOST_TEST(std::string(e.what()).find("val") != std::string::npos, e.what());
    }
}

// IN with lists of any length (one array parameter), NOT IN, LIKE, aggregates, ORDER BY/LIMIT.
ASIOPG_TEST_CASE(in_like_aggregates_and_ordering_on_the_server) {
    sa_session s;
    auto& tbl = s.tbl;
    for (const char* v : {"apple", "apricot", "banana", "cherry"}) s.must(sql::insert_into(tbl).values(tbl.val = v));
    BOOST_TEST(s.must(sql::select(tbl.id).where(sql::in(tbl.val, std::vector<std::string>{"apple", "cherry", "x"}))).size() == 2u);
    BOOST_TEST(s.must(sql::select(tbl.id).where(sql::in(tbl.id, std::vector<int>{}))).size() == 0u);
    BOOST_TEST(s.must(sql::select(tbl.id).where(sql::not_in(tbl.id, std::vector<int>{}))).size() == 4u);
    BOOST_TEST(s.must(sql::select(tbl.id).where(sql::like(tbl.val, "ap%"))).size() == 2u);
    BOOST_TEST(s.must(sql::select(tbl.id).where(sql::ilike(tbl.val, "AP%"))).size() == 2u);
    result top = s.must(sql::select(tbl.val).order_by(sql::desc(tbl.val)).limit(2).offset(1));
    BOOST_TEST_REQUIRE(top.size() == 2u);
    BOOST_TEST((tbl.val.of(top[0]) == std::optional<std::string>("banana")));
    result agg = s.must(sql::select(sql::count().as("n"), sql::max(tbl.id).as("top"), sql::min(sql::length(tbl.val)).as("shortest"))
                            .from(tbl)
                            .where(tbl.id >= 1));
    BOOST_TEST(agg[0]["n"].as<std::int64_t>() == 4);
    BOOST_TEST(agg[0]["top"].as<std::int32_t>() == 4);
    BOOST_TEST(agg[0]["shortest"].as<std::int32_t>() == 5);
    result grouped = s.must(sql::select(sql::length(tbl.val).as("len"), sql::count().as("n"))
                                .from(tbl)
                                .group_by(sql::length(tbl.val))
                                .having(sql::count() > 1));
    BOOST_TEST_REQUIRE(grouped.size() == 1u);
    BOOST_TEST(grouped[0]["len"].as<std::int32_t>() == 6); // banana, cherry
    BOOST_TEST(grouped[0]["n"].as<std::int64_t>() == 2);
    result md5 = s.must(sql::select(sql::func<std::string>("md5", tbl.val).as("h")).where(tbl.val == "apple"));
    BOOST_TEST(md5[0]["h"].as<std::string>() == "1f3870be274f6c49b3e31a0c6728957f");
}

namespace {
struct people_table : sql::table {
    sql::column<std::int64_t> id{this, "id", sql::bigserial, sql::primary_key};
    sql::column<std::string> name{this, "name", sql::unique};
    sql::column<std::optional<std::int32_t>> age{this, "age"};
    sql::column<bool> active{this, "active", sql::default_value(true)};
    people_table() : table("sa_people") {}
};
struct purchases_table : sql::table {
    sql::column<std::int64_t> id{this, "id", sql::bigserial, sql::primary_key};
    sql::column<std::int64_t> person{this, "person"};
    sql::column<double> amount{this, "amount"};
    purchases_table() : table("sa_purchases") {}
};
} // namespace

// Every construct of the builder, run on the server: joins, DISTINCT, aggregates, functions,
// arithmetic, NULL tests, NOT LIKE, DEFAULT, multi-row INSERT … RETURNING.
ASIOPG_TEST_CASE(every_construct_runs_on_the_server) {
    session s;
    people_table p;
    purchases_table b;
    auto exec = [&](const sql::statement& st) {
        auto out = run<result>(style::callback, s.ctx, [&](auto&& tok) { return sql::async_execute(s.conn, st, tok); });
        BOOST_TEST_REQUIRE(!out.ec, sql::compile(st).text() << ": " << s.conn.get_diagnostics().to_string());
        return std::move(*out.value);
    };
    s.query(sql::drop_table(b, true));
    s.query(sql::drop_table(p, true));
    s.query(sql::create_table(p));
    s.query(sql::create_table(b));
    result ids = exec(sql::insert_into(p)
                          .values(p.name = "ann", p.age = 30, p.active = sql::default_)
                          .values(p.name = "bob", p.age = std::nullopt, p.active = false)
                          .values(p.name = "cy", p.age = 41, p.active = true)
                          .returning(p.id, p.active));
    BOOST_TEST_REQUIRE(ids.size() == 3u);
    BOOST_TEST(p.active.of(ids[0])); // the default
    const std::int64_t ann = p.id.of(ids[0]), bob = p.id.of(ids[1]);
    exec(sql::insert_into(b).values(b.person = ann, b.amount = 10.5).values(b.person = ann, b.amount = 4.5).values(b.person = bob, b.amount = 1.0));

    result joined = exec(sql::select(p.name, sql::count().as("n"), sql::sum(b.amount).as("total"), sql::avg(b.amount).as("mean"))
                             .join(b, b.person == p.id)
                             .group_by(p.name)
                             .order_by(p.name));
    BOOST_TEST_REQUIRE(joined.size() == 2u);
    BOOST_TEST(joined[0]["name"].as<std::string>() == "ann");
    BOOST_TEST(joined[0]["n"].as<std::int64_t>() == 2);
    BOOST_TEST(joined[0]["total"].as<double>() == 15.0);
    BOOST_TEST(joined[0]["mean"].as<double>() == 7.5);
    result left = exec(sql::select(p.name, sql::coalesce(sql::max(b.amount), 0.0).as("biggest"))
                           .left_join(b, b.person == p.id)
                           .group_by(p.name)
                           .order_by(sql::desc(p.name)));
    BOOST_TEST_REQUIRE(left.size() == 3u);
    BOOST_TEST(left[0]["name"].as<std::string>() == "cy");
    BOOST_TEST(left[0]["biggest"].as<double>() == 0.0);
    BOOST_TEST(exec(sql::select(b.person).distinct()).size() == 2u);
    result math = exec(sql::select(((p.age + 1) * 2 - 4) / 2, -p.age, sql::upper(p.name), sql::min(p.age))
                           .where(p.name == "ann")
                           .group_by(p.age, p.name));
    BOOST_TEST(math[0][0].as<std::int32_t>() == 29);
    BOOST_TEST(math[0][1].as<std::int32_t>() == -30);
    BOOST_TEST(math[0][2].as<std::string>() == "ANN");
    BOOST_TEST(math[0][3].as<std::int32_t>() == 30);
    BOOST_TEST(exec(sql::select(p.id).where(sql::is_null(p.age))).size() == 1u);
    BOOST_TEST(exec(sql::select(p.id).where(sql::not_like(p.name, "%n%") && !(p.active == false))).size() == 1u); // cy
    BOOST_TEST(exec(sql::select(p.id).where(p.age > sql::value(35) || p.age < 31)).size() == 2u);
    result bumped = exec(sql::update(p).set(p.age = p.age + 1).where(sql::is_not_null(p.age)).returning_all());
    BOOST_TEST(bumped.affected_rows() == 2u);
    BOOST_TEST(exec(sql::delete_from(b).where(sql::in(b.person, std::vector<std::int64_t>{ann}))).affected_rows() == 2u);
    s.query(sql::drop_table(b));
    s.query(sql::drop_table(p));
}

// The same shape with other values reuses one text, which the connection prepares once.
ASIOPG_TEST_CASE(one_shape_one_prepared_statement) {
    sa_session s;
    auto& tbl = s.tbl;
    for (int i = 0; i < 8; ++i) s.must(sql::select(tbl.id).where(tbl.val == std::to_string(i)));
    const std::string text = sql::compile(sql::select(tbl.id).where(tbl.val == "x")).text();
    result prepared = s.query("SELECT count(*)::int FROM pg_prepared_statements WHERE statement = $1", params(text));
    BOOST_TEST(prepared[0][0].as<int>() == 1);
}

// Hostile values and names go to the server and come back unchanged; nothing else runs.
ASIOPG_TEST_CASE(hostile_values_and_names_round_trip) {
    session s;
    hostile_table t;
    s.query("DROP SCHEMA IF EXISTS " + sql::quote_identifier(t.schema()) + " CASCADE");
    s.query("CREATE SCHEMA " + sql::quote_identifier(t.schema()));
    s.query(sql::create_table(t));
    tbl_table victim{"sa_tbl"}; // must survive the "DROP TABLE sa_tbl" in a column name
    s.query(sql::create_table(victim, true));
    const std::vector<std::string> values = {"'; DROP TABLE sa_tbl; --", "\\' OR 1=1 --", "\"quoted\"", "ünïcödé ✓",
                                             "$1 $2 ? %s", std::string(10000, 'x')};
    for (const std::string& v : values) {
        auto out = run<result>(style::callback, s.ctx, [&](auto&& tok) {
            return sql::async_execute(s.conn, sql::insert_into(t).values(t.text = v).returning(t.id, t.n), tok);
        });
        BOOST_TEST_REQUIRE(!out.ec, s.conn.get_diagnostics().to_string());
        BOOST_TEST((t.n.of(out.value->at(0)) == std::optional<std::int32_t>(5))); // the default
    }
    auto back = run<result>(style::callback, s.ctx, [&](auto&& tok) {
        return sql::async_execute(s.conn, sql::select(t).order_by(t.id), tok);
    });
    BOOST_TEST_REQUIRE(!back.ec, s.conn.get_diagnostics().to_string());
    BOOST_TEST_REQUIRE(back.value->size() == values.size());
    for (std::size_t i = 0; i < values.size(); ++i) BOOST_TEST(t.text.of((*back.value)[i]) == values[i]);
    // Matching by a hostile value finds exactly that row.
    auto one = run<result>(style::callback, s.ctx, [&](auto&& tok) {
        return sql::async_execute(s.conn, sql::select(t.id).where(t.text == values[0]), tok);
    });
    BOOST_TEST(one.value->size() == 1u);
    BOOST_TEST(s.query("SELECT to_regclass('sa_tbl') IS NOT NULL")[0][0].as<bool>());
    s.query(sql::drop_table(t));
    s.query("DROP SCHEMA " + sql::quote_identifier(t.schema()));
    s.query(sql::drop_table(victim));
}

// A statement the builder cannot write fails with invalid_parameter (the reason in the
// diagnostics), in every style, and sends nothing: the connection stays usable.
ASIOPG_TEST_CASE(refused_statements_send_nothing) {
    sa_session s;
    auto& tbl = s.tbl;
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            auto out = s.run_sql(sql::update(tbl), st); // no SET
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST((out.ec == client_errc::invalid_parameter), out.ec.message());
            if (throws(st)) BOOST_TEST(out.what.find("set(") != std::string::npos, out.what);
        }
    }
    BOOST_TEST(s.must(sql::select(sql::count()).from(tbl))[0][0].as<std::int64_t>() == 0);
}

// Builder statements inside a transaction with nested savepoints: the inner one released, the
// outer one rolled back (undoing both), the transaction committed.
ASIOPG_TEST_CASE(transactions_with_savepoints) {
    sa_session s;
    auto& tbl = s.tbl;
    auto tx = run<transaction>(style::callback, s.ctx, [&](auto&& tok) { return transaction::async_begin(s.conn, tok); });
    BOOST_TEST_REQUIRE(!tx.ec, tx.ec.message());
    s.must(sql::insert_into(tbl).values(tbl.val = "kept"));
    auto sp = run<savepoint>(style::callback, s.ctx, [&](auto&& tok) { return tx.value->async_savepoint(tok); });
    BOOST_TEST_REQUIRE(!sp.ec, sp.ec.message());
    s.must(sql::insert_into(tbl).values(tbl.val = "undone"));
    s.must(sql::update(tbl).set(tbl.val = "changed").where(tbl.val == "kept"));
    auto inner = run<savepoint>(style::callback, s.ctx, [&](auto&& tok) { return sp.value->async_savepoint(tok); });
    BOOST_TEST_REQUIRE(!inner.ec, inner.ec.message());
    s.must(sql::delete_from(tbl).where(tbl.val == "changed"));
    auto released = run<no_value>(style::callback, s.ctx, [&](auto&& tok) { return inner.value->async_release(tok); });
    BOOST_TEST_REQUIRE(!released.ec, released.ec.message());
    BOOST_TEST(s.must(sql::select(sql::count()).from(tbl))[0][0].as<std::int64_t>() == 1); // "undone" only
    auto rb = run<no_value>(style::callback, s.ctx, [&](auto&& tok) { return sp.value->async_rollback(tok); });
    BOOST_TEST_REQUIRE(!rb.ec, rb.ec.message());
    auto commit = run<no_value>(style::callback, s.ctx, [&](auto&& tok) { return tx.value->async_commit(tok); });
    BOOST_TEST_REQUIRE(!commit.ec, commit.ec.message());
    result r = s.must(sql::select(tbl.val).order_by(tbl.id));
    BOOST_TEST_REQUIRE(r.size() == 1u);
    BOOST_TEST((tbl.val.of(r[0]) == std::optional<std::string>("kept")));
}

// On a pool: every style, and the same shape reusing one text (and the prepared statement).
ASIOPG_TEST_CASE(on_a_pool_in_every_style) {
    sa_session s; // creates the table
    auto& tbl = s.tbl;
    asio::io_context ctx;
    std::optional<connection_pool> pool;
    pool.emplace(ctx, pool_params_for(1, 2));
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            auto ins = run<result>(st, ctx, [&](auto&& tok) {
                return sql::async_execute(*pool, sql::insert_into(tbl).values(tbl.val = "p").returning(tbl.id), tok);
            });
            BOOST_TEST_REQUIRE(!ins.ec, ins.ec.message() << " " << ins.what);
            auto n = run<std::optional<std::int64_t>>(st, ctx, [&](auto&& tok) {
                return sql::async_scalar<std::int64_t>(*pool, sql::select(sql::count()).from(tbl).where(tbl.val == "p"), tok);
            });
            BOOST_TEST_REQUIRE(!n.ec, n.ec.message());
            BOOST_TEST(n.value->value() >= 1);
        }
    }
    auto bad = run<result>(style::future, ctx, [&](auto&& tok) {
        return sql::async_execute(*pool, sql::insert_into(tbl).values(tbl.id = 1).values(tbl.id = 1), tok);
    });
    BOOST_TEST((bad.ec == sqlstate::unique_violation), bad.ec.message());
    BOOST_TEST(bad.what.find("duplicate key") != std::string::npos, bad.what);
    bool closed = false;
    pool->async_close([&](error_code) { closed = true; });
    BOOST_TEST(run_until(ctx, [&] { return closed; }));
}

BOOST_AUTO_TEST_SUITE_END()
