#ifndef ASIOPG_POOL_POOL_PARAMS_HPP
#define ASIOPG_POOL_POOL_PARAMS_HPP

#include <asiopg/connect_params.hpp>
#include <asiopg/error.hpp>

#include <boost/asio/any_completion_handler.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace asiopg {

class connection;

/// A hook the pool runs on a connection: it starts whatever it needs on `conn` and calls
/// `done(ec)` once finished (an error discards the connection). Called on the connection's
/// executor; `conn` stays valid until `done` is called. A coroutine can be adapted with
/// `asio::co_spawn(conn.get_executor(), body(conn), [done](std::exception_ptr e) mutable {…})`.
using connection_hook =
    std::function<void(connection& conn, boost::asio::any_completion_handler<void(error_code)> done)>;

/// What the pool runs, by default, on a connection that comes back before the next user gets it:
/// it drops the session state a user may have left (settings, `SET ROLE`/`SET SESSION
/// AUTHORIZATION`, open cursors, `LISTEN`s, advisory locks, temporary tables, sequence caches)
/// but keeps prepared statements, so the statement cache stays warm. It is `DISCARD ALL`
/// without `DEALLOCATE ALL`. A connection returned inside a transaction block is rolled back
/// first, whatever the reset query.
inline constexpr const char* default_reset_query =
    "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; "
    "SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES";

/// Configuration of a `connection_pool`. Durations: zero turns a feature off unless said otherwise.
struct pool_params {
    /// Where and how each connection connects (conninfo, host, user, password …).
    connect_params connect;

    /// Connections kept open, opened in the background at start and whenever the pool shrinks
    /// below it. 0 opens connections only on demand.
    std::size_t min_size = 1;
    /// Upper bound on open connections (including those being opened). At least 1.
    std::size_t max_size = 10;
    /// Connections opened at the same time, at most (connects run in the background, never
    /// inside a lock, never on the waiter's path).
    std::size_t max_concurrent_connects = 4;

    /// How long `async_acquire` waits for a connection before failing with
    /// `client_errc::pool_exhausted` (or, while the server cannot be reached, with the last
    /// connect error). Zero: fail at once when no connection is idle. Negative: wait forever.
    std::chrono::milliseconds acquire_timeout{30000};
    /// Deadline of one connect (resolution, TCP, TLS, authentication). Zero: that of `connect`.
    std::chrono::milliseconds connect_timeout{10000};
    /// First wait before another connect after a failed one; doubled after each further failure
    /// up to `max_retry_interval`. Reset by a successful connect.
    std::chrono::milliseconds retry_interval{500};
    std::chrono::milliseconds max_retry_interval{10000};
    /// A connection older than this is closed when idle or returned, and replaced as needed
    /// (recycles sessions, follows DNS and failover changes).
    std::chrono::milliseconds max_lifetime{std::chrono::hours(1)};
    /// An idle connection unused for this long is closed, down to `min_size` (aiopg's
    /// `pool_recycle` closes them regardless of min_size; this keeps min_size open).
    std::chrono::milliseconds max_idle_time{std::chrono::minutes(10)};
    /// An idle connection unused or unchecked for this long gets a health check: an empty query
    /// (one round trip, no work on the server). A failed check discards it.
    std::chrono::milliseconds health_check_interval{std::chrono::seconds(30)};

    /// Run once on each new physical connection before first use (aiopg's `on_connect`):
    /// `SET`s, type registration… Its failure counts as a failed connect.
    /// Note that the default `reset_query` runs `RESET ALL`: settings made here last until the
    /// first return of a session a user changed (see `reset_query`), then are undone. Put
    /// session defaults in the conninfo (`options=-c search_path=app`) or `ALTER ROLE … SET`,
    /// where `RESET ALL` returns to them, or change `reset_query`.
    connection_hook on_connect;
    /// Run on every acquire, before the connection is handed out. Its failure fails that
    /// acquire with the hook's error, and the connection is discarded.
    connection_hook on_acquire;

    /// Run (one simple-protocol query) on a connection that comes back idle, before reuse, when
    /// its session may have changed (`connection::session_changed()`: any statement that is not
    /// plain data access or transaction control) — or on every one with `always_reset`. A
    /// connection that only ran SELECT/INSERT/UPDATE/DELETE … goes back at once, without a
    /// round trip. Empty: only connections returned inside a transaction are reset, with
    /// `ROLLBACK`. A failed reset discards the connection.
    std::string reset_query = default_reset_query;
    /// Run `reset_query` on every returned connection, changed or not: for applications whose
    /// own functions change settings (unseen by `session_changed()`).
    bool always_reset = false;

    /// Statements of `connection_pool::async_execute` in flight on one connection at once, at
    /// most (multiplexing, as Npgsql's `Multiplexing=true`). 1 (the default): each statement
    /// borrows a connection of its own. Above 1: when no connection is idle and the pool is at
    /// `max_size`, a statement that can share (one statement of plain data access — SELECT,
    /// WITH, VALUES, TABLE, INSERT, UPDATE, DELETE, MERGE, SHOW — that changes no session state
    /// and controls no transaction) joins the least busy connection lent to such statements,
    /// instead of waiting for one to come back: it is pipelined behind the statements already
    /// there, each in its own implicit transaction (see "Sharing a connection" in the tutorial).
    /// Under load the server then reads and answers several statements per round trip.
    /// Costs: a joined statement waits behind its neighbours (a slow one delays it; the acquire
    /// timeout does not bound that wait), and the pool does not grow for it. A waiter that may
    /// not share (`async_acquire`, another statement) is served first come, first served: the
    /// statements behind it wait too, and the connection it waits for drains to it.
    /// `async_acquire` never shares. Ignored while `on_acquire` is set.
    std::size_t max_statements_per_connection = 1;
};

} // namespace asiopg

#endif
