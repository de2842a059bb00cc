// asio::deferred, the default completion token: `conn.async_execute(sql)` starts nothing; it
// returns an operation object that runs when it is given a token, is chained with `|`, or is
// co_awaited. A deferred operation completes with (error_code[, result]); the details of a
// failure are in conn.get_diagnostics().
//
// Usage: deferred [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when everything behaved as expected.

#include <asiopg.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <iostream>
#include <string>

namespace asio = boost::asio;

//[deferred_launch
// An operation made now and launched later with a callback.
void launch_later(asiopg::connection& conn, bool& ok) {
    auto select_one = conn.async_execute("SELECT 1"); // nothing is sent yet
    // ... later: give it a completion handler and it runs.
    std::move(select_one)([&ok](asiopg::error_code ec, asiopg::result r) {
        ok = !ec && r[0][0].as<int>() == 1;
        std::cout << "launched later: SELECT 1 -> " << (ok ? "1" : ec.message()) << '\n';
    });
}
//]

//[deferred_chain
// Operations chained with `|`: connect, then (if that worked) SELECT 1; one handler at the end.
// The lambda runs after the connect completes and returns the next deferred operation.
auto connect_then_select_one(asiopg::connection& conn, const std::string& conninfo) {
    return conn.async_connect(conninfo) | asio::deferred([&conn](asiopg::error_code ec) {
               return asio::deferred.when(!ec)
                   .then(conn.async_execute("SELECT 1"))
                   .otherwise(asio::deferred.values(ec, asiopg::result{}));
           });
}
//]

//[deferred_await
// A deferred operation can be co_awaited. Its error arrives as boost::system::system_error,
// which carries only the error code: read the server's message from the connection.
asio::awaitable<bool> await_deferred(asiopg::connection& conn) {
    int limit = 3; // referred to by params() until the operation starts, at the co_await
    asiopg::result squares = co_await conn.async_execute(
        "SELECT n, n * n AS square FROM generate_series(1, $1) AS n", asiopg::params(limit));
    for (asiopg::row_view row : squares)
        std::cout << row["n"].as<int>() << " squared is " << row["square"].as<int>() << '\n';

    try {
        co_await conn.async_execute("SELEC 1");
    } catch (const boost::system::system_error& e) {
        const asiopg::diagnostics& diag = conn.get_diagnostics();
        std::cout << "error code: " << e.code().category().name() << ": " << e.code().message() << '\n'
                  << "SQLSTATE:   " << diag.sqlstate << '\n'
                  << "message:    " << diag.message << '\n';
        co_return e.code() == asiopg::sqlstate::syntax_error && conn.is_open();
    }
    co_return false; // the typo did not fail?
}
//]

//[deferred_main
int main(int argc, char** argv) {
    asio::io_context ctx;
    asiopg::connection conn(ctx);
    std::string conninfo = argc > 1 ? argv[1] : "";
    bool connected = false, launched = false, awaited = false;

    connect_then_select_one(conn, conninfo)([&](asiopg::error_code ec, asiopg::result r) {
        if (ec) {
            std::cerr << "connect or SELECT 1 failed: " << conn.get_diagnostics().to_string() << '\n';
            return;
        }
        connected = true;
        std::cout << "chained: SELECT 1 -> " << r[0][0].as<int>() << '\n';
        launch_later(conn, launched);
    });
    try {
        ctx.run();
        if (connected) {
            ctx.restart();
            asio::co_spawn(ctx, await_deferred(conn), [&](std::exception_ptr e, bool result) {
                if (e) std::rethrow_exception(e);
                awaited = result;
            });
            ctx.run();
        }
    } catch (const std::exception& e) {
        std::cerr << "deferred: " << e.what() << '\n';
        return 1;
    }
    return connected && launched && awaited ? 0 : 1;
}
//]
