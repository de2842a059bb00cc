// A connected session for integration tests: its own io_context, a connection to the test
// server, and short helpers that run one operation (callback style) with a deadline.
#ifndef ASIOPG_TEST_SESSION_HPP
#define ASIOPG_TEST_SESSION_HPP

#include <asiopg/connection.hpp>

#include "server.hpp"
#include "styles.hpp"

#include <boost/test/unit_test.hpp>

namespace asiopg::test {

struct session {
    asio::io_context ctx;
    connection conn{ctx};

    session() { BOOST_TEST_REQUIRE(!reconnect(), "connect: " << conn.get_diagnostics().message); }

    error_code reconnect() {
        return run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(tcp_conninfo(), tok); }).ec;
    }
    /// Runs `sql` (simple protocol), whatever the outcome.
    outcome<result> exec(std::string_view sql) {
        return run<result>(style::callback, ctx, [&](auto&& tok) { return conn.async_execute(sql, tok); });
    }
    /// Runs `sql` with bound parameters (extended protocol), whatever the outcome.
    template <class... Ts>
    outcome<result> exec(std::string_view sql, const param_list<Ts...>& ps, style s = style::callback) {
        return run<result>(s, ctx, [&](auto&& tok) { return conn.async_execute(sql, ps, tok); });
    }
    /// Runs `sql` and requires success.
    result query(std::string_view sql) { return required(exec(sql), sql); }
    template <class... Ts>
    result query(std::string_view sql, const param_list<Ts...>& ps) { return required(exec(sql, ps), sql); }

private:
    result required(outcome<result> out, std::string_view sql) {
        BOOST_TEST_REQUIRE(!out.ec, sql.substr(0, 200) << ": " << conn.get_diagnostics().to_string());
        return std::move(*out.value);
    }
};

} // namespace asiopg::test

#endif
