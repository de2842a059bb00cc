// Streaming large results a batch at a time (single-row mode).
#include <asiopg.hpp>

#include "pool.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <fstream>
#include <sstream>

using namespace asiopg;
using namespace asiopg::test;

namespace {
struct stream_session : session {
    outcome<std::size_t> read(row_batch& b, std::size_t n, style s = style::callback) {
        return run<std::size_t>(s, ctx, [&](auto&& tok) { return conn.async_read_rows(b, n, tok); });
    }
};

// Resets the process's peak RSS to its current RSS (Linux: "5" into clear_refs).
bool reset_peak_rss() {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    clear.flush();
    return clear.good();
}

// Peak resident set size of this process, in KiB (Linux).
long peak_rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}
} // namespace

BOOST_AUTO_TEST_SUITE(streaming)

ASIOPG_TEST_CASE(stream_in_every_style) {
    stream_session s;
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT("style " << st) {
            int limit = 2500;
            auto started = run<no_value>(st, s.ctx, [&](auto&& tok) {
                return s.conn.async_start_stream("SELECT g, 'row ' || g AS label FROM generate_series(1, $1) g",
                                                 params(limit), tok);
            });
            BOOST_TEST_REQUIRE(!started.ec, started.what);
            row_batch batch;
            int expected = 1, batches = 0;
            for (;;) {
                auto got = s.read(batch, 1000, st);
                BOOST_TEST_REQUIRE(!got.ec, got.what);
                if (*got.value == 0) break;
                ++batches;
                BOOST_TEST(*got.value <= 1000u);
                BOOST_TEST(batch.size() == *got.value);
                for (row_view row : batch) BOOST_TEST_REQUIRE(row["g"].as<int>() == expected++);
            }
            BOOST_TEST(expected == limit + 1);
            BOOST_TEST(batches >= 3);
            BOOST_TEST(batch.empty());
            auto after = run<result>(style::callback, s.ctx, [&](auto&& tok) { return s.conn.async_execute("SELECT 1", tok); });
            BOOST_TEST(!after.ec); // the connection is free again
        }
    }
}

ASIOPG_TEST_CASE(simple_protocol_stream_and_batch_rows_as_structs) {
    stream_session s;
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, s.ctx, [&](auto&& tok) {
        return s.conn.async_start_stream("SELECT g AS n FROM generate_series(1, 10) g", tok);
    }).ec);
    row_batch batch;
    auto got = s.read(batch, 100);
    BOOST_TEST_REQUIRE(!got.ec);
    auto tuples = batch.rows<std::tuple<int>>();
    BOOST_TEST(tuples.size() == *got.value);
    BOOST_TEST(batch.columns().column_name(0) == "n");
    while (*s.read(batch, 100).value != 0) {}
}

ASIOPG_TEST_CASE(the_connection_belongs_to_the_stream) {
    stream_session s;
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, s.ctx, [&](auto&& tok) {
        return s.conn.async_start_stream("SELECT generate_series(1, 100)", tok);
    }).ec);
    auto other = run<result>(style::callback, s.ctx, [&](auto&& tok) { return s.conn.async_execute("SELECT 1", tok); });
    BOOST_TEST((other.ec == client_errc::operation_in_progress));
    row_batch batch;
    std::size_t total = 0;
    for (;;) {
        auto got = s.read(batch, 7);
        BOOST_TEST_REQUIRE(!got.ec);
        if (*got.value == 0) break;
        total += *got.value;
    }
    BOOST_TEST(total == 100u);
    BOOST_TEST(*s.read(batch, 7).value == 0u); // reading again: still over
}

// Every row read but not the end (the last read filled its batch): the stream still holds the
// connection, and every kind of operation is refused alike — none closes the connection — until
// the read that says the stream is over.
ASIOPG_TEST_CASE(a_stream_read_to_its_last_row_still_holds_the_connection) {
    stream_session s;
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, s.ctx, [&](auto&& tok) {
        return s.conn.async_start_stream("SELECT 1", tok);
    }).ec);
    row_batch batch;
    auto got = s.read(batch, 1);
    BOOST_TEST_REQUIRE(!got.ec);
    BOOST_TEST(*got.value == 1u);
    pipeline pl;
    pl.add("SELECT 2");
    auto piped = run<std::vector<pipeline_result>>(style::callback, s.ctx, [&](auto&& tok) { return s.conn.async_execute(pl, tok); });
    BOOST_TEST((piped.ec == client_errc::operation_in_progress), piped.ec.message());
    std::size_t each = 0;
    auto streamed = run<no_value>(style::callback, s.ctx, [&](auto&& tok) {
        return s.conn.async_execute_each(pl, [&](std::size_t, pipeline_result&&) { ++each; }, tok);
    });
    BOOST_TEST((streamed.ec == client_errc::operation_in_progress), streamed.ec.message());
    auto plain = run<result>(style::callback, s.ctx, [&](auto&& tok) { return s.conn.async_execute("SELECT 3", tok); });
    BOOST_TEST((plain.ec == client_errc::operation_in_progress), plain.ec.message());
    BOOST_TEST(s.conn.is_open());
    // The read that finds the end frees it.
    BOOST_TEST(*s.read(batch, 1).value == 0u);
    auto after = run<std::vector<pipeline_result>>(style::callback, s.ctx, [&](auto&& tok) { return s.conn.async_execute(pl, tok); });
    BOOST_TEST_REQUIRE(!after.ec, after.ec.message());
    BOOST_TEST((*after.value)[0].value[0][0].as<int>() == 2);

    // libpq 15 keeps a stream's single-row mode armed for the first query of the next pipeline:
    // queries pipelined automatically after a stream get whole results too.
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, s.ctx, [&](auto&& tok) {
        return s.conn.async_start_stream("SELECT generate_series(1, 3)", tok);
    }).ec);
    while (*s.read(batch, 10).value != 0) {
    }
    int answers[2] = {0, 0}, done = 0;
    for (int i = 0; i < 2; ++i)
        s.conn.async_execute("SELECT n FROM generate_series(1, $1::int) n", params(i + 2), [&, i](error_code ec, result r) {
            if (!ec) answers[i] = static_cast<int>(r.size());
            ++done;
        });
    BOOST_TEST_REQUIRE(run_until(s.ctx, [&] { return done == 2; }));
    BOOST_TEST(answers[0] == 2);
    BOOST_TEST(answers[1] == 3);
}

ASIOPG_TEST_CASE(error_in_the_middle_of_a_stream) {
    stream_session s;
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, s.ctx, [&](auto&& tok) {
        return s.conn.async_start_stream("SELECT 1 / (5000 - g) FROM generate_series(1, 10000) g", tok);
    }).ec);
    row_batch batch;
    error_code ec;
    std::size_t rows = 0;
    for (;;) {
        auto got = s.read(batch, 500);
        if (got.ec) {
            ec = got.ec;
            break;
        }
        if (*got.value == 0) break;
        rows += *got.value;
    }
    BOOST_TEST((ec == sqlstate::division_by_zero));
    BOOST_TEST(rows < 5000u);
    BOOST_TEST(s.conn.is_open());
    auto after = run<result>(style::callback, s.ctx, [&](auto&& tok) { return s.conn.async_execute("SELECT 2", tok); });
    BOOST_TEST(!after.ec);
}

ASIOPG_TEST_CASE(closing_abandons_the_stream) {
    stream_session s;
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, s.ctx, [&](auto&& tok) {
        return s.conn.async_start_stream("SELECT generate_series(1, 1000000)", tok);
    }).ec);
    row_batch batch;
    BOOST_TEST(*s.read(batch, 10).value > 0u);
    s.conn.close();
    auto after = s.read(batch, 10);
    BOOST_TEST((after.ec == client_errc::not_connected), after.ec.message());
}

// Ten million rows (about 250 MB of result) pass through a 10,000-row batch: the peak memory of
// the process must stay far below the result's size.
ASIOPG_TEST_CASE(ten_million_rows_in_bounded_memory, *boost::unit_test::timeout(300)) {
    stream_session s;
    BOOST_TEST_REQUIRE(reset_peak_rss()); // earlier tests' peaks must not hide this one's
    long before = peak_rss_kib();
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, s.ctx, [&](auto&& tok) {
        return s.conn.async_start_stream("SELECT g, 'some text of twenty b' FROM generate_series(1, 10000000) g", tok);
    }).ec);
    row_batch batch;
    std::int64_t total = 0, sum = 0;
    for (;;) {
        auto got = s.read(batch, 10000);
        BOOST_TEST_REQUIRE(!got.ec, s.conn.get_diagnostics().message);
        if (*got.value == 0) break;
        total += static_cast<std::int64_t>(*got.value);
        for (row_view row : batch) sum += row[0].as<std::int64_t>();
    }
    long grown_kib = peak_rss_kib() - before;
    BOOST_TEST(total == 10000000);
    BOOST_TEST(sum == std::int64_t{10000000} * 10000001 / 2);
    BOOST_TEST_MESSAGE("peak RSS grew by " << grown_kib << " KiB for 10M rows");
#if !defined(__SANITIZE_ADDRESS__) // ASan's quarantine keeps freed memory resident on purpose
    BOOST_TEST(grown_kib < 64 * 1024, "peak RSS grew by " << grown_kib << " KiB");
#endif
}

BOOST_AUTO_TEST_SUITE_END()
