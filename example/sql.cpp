// The C++ twin of aiopg's SQLAlchemy page (aiopg.sa): describe the table once, create it, insert
// val='abc', select where val == 'abc', print id and val — with the query builder (asiopg_sql),
// values always bound, names always quoted.
//
// Usage: sql [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)

//[sql_table
#include <asiopg.hpp>
#include <asiopg/sql.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <exception>
#include <iostream>
#include <optional>
#include <string>

namespace asio = boost::asio;
namespace sql = asiopg::sql;

// tbl(id serial primary key, val varchar(255)): a nullable column is a std::optional.
struct tbl_table : sql::table {
    sql::column<std::int32_t> id{this, "id", sql::serial, sql::primary_key};
    sql::column<std::optional<std::string>> val{this, "val", sql::varchar(255)};
    tbl_table() : table("tbl") {}
};
const tbl_table tbl;
//]

asio::awaitable<void> run(std::string conninfo) {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);

    //[sql_create
    co_await conn.async_execute(sql::drop_table(tbl, true), asio::use_awaitable);
    co_await conn.async_execute(sql::create_table(tbl), asio::use_awaitable);
    //]

    //[sql_insert_select
    // INSERT INTO "tbl" ("val") VALUES ($1) RETURNING "tbl"."id"
    asiopg::result inserted = co_await sql::async_execute(
        conn, sql::insert_into(tbl).values(tbl.val = "abc").returning(tbl.id), asio::use_awaitable);
    std::cout << "new id: " << tbl.id.of(inserted[0]) << '\n';

    // SELECT "tbl"."id", "tbl"."val" FROM "tbl" WHERE ("tbl"."val" = $1)
    asiopg::result rows =
        co_await sql::async_execute(conn, sql::select(tbl).where(tbl.val == "abc"), asio::use_awaitable);
    for (asiopg::row_view row : rows)
        std::cout << tbl.id.of(row) << ' ' << tbl.val.of(row).value_or("NULL") << '\n';
    //]

    //[sql_update_scalar
    asiopg::result updated = co_await sql::async_execute(
        conn, sql::update(tbl).set(tbl.val = "xyz").where(tbl.val == "abc"), asio::use_awaitable);
    std::cout << "updated rows: " << updated.affected_rows() << '\n';

    std::optional<std::int64_t> n =
        co_await sql::async_scalar<std::int64_t>(conn, sql::select(sql::count()).from(tbl), asio::use_awaitable);
    std::cout << "rows in tbl: " << n.value_or(0) << '\n';
    std::optional<std::string> missing = co_await sql::async_scalar<std::string>(
        conn, sql::select(tbl.val).where(tbl.id == -1), asio::use_awaitable);
    std::cout << "scalar of no row: " << (missing ? *missing : "no value") << '\n';
    //]

    co_await conn.async_execute(sql::drop_table(tbl), asio::use_awaitable);
}

int main(int argc, char** argv) {
    asio::io_context ctx;
    asio::co_spawn(ctx, run(argc > 1 ? argv[1] : ""), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    try {
        ctx.run();
    } catch (const std::exception& e) {
        std::cerr << "sql: " << e.what() << '\n';
        return 1;
    }
}
