// COPY when things go wrong: bad rows, rows of the wrong size, abort, cancellation (a cancel
// signal, cancel_after), other operations during a COPY, statements that are not the expected
// COPY, errors at start, and writers/readers destroyed mid-COPY.
#include <asiopg/cancel_after.hpp>
#include <asiopg/connection.hpp>
#include <asiopg/copy.hpp>

#include "cancel.hpp"
#include "copy_session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

bool is_invalid_parameter(const error_with_diagnostics& e) { return e.code() == client_errc::invalid_parameter; }

// A table whose CHECK sleeps 30 s on the row with id 2: the server stops reading COPY data there.
constexpr const char* slow_table =
    "CREATE TEMP TABLE t (id int CHECK (id <> 2 OR pg_sleep(30)::text = ''), pad text)";

} // namespace

BOOST_AUTO_TEST_SUITE(copy)

ASIOPG_TEST_CASE(a_bad_row_fails_the_copy_with_the_server_error) {
    copy_session s;
    s.query("CREATE TEMP TABLE t (id int, val text)");
    for (style st : {style::callback, style::awaitable}) {
        BOOST_TEST_CONTEXT(st) {
            copy_writer w(s.conn);
            REQUIRE_OK(s.start(w, "COPY t FROM STDIN", st));
            w.write_raw("1\tok\nnotanint\tbad\n");
            // The server reports it at the flush, or at the latest at the finish.
            auto f = s.flush(w, st);
            BOOST_TEST_REQUIRE(f.completed);
            error_code ec = f.ec;
            diagnostics d = s.diag(f);
            if (!ec) {
                auto fin = s.finish(w, st);
                BOOST_TEST_REQUIRE(fin.completed);
                ec = fin.ec;
                d = s.diag(fin);
            }
            BOOST_TEST((ec == sqlstate::invalid_text_representation), ec.message());
            BOOST_TEST((ec == condition::data_exception));
            BOOST_TEST(d.sqlstate == "22P02");
            BOOST_TEST(d.message.find("notanint") != std::string::npos, d.to_string());
            BOOST_TEST((d.message + d.context).find("line 2") != std::string::npos, d.message << " / " << d.context);
            BOOST_TEST(!w.active());
            BOOST_TEST(s.conn.is_open());
            BOOST_TEST(s.count("t") == 0);
            BOOST_TEST(s.one() == 1);
        }
    }
}

ASIOPG_TEST_CASE(a_bad_row_after_many_good_ones) {
    copy_session s;
    s.query("CREATE TEMP TABLE t (id int, val text)");
    copy_writer w(s.conn);
    REQUIRE_OK(s.start(w, "COPY t (id, val) FROM STDIN"));
    constexpr int n = 200000, bad = 150000;
    error_code ec;
    diagnostics d;
    for (int i = 1; i <= n && !ec; ++i) {
        if (i == bad) w.write_row("notanint", "bad");
        else w.write_row(std::to_string(i), "good");
        if (w.should_flush()) {
            auto f = s.flush(w);
            BOOST_TEST_REQUIRE(f.completed);
            ec = f.ec;
            d = s.diag(f);
            // Nothing fails before the bad row was sent.
            if (ec) BOOST_TEST_REQUIRE(i >= bad, "failed at row " << i << ": " << d.to_string());
        }
    }
    if (!ec) {
        auto fin = s.finish(w);
        BOOST_TEST_REQUIRE(fin.completed);
        ec = fin.ec;
        d = s.diag(fin);
    }
    BOOST_TEST((ec == sqlstate::invalid_text_representation), ec.message());
    BOOST_TEST((d.message + d.context).find("line " + std::to_string(bad)) != std::string::npos,
               d.message << " / " << d.context);
    BOOST_TEST(!w.active());
    BOOST_TEST(s.count("t") == 0);
    BOOST_TEST(s.one() == 1);
}

ASIOPG_TEST_CASE(a_value_of_the_wrong_type_in_binary_format) {
    copy_session s;
    s.query("CREATE TEMP TABLE t (id int, val text)");
    copy_writer w(s.conn);
    REQUIRE_OK(s.start(w, "COPY t FROM STDIN (FORMAT binary)"));
    w.write_row(1, "ok");
    w.write_row(std::int64_t{2}, "an int8 for an int4 column"); // binary COPY: exact types only
    auto fin = s.finish(w);
    BOOST_TEST_REQUIRE(fin.completed);
    BOOST_TEST((fin.ec == sqlstate::invalid_binary_representation), fin.ec.message() << ": " << s.diag(fin).to_string());
    BOOST_TEST(!w.active());
    BOOST_TEST(s.count("t") == 0);
    BOOST_TEST(s.one() == 1);
}

ASIOPG_TEST_CASE(a_row_of_the_wrong_size_throws_and_sends_nothing) {
    copy_session s;
    s.query("CREATE TEMP TABLE t (id int, val text)");
    copy_writer w(s.conn);
    // Not started yet.
    BOOST_CHECK_EXCEPTION(w.write_row(1, "x"), error_with_diagnostics, is_invalid_parameter);
    REQUIRE_OK(s.start(w, "COPY t (id, val) FROM STDIN"));
    BOOST_CHECK_EXCEPTION(w.write_row(1), error_with_diagnostics, is_invalid_parameter);
    BOOST_CHECK_EXCEPTION(w.write_row(1, "a", "b"), error_with_diagnostics, is_invalid_parameter);
    BOOST_TEST(w.active());
    // The rejected rows left nothing behind: the COPY goes on.
    w.write_row(1, "kept");
    auto fin = s.finish(w);
    REQUIRE_OK(fin);
    BOOST_TEST(*fin.value == 1u);
    BOOST_TEST(s.query("SELECT val FROM t").at(0).at(0).as<std::string>() == "kept");
}

ASIOPG_TEST_CASE(abort_inserts_nothing) {
    copy_session s;
    s.query("CREATE TEMP TABLE t (id int, val text)");
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            copy_writer w(s.conn);
            w.set_flush_threshold(1024);
            REQUIRE_OK(s.start(w, "COPY t (id, val) FROM STDIN", st));
            for (int i = 0; i < 1000; ++i) {
                w.write_row(i, "row");
                if (w.should_flush()) REQUIRE_OK(s.flush(w, st));
            }
            auto a = run<no_value>(st, s.ctx, [&](auto&& tok) { return w.async_abort("the caller changed its mind", tok); });
            REQUIRE_OK(a);
            BOOST_TEST(!w.active());
            BOOST_TEST(s.conn.is_open());
            BOOST_TEST(s.count("t") == 0);
        }
    }
}

ASIOPG_TEST_CASE(partial_cancellation_of_a_copy_read) {
    copy_session s;
    copy_reader r(s.conn);
    // Far more than the socket buffers hold: the server is blocked sending while we read slowly.
    REQUIRE_OK(s.start(r, "COPY (SELECT generate_series(1, 100000000) AS g, repeat('x', 50) AS pad) TO STDOUT"));
    copy_rows rows;
    std::int64_t rows_read = 0;
    outcome<std::size_t> out;
    // One signal for every read (an emit that comes late reaches the next read: fine here).
    asio::cancellation_signal sig;
    for (int i = 0; i < 2000; ++i) {
        // Read a few batches slowly, then cancel each read while it is in flight (the first one
        // that is still pending when the signal comes ends the COPY; one already complete is
        // not cancelled, so try again).
        if (i < 5) std::this_thread::sleep_for(20ms);
        else asio::post(s.ctx, [&] { sig.emit(asio::cancellation_type::partial); });
        out = run<std::size_t>(style::callback, s.ctx, [&](auto&& tok) {
            return r.async_read_rows(rows, 100, with_slot(sig.slot(), tok));
        });
        BOOST_TEST_REQUIRE(out.completed);
        if (out.ec) break;
        BOOST_TEST_REQUIRE(*out.value > 0u);
        rows_read += static_cast<std::int64_t>(*out.value);
    }
    BOOST_TEST((out.ec == sqlstate::query_canceled), out.ec.message() << ": " << s.diag(out).to_string());
    BOOST_TEST(rows_read >= 5);
    BOOST_TEST(!r.active());
    BOOST_TEST(s.conn.is_open());
    BOOST_TEST(s.one() == 1);
}

ASIOPG_TEST_CASE(terminal_cancellation_of_a_copy_read_closes_the_connection) {
    copy_session s;
    copy_reader r(s.conn);
    // Rows of 9 kB go out at once; row 3 sleeps.
    REQUIRE_OK(s.start(r, "COPY (SELECT g, CASE WHEN g = 3 THEN pg_sleep(30)::text END, repeat('x', 9000) "
                          "FROM generate_series(1, 5) g) TO STDOUT"));
    copy_rows rows;
    delayed_cancel c(s.ctx, 200ms, asio::cancellation_type::terminal);
    outcome<std::size_t> out;
    int rows_read = 0;
    for (int i = 0; i < 5; ++i) { // the rows sent before the sleep come at once, then a read waits
        out = run<std::size_t>(style::callback, s.ctx, [&](auto&& tok) {
            return r.async_read_rows(rows, 1, with_slot(c.sig.slot(), tok));
        }, 10s);
        BOOST_TEST_REQUIRE(out.completed);
        if (out.ec) break;
        rows_read += static_cast<int>(*out.value);
    }
    BOOST_TEST(rows_read >= 1);
    BOOST_TEST(rows_read < 3);
    BOOST_TEST((out.ec == asio::error::operation_aborted), out.ec.message());
    BOOST_TEST(!s.conn.is_open());
    BOOST_TEST(!r.active());
}

ASIOPG_TEST_CASE(cancel_after_on_a_copy_read) {
    copy_session s;
    copy_reader r(s.conn);
    // 19 rows of 1 kB fill the server's 8 kB output buffer (so some are sent), then row 20 sleeps.
    REQUIRE_OK(s.start(r, "COPY (SELECT g, repeat('x', 1000), CASE WHEN g = 20 THEN pg_sleep(30)::text END "
                          "FROM generate_series(1, 30) g) TO STDOUT"));
    copy_rows rows;
    int rows_read = 0;
    outcome<std::size_t> out;
    for (int i = 0; i < 40; ++i) {
        out = run<std::size_t>(style::awaitable, s.ctx, [&](auto&& tok) {
            return r.async_read_rows(rows, 1, cancel_after(300ms, tok));
        }, 10s);
        BOOST_TEST_REQUIRE(out.completed);
        if (out.ec) break;
        BOOST_TEST_REQUIRE(*out.value == 1u);
        BOOST_TEST_REQUIRE(rows[0][0].as<int>() == ++rows_read);
    }
    BOOST_TEST((out.ec == client_errc::timeout), out.ec.message() << ": " << out.what);
    BOOST_TEST(out.threw);
    BOOST_TEST(rows_read >= 1);
    BOOST_TEST(rows_read < 20);
    BOOST_TEST(!r.active());
    BOOST_TEST(s.conn.is_open());
    BOOST_TEST(s.one() == 1);
}

ASIOPG_TEST_CASE(partial_cancellation_of_a_copy_flush) {
    copy_session s;
    s.query("CREATE TEMP TABLE t (id int, pad text)");
    for (style st : {style::callback, style::future}) {
        BOOST_TEST_CONTEXT(st) {
            copy_writer w(s.conn);
            w.set_flush_threshold(std::size_t{1} << 30);
            REQUIRE_OK(s.start(w, "COPY t (id, pad) FROM STDIN"));
            // 64 MB a flush, cancelled as soon as it waits for the socket (a flush that is
            // already complete then is not cancelled: try again). Loopback sockets can hold
            // tens of MB (tcp_rmem max is 32 MB on some machines): a 16 MB flush could go out
            // at once, every time, and never wait.
            std::string pad(1024, 'p');
            int id = 0, flushes = 0;
            outcome<no_value> f;
            asio::cancellation_signal sig;
            while (flushes < 8) {
                for (int k = 0; k < 64 * 1024; ++k) w.write_row(++id, pad);
                asio::post(s.ctx, [&] { sig.emit(asio::cancellation_type::partial); });
                f = run<no_value>(st, s.ctx, [&](auto&& tok) { return w.async_flush(with_slot(sig.slot(), tok)); }, 10s);
                BOOST_TEST_REQUIRE(f.completed);
                ++flushes;
                if (f.ec) break;
            }
            BOOST_TEST((f.ec == sqlstate::query_canceled), f.ec.message() << ": " << s.diag(f).to_string());
            BOOST_TEST(!w.active());
            BOOST_TEST_REQUIRE(s.conn.is_open());
            BOOST_TEST(s.count("t") == 0);
            BOOST_TEST(s.one() == 1);
        }
    }
}

ASIOPG_TEST_CASE(partial_cancellation_of_a_copy_flush_to_a_busy_server) {
    copy_session s;
    s.query(slow_table);
    for (style st : {style::callback, style::future}) {
        BOOST_TEST_CONTEXT(st) {
            copy_writer w(s.conn);
            w.set_flush_threshold(std::size_t{1} << 30);
            REQUIRE_OK(s.start(w, "COPY t (id, pad) FROM STDIN"));
            // 4 MB a flush, each cancelled if still in flight after 300 ms: once the server
            // sleeps on row 2 and the sockets are full (some tens of MB), a flush has to wait.
            std::string pad(1024, 'p');
            int id = 0, flushes = 0;
            outcome<no_value> f;
            while (flushes < 64) {
                for (int k = 0; k < 4096; ++k) w.write_row(++id, pad);
                delayed_cancel c(s.ctx, 300ms);
                f = run<no_value>(st, s.ctx, [&](auto&& tok) { return w.async_flush(with_slot(c.sig.slot(), tok)); }, 10s);
                BOOST_TEST_REQUIRE(f.completed, "flush " << flushes << " (cancelled after 300 ms) still running after 10 s");
                ++flushes;
                if (f.ec) break;
            }
            BOOST_TEST((f.ec == sqlstate::query_canceled), f.ec.message() << ": " << s.diag(f).to_string());
            BOOST_TEST(flushes >= 2); // the first ones went through
            BOOST_TEST(!w.active());
            BOOST_TEST_REQUIRE(s.conn.is_open());
            BOOST_TEST(s.count("t") == 0);
        }
    }
    BOOST_TEST(s.one() == 1);
}

ASIOPG_TEST_CASE(partial_cancellation_of_a_copy_finish) {
    copy_session s;
    s.query(slow_table);
    // All sent; the server sleeps on row 2 before its verdict.
    for (style st : {style::callback, style::awaitable}) {
        BOOST_TEST_CONTEXT(st) {
            copy_writer w(s.conn);
            REQUIRE_OK(s.start(w, "COPY t (id, pad) FROM STDIN"));
            w.write_row(1, "a");
            w.write_row(2, "b");
            w.write_row(3, "c");
            delayed_cancel c(s.ctx, 300ms);
            auto fin = run<std::uint64_t>(st, s.ctx, [&](auto&& tok) { return w.async_finish(with_slot(c.sig.slot(), tok)); }, 10s);
            BOOST_TEST_REQUIRE(fin.completed, "finish (cancelled after 300 ms) still running after 10 s");
            BOOST_TEST((fin.ec == sqlstate::query_canceled), fin.ec.message() << ": " << s.diag(fin).to_string());
            BOOST_TEST(!w.active());
            BOOST_TEST_REQUIRE(s.conn.is_open());
            BOOST_TEST(s.count("t") == 0);
        }
    }
    BOOST_TEST(s.one() == 1);
}

ASIOPG_TEST_CASE(other_operations_fail_while_a_copy_is_active) {
    copy_session s;
    s.query("CREATE TEMP TABLE t (id int)");
    {
        copy_writer w(s.conn);
        REQUIRE_OK(s.start(w, "COPY t FROM STDIN"));
        w.write_row(1);
        auto q = s.exec("SELECT 1");
        BOOST_TEST((q.ec == client_errc::operation_in_progress), q.ec.message());
        copy_reader other(s.conn);
        auto o = s.start(other, "COPY t TO STDOUT");
        BOOST_TEST((o.ec == client_errc::operation_in_progress), o.ec.message());
        BOOST_TEST(w.active()); // the COPY is not disturbed
        auto fin = s.finish(w);
        REQUIRE_OK(fin);
        BOOST_TEST(*fin.value == 1u);
    }
    {
        copy_reader r(s.conn);
        REQUIRE_OK(s.start(r, "COPY t TO STDOUT"));
        auto q = s.exec("SELECT 1");
        BOOST_TEST((q.ec == client_errc::operation_in_progress), q.ec.message());
        copy_rows rows;
        auto got = s.read_rows(r, rows, 10);
        REQUIRE_OK(got);
        BOOST_TEST_REQUIRE(*got.value == 1u);
        BOOST_TEST(rows[0][0].as<int>() == 1);
        auto end = s.read_rows(r, rows, 10);
        REQUIRE_OK(end);
        BOOST_TEST(*end.value == 0u);
    }
    BOOST_TEST(s.one() == 1);
}

ASIOPG_TEST_CASE(a_statement_that_is_not_the_expected_copy) {
    copy_session s;
    s.query("CREATE TEMP TABLE t (id int)");
    s.query("INSERT INTO t VALUES (1), (2)");
    for (const char* sql : {"SELECT 1", "COPY t TO STDOUT"}) {
        BOOST_TEST_CONTEXT("writer: " << sql) {
            copy_writer w(s.conn);
            auto out = s.start(w, sql);
            BOOST_TEST((out.ec == client_errc::unexpected_result), out.ec.message());
            BOOST_TEST(!w.active());
            BOOST_TEST(s.one() == 1);
        }
    }
    for (const char* sql : {"SELECT 1", "COPY t FROM STDIN"}) {
        BOOST_TEST_CONTEXT("reader: " << sql) {
            copy_reader r(s.conn);
            auto out = s.start(r, sql);
            BOOST_TEST((out.ec == client_errc::unexpected_result), out.ec.message());
            BOOST_TEST(!r.active());
            BOOST_TEST(s.one() == 1);
        }
    }
    BOOST_TEST(s.count("t") == 2);
}

ASIOPG_TEST_CASE(a_server_error_at_start) {
    copy_session s;
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            copy_writer w(s.conn);
            auto out = s.start(w, "COPY asiopg_no_such_table FROM STDIN", st);
            BOOST_TEST_REQUIRE(out.completed);
            BOOST_TEST((out.ec == sqlstate::undefined_table), out.ec.message());
            if (throws(st)) BOOST_TEST(out.threw);
            BOOST_TEST(s.diag(out).sqlstate == "42P01");
            BOOST_TEST(s.diag(out).message.find("asiopg_no_such_table") != std::string::npos, s.diag(out).message);
            BOOST_TEST(!w.active());
            BOOST_TEST(s.one() == 1);
        }
    }
    copy_reader r(s.conn);
    auto out = s.start(r, "COPY asiopg_no_such_table TO STDOUT");
    BOOST_TEST((out.ec == sqlstate::undefined_table), out.ec.message());
    BOOST_TEST(!r.active());
    BOOST_TEST(s.one() == 1);
}

ASIOPG_TEST_CASE(destroying_an_unfinished_copy_closes_the_connection) {
    copy_session s;
    s.query("CREATE TEMP TABLE t (id int)");
    {
        copy_writer never_started(s.conn);
    }
    {
        copy_writer finished(s.conn);
        REQUIRE_OK(s.start(finished, "COPY t FROM STDIN"));
        finished.write_row(1);
        REQUIRE_OK(s.finish(finished));
    }
    BOOST_TEST_REQUIRE(s.conn.is_open()); // neither of those touches the connection
    {
        copy_writer w(s.conn);
        REQUIRE_OK(s.start(w, "COPY t FROM STDIN"));
        w.write_row(2);
        REQUIRE_OK(s.flush(w));
    }
    BOOST_TEST(!s.conn.is_open());

    BOOST_TEST_REQUIRE(!s.reconnect());
    {
        copy_reader r(s.conn);
        REQUIRE_OK(s.start(r, "COPY (SELECT generate_series(1, 100000)) TO STDOUT"));
        copy_rows rows;
        REQUIRE_OK(s.read_rows(r, rows, 10));
    }
    BOOST_TEST(!s.conn.is_open());
}

BOOST_AUTO_TEST_SUITE_END()
