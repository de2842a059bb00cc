#ifndef ASIOPG_CONNECT_PARAMS_HPP
#define ASIOPG_CONNECT_PARAMS_HPP

#include <asiopg/logger.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace asiopg {

/// Where and how to connect.
///
/// `conninfo` is anything libpq accepts: `"host=db port=5432 dbname=app"` or
/// `"postgresql://user@db:5432/app?sslmode=require"`, and may be empty. Each non-empty field
/// below overrides the same keyword of `conninfo`; `options` sets any other libpq keyword
/// (`sslmode`, `target_session_attrs`, `application_name` …) and wins over both. What is still
/// unset falls back to libpq's environment variables (`PGHOST`, `PGPORT`, `PGUSER` …).
///
/// Host names are resolved with Asio's resolver (libpq never blocks on DNS); multi-host lists
/// (`host=a,b port=5432,5433`) and `target_session_attrs` work as in libpq. A host beginning with
/// `/` is a Unix-socket directory.
struct connect_params {
    std::string conninfo;
    std::string host;      ///< host name, IP address, socket directory, or a comma-separated list
    std::string port;      ///< port or comma-separated list of ports
    std::string user;
    std::string password;  ///< never logged, never part of an error message
    std::string dbname;
    std::vector<std::pair<std::string, std::string>> options;

    /// Deadline for the whole connect (resolution, TCP, TLS, authentication, every host).
    /// Zero means: libpq's `connect_timeout` keyword or `PGCONNECT_TIMEOUT` if given, else 30 s.
    /// Negative means no deadline.
    std::chrono::milliseconds connect_timeout{0};

    /// Where the connection reports connects, closes, cancels, timeouts and (if asked)
    /// statements; silent by default. Kept by the connection (see `connection::set_logger`).
    logger log;

    /// When set, the capacity of the connection's automatic statement cache from this connect
    /// on (`connection::set_statement_cache`; unset: the connection's setting, 100 by default).
    /// `0` sends every statement unnamed — the setting behind PgBouncer in transaction pooling,
    /// where the next transaction may run on another server connection (doc/pgbouncer.md). A
    /// pool's connections take it from `pool_params::connect`.
    std::optional<std::size_t> statement_cache;
};

} // namespace asiopg

#endif
