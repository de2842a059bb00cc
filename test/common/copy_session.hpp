// A session with one-line helpers for the COPY operations (callback style unless told), for
// the COPY integration tests.
#ifndef ASIOPG_TEST_COPY_SESSION_HPP
#define ASIOPG_TEST_COPY_SESSION_HPP

#include <asiopg/copy.hpp>

#include "session.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace asiopg::test {

struct copy_session : session {
    outcome<no_value> start(copy_writer& w, std::string_view sql, style st = style::callback) {
        return run<no_value>(st, ctx, [&](auto&& tok) { return w.async_start(sql, tok); });
    }
    outcome<no_value> start(copy_reader& r, std::string_view sql, style st = style::callback) {
        return run<no_value>(st, ctx, [&](auto&& tok) { return r.async_start(sql, tok); });
    }
    outcome<no_value> flush(copy_writer& w, style st = style::callback) {
        return run<no_value>(st, ctx, [&](auto&& tok) { return w.async_flush(tok); });
    }
    outcome<std::uint64_t> finish(copy_writer& w, style st = style::callback) {
        return run<std::uint64_t>(st, ctx, [&](auto&& tok) { return w.async_finish(tok); });
    }
    outcome<no_value> abort(copy_writer& w, std::string_view reason, style st = style::callback) {
        return run<no_value>(st, ctx, [&](auto&& tok) { return w.async_abort(reason, tok); });
    }
    outcome<std::size_t> read_rows(copy_reader& r, copy_rows& rows, std::size_t n, style st = style::callback) {
        return run<std::size_t>(st, ctx, [&](auto&& tok) { return r.async_read_rows(rows, n, tok); });
    }
    outcome<std::size_t> read(copy_reader& r, std::string& out, std::size_t n, style st = style::callback) {
        return run<std::size_t>(st, ctx, [&](auto&& tok) { return r.async_read(out, n, tok); });
    }
    /// The failed operation's diagnostics: from the exception, or the connection's.
    template <class T>
    diagnostics diag(const outcome<T>& o) const { return o.threw ? o.diag : conn.get_diagnostics(); }
    std::int64_t count(const std::string& table) {
        return query("SELECT count(*) FROM " + table).at(0).at(0).as<std::int64_t>();
    }
    int one() { return query("SELECT 1").at(0).at(0).as<int>(); }
};

} // namespace asiopg::test

// Requires an outcome (evaluated once) to be a success; says why not. Needs a copy_session `s`.
#define REQUIRE_OK(expr)                                                                   \
    do {                                                                                   \
        auto&& out_ = (expr);                                                              \
        BOOST_TEST_REQUIRE(out_.completed, "no completion before the deadline");           \
        BOOST_TEST_REQUIRE(!out_.ec, out_.ec.message() << ": " << s.diag(out_).to_string()); \
    } while (0)

#endif
