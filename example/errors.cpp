// A tour of error handling: error codes compared with SQLSTATEs and conditions, is_fatal, the
// server's diagnostics fields, conversion errors when reading a field, and recovering from an
// error that ends the session.
//
// Usage: errors [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when every error was the one expected.

#include <asiopg.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <exception>
#include <iostream>
#include <optional>
#include <string>

namespace asio = boost::asio;

namespace {

bool all_as_expected = true;

void expect(bool condition, const char* what) {
    std::cout << (condition ? "  yes: " : "  NO:  ") << what << '\n';
    if (!condition) all_as_expected = false;
}

//[errors_print
void print(const asiopg::diagnostics& d) {
    std::cout << "  severity:   " << d.severity << '\n'
              << "  sqlstate:   " << d.sqlstate << '\n'
              << "  message:    " << d.message << '\n'
              << "  detail:     " << d.detail << '\n'
              << "  hint:       " << d.hint << '\n'
              << "  position:   " << d.position << '\n'
              << "  table:      " << d.table << '\n'
              << "  constraint: " << d.constraint << '\n';
}
//]

//[errors_codes
// With as_tuple the error comes back as a value, not an exception, and the connection keeps the
// diagnostics: the same holds for callbacks, deferred, yield[ec] and other adapters.
asio::awaitable<void> compare_codes(asiopg::connection& conn) {
    auto [ec, r] = co_await conn.async_execute("SELECT * FROM no_such_table",
                                               asio::as_tuple(asio::use_awaitable));
    std::cout << "undefined table: " << ec.message() << " [" << asiopg::sqlstate_text(ec) << "]\n";
    expect(ec == asiopg::sqlstate::undefined_table, "ec == sqlstate::undefined_table");
    expect(ec == asiopg::condition::syntax_error_or_access_rule_violation,
           "ec == condition::syntax_error_or_access_rule_violation (class 42)");
    expect(!asiopg::is_fatal(ec), "!is_fatal(ec): the connection is still usable");
    expect(conn.get_diagnostics().position == 15, "the error is at character 15 of the query");
}
//]

//[errors_diagnostics
asio::awaitable<void> read_diagnostics(asiopg::connection& conn) {
    co_await conn.async_execute("CREATE TEMP TABLE users (id int PRIMARY KEY, name text NOT NULL);"
                                "INSERT INTO users VALUES (1, 'alice')",
                                asio::use_awaitable);
    int id = 1;
    std::string name = "bob";
    try {
        co_await conn.async_execute("INSERT INTO users VALUES ($1, $2)", asiopg::params(id, name),
                                    asio::use_awaitable);
    } catch (const asiopg::error_with_diagnostics& e) {
        std::cout << "unique violation: " << e.what() << '\n';
        print(e.get_diagnostics());
        expect(e.code() == asiopg::sqlstate::unique_violation, "code == sqlstate::unique_violation");
        expect(e.code() == asiopg::condition::unique_violation, "code == condition::unique_violation");
        expect(e.code() == asiopg::condition::integrity_constraint_violation,
               "code == condition::integrity_constraint_violation (class 23)");
        expect(e.get_diagnostics().constraint == "users_pkey", "the constraint is users_pkey");
    }

    try {
        co_await conn.async_execute("SELECT nmae FROM users", asio::use_awaitable);
    } catch (const asiopg::error_with_diagnostics& e) {
        std::cout << "undefined column:\n";
        print(e.get_diagnostics()); // with a hint and a position
        expect(e.code() == asiopg::sqlstate::undefined_column, "code == sqlstate::undefined_column");
    }
}
//]

//[errors_conversion
asio::awaitable<void> convert_fields(asiopg::connection& conn) {
    asiopg::result big = co_await conn.async_execute("SELECT 70000 AS n, NULL::int AS nothing",
                                                     asio::use_awaitable);
    try {
        std::int16_t n = big[0]["n"].as<std::int16_t>(); // 70000 does not fit
        std::cout << "read " << n << '\n';
    } catch (const asiopg::error_with_diagnostics& e) {
        std::cout << "conversion: " << e.what() << '\n';
        expect(e.code() == asiopg::client_errc::conversion_error, "code == client_errc::conversion_error");
        expect(!e.get_diagnostics().from_server(), "a client error: no SQLSTATE");
    }
    expect(big[0]["n"].as<std::int32_t>() == 70000, "as<std::int32_t>() reads it");
    expect(!big[0]["nothing"].as<std::optional<int>>(), "NULL read as std::optional<int> is nullopt");
}
//]

//[errors_fatal
// An error that ends the session: is_fatal() says reconnect.
asio::awaitable<void> survive_a_fatal_error(asiopg::connection& conn, const std::string& conninfo) {
    auto [ec, r] = co_await conn.async_execute("SELECT pg_terminate_backend(pg_backend_pid())",
                                               asio::as_tuple(asio::use_awaitable));
    std::cout << "terminated: " << ec.message() << ": " << conn.get_diagnostics().to_string() << '\n';
    expect(ec == asiopg::sqlstate::admin_shutdown, "ec == sqlstate::admin_shutdown");
    expect(ec == asiopg::condition::connection_error, "ec == condition::connection_error");
    expect(asiopg::is_fatal(ec) && !conn.is_open(), "is_fatal(ec), and the connection is closed");
    if (asiopg::is_fatal(ec)) co_await conn.async_connect(conninfo, asio::use_awaitable);
    asiopg::result again = co_await conn.async_execute("SELECT 1", asio::use_awaitable);
    expect(again[0][0].as<int>() == 1, "reconnected");
}
//]

asio::awaitable<void> tour(std::string conninfo) {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);
    co_await compare_codes(conn);
    co_await read_diagnostics(conn);
    co_await convert_fields(conn);
    co_await survive_a_fatal_error(conn, conninfo);
}

} // namespace

int main(int argc, char** argv) {
    asio::io_context ctx;
    asio::co_spawn(ctx, tour(argc > 1 ? argv[1] : ""), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    try {
        ctx.run();
    } catch (const std::exception& e) { // an error the tour did not expect
        std::cerr << "errors: " << e.what() << '\n';
        return 1;
    }
    return all_as_expected ? 0 : 1;
}
