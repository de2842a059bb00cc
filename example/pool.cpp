// The connection pool: many tasks share a few connections.
// C++20 coroutines here; async_acquire and async_execute take any completion token.
//
// Usage: pool [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when everything behaved as expected.

#include <asiopg.hpp>
#include <asiopg/pool.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <exception>
#include <iostream>
#include <string>

namespace asio = boost::asio;

//[pool_create
asiopg::pool_params make_params(std::string conninfo) {
    asiopg::pool_params params;
    params.connect.conninfo = std::move(conninfo);
    params.min_size = 2;                                     // opened at once, kept open
    params.max_size = 4;                                     // never more
    params.acquire_timeout = std::chrono::seconds(5);        // then client_errc::pool_exhausted
    params.max_lifetime = std::chrono::minutes(30);          // recycled when older
    params.health_check_interval = std::chrono::seconds(20); // idle ones are pinged
    // Once per physical connection (aiopg's on_connect): any asynchronous work, then done(ec).
    params.on_connect = [](asiopg::connection& conn, auto done) {
        std::cout << "new connection, backend " << conn.backend_pid() << '\n';
        std::move(done)(asiopg::error_code{});
    };
    return params;
}
//]

//[pool_acquire
// Borrow a connection for a few statements; it goes back when `conn` is destroyed, rolled back
// if a transaction was left open, reset, and ready for the next task.
asio::awaitable<int> transfer(asiopg::connection_pool& pool, int task) {
    asiopg::pooled_connection conn = co_await pool.async_acquire(asio::use_awaitable);
    co_await conn->async_execute("BEGIN", asio::use_awaitable);
    co_await conn->async_execute("INSERT INTO pool_demo(task) VALUES ($1)", asiopg::params(task),
                                 asio::use_awaitable);
    co_await conn->async_execute("COMMIT", asio::use_awaitable);
    co_return conn->backend_pid();
}
//]

asio::awaitable<bool> demo(asiopg::connection_pool& pool) {
    //[pool_execute
    // One statement on whatever connection is free: acquire, execute, release.
    co_await pool.async_execute("CREATE TEMP TABLE IF NOT EXISTS pool_demo_probe(x int)", asio::use_awaitable);
    asiopg::result r = co_await pool.async_execute("SELECT $1::int * 2", asiopg::params(21), asio::use_awaitable);
    std::cout << "21 * 2 = " << r[0][0].as<int>() << '\n';
    //]
    co_await pool.async_execute("DROP TABLE IF EXISTS pool_demo; CREATE TABLE pool_demo(task int)",
                                asio::use_awaitable);

    // 50 tasks at once over at most 4 connections.
    std::atomic<int> done = 0;
    auto ex = co_await asio::this_coro::executor;
    for (int task = 0; task < 50; ++task)
        asio::co_spawn(ex, transfer(pool, task), [&](std::exception_ptr e, int) {
            if (e) std::cerr << "a task failed\n";
            else ++done;
        });
    asio::steady_timer wait(ex);
    while (done < 50) {
        wait.expires_after(std::chrono::milliseconds(5));
        co_await wait.async_wait(asio::use_awaitable);
    }
    asiopg::result count = co_await pool.async_execute("SELECT count(*) FROM pool_demo", asio::use_awaitable);

    //[pool_stats
    asiopg::pool_stats s = pool.stats();
    std::cout << "connections: " << s.size << " (idle " << s.idle << ", borrowed " << s.borrowed
              << "), acquires: " << s.acquires << ", opened: " << s.connections_opened << '\n';
    //]
    co_await pool.async_execute("DROP TABLE pool_demo", asio::use_awaitable);
    co_return count[0][0].as<long>() == 50 && s.size <= 4;
}

int main(int argc, char** argv) {
    asio::io_context ctx;
    //[pool_close
    asiopg::connection_pool pool(ctx, make_params(argc > 1 ? argv[1] : ""));
    bool ok = false;
    asio::co_spawn(ctx, demo(pool), [&](std::exception_ptr e, bool result) {
        if (e) {
            try { std::rethrow_exception(e); }
            catch (const std::exception& ex) { std::cerr << "error: " << ex.what() << '\n'; }
        }
        ok = !e && result;
        pool.close(); // no new acquires; idle connections closed; lets ctx.run() return
    });
    ctx.run();
    //]
    std::cout << (ok ? "ok" : "FAILED") << '\n';
    return ok ? 0 : 1;
}
