// Bad and extreme input: a 100 MB parameter, a 10 MB statement, NUL bytes and invalid UTF-8 in
// statements and parameters, the 65,535-parameter limit. Each gets a clear error code and the
// server's (or asiopg's) message — or works — and the connection stays usable.
#include <asiopg.hpp>

#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <string>
#include <string_view>

using namespace asiopg;
using namespace asiopg::test;

namespace {

// The connection still answers.
void still_usable(session& s) {
    BOOST_TEST(s.conn.is_open());
    BOOST_TEST(s.query("SELECT 7").at(0).at(0).as<int>() == 7);
}

} // namespace

BOOST_AUTO_TEST_SUITE(bad_input)

ASIOPG_TEST_CASE(a_100_mb_text_parameter_round_trips) {
    session s;
    const std::string big(100'000'000, 'x');
    auto r = s.query("SELECT length($1::text), right($1::text, 3), $1::text = repeat('x', 100000000)", params(big));
    BOOST_TEST(r[0][0].as<std::int64_t>() == 100'000'000);
    BOOST_TEST(r[0][1].as<std::string>() == "xxx");
    BOOST_TEST(r[0][2].as<bool>());
    // And back: a 100 MB value in a result.
    auto back = s.query("SELECT repeat('y', 100000000)");
    BOOST_TEST(back[0][0].as<std::string_view>().size() == 100'000'000u);
    still_usable(s);
}

ASIOPG_TEST_CASE(a_10_mb_statement_runs) {
    session s;
    const std::string padding(10'000'000, ' ');
    const std::string sql = "SELECT 1 AS one" + padding + ", $1::int AS two";
    auto r = s.query(sql, params(2));
    BOOST_TEST(r[0]["one"].as<int>() == 1);
    BOOST_TEST(r[0]["two"].as<int>() == 2);
    const std::string simple = "SELECT 3 /* " + std::string(10'000'000, 'c') + " */";
    BOOST_TEST(s.query(simple)[0][0].as<int>() == 3);
    still_usable(s);
}

// NUL cannot be in a statement's text or a text parameter (libpq takes C strings): refused
// before anything is sent, in every style, with a message saying where.
ASIOPG_TEST_CASE(nul_bytes_are_refused_before_sending) {
    session s;
    const std::string_view with_nul("SELECT 1\0 AS x", 15);
    const std::string nul_inside("a\0b", 3);
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            auto text = run<result>(st, s.ctx, [&](auto&& tok) { return s.conn.async_execute(with_nul, tok); });
            BOOST_TEST((text.ec == client_errc::invalid_parameter), text.ec.message());
            BOOST_TEST(s.conn.get_diagnostics().message.find("NUL") != std::string::npos);
            if (throws(st)) BOOST_TEST(text.what.find("NUL") != std::string::npos, text.what);
            auto param = run<result>(st, s.ctx, [&](auto&& tok) {
                return s.conn.async_execute("SELECT $1::text", params(nul_inside), tok);
            });
            BOOST_TEST((param.ec == client_errc::invalid_parameter), param.ec.message());
            BOOST_TEST(s.conn.get_diagnostics().message.find("parameter $1 contains a NUL byte") != std::string::npos,
                       s.conn.get_diagnostics().message);
        }
    }
    // As bytea (binary), NUL bytes are data.
    auto r = s.query("SELECT length($1::bytea)", params(bytes{'a', 0, 'b'}));
    BOOST_TEST(r[0][0].as<int>() == 3);
    // A pipeline refuses the statement when it is added.
    pipeline p;
    BOOST_CHECK_THROW(p.add(with_nul), error_with_diagnostics);
    still_usable(s);
}

// Invalid UTF-8 reaches the server, which rejects it (22021) with its message; the session
// goes on.
ASIOPG_TEST_CASE(invalid_utf8_is_the_servers_error) {
    session s;
    // (Locals: with use_awaitable the operation starts when awaited, and reads them then.)
    const std::string bad = "\xff\xfe ok", overlong = "\xc0\xaf", truncated = "abc\xe2\x82";
    const std::string bad_text = "SELECT '" + bad + "'";
    for (style st : {style::callback, style::awaitable}) {
        BOOST_TEST_CONTEXT(st) {
            for (const std::string* value : {&bad, &overlong, &truncated}) {
                auto param = run<result>(st, s.ctx, [&](auto&& tok) {
                    return s.conn.async_execute("SELECT $1::text", params(*value), tok);
                });
                BOOST_TEST((param.ec == sqlstate::character_not_in_repertoire), param.ec.message());
                BOOST_TEST(s.conn.get_diagnostics().message.find("invalid byte sequence") != std::string::npos,
                           s.conn.get_diagnostics().message);
            }
            auto text = run<result>(st, s.ctx, [&](auto&& tok) { return s.conn.async_execute(bad_text, tok); });
            BOOST_TEST((text.ec == sqlstate::character_not_in_repertoire), text.ec.message());
        }
    }
    still_usable(s);
}

// 65,535 parameters (the protocol's limit) work; one more is refused with a clear message,
// nothing sent — on its own and in a pipeline.
ASIOPG_TEST_CASE(the_parameter_limit_is_reported_clearly) {
    session s;
    auto numbered = [](std::size_t n) {
        param_buffer b;
        for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<std::int32_t>(i + 1));
        return b;
    };
    const param_buffer at_limit = numbered(max_parameters);
    const std::string sql = "SELECT $1::int + $" + std::to_string(max_parameters) + "::int";
    auto ok = run<result>(style::callback, s.ctx, [&](auto&& tok) { return s.conn.async_execute(sql, at_limit, tok); });
    BOOST_TEST_REQUIRE(!ok.ec, s.conn.get_diagnostics().message);
    BOOST_TEST((*ok.value)[0][0].as<std::int64_t>() == 1 + static_cast<std::int64_t>(max_parameters));

    const param_buffer over = numbered(max_parameters + 1);
    auto refused = run<result>(style::awaitable, s.ctx, [&](auto&& tok) { return s.conn.async_execute(sql, over, tok); });
    BOOST_TEST((refused.ec == client_errc::invalid_parameter), refused.ec.message());
    BOOST_TEST(refused.what.find("at most 65535") != std::string::npos, refused.what);
    pipeline p;
    BOOST_CHECK_THROW(p.add(sql, over), error_with_diagnostics);
    still_usable(s);
}

BOOST_AUTO_TEST_SUITE_END()
