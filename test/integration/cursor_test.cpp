// Server-side cursors: DECLARE / FETCH n / CLOSE.
#include <asiopg.hpp>
#include <asiopg/server_cursor.hpp>

#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

using namespace asiopg;
using namespace asiopg::test;


BOOST_AUTO_TEST_SUITE(cursors)

ASIOPG_TEST_CASE(fetch_in_pages_in_every_style) {
    session s;
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT("style " << st) {
            s.query("BEGIN");
            server_cursor cur(s.conn);
            int limit = 2345;
            auto opened = run<result>(st, s.ctx, [&](auto&& tok) {
                return cur.async_open("SELECT g FROM generate_series(1, $1) g", params(limit), tok);
            });
            BOOST_TEST_REQUIRE(!opened.ec, opened.what);
            int expected = 1, pages = 0;
            for (;;) {
                auto page = run<result>(st, s.ctx, [&](auto&& tok) { return cur.async_fetch(1000, tok); });
                BOOST_TEST_REQUIRE(!page.ec, page.what);
                if (page.value->empty()) break;
                ++pages;
                for (row_view row : *page.value) BOOST_TEST_REQUIRE(row[0].as<int>() == expected++);
            }
            BOOST_TEST(expected == limit + 1);
            BOOST_TEST(pages == 3);
            auto closed = run<result>(st, s.ctx, [&](auto&& tok) { return cur.async_close(tok); });
            BOOST_TEST(!closed.ec, closed.what);
            s.query("COMMIT");
        }
    }
}

ASIOPG_TEST_CASE(outside_a_transaction_needs_with_hold) {
    session s;
    server_cursor plain(s.conn);
    auto refused = run<result>(style::callback, s.ctx, [&](auto&& tok) { return plain.async_open("SELECT 1", tok); });
    BOOST_TEST((refused.ec == sqlstate::no_active_sql_transaction));
    server_cursor held(s.conn, true);
    auto opened = run<result>(style::callback, s.ctx, [&](auto&& tok) {
        return held.async_open("SELECT generate_series(1, 10)", tok);
    });
    BOOST_TEST_REQUIRE(!opened.ec, s.conn.get_diagnostics().message);
    auto page = run<result>(style::callback, s.ctx, [&](auto&& tok) { return held.async_fetch(4, tok); });
    BOOST_TEST_REQUIRE(!page.ec);
    BOOST_TEST(page.value->size() == 4u);
    BOOST_TEST(!run<result>(style::callback, s.ctx, [&](auto&& tok) { return held.async_close(tok); }).ec);
}

ASIOPG_TEST_CASE(two_cursors_interleaved_and_errors) {
    session s;
    s.query("BEGIN");
    server_cursor a(s.conn), b(s.conn);
    BOOST_TEST(a.name() != b.name());
    BOOST_TEST_REQUIRE(!run<result>(style::callback, s.ctx, [&](auto&& tok) { return a.async_open("SELECT 'a' || g FROM generate_series(1, 3) g", tok); }).ec);
    BOOST_TEST_REQUIRE(!run<result>(style::callback, s.ctx, [&](auto&& tok) { return b.async_open("SELECT 'b' || g FROM generate_series(1, 3) g", tok); }).ec);
    auto fa = run<result>(style::callback, s.ctx, [&](auto&& tok) { return a.async_fetch(2, tok); });
    auto fb = run<result>(style::callback, s.ctx, [&](auto&& tok) { return b.async_fetch(2, tok); });
    BOOST_TEST((*fa.value)[1][0].as<std::string>() == "a2");
    BOOST_TEST((*fb.value)[0][0].as<std::string>() == "b1");
    s.query("COMMIT");
    auto gone = run<result>(style::callback, s.ctx, [&](auto&& tok) { return a.async_fetch(1, tok); });
    BOOST_TEST((gone.ec == sqlstate::invalid_cursor_name)); // closed by COMMIT
    s.query("BEGIN");
    server_cursor bad(s.conn);
    auto syntax = run<result>(style::callback, s.ctx, [&](auto&& tok) { return bad.async_open("SELEC 1", tok); });
    BOOST_TEST((syntax.ec == sqlstate::syntax_error));
    s.query("ROLLBACK");
}

BOOST_AUTO_TEST_SUITE_END()
