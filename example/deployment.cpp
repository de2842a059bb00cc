// Where asiopg goes when one server is no longer enough: a pool behind PgBouncer (transaction
// pooling), a pool that follows the primary of a primary/standby pair, and a read-only pool on
// the standbys. doc/pgbouncer.md and doc/high-availability.md quote it.
//
// Run against one server (the PG* variables say where): the "PgBouncer" pool then talks to the
// server directly (the settings are the same), and the pair is that server behind a host that
// refuses connections — the pool skips it, as it skips a stopped primary.
#include <asiopg.hpp>
#include <asiopg/pool.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

namespace asio = boost::asio;

namespace {

std::string env(const char* name, const char* fallback = "") {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

//[deployment_pgbouncer
// A pool behind PgBouncer in transaction pooling mode: each transaction (each statement outside
// one) may run on another server connection, so nothing may be left on a server session — no
// named prepared statements (the statement cache is off: every statement goes unnamed, with
// its Parse, in the same round trip), no session settings, no LISTEN, no advisory locks held
// across transactions.
asiopg::pool_params behind_pgbouncer(std::string host, std::string port) {
    asiopg::pool_params p;
    p.connect.host = std::move(host);  // PgBouncer's address
    p.connect.port = std::move(port);  // and port (6432 by default)
    p.connect.statement_cache = 0;     // PgBouncer-safe: never prepare
    p.max_size = 50;                   // client connections: PgBouncer multiplexes them
    p.reset_query = "";                // nothing to reset: PgBouncer's server sessions are shared
    return p;
}
//]

//[deployment_failover
// A pool that always writes to the primary: libpq tries the hosts in order and keeps the first
// that accepts writes. When the primary goes away, its connections fail (57P01, or
// connection_lost), the pool drops them and opens new ones — on the standby once it has been
// promoted. Until then writes fail with connect_failed; retry them.
asiopg::pool_params on_the_primary(std::string hosts, std::string ports) {
    asiopg::pool_params p;
    p.connect.host = std::move(hosts); // e.g. "db1.example.com,db2.example.com"
    p.connect.port = std::move(ports); // one port for all, or one per host
    p.connect.options = {{"target_session_attrs", "read-write"}};
    p.connect.connect_timeout = std::chrono::seconds(5); // a dead host costs at most this
    p.retry_interval = std::chrono::milliseconds(200);   // reconnect soon after a failover
    p.max_retry_interval = std::chrono::seconds(2);
    return p;
}

// Read scaling: a pool on the standbys ("prefer-standby": the primary when none is up).
asiopg::pool_params on_the_standbys(std::string hosts, std::string ports) {
    asiopg::pool_params p = on_the_primary(std::move(hosts), std::move(ports));
    p.connect.options = {{"target_session_attrs", "prefer-standby"}};
    return p;
}
//]

void fill_credentials(asiopg::pool_params& p) {
    p.connect.user = env("PGUSER");
    p.connect.password = env("PGPASSWORD");
    p.connect.dbname = env("PGDATABASE");
}

asio::awaitable<void> use(asiopg::connection_pool& pool, const char* what) {
    asiopg::result r = co_await pool.async_execute(
        "SELECT inet_server_port(), pg_is_in_recovery(), $1::text", asiopg::params(std::string(what)),
        asio::use_awaitable);
    std::cout << what << ": port " << r[0][0].as<int>() << (r[0][1].as<bool>() ? " (standby)" : " (primary)")
              << '\n';
}

asio::awaitable<void> run() {
    auto ex = co_await asio::this_coro::executor;
    const std::string host = env("PGHOST", "127.0.0.1"), port = env("PGPORT", "5432");

    asiopg::pool_params bouncer = behind_pgbouncer(host, port);
    fill_credentials(bouncer);
    asiopg::connection_pool through_bouncer(ex, bouncer);
    for (int i = 0; i < 10; ++i) co_await use(through_bouncer, "behind PgBouncer settings");

    // Port 1 refuses connections: a primary that is down.
    asiopg::pool_params primary = on_the_primary("127.0.0.1," + host, "1," + port);
    fill_credentials(primary);
    asiopg::connection_pool writer(ex, primary);
    co_await use(writer, "read-write pool, first host down");

    asiopg::pool_params standbys = on_the_standbys("127.0.0.1," + host, "1," + port);
    fill_credentials(standbys);
    asiopg::connection_pool reader(ex, standbys);
    co_await use(reader, "prefer-standby pool, no standby up");

    co_await through_bouncer.async_close(asio::use_awaitable);
    co_await writer.async_close(asio::use_awaitable);
    co_await reader.async_close(asio::use_awaitable);
}

} // namespace

int main() {
    asio::io_context ctx;
    bool ok = false;
    asio::co_spawn(ctx, run(), [&](std::exception_ptr e) {
        if (!e) {
            ok = true;
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            std::cerr << "deployment: " << x.what() << '\n';
        }
    });
    ctx.run();
    return ok ? 0 : 1;
}
