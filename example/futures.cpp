// asio::use_future: the io_context runs on a thread of its own and the main thread waits on
// std::futures, as synchronous code would. A failed operation makes future.get() throw
// asiopg::error_with_diagnostics, whose what() holds the server's message.
//
// Usage: futures [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when everything behaved as expected.

#include <asiopg.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <exception>
#include <future>
#include <iostream>
#include <string>
#include <thread>

namespace asio = boost::asio;

//[futures
// Runs on the main thread. Each operation starts only after the previous one's future is ready,
// so the connection is never used from two threads at once.
bool run(asiopg::connection& conn, const std::string& conninfo) {
    conn.async_connect(conninfo, asio::use_future).get(); // future<void>

    asiopg::result one = conn.async_execute("SELECT 1", asio::use_future).get();
    std::cout << "SELECT 1 -> " << one[0][0].as<int>() << '\n';

    // params() refers to limit; the operation is initiated before async_execute returns.
    int limit = 3;
    std::future<asiopg::result> squares = conn.async_execute(
        "SELECT n, n * n AS square FROM generate_series(1, $1) AS n", asiopg::params(limit),
        asio::use_future);
    for (asiopg::row_view row : squares.get())
        std::cout << row["n"].as<int>() << " squared is " << row["square"].as<int>() << '\n';

    std::future<asiopg::result> typo = conn.async_execute("SELEC 1", asio::use_future);
    try {
        typo.get();
    } catch (const asiopg::error_with_diagnostics& e) {
        std::cout << "error code: " << e.code().category().name() << ": " << e.code().message() << '\n'
                  << "SQLSTATE:   " << e.get_diagnostics().sqlstate << '\n'
                  << "message:    " << e.get_diagnostics().message << '\n'
                  << "what():     " << e.what() << '\n';
        return e.code() == asiopg::sqlstate::syntax_error && conn.is_open();
    }
    return false; // the typo did not fail?
}

int main(int argc, char** argv) {
    asio::io_context ctx;
    asiopg::connection conn(ctx);
    // Without the work guard, run() would return as soon as no operation is pending.
    auto work = asio::make_work_guard(ctx);
    std::thread io([&ctx] { ctx.run(); });

    bool ok = false;
    try {
        ok = run(conn, argc > 1 ? argv[1] : "");
    } catch (const std::exception& e) {
        std::cerr << "futures: " << e.what() << '\n';
    }

    work.reset(); // let ctx.run() return once nothing is pending
    io.join();
    return ok ? 0 : 1;
}
//]
