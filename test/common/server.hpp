// Where the test server is: libpq's PG* variables (tools/pg-cluster env sets them) and
// ASIOPG_TEST_SOCKET_DIR for the Unix socket.
#ifndef ASIOPG_TEST_SERVER_HPP
#define ASIOPG_TEST_SERVER_HPP

#include <asiopg/connect_params.hpp>

#include <cstdlib>
#include <string>
#include <utility>

namespace asiopg::test {

inline std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

inline std::string server_host() { return env_or("PGHOST", "127.0.0.1"); }
inline std::string server_port() { return env_or("PGPORT", "5432"); }
inline std::string server_user() { return env_or("PGUSER", "tester"); }
inline std::string server_password() { return env_or("PGPASSWORD", "testpass"); }
inline std::string server_db() { return env_or("PGDATABASE", "testdb"); }
inline std::string socket_dir() { return env_or("ASIOPG_TEST_SOCKET_DIR", ""); }

/// TCP conninfo with every field explicit (tests must not depend on libpq's own env fallback).
inline std::string tcp_conninfo() {
    return "host=" + server_host() + " port=" + server_port() + " user=" + server_user() +
           " password=" + server_password() + " dbname=" + server_db();
}

/// Every field explicit, for `host` (an address, a name or a socket directory).
inline connect_params server_params(std::string host = server_host()) {
    connect_params p;
    p.host = std::move(host);
    p.port = server_port();
    p.user = server_user();
    p.password = server_password();
    p.dbname = server_db();
    return p;
}

} // namespace asiopg::test

#endif
