// The C++ twin of aiopg's front-page example: connect, run `SELECT 1` and a parameterised query,
// print the rows.
//
// Usage: quickstart [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)

//[quickstart
#include <asiopg.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <iostream>
#include <string>

namespace asio = boost::asio;

asio::awaitable<void> run(std::string conninfo) {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);

    asiopg::result one = co_await conn.async_execute("SELECT 1", asio::use_awaitable);
    std::cout << "SELECT 1 -> " << one[0][0].as<int>() << '\n';

    // $1 is bound on the server: the value never becomes part of the SQL text.
    int limit = 5;
    asiopg::result squares = co_await conn.async_execute(
        "SELECT n, n * n AS square FROM generate_series(1, $1) AS n", asiopg::params(limit),
        asio::use_awaitable);
    for (asiopg::row_view row : squares)
        std::cout << row["n"].as<int>() << " squared is " << row["square"].as<long>() << '\n';
}

int main(int argc, char** argv) {
    asio::io_context ctx;
    asio::co_spawn(ctx, run(argc > 1 ? argv[1] : ""), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e); // an error_with_diagnostics: what() has the server's message
    });
    try {
        ctx.run();
    } catch (const std::exception& e) {
        std::cerr << "quickstart: " << e.what() << '\n';
        return 1;
    }
}
//]
