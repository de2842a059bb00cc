#ifndef ASIOPG_SERVER_CURSOR_HPP
#define ASIOPG_SERVER_CURSOR_HPP

#include <asiopg/connection.hpp>
#include <asiopg/sql_format.hpp>

#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace asiopg {

/// A server-side cursor: `DECLARE … CURSOR FOR <query>`, then `FETCH FORWARD n` as often as
/// needed, then `CLOSE` — a large result walked n rows at a time, each fetch one round trip
/// (aiopg's most-asked missing feature). Without `with_hold` it lives in a transaction block:
/// `BEGIN` first (else the server answers 25P01 `no_active_sql_transaction`).
/// \code
///   co_await conn.async_execute("BEGIN", asio::use_awaitable);
///   asiopg::server_cursor cur(conn);
///   co_await cur.async_open("SELECT * FROM big WHERE kind = $1", asiopg::params(kind), asio::use_awaitable);
///   for (;;) {
///       asiopg::result rows = co_await cur.async_fetch(1000, asio::use_awaitable);
///       if (rows.empty()) break;
///       for (asiopg::row_view row : rows) handle(row);
///   }
///   co_await cur.async_close(asio::use_awaitable);
///   co_await conn.async_execute("COMMIT", asio::use_awaitable);
/// \endcode
///
/// \par Object lifetimes
/// Refers to `conn`, which must outlive it, and keeps the SQL of its commands: it must stay
/// alive until each operation has started. Not copyable.
/// \par Thread safety
/// As the connection's.
class server_cursor {
public:
    /// A cursor on `conn`. `with_hold`: the cursor survives its transaction's COMMIT (the server
    /// then materialises the rest of the result). The name is generated, and quoted by libpq.
    explicit server_cursor(connection& conn, bool with_hold = false)
        : conn_(&conn), with_hold_(with_hold), name_("asiopg_c" + std::to_string(next_id())) {}
    server_cursor(const server_cursor&) = delete;
    server_cursor& operator=(const server_cursor&) = delete;

    const std::string& name() const noexcept { return name_; }

    /// Declares the cursor for `query` with `$1 … $n` bound to `ps`. Signature:
    /// `void(error_code, result)` (the result holds only the command tag).
    /// \throws error_with_diagnostics if the connection is not open (the name is quoted by it).
    template <class... Ts, class Token = boost::asio::deferred_t>
    auto async_open(std::string_view query, const param_list<Ts...>& ps, Token&& token = {}) {
        sql_ = "DECLARE " + escape_identifier(*conn_, name_) + " NO SCROLL CURSOR " +
               (with_hold_ ? "WITH HOLD " : "") + "FOR " + std::string(query);
        return conn_->async_execute(sql_, ps, std::forward<Token>(token));
    }
    template <class Token = boost::asio::deferred_t>
        requires(!detail::is_param_list<std::remove_cvref_t<Token>>::value)
    auto async_open(std::string_view query, Token&& token = {}) {
        return async_open(query, params(), std::forward<Token>(token));
    }

    /// The next `rows` rows (at least 1). Signature: `void(error_code, result)`; an empty result
    /// means the cursor is exhausted.
    template <class Token = boost::asio::deferred_t>
    auto async_fetch(std::size_t rows, Token&& token = {}) {
        sql_ = "FETCH FORWARD " + std::to_string(rows == 0 ? 1 : rows) + " FROM " + escape_identifier(*conn_, name_);
        return conn_->async_execute(sql_, std::forward<Token>(token));
    }

    /// Closes the cursor on the server (COMMIT or ROLLBACK also do, unless `with_hold`).
    /// Signature: `void(error_code, result)`.
    template <class Token = boost::asio::deferred_t>
    auto async_close(Token&& token = {}) {
        sql_ = "CLOSE " + escape_identifier(*conn_, name_);
        return conn_->async_execute(sql_, std::forward<Token>(token));
    }

private:
    static unsigned long next_id() {
        static std::atomic<unsigned long> counter{0};
        return ++counter;
    }

    connection* conn_;
    bool with_hold_;
    std::string name_;
    std::string sql_; // the command in flight: async_execute refers to it until it starts
};

} // namespace asiopg

#endif
