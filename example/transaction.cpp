// Transactions: a scoped transaction that commits or rolls back by itself and retries
// serialization failures, a savepoint that undoes only its own work, and the explicit API.
// C++20 coroutines here; the scoped helpers also take stackful (yield_context) and callback bodies.
//
// Usage: transaction [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when everything behaved as expected.

#include <asiopg.hpp>
#include <asiopg/transaction.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>

namespace asio = boost::asio;

//[transaction_scoped
// Moves money between two accounts. The body may run more than once (retries): it only talks
// to the database, which is rolled back before each new attempt.
asio::awaitable<void> transfer(asiopg::connection& conn, int from, int to, int amount) {
    asiopg::transaction_options options;
    options.isolation = asiopg::isolation_level::serializable;
    options.max_attempts = 5; // retry 40001 / 40P01 up to 4 times, with back-off
    co_await asiopg::async_transaction(conn, options, [&](asiopg::transaction& tx) -> asio::awaitable<void> {
        co_await tx->async_execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2",
                                   asiopg::params(amount, from), asio::use_awaitable);
        co_await tx->async_execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2",
                                   asiopg::params(amount, to), asio::use_awaitable);
        asiopg::result r = co_await tx->async_execute("SELECT balance FROM accounts WHERE id = $1",
                                                      asiopg::params(from), asio::use_awaitable);
        if (r[0][0].as<int>() < 0) throw std::runtime_error("insufficient funds"); // rolls back
    }, asio::use_awaitable);
}
//]

//[transaction_savepoint
// Inside a transaction, a savepoint scope undoes only its own work when it fails; the outer
// transaction goes on.
asio::awaitable<void> audit(asiopg::transaction& tx, std::string note) {
    try {
        co_await asiopg::async_savepoint(tx, [&](asiopg::savepoint&) -> asio::awaitable<void> {
            co_await tx->async_execute("INSERT INTO audit(note) VALUES ($1)", asiopg::params(note),
                                       asio::use_awaitable); // fails for a note too long
        }, asio::use_awaitable);
    } catch (const asiopg::error_with_diagnostics& e) {
        std::cout << "audit skipped: " << e.get_diagnostics().message << '\n';
    }
}
//]

asio::awaitable<bool> demo(std::string conninfo) {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);
    co_await conn.async_execute("CREATE TEMP TABLE accounts (id int PRIMARY KEY, balance int);"
                                "INSERT INTO accounts VALUES (1, 100), (2, 0);"
                                "CREATE TEMP TABLE audit (note varchar(10))",
                                asio::use_awaitable);

    co_await transfer(conn, 1, 2, 30);
    bool refused = false;
    try {
        co_await transfer(conn, 1, 2, 500);
    } catch (const std::runtime_error& e) {
        refused = true;
        std::cout << "transfer refused: " << e.what() << '\n';
    }

    //[transaction_explicit
    asiopg::transaction tx = co_await asiopg::transaction::async_begin(conn, asio::use_awaitable);
    co_await audit(tx, "ok");
    co_await audit(tx, "far too long for the column");
    co_await tx.async_commit(asio::use_awaitable);
    //]

    asiopg::result balances = co_await conn.async_execute("SELECT balance FROM accounts ORDER BY id", asio::use_awaitable);
    asiopg::result notes = co_await conn.async_execute("SELECT count(*) FROM audit", asio::use_awaitable);
    std::cout << "balances: " << balances[0][0].as<int>() << ", " << balances[1][0].as<int>()
              << "; audit rows: " << notes[0][0].as<long>() << '\n';
    co_return refused && balances[0][0].as<int>() == 70 && balances[1][0].as<int>() == 30 &&
        notes[0][0].as<long>() == 1;
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
