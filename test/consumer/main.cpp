// A program outside the tree, built against an installed asiopg (tools/check-install builds it
// with CMake, with b2 and with pkg-config): one statement through each library.
//
// Usage: consumer [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
#include <asiopg.hpp>
#include <asiopg/pool.hpp>
#include <asiopg/sql.hpp>
#include <asiopg/transaction.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <exception>
#include <iostream>
#include <string>

namespace asio = boost::asio;

struct numbers_table : asiopg::sql::table {
    asiopg::sql::column<std::int64_t> n{this, "n"};
    numbers_table() : table("consumer_numbers") {}
};
const numbers_table numbers;

asio::awaitable<void> run(std::string conninfo) {
    asiopg::pool_params params;
    params.connect.conninfo = conninfo;
    params.max_size = 2;
    params.connect.log.sink = [](const asiopg::log_record& r) { std::clog << r.message << '\n'; };
    params.connect.log.level = asiopg::log_level::warning;
    asiopg::connection_pool pool(co_await asio::this_coro::executor, params);

    auto conn = co_await pool.async_acquire(asio::use_awaitable);
    co_await conn->async_execute("CREATE TEMP TABLE consumer_numbers (n bigint)", asio::use_awaitable);
    co_await asiopg::async_transaction(*conn, {}, [](asiopg::transaction& tx) -> asio::awaitable<void> {
        co_await tx->async_execute("INSERT INTO consumer_numbers VALUES ($1), ($2)", asiopg::params(20, 22),
                                   asio::use_awaitable);
    }, asio::use_awaitable);
    auto sum = co_await asiopg::sql::async_scalar<std::int64_t>(
        *conn, asiopg::sql::select(asiopg::sql::sum(numbers.n)).from(numbers), asio::use_awaitable);
    conn.release(); // the pool resets the session (a temporary table) before lending it again
    std::cout << "sum " << sum.value_or(0) << '\n';
    if (sum.value_or(0) != 42) throw std::runtime_error("wrong sum");
    co_await pool.async_close(asio::use_awaitable);
}

int main(int argc, char** argv) {
    asio::io_context ctx;
    int status = 1;
    asio::co_spawn(ctx, run(argc > 1 ? argv[1] : ""), [&](std::exception_ptr e) {
        try {
            if (e) std::rethrow_exception(e);
            status = 0;
        } catch (const std::exception& ex) {
            std::cerr << "consumer: " << ex.what() << '\n';
        }
    });
    ctx.run();
    return status;
}
