// The short fragments of doc/transactions.md — the options, two-phase commit, a transaction on a
// pooled connection — each inside a function this program runs against the server and checks.
// (example/transaction.cpp is the longer tour.)
//
// Usage: transaction_snippets [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD,
// PGDATABASE). Needs max_prepared_transactions > 0 on the server (tools/pg-cluster sets 20).
// Exit status 0 when every fragment behaved as the page says.

#include <asiopg.hpp>
#include <asiopg/pool.hpp>
#include <asiopg/transaction.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;

void check(bool condition, const std::string& what) {
    if (!condition) throw std::runtime_error("unexpected: " + what);
    std::cout << "ok: " << what << '\n';
}

void options() {
    //[transaction_options
    asiopg::transaction_options o; // the defaults:
    check(o.isolation == asiopg::isolation_level::server_default, // or read_committed, repeatable_read, serializable
          "isolation: the session's default_transaction_isolation");
    check(!o.read_only && !o.deferrable, "read-write, not deferrable");
    check(o.max_attempts == 1, "scoped helpers: no retry");   // > 1 retries 40001 / 40P01
    check(o.retry_delay == std::chrono::milliseconds(10), "a retry waits 10 ms, doubled per attempt …");
    check(o.max_retry_delay == std::chrono::milliseconds(1000), "… up to 1 s");

    // begin_statement(o) is exactly what BEGIN says.
    check(asiopg::begin_statement(o) == "BEGIN", "BEGIN");
    o.isolation = asiopg::isolation_level::serializable;
    o.read_only = true;
    o.deferrable = true;
    check(asiopg::begin_statement(o) == "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE",
          "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE");
    //]
}

// Whether the server holds a prepared transaction of that name.
asio::awaitable<bool> is_pending(asiopg::connection& conn, const std::string& gid) {
    std::vector<asiopg::prepared_transaction> all = co_await asiopg::async_list_prepared(conn, asio::use_awaitable);
    co_return std::any_of(all.begin(), all.end(), [&](const asiopg::prepared_transaction& p) { return p.gid == gid; });
}

asio::awaitable<void> two_phase(asiopg::connection& conn, asiopg::connection& other) {
    // order-43 first, so that the fragment below has one prepared transaction of each fate.
    asiopg::transaction t43 = co_await asiopg::transaction::async_begin(conn, asio::use_awaitable);
    co_await t43->async_execute("INSERT INTO snippet_orders VALUES (43)", asio::use_awaitable);
    co_await t43.async_prepare("order-43", asio::use_awaitable);

    asiopg::transaction tx = co_await asiopg::transaction::async_begin(conn, asio::use_awaitable);
    co_await tx->async_execute("INSERT INTO snippet_orders VALUES (42)", asio::use_awaitable);
    //[transaction_two_phase
    co_await tx.async_prepare("order-42", asio::use_awaitable);     // PREPARE TRANSACTION 'order-42'
    // … later, from any session:
    std::vector<asiopg::prepared_transaction> pending =
        co_await asiopg::async_list_prepared(other, asio::use_awaitable); // gid, prepared, owner, database
    co_await asiopg::async_commit_prepared(other, "order-42", asio::use_awaitable);   // or
    co_await asiopg::async_rollback_prepared(other, "order-43", asio::use_awaitable); // (prepared the same way)
    //]
    auto listed = [&](const char* gid) {
        return std::any_of(pending.begin(), pending.end(), [&](const asiopg::prepared_transaction& p) { return p.gid == gid; });
    };
    check(listed("order-42") && listed("order-43"), "order-42 and order-43 listed from another session");
    check(tx.state() == asiopg::transaction_state::prepared, "the transaction object says prepared");
    bool still42 = co_await is_pending(other, "order-42");
    bool still43 = co_await is_pending(other, "order-43");
    check(!still42 && !still43, "both resolved");
    asiopg::result r = co_await other.async_execute("SELECT array_agg(id ORDER BY id)::text FROM snippet_orders",
                                                    asio::use_awaitable);
    check(r[0][0].as<std::string>() == "{42}", "42 committed, 43 rolled back");
}

asio::awaitable<void> with_a_pool(asiopg::connection_pool& pool) {
    auto body = [](asiopg::transaction& tx) -> asio::awaitable<void> {
        co_await tx->async_execute("INSERT INTO snippet_orders VALUES (7)", asio::use_awaitable);
    };
    {
        //[transaction_pool
        asiopg::pooled_connection conn = co_await pool.async_acquire(asio::use_awaitable);
        co_await asiopg::async_transaction(*conn, {}, body, asio::use_awaitable);
        //]
    }
    {
        // A borrower that drops its transaction: the pool rolls the connection back.
        asiopg::pooled_connection conn = co_await pool.async_acquire(asio::use_awaitable);
        asiopg::transaction tx = co_await asiopg::transaction::async_begin(*conn, asio::use_awaitable);
        co_await tx->async_execute("INSERT INTO snippet_orders VALUES (8)", asio::use_awaitable);
    } // tx abandoned, then conn returned
    asiopg::pooled_connection conn = co_await pool.async_acquire(asio::use_awaitable);
    check(conn->get_transaction_status() == asiopg::transaction_status::idle, "the next borrower gets an idle session");
    asiopg::result r = co_await conn->async_execute("SELECT array_agg(id ORDER BY id)::text FROM snippet_orders",
                                                    asio::use_awaitable);
    check(r[0][0].as<std::string>() == "{7,42}", "7 committed, the abandoned 8 rolled back");
}

asio::awaitable<void> run(std::string conninfo) {
    auto ex = co_await asio::this_coro::executor;
    asiopg::connection conn(ex), other(ex);
    co_await conn.async_connect(conninfo, asio::use_awaitable);
    co_await other.async_connect(conninfo, asio::use_awaitable);
    // A real table: a transaction that touched a temporary table cannot be prepared.
    co_await conn.async_execute("DROP TABLE IF EXISTS snippet_orders; CREATE TABLE snippet_orders (id int PRIMARY KEY)",
                                asio::use_awaitable);
    for (const char* gid : {"order-42", "order-43"}) // left over by an interrupted run
        if (co_await is_pending(conn, gid)) co_await asiopg::async_rollback_prepared(conn, gid, asio::use_awaitable);
    options();
    co_await two_phase(conn, other);

    asiopg::pool_params params;
    params.connect.conninfo = conninfo;
    params.max_size = 1; // so that the second borrower gets the first one's session
    asiopg::connection_pool pool(ex, params);
    std::exception_ptr failed;
    try {
        co_await with_a_pool(pool);
    } catch (...) {
        failed = std::current_exception();
    }
    co_await pool.async_close(asio::use_awaitable);
    co_await conn.async_execute("DROP TABLE snippet_orders", asio::use_awaitable);
    if (failed) std::rethrow_exception(failed);
}

int main(int argc, char** argv) {
    asio::io_context ctx;
    asio::co_spawn(ctx, run(argc > 1 ? argv[1] : ""), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    try {
        ctx.run();
    } catch (const std::exception& e) {
        std::cerr << "transaction_snippets: " << e.what() << '\n';
        return 1;
    }
}
