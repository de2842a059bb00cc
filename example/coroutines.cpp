// C++20 coroutines: asio::co_spawn + asio::use_awaitable. A failed operation throws
// asiopg::error_with_diagnostics at the co_await. Then Asio's awaitable operators: two queries on
// two connections at the same time (&&), and a query with a deadline (||).
//
// Usage: coroutines [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when everything behaved as expected.

#include <asiopg.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <tuple>
#include <variant>

namespace asio = boost::asio;

//[coroutines
asio::awaitable<bool> basics(std::string conninfo) {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);

    asiopg::result one = co_await conn.async_execute("SELECT 1", asio::use_awaitable);
    std::cout << "SELECT 1 -> " << one[0][0].as<int>() << '\n';

    int limit = 3; // referred to by params(), lives in the coroutine frame
    asiopg::result squares = co_await conn.async_execute(
        "SELECT n, n * n AS square FROM generate_series(1, $1) AS n", asiopg::params(limit),
        asio::use_awaitable);
    for (asiopg::row_view row : squares)
        std::cout << row["n"].as<int>() << " squared is " << row["square"].as<int>() << '\n';

    try {
        co_await conn.async_execute("SELEC 1", asio::use_awaitable);
    } catch (const asiopg::error_with_diagnostics& e) {
        std::cout << "error code: " << e.code().category().name() << ": " << e.code().message() << '\n'
                  << "SQLSTATE:   " << e.get_diagnostics().sqlstate << '\n'
                  << "message:    " << e.get_diagnostics().message << '\n';
        co_return e.code() == asiopg::sqlstate::syntax_error && conn.is_open();
    }
    co_return false; // the typo did not fail?
}
//]

//[coroutines_parallel
// One connection per query: queries sharing a connection are pipelined, but its server session
// runs them one after the other — two sleeps on two connections overlap.
asio::awaitable<int> backend_after_sleep(std::string conninfo, double seconds) {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);
    asiopg::result r = co_await conn.async_execute("SELECT pg_backend_pid() FROM pg_sleep($1)",
                                                   asiopg::params(seconds), asio::use_awaitable);
    co_return r[0][0].as<int>();
}

asio::awaitable<bool> in_parallel(std::string conninfo) {
    using namespace asio::experimental::awaitable_operators;
    // `a && b` waits for both. If one fails, the other is cancelled (which closes its
    // connection) and this co_await throws.
    auto [first, second] = co_await (backend_after_sleep(conninfo, 0.2) &&
                                     backend_after_sleep(conninfo, 0.2));
    std::cout << "two backends slept at the same time: " << first << " and " << second << '\n';
    co_return first != second;
}
//]

//[coroutines_timeout
// A deadline for one query: `a || b` returns the first to succeed and cancels the other. A
// cancelled query closes its connection (the server may still be running it): reconnect after.
asio::awaitable<bool> with_timeout(std::string conninfo) {
    using namespace asio::experimental::awaitable_operators;
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);

    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
    std::variant<asiopg::result, std::monostate> first =
        co_await (conn.async_execute("SELECT pg_sleep(5)", asio::use_awaitable) ||
                  timer.async_wait(asio::use_awaitable));
    bool timed_out = first.index() == 1;
    std::cout << "timed out: " << std::boolalpha << timed_out << ", connection open: " << conn.is_open()
              << '\n';
    co_return timed_out && !conn.is_open();
}
//]

//[coroutines_cancel_after
// A timeout that keeps the connection: cancel_after() cancels the query on the server when the
// time is up, and the operation fails with client_errc::timeout.
asio::awaitable<bool> with_cancel_after(std::string conninfo) {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);
    asiopg::error_code ec;
    try {
        co_await conn.async_execute("SELECT pg_sleep(5)",
                                    asiopg::cancel_after(std::chrono::milliseconds(100), asio::use_awaitable));
    } catch (const asiopg::error_with_diagnostics& e) {
        ec = e.code();
    }
    std::cout << "cancel_after: " << ec.message() << ", connection open: " << conn.is_open() << '\n';
    asiopg::result r = co_await conn.async_execute("SELECT 1", asio::use_awaitable); // still usable
    co_return ec == asiopg::client_errc::timeout && r[0][0].as<int>() == 1;
}
//]

asio::awaitable<bool> run(std::string conninfo) {
    bool ok = co_await basics(conninfo);
    ok = co_await in_parallel(conninfo) && ok;
    ok = co_await with_timeout(conninfo) && ok;
    ok = co_await with_cancel_after(conninfo) && ok;
    co_return ok;
}

int main(int argc, char** argv) {
    bool ok = false;
    asio::io_context ctx;
    asio::co_spawn(ctx, run(argc > 1 ? argv[1] : ""), [&ok](std::exception_ptr e, bool result) {
        if (e) std::rethrow_exception(e); // out of ctx.run(), below
        ok = result;
    });
    try {
        ctx.run();
    } catch (const std::exception& e) {
        std::cerr << "coroutines: " << e.what() << '\n';
        return 1;
    }
    return ok ? 0 : 1;
}
