// COPY: copy_writer and copy_reader in every completion style, typed rows in text and binary
// format (NULLs, escapes, unicode), raw COPY data in and out, and a million rows each way.
// Errors, cancellation and lifetime are in copy_fault_test.cpp.
#include <asiopg/connection.hpp>
#include <asiopg/copy.hpp>

#include "copy_session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;

namespace {

// Values that need COPY's escapes, NULLs and their look-alikes, unicode, a long value.
struct sample {
    int id;
    std::optional<std::string> s;
    std::optional<std::int64_t> n;
    double d;
    bool b;
};

std::vector<sample> samples() {
    return {
        {1, "plain", 42, 0.1, true},
        {2, "", std::nullopt, -2.5, false},          // empty string, not NULL
        {3, std::nullopt, INT64_MIN, 1e300, true},    // NULL, not empty
        {4, "tab\there", 0, 0.0, false},
        {5, "new\nline", -1, 123456.789, true},
        {6, "back\\slash", 1, -0.0, false},
        {7, "carriage\rreturn", 2, 1.0 / 3.0, true},
        {8, "\\N", 3, 5e-324, false},                // the text \N, not NULL
        {9, "\\.", 4, 2.0, true},                    // looks like the end-of-data marker
        {10, "unicode: \u00e9\u00fc \u65e5\u672c\u8a9e \U0001F389", INT64_MAX, -1e-10, false},
        {11, "all \t\n\r\\ \\N \\t end\\", 5, 7.0, true},
        {12, "control \x01\x08\x0b\x0c\x1f\x7f", 6, 8.0, false},
        {13, std::string(100000, 'z') + "\t" + std::string(1000, '\\'), 7, 9.0, true},
    };
}

void write_samples(copy_writer& w) {
    for (const sample& x : samples()) w.write_row(x.id, x.s, x.n, x.d, x.b);
}

// What the server stored, compared with samples() (checks the writer without the reader).
void check_stored(copy_session& s) {
    auto res = s.query("SELECT id, s, n, d, b FROM t ORDER BY id");
    auto want = samples();
    BOOST_TEST_REQUIRE(res.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        BOOST_TEST_CONTEXT("stored row " << want[i].id) {
            BOOST_TEST(res[i][0].as<int>() == want[i].id);
            BOOST_TEST((res[i][1].as<std::optional<std::string>>() == want[i].s));
            BOOST_TEST((res[i][2].as<std::optional<std::int64_t>>() == want[i].n));
            BOOST_TEST(res[i][3].as<double>() == want[i].d);
            BOOST_TEST(res[i][4].as<bool>() == want[i].b);
        }
    }
}

// Reads `COPY … TO STDOUT` of t's sample columns and compares with samples().
void check_read(copy_session& s, copy_reader& r) {
    auto want = samples();
    copy_rows rows;
    std::size_t i = 0;
    for (;;) {
        auto got = s.read_rows(r, rows, 4);
        REQUIRE_OK(got);
        if (*got.value == 0) break;
        BOOST_TEST_REQUIRE(rows.size() == *got.value);
        for (copy_row_view row : rows) {
            BOOST_TEST_REQUIRE(i < want.size());
            BOOST_TEST_CONTEXT("read row " << want[i].id) {
                BOOST_TEST_REQUIRE(row.size() == 5u);
                auto [id, str, n, d, b] = row.as<int, std::optional<std::string>, std::optional<std::int64_t>, double, bool>();
                BOOST_TEST(id == want[i].id);
                BOOST_TEST((str == want[i].s));
                BOOST_TEST((n == want[i].n));
                BOOST_TEST(d == want[i].d);
                BOOST_TEST(b == want[i].b);
                BOOST_TEST(row[1].is_null() == !want[i].s);
                if (want[i].s) BOOST_TEST(row[1].raw() == *want[i].s);
                BOOST_TEST(row[0].column() == 0u);
                BOOST_TEST(row[4].column() == 4u);
                if (!want[i].s)
                    BOOST_CHECK_EXCEPTION(row[1].as<std::string>(), error_with_diagnostics,
                                          [](const auto& e) { return e.code() == client_errc::unexpected_null; });
                BOOST_CHECK_EXCEPTION((row.as<int, std::optional<std::string>>()), error_with_diagnostics,
                                      [](const auto& e) { return e.code() == client_errc::conversion_error; });
            }
            ++i;
        }
    }
    BOOST_TEST(i == want.size());
    BOOST_TEST(!r.active());
}

std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

} // namespace

BOOST_AUTO_TEST_SUITE(copy)

ASIOPG_TEST_CASE(write_and_read_in_every_style) {
    copy_session s;
    s.query("CREATE TEMP TABLE t (id int PRIMARY KEY, val text)");
    constexpr int n = 2000;
    for (style st : all_styles) {
        BOOST_TEST_CONTEXT(st) {
            s.query("TRUNCATE t");
            copy_writer w(s.conn);
            BOOST_TEST(!w.active());
            w.set_flush_threshold(4096);
            auto started = s.start(w, "COPY t (id, val) FROM STDIN", st);
            REQUIRE_OK(started);
            BOOST_TEST(w.active());
            BOOST_TEST((w.format() == data_format::text));
            BOOST_TEST(w.columns() == 2u);
            int flushes = 0;
            for (int i = 1; i <= n; ++i) {
                w.write_row(i, "value " + std::to_string(i));
                if (w.should_flush()) {
                    auto f = s.flush(w, st);
                    REQUIRE_OK(f);
                    BOOST_TEST_REQUIRE(w.buffered() == 0u);
                    ++flushes;
                }
            }
            BOOST_TEST(flushes >= 3);
            auto fin = s.finish(w, st);
            REQUIRE_OK(fin);
            BOOST_TEST(*fin.value == std::uint64_t{n});
            BOOST_TEST(!w.active());
            BOOST_TEST(s.count("t") == n);

            copy_reader r(s.conn);
            auto rs = s.start(r, "COPY (SELECT id, val FROM t ORDER BY id) TO STDOUT", st);
            REQUIRE_OK(rs);
            BOOST_TEST(r.active());
            BOOST_TEST((r.format() == data_format::text));
            BOOST_TEST(r.columns() == 2u);
            copy_rows rows;
            int expected = 1, batches = 0;
            for (;;) {
                auto got = s.read_rows(r, rows, 500, st);
                REQUIRE_OK(got);
                if (*got.value == 0) break;
                ++batches;
                BOOST_TEST_REQUIRE(*got.value <= 500u);
                BOOST_TEST_REQUIRE(rows.size() == *got.value);
                for (copy_row_view row : rows) {
                    BOOST_TEST_REQUIRE(row[0].as<int>() == expected);
                    BOOST_TEST_REQUIRE(row[1].as<std::string>() == "value " + std::to_string(expected));
                    ++expected;
                }
            }
            BOOST_TEST(expected == n + 1);
            BOOST_TEST(batches >= 4);
            BOOST_TEST(rows.empty());
            BOOST_TEST(!r.active());

            // Raw output in this style.
            copy_reader raw(s.conn);
            REQUIRE_OK(s.start(raw, "COPY (SELECT id FROM t WHERE id <= 3 ORDER BY id) TO STDOUT", st));
            std::string all, chunk;
            for (;;) {
                auto got = s.read(raw, chunk, 1 << 16, st);
                REQUIRE_OK(got);
                if (*got.value == 0) break;
                BOOST_TEST(chunk.size() == *got.value);
                all += chunk;
            }
            BOOST_TEST(all == "1\n2\n3\n");

            // Abort in this style: nothing of it is inserted.
            copy_writer ab(s.conn);
            REQUIRE_OK(s.start(ab, "COPY t (id, val) FROM STDIN", st));
            ab.write_row(n + 1, "aborted");
            REQUIRE_OK(s.flush(ab, st));
            auto a = s.abort(ab, "changed my mind", st);
            REQUIRE_OK(a);
            BOOST_TEST(!ab.active());
            BOOST_TEST(s.count("t") == n);
        }
    }
}

ASIOPG_TEST_CASE(typed_round_trip_in_text_format) {
    copy_session s;
    s.query("CREATE TEMP TABLE t (id int, s text, n bigint, d float8, b boolean)");
    copy_writer w(s.conn);
    REQUIRE_OK(s.start(w, "COPY t (id, s, n, d, b) FROM STDIN"));
    BOOST_TEST((w.format() == data_format::text));
    BOOST_TEST(w.columns() == 5u);
    write_samples(w);
    auto fin = s.finish(w);
    REQUIRE_OK(fin);
    BOOST_TEST(*fin.value == samples().size());
    check_stored(s);

    copy_reader r(s.conn);
    REQUIRE_OK(s.start(r, "COPY (SELECT id, s, n, d, b FROM t ORDER BY id) TO STDOUT"));
    BOOST_TEST((r.format() == data_format::text));
    BOOST_TEST(r.columns() == 5u);
    check_read(s, r);
}

ASIOPG_TEST_CASE(one_text_column_that_looks_like_the_end_marker_or_an_empty_line) {
    copy_session s;
    s.query("CREATE TEMP TABLE u (i serial, s text)");
    copy_writer w(s.conn);
    REQUIRE_OK(s.start(w, "COPY u (s) FROM STDIN"));
    w.write_row("\\.");          // alone on a line, unescaped, it would end the data
    w.write_row(std::string());  // an empty line: the empty string
    w.write_row(std::nullopt);
    w.write_row("after");
    auto fin = s.finish(w);
    REQUIRE_OK(fin);
    BOOST_TEST(*fin.value == 4u);
    auto res = s.query("SELECT s FROM u ORDER BY i");
    BOOST_TEST_REQUIRE(res.size() == 4u);
    BOOST_TEST((res[0][0].as<std::optional<std::string>>() == std::optional<std::string>("\\.")));
    BOOST_TEST((res[1][0].as<std::optional<std::string>>() == std::optional<std::string>("")));
    BOOST_TEST(!res[2][0].as<std::optional<std::string>>().has_value());
    BOOST_TEST((res[3][0].as<std::optional<std::string>>() == std::optional<std::string>("after")));
}

ASIOPG_TEST_CASE(typed_round_trip_in_binary_format) {
    copy_session s;
    s.query("CREATE TEMP TABLE t (id int, s text, n bigint, d float8, b boolean)");
    copy_writer w(s.conn);
    REQUIRE_OK(s.start(w, "COPY t (id, s, n, d, b) FROM STDIN (FORMAT binary)"));
    BOOST_TEST((w.format() == data_format::binary));
    BOOST_TEST(w.columns() == 5u);
    write_samples(w);
    auto fin = s.finish(w);
    REQUIRE_OK(fin);
    BOOST_TEST(*fin.value == samples().size());
    check_stored(s);

    copy_reader r(s.conn);
    r.set_column_types({oids::int4, oids::text, oids::int8, oids::float8, oids::bool_});
    REQUIRE_OK(s.start(r, "COPY (SELECT id, s, n, d, b FROM t ORDER BY id) TO STDOUT (FORMAT binary)"));
    BOOST_TEST((r.format() == data_format::binary));
    BOOST_TEST(r.columns() == 5u);
    check_read(s, r);

    // The fields say what they are.
    copy_reader r2(s.conn);
    r2.set_column_types({oids::int4, oids::text});
    REQUIRE_OK(s.start(r2, "COPY (SELECT id, s FROM t WHERE id = 1) TO STDOUT (FORMAT binary)"));
    copy_rows rows;
    auto got = s.read_rows(r2, rows, 10);
    REQUIRE_OK(got);
    BOOST_TEST_REQUIRE(rows.size() == 1u);
    BOOST_TEST((rows[0][0].format() == data_format::binary));
    BOOST_TEST(rows[0][0].type() == oids::int4);
    BOOST_TEST(rows[0][1].type() == oids::text);
    BOOST_TEST(rows[0][0].raw() == std::string_view("\0\0\0\1", 4));
    BOOST_TEST(rows[0][1].raw() == "plain");
    auto end = s.read_rows(r2, rows, 10);
    REQUIRE_OK(end);
    BOOST_TEST(*end.value == 0u);
}

ASIOPG_TEST_CASE(raw_chunks_in_and_out) {
    copy_session s;
    s.query("CREATE TEMP TABLE t (id int, s text)");
    copy_writer w(s.conn);
    REQUIRE_OK(s.start(w, "COPY t FROM STDIN"));
    // Chunks need not be whole rows: the server parses the stream.
    w.write_raw("1\tone\n2\t\\N\n3\tta");
    REQUIRE_OK(s.flush(w));
    w.write_raw("b\\there\n4\t\n5\tback\\\\slash\\nnewline\n");
    auto fin = s.finish(w);
    REQUIRE_OK(fin);
    BOOST_TEST(*fin.value == 5u);
    auto res = s.query("SELECT s FROM t ORDER BY id");
    BOOST_TEST_REQUIRE(res.size() == 5u);
    BOOST_TEST(res[0][0].as<std::string>() == "one");
    BOOST_TEST(res[1][0].is_null());
    BOOST_TEST(res[2][0].as<std::string>() == "tab\there");
    BOOST_TEST(res[3][0].as<std::string>() == "");
    BOOST_TEST(res[4][0].as<std::string>() == "back\\slash\nnewline");

    const std::string expected = "1\tone\n2\t\\N\n3\ttab\\there\n4\t\n5\tback\\\\slash\\nnewline\n";
    const char* out_sql = "COPY (SELECT id, s FROM t ORDER BY id) TO STDOUT";
    copy_reader r(s.conn);
    REQUIRE_OK(s.start(r, out_sql));
    std::string all, chunk;
    for (;;) {
        auto got = s.read(r, chunk, 1 << 16);
        REQUIRE_OK(got);
        if (*got.value == 0) break;
        all += chunk;
    }
    BOOST_TEST(all == expected);

    // Tiny reads: still whole rows, at least one per read.
    copy_reader r2(s.conn);
    REQUIRE_OK(s.start(r2, out_sql));
    all.clear();
    int reads = 0;
    for (;;) {
        auto got = s.read(r2, chunk, 1);
        REQUIRE_OK(got);
        if (*got.value == 0) break;
        ++reads;
        BOOST_TEST_REQUIRE(!chunk.empty());
        BOOST_TEST(chunk.back() == '\n', chunk);
        all += chunk;
    }
    BOOST_TEST(all == expected);
    BOOST_TEST(reads >= 2);
    BOOST_TEST(s.query("SELECT 1").at(0).at(0).as<int>() == 1);
}

ASIOPG_TEST_CASE(a_million_rows_in_and_out) {
    copy_session s;
    s.query("CREATE TEMP TABLE asiopg_copy_million (id int, val text)");
    constexpr int n = 1000000;
    // Values of varying length, an escape now and then, a NULL now and then (ASCII only, so
    // length() in characters is the size in bytes).
    auto value = [](int i) -> std::optional<std::string> {
        if (i % 1009 == 0) return std::nullopt;
        std::string v = "v" + std::to_string(i) + std::string(i % 13, 'x');
        if (i % 997 == 0) v += "\t\\\n\r";
        return v;
    };
    std::int64_t sum_id = 0, sum_len = 0, non_null = 0;
    std::uint64_t hash = 0; // order-independent: a sum of per-row hashes
    copy_writer w(s.conn);
    REQUIRE_OK(s.start(w, "COPY asiopg_copy_million (id, val) FROM STDIN"));
    int flushes = 0;
    for (int i = 1; i <= n; ++i) {
        auto v = value(i);
        w.write_row(i, v);
        sum_id += i;
        if (v) {
            sum_len += static_cast<std::int64_t>(v->size());
            ++non_null;
            hash += fnv1a(*v) * 31 + static_cast<std::uint64_t>(i);
        }
        if (w.should_flush()) {
            auto f = s.flush(w);
            REQUIRE_OK(f);
            ++flushes;
        }
    }
    auto fin = s.finish(w);
    REQUIRE_OK(fin);
    BOOST_TEST(*fin.value == std::uint64_t{n});
    BOOST_TEST(flushes > 10);
    auto agg = s.query("SELECT count(*), sum(id), sum(length(val)), count(val) FROM asiopg_copy_million");
    BOOST_TEST(agg[0][0].as<std::int64_t>() == n);
    BOOST_TEST(agg[0][1].as<std::int64_t>() == sum_id);
    BOOST_TEST(agg[0][2].as<std::int64_t>() == sum_len);
    BOOST_TEST(agg[0][3].as<std::int64_t>() == non_null);

    copy_reader r(s.conn);
    REQUIRE_OK(s.start(r, "COPY asiopg_copy_million (id, val) TO STDOUT"));
    copy_rows rows;
    std::int64_t got_rows = 0, got_id = 0, got_len = 0, got_non_null = 0;
    std::uint64_t got_hash = 0;
    int batches = 0;
    for (;;) {
        auto got = s.read_rows(r, rows, 10000);
        REQUIRE_OK(got);
        if (*got.value == 0) break;
        BOOST_TEST_REQUIRE(*got.value <= 10000u);
        ++batches;
        for (copy_row_view row : rows) {
            int id = row[0].as<int>();
            ++got_rows;
            got_id += id;
            if (!row[1].is_null()) {
                std::string_view v = row[1].raw();
                got_len += static_cast<std::int64_t>(v.size());
                ++got_non_null;
                got_hash += fnv1a(v) * 31 + static_cast<std::uint64_t>(id);
            }
        }
    }
    BOOST_TEST(got_rows == n);
    BOOST_TEST(got_id == sum_id);
    BOOST_TEST(got_len == sum_len);
    BOOST_TEST(got_non_null == non_null);
    BOOST_TEST(got_hash == hash);
    BOOST_TEST(batches >= 100);
}

BOOST_AUTO_TEST_SUITE_END()
