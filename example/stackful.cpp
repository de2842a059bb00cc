// Stackful coroutines: asio::spawn + asio::yield_context. The code reads like blocking code; each
// async_* call suspends the coroutine until the operation completes.
// With `yield` a failure throws asiopg::error_with_diagnostics; with `yield[ec]` it sets ec and
// the connection's get_diagnostics() has the details.
//
// Usage: stackful [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when everything behaved as expected.

#include <asiopg.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/spawn.hpp>

#include <exception>
#include <iostream>
#include <string>

namespace asio = boost::asio;

//[stackful
bool run(const std::string& conninfo, asio::yield_context yield) {
    asiopg::connection conn(yield.get_executor());
    conn.async_connect(conninfo, yield);

    asiopg::result one = conn.async_execute("SELECT 1", yield);
    std::cout << "SELECT 1 -> " << one[0][0].as<int>() << '\n';

    int limit = 3; // referred to by params(), lives on the coroutine's stack
    asiopg::result squares = conn.async_execute(
        "SELECT n, n * n AS square FROM generate_series(1, $1) AS n", asiopg::params(limit), yield);
    for (asiopg::row_view row : squares)
        std::cout << row["n"].as<int>() << " squared is " << row["square"].as<int>() << '\n';

    // `yield`: the error is thrown, with the server's diagnostics.
    bool thrown = false;
    try {
        conn.async_execute("SELEC 1", yield);
    } catch (const asiopg::error_with_diagnostics& e) {
        std::cout << "[yield]     error code: " << e.code().category().name() << ": "
                  << e.code().message() << '\n'
                  << "[yield]     SQLSTATE:   " << e.get_diagnostics().sqlstate << '\n'
                  << "[yield]     message:    " << e.get_diagnostics().message << '\n';
        thrown = e.code() == asiopg::sqlstate::syntax_error;
    }

    // `yield[ec]`: nothing is thrown; ec is set and the connection keeps the diagnostics.
    asiopg::error_code ec;
    asiopg::result none = conn.async_execute("SELEC 1", yield[ec]);
    const asiopg::diagnostics& diag = conn.get_diagnostics();
    std::cout << "[yield[ec]] error code: " << ec.category().name() << ": " << ec.message() << '\n'
              << "[yield[ec]] SQLSTATE:   " << diag.sqlstate << '\n'
              << "[yield[ec]] message:    " << diag.message << '\n';

    return thrown && ec == asiopg::sqlstate::syntax_error && none.empty() && conn.is_open();
}

int main(int argc, char** argv) {
    std::string conninfo = argc > 1 ? argv[1] : "";
    bool ok = false;
    asio::io_context ctx;
    asio::spawn(
        ctx, [&](asio::yield_context yield) { ok = run(conninfo, yield); },
        // Always give spawn a completion token: this one rethrows what escaped the coroutine
        // from ctx.run().
        [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    try {
        ctx.run();
    } catch (const std::exception& e) {
        std::cerr << "stackful: " << e.what() << '\n';
        return 1;
    }
    return ok ? 0 : 1;
}
//]
