// LISTEN/NOTIFY: one connection listens, another notifies; the listener also runs a query while
// it waits, and a timeout bounds the wait.
//
// Usage: notify [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when everything behaved as expected.

#include <asiopg.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <iostream>
#include <string>

namespace asio = boost::asio;

//[notify_listen
asio::awaitable<int> listen(asiopg::connection& conn, int expected) {
    co_await conn.async_execute("LISTEN orders", asio::use_awaitable);
    int received = 0;
    while (received < expected) {
        asiopg::notification n = co_await conn.async_receive_notification(asio::use_awaitable);
        std::cout << n.channel << ": " << n.payload << " (from backend " << n.backend_pid << ")\n";
        ++received;
    }
    co_return received;
}
//]

asio::awaitable<bool> demo(std::string conninfo) {
    auto ex = co_await asio::this_coro::executor;
    asiopg::connection listener(ex), sender(ex);
    co_await listener.async_connect(conninfo, asio::use_awaitable);
    co_await sender.async_connect(conninfo, asio::use_awaitable);

    bool done = false;
    int received = 0;
    asio::co_spawn(ex, listen(listener, 3), [&](std::exception_ptr e, int n) {
        received = e ? -1 : n;
        done = true;
    });
    asio::steady_timer pause(ex, std::chrono::milliseconds(50));
    co_await pause.async_wait(asio::use_awaitable); // the listener is waiting now

    //[notify_send
    for (int id : {1, 2, 3})
        co_await sender.async_execute("SELECT pg_notify('orders', $1)", asiopg::params(std::to_string(id)),
                                      asio::use_awaitable);
    //]
    while (!done) {
        pause.expires_after(std::chrono::milliseconds(5));
        co_await pause.async_wait(asio::use_awaitable);
    }

    //[notify_timeout
    // Nothing more comes: the wait ends after 100 ms with client_errc::timeout.
    auto [ec, n] = co_await listener.async_receive_notification(
        asiopg::cancel_after(std::chrono::milliseconds(100), asio::as_tuple(asio::use_awaitable)));
    std::cout << "then: " << ec.message() << '\n';
    //]
    co_return received == 3 && ec == asiopg::client_errc::timeout && listener.is_open();
}

int main(int argc, char** argv) {
    asio::io_context ctx;
    bool ok = false;
    asio::co_spawn(ctx, demo(argc > 1 ? argv[1] : ""), [&](std::exception_ptr e, bool result) {
        if (e) {
            try { std::rethrow_exception(e); }
            catch (const std::exception& ex) { std::cerr << "error: " << ex.what() << '\n'; }
        }
        ok = !e && result;
    });
    ctx.run();
    std::cout << (ok ? "ok" : "FAILED") << '\n';
    return ok ? 0 : 1;
}
