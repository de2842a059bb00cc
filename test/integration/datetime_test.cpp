// Dates, times, timestamps and intervals through the real server: parameters sent in binary,
// results read as text (simple protocol, any TimeZone) and as binary.
#include <asiopg/connection.hpp>
#include <asiopg/types/array.hpp>
#include <asiopg/types/chrono.hpp>

#include "server.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <chrono>
#include <limits>
#include <string>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

using us_tp = sys_time<microseconds>;
using local_us = local_time<microseconds>;

struct connected {
    asio::io_context ctx;
    connection conn{ctx};
    explicit connected(data_format f = data_format::text) {
        auto out = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(tcp_conninfo(), tok); });
        BOOST_TEST_REQUIRE(!out.ec, "connect: " << conn.get_diagnostics().message);
        conn.set_result_format(f);
    }
    result query(std::string_view sql) { // simple protocol: always text
        auto out = run<result>(style::callback, ctx, [&](auto&& tok) { return conn.async_execute(sql, tok); });
        BOOST_TEST_REQUIRE(!out.ec, sql << ": " << conn.get_diagnostics().to_string());
        return std::move(*out.value);
    }
    template <class... Ts>
    result query(std::string_view sql, const param_list<Ts...>& ps) { // extended: the result format applies
        auto out = run<result>(style::callback, ctx, [&](auto&& tok) { return conn.async_execute(sql, ps, tok); });
        BOOST_TEST_REQUIRE(!out.ec, sql << ": " << conn.get_diagnostics().to_string());
        return std::move(*out.value);
    }
};

constexpr data_format both_formats[] = {data_format::text, data_format::binary};
const char* name(data_format f) { return f == data_format::text ? "text" : "binary"; }

bool has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// The conversion error's message.
template <class T>
std::string conversion_error(const field_view& f) {
    try {
        (void)f.as<T>();
    } catch (const error_with_diagnostics& e) {
        BOOST_TEST((e.code() == client_errc::conversion_error), e.what());
        return e.get_diagnostics().message;
    }
    BOOST_ERROR("no conversion error");
    return {};
}

struct instant {
    const char* literal; // as timestamptz input, with an explicit offset
    us_tp value;
};
const instant instants[] = {
    {"2024-01-01 00:00:00+00", sys_days{2024y / 1 / 1}},
    {"1970-01-01 00:00:00+00", us_tp{}},
    {"2000-01-01 00:00:00+00", sys_days{2000y / 1 / 1}},
    {"1969-07-20 20:17:40.5+00", sys_days{1969y / 7 / 20} + 20h + 17min + 40s + 500ms},
    {"1800-01-01 00:00:00+00", sys_days{1800y / 1 / 1}},         // local mean time offsets
    {"2038-01-19 03:14:08+00", sys_days{2038y / 1 / 19} + 3h + 14min + 8s},
    {"2100-03-01 00:00:00.000001+00", sys_days{2100y / 3 / 1} + 1us},
    {"2024-02-29 12:34:56.123456+00", sys_days{2024y / 2 / 29} + 12h + 34min + 56s + 123456us},
    {"0001-01-01 00:00:00+00", sys_days{1y / 1 / 1}},
    {"0044-03-15 12:00:00+00 BC", sys_days{year(-43) / 3 / 15} + 12h},
    {"4714-11-24 00:00:00+00 BC", sys_days{year(-4713) / 11 / 24}}, // PostgreSQL's first instant
    {"12345-06-07 08:09:10.123456+00", sys_days{year(12345) / 6 / 7} + 8h + 9min + 10s + 123456us},
    {"infinity", us_tp::max()},
    {"-infinity", us_tp::min()},
};

const char* zones[] = {"UTC", "Asia/Kolkata", "America/New_York", "+05:30", "-08", "Pacific/Chatham"};

} // namespace

BOOST_AUTO_TEST_SUITE(datetime)

// Simple-protocol (text) results carry the session's offset; the UTC instant never changes.
ASIOPG_TEST_CASE(text_results_are_the_same_instant_in_every_time_zone) {
    connected c;
    std::string sql = "SELECT ";
    for (const instant& i : instants) sql += std::string(&i == instants ? "" : ", ") + "'" + i.literal + "'::timestamptz";
    for (const char* zone : zones) {
        BOOST_TEST_CONTEXT("TimeZone " << zone) {
            c.query(std::string("SET TimeZone = '") + zone + "'");
            result r = c.query(sql);
            BOOST_TEST((r.column_format(0) == data_format::text));
            for (std::size_t k = 0; k < std::size(instants); ++k) {
                BOOST_TEST_CONTEXT(instants[k].literal << " read as " << r[0][k].raw()) {
                    BOOST_TEST((r[0][k].as<us_tp>() == instants[k].value));
                }
            }
            if (std::string_view(zone) == "Asia/Kolkata") { // the offsets really were there
                BOOST_TEST(r[0][0].raw() == "2024-01-01 05:30:00+05:30");
                BOOST_TEST(r[0][4].raw() == "1800-01-01 05:53:28+05:53:28");
            }
            if (std::string_view(zone) == "America/New_York")
                BOOST_TEST(r[0][9].raw() == "0044-03-15 07:03:58-04:56:02 BC");
            // Coarser types, exactly.
            BOOST_TEST((r[0][0].as<sys_days>() == sys_days{2024y / 1 / 1}));
            BOOST_TEST((r[0][0].as<sys_seconds>() == sys_days{2024y / 1 / 1}));
            BOOST_TEST((r[0][12].as<sys_days>() == sys_days::max()));
        }
    }
}

ASIOPG_TEST_CASE(timestamptz_parameters_round_trip) {
    for (data_format f : both_formats) {
        connected c(f);
        for (const char* zone : {"UTC", "Asia/Kolkata", "America/New_York"}) {
            c.query(std::string("SET TimeZone = '") + zone + "'");
            for (const instant& i : instants) {
                BOOST_TEST_CONTEXT(name(f) << ", " << zone << ", " << i.literal) {
                    result r = c.query("SELECT $1::timestamptz, $1 = $2::timestamptz, pg_typeof($1)::text",
                                       params(i.value, i.literal));
                    BOOST_TEST((r.column_format(0) == f));
                    BOOST_TEST((r[0][0].as<us_tp>() == i.value));
                    BOOST_TEST(r[0][1].as<bool>()); // the server read the same instant
                    BOOST_TEST(r[0][2].as<std::string>() == "timestamp with time zone");
                }
            }
            // Other precisions.
            result r = c.query("SELECT $1, $2, $3 = '1960-01-01 00:00:00.009+00'::timestamptz, $4", params(sys_seconds{sys_days{2024y / 5 / 6} + 7s},
                                                                      sys_time<nanoseconds>{sys_days{2024y / 5 / 6} + 8000ns},
                                                                      sys_time<milliseconds>{sys_days{1960y / 1 / 1} + 9ms},
                                                                      sys_time<minutes>{sys_days{2024y / 1 / 1} + 1min}));
            BOOST_TEST((r[0][0].as<sys_seconds>() == sys_days{2024y / 5 / 6} + 7s));
            BOOST_TEST((r[0][1].as<sys_time<nanoseconds>>() == sys_days{2024y / 5 / 6} + 8000ns));
            BOOST_TEST((r[0][1].as<us_tp>() == sys_days{2024y / 5 / 6} + 8us));
            BOOST_TEST(r[0][2].as<bool>());
            BOOST_TEST((r[0][3].as<sys_time<minutes>>() == sys_days{2024y / 1 / 1} + 1min));
        }
    }
}

ASIOPG_TEST_CASE(timestamp_parameters_are_local_and_never_shifted) {
    const local_us values[] = {local_days{2024y / 7 / 1} + 13h + 14min + 15s + 16us, local_us{},
                               local_days{year(-43) / 3 / 15}, local_days{year(10000) / 1 / 1}, local_us::max(),
                               local_us::min()};
    for (data_format f : both_formats) {
        connected c(f);
        c.query("SET TimeZone = 'Asia/Kolkata'");
        for (const local_us& v : values) {
            BOOST_TEST_CONTEXT(name(f) << ", " << v.time_since_epoch().count()) {
                result r = c.query("SELECT $1::timestamp, pg_typeof($1)::text, $1::timestamptz = ($1::timestamp AT TIME ZONE 'Asia/Kolkata')",
                                   params(v));
                BOOST_TEST((r[0][0].as<local_us>() == v));
                BOOST_TEST(r[0][1].as<std::string>() == "timestamp without time zone");
                BOOST_TEST(r[0][2].as<bool>());
            }
        }
        result r = c.query("SELECT '2024-07-01 13:14:15.000016'::timestamp, '0044-03-15 00:00:00 BC'::timestamp",
                           params());
        BOOST_TEST((r[0][0].as<local_us>() == values[0]));
        BOOST_TEST((r[0][1].as<local_days>() == values[2]));
        // Instants and local times are not interchangeable.
        BOOST_TEST(has(conversion_error<us_tp>(r[0][0]), "local_time"));
    }
}

ASIOPG_TEST_CASE(dates) {
    for (data_format f : both_formats) {
        BOOST_TEST_CONTEXT(name(f)) {
            connected c(f);
            result r = c.query("SELECT $1::date, $2::date, $3::date, $4::date, $5::date, $6::date, "
                               "$1 = '2024-02-29'::date, $3 = '0001-01-01 BC'::date, $2 = '1969-12-31'::date, "
                               "$4 = 'infinity'::date, $5 = '-infinity'::date, $6 = '4714-11-24 BC'::date, pg_typeof($1)::text",
                               params(2024y / 2 / 29, sys_days{1969y / 12 / 31}, year(0) / 1 / 1, sys_days::max(),
                                      local_days::min(), local_days{year(-4713) / 11 / 24}));
            BOOST_TEST((r[0][0].as<year_month_day>() == 2024y / 2 / 29));
            BOOST_TEST((r[0][0].as<sys_days>() == sys_days{2024y / 2 / 29}));
            BOOST_TEST((r[0][0].as<local_days>() == local_days{2024y / 2 / 29}));
            BOOST_TEST((r[0][0].as<us_tp>() == us_tp{sys_days{2024y / 2 / 29}})); // midnight UTC
            BOOST_TEST((r[0][1].as<year_month_day>() == 1969y / 12 / 31));
            BOOST_TEST((r[0][2].as<year_month_day>() == year(0) / 1 / 1));
            BOOST_TEST((r[0][3].as<sys_days>() == sys_days::max()));
            BOOST_TEST((r[0][4].as<local_days>() == local_days::min()));
            BOOST_TEST((r[0][5].as<year_month_day>() == year(-4713) / 11 / 24));
            for (int k = 6; k <= 11; ++k) BOOST_TEST(r[0][k].as<bool>(), "column " << k);
            BOOST_TEST(r[0][12].as<std::string>() == "date");
            BOOST_TEST(has(conversion_error<year_month_day>(r[0][3]), "infinity is not a calendar date"));

            r = c.query("SELECT '5874897-12-31'::date, $1::date IS NULL, pg_typeof($1)::text",
                        params(std::optional<year_month_day>()));
            BOOST_TEST((r[0][0].as<sys_days>() == sys_days{days{2145031948 + 10957}}));
            BOOST_TEST(has(conversion_error<year_month_day>(r[0][0]), "out of std::chrono::year's range"));
            BOOST_TEST(r[0][1].as<bool>());
            BOOST_TEST(r[0][2].as<std::string>() == "date");
        }
    }
    // Out of PostgreSQL's range: refused before sending, through the handler.
    connected c;
    auto out = run<result>(style::callback, c.ctx, [&](auto&& tok) {
        return c.conn.async_execute("SELECT $1", params(sys_days{year(-4713) / 11 / 23}), tok);
    });
    BOOST_TEST((out.ec == client_errc::invalid_parameter));
    BOOST_TEST(has(c.conn.get_diagnostics().message, "out of the range"), c.conn.get_diagnostics().message);
    BOOST_TEST(c.query("SELECT 1")[0][0].as<int>() == 1);
}

ASIOPG_TEST_CASE(times_of_day) {
    using tod = hh_mm_ss<microseconds>;
    for (data_format f : both_formats) {
        BOOST_TEST_CONTEXT(name(f)) {
            connected c(f);
            result r = c.query("SELECT $1::time, $2::time, $3::time, $1 = '13:14:15.000016'::time, $2 = '24:00:00'::time, "
                               "pg_typeof($1)::text, '12:00:00.5'::time",
                               params(tod{13h + 14min + 15s + 16us}, tod{24h}, hh_mm_ss<seconds>{0s}));
            BOOST_TEST((r[0][0].as<tod>().to_duration() == 13h + 14min + 15s + 16us));
            BOOST_TEST((r[0][1].as<tod>().hours() == 24h));
            BOOST_TEST((r[0][2].as<hh_mm_ss<seconds>>().to_duration() == 0s));
            BOOST_TEST(r[0][3].as<bool>());
            BOOST_TEST(r[0][4].as<bool>());
            BOOST_TEST(r[0][5].as<std::string>() == "time without time zone");
            BOOST_TEST((r[0][0].as<microseconds>() == 13h + 14min + 15s + 16us)); // since midnight
            BOOST_TEST(has(conversion_error<hh_mm_ss<seconds>>(r[0][6]), "would lose precision"));
        }
    }
}

ASIOPG_TEST_CASE(intervals) {
    for (data_format f : both_formats) {
        BOOST_TEST_CONTEXT(name(f)) {
            connected c(f);
            const interval i{14, 3, 4h + 5min + 6s + 789ms};
            result r = c.query("SELECT $1::interval, $1 = '1 year 2 mons 3 days 04:05:06.789'::interval, pg_typeof($1)::text, "
                               "$2::interval, $2::text, extract(day from $2), $3::interval, $3::text, $4::text",
                               params(i, 36h, 90000000us, interval{0, -1, 2h + 3min}));
            BOOST_TEST((r[0][0].as<interval>() == i));
            BOOST_TEST(r[0][1].as<bool>());
            BOOST_TEST(r[0][2].as<std::string>() == "interval");
            // A duration is time only: 36 hours stay 36:00:00, not 1 day 12:00:00.
            BOOST_TEST((r[0][3].as<interval>() == interval{0, 0, 36h}));
            BOOST_TEST(r[0][4].as<std::string>() == "36:00:00");
            BOOST_TEST(r[0][5].as<int>() == 0);
            BOOST_TEST((r[0][3].as<hours>() == 36h));
            BOOST_TEST((r[0][6].as<microseconds>() == 90s));
            BOOST_TEST(r[0][7].as<std::string>() == "00:01:30");
            BOOST_TEST(r[0][8].as<std::string>() == "-1 days +02:03:00");

            r = c.query("SELECT '1 day 02:00:00'::interval, '1 mon'::interval, '00:00:00.5'::interval, "
                        "'-00:00:01'::interval, '-1 days +02:03:00'::interval, '2562047788:00:54.775807'::interval, "
                        "'-178956970 years -8 mons'::interval",
                        params());
            BOOST_TEST((r[0][0].as<hours>() == 26h)); // a day counts as 24 hours
            BOOST_TEST((r[0][0].as<interval>() == interval{0, 1, 2h}));
            BOOST_TEST(has(conversion_error<seconds>(r[0][1]), "months"));
            BOOST_TEST(has(conversion_error<seconds>(r[0][2]), "would lose precision"));
            BOOST_TEST((r[0][2].as<milliseconds>() == 500ms));
            BOOST_TEST((r[0][3].as<seconds>() == -1s));
            BOOST_TEST((r[0][4].as<interval>() == interval{0, -1, 2h + 3min}));
            BOOST_TEST((r[0][5].as<microseconds>() == microseconds::max()));
            BOOST_TEST((r[0][6].as<interval>() == interval{std::numeric_limits<std::int32_t>::min(), 0, 0us}));
        }
    }
}

// In binary, `as<std::string>()` gives the server's own text (TimeZone UTC, DateStyle ISO).
ASIOPG_TEST_CASE(binary_values_read_as_the_servers_text) {
    connected c(data_format::binary);
    c.query("SET TimeZone = 'UTC'");
    const char* exprs[] = {
        "'2024-02-29 12:34:56.12+00'::timestamptz", "'0044-03-15 12:00:00+00 BC'::timestamptz",
        "'4714-11-24 00:00:00+00 BC'::timestamptz", "'294276-12-31 23:59:59.999999+00'::timestamptz",
        "'infinity'::timestamptz", "'-infinity'::timestamptz", "'1999-12-31 23:59:59.999999'::timestamp",
        "'10000-01-01'::timestamp", "'-infinity'::timestamp", "'0001-01-01 BC'::date", "'5874897-12-31'::date",
        "'infinity'::date", "'2000-01-01'::date", "'24:00:00'::time", "'12:34:56.5'::time", "'00:00:00'::time",
        "'1 year 2 mons 3 days 04:05:06.789'::interval", "'-1 days +02:03:00'::interval", "'-00:00:01'::interval",
        "'-1 years -2 mons'::interval", "'3 days -04:00:00'::interval", "'-1 mons +1 day'::interval",
        "'1 mon -1 days'::interval", "'00:00:00'::interval", "'-2562047788:00:54.775807'::interval",
        "'178956970 years 7 mons'::interval",
    };
    for (const char* e : exprs) {
        BOOST_TEST_CONTEXT(e) {
            result r = c.query(std::string("SELECT ") + e + ", (" + e + ")::text", params());
            BOOST_TEST((r.column_format(0) == data_format::binary));
            BOOST_TEST(r[0][0].as<std::string>() == r[0][1].as<std::string>());
        }
    }
    // Many values: binary → text agrees with the server, and binary and text decode alike.
    result r = c.query(
        "SELECT t, t::text, t::timestamp, t::timestamp::text, t::date, t::date::text, i, i::text, t::time, t::time::text "
        "FROM (SELECT to_timestamp((random() - 0.5) * 4e11) AS t, "
        "             make_interval(months => (random() * 2000 - 1000)::int, days => (random() * 200 - 100)::int, "
        "                           secs => (random() - 0.5) * 1e7) AS i "
        "      FROM (SELECT setseed(0.25)) s, generate_series(1, 500)) v",
        params());
    BOOST_TEST_REQUIRE(r.size() == 500u);
    for (row_view row : r) {
        BOOST_TEST_CONTEXT(row[1].as<std::string>() << " / " << row[7].as<std::string>()) {
            for (int k = 0; k < 10; k += 2) BOOST_TEST(row[k].as<std::string>() == row[k + 1].as<std::string>());
            const std::string tz = row[1].as<std::string>(), local = row[3].as<std::string>(),
                              date = row[5].as<std::string>(), iv = row[7].as<std::string>(), tod = row[9].as<std::string>();
            auto text = [](const std::string& s, oid t) { return value_view{s, data_format::text, t}; };
            auto decode = [](const value_view& v, auto& out) { result_traits<std::remove_reference_t<decltype(out)>>::decode(v, out); };
            us_tp a;
            decode(text(tz, oids::timestamptz), a);
            BOOST_TEST((row[0].as<us_tp>() == a));
            local_us b;
            decode(text(local, oids::timestamp), b);
            BOOST_TEST((row[2].as<local_us>() == b));
            year_month_day d{};
            decode(text(date, oids::date), d);
            BOOST_TEST((row[4].as<year_month_day>() == d));
            interval i;
            decode(text(iv, oids::interval), i);
            BOOST_TEST((row[6].as<interval>() == i));
            hh_mm_ss<microseconds> t;
            decode(text(tod, oids::time), t);
            BOOST_TEST((row[8].as<hh_mm_ss<microseconds>>().to_duration() == t.to_duration()));
        }
    }
}

ASIOPG_TEST_CASE(other_styles_fail_with_what_to_set) {
    connected c;
    result ok = c.query("SET DateStyle = 'ISO, DMY'; SELECT '2024-01-02 03:04:05+00'::timestamptz, '2024-01-02'::date");
    BOOST_TEST((ok[0][0].as<us_tp>() == sys_days{2024y / 1 / 2} + 3h + 4min + 5s));
    BOOST_TEST((ok[0][1].as<year_month_day>() == 2024y / 1 / 2));
    for (const char* style : {"SQL, DMY", "SQL, MDY", "Postgres", "German"}) {
        BOOST_TEST_CONTEXT(style) {
            c.query(std::string("SET DateStyle = '") + style + "'");
            result r = c.query("SELECT '2024-01-02 03:04:05+00'::timestamptz AS ts, '2024-01-02'::date AS d, "
                               "'2024-01-02 03:04:05'::timestamp AS l");
            std::string msg = conversion_error<us_tp>(r[0][0]);
            BOOST_TEST(has(msg, "SET DateStyle = 'ISO'"), msg);
            BOOST_TEST(has(msg, "\"ts\""), msg); // the column is named
            BOOST_TEST(has(conversion_error<year_month_day>(r[0][1]), "DateStyle"));
            BOOST_TEST(has(conversion_error<local_us>(r[0][2]), "DateStyle"));
        }
    }
    c.query("SET DateStyle = 'ISO'");
    for (const char* style : {"iso_8601", "sql_standard", "postgres_verbose"}) {
        BOOST_TEST_CONTEXT(style) {
            c.query(std::string("SET IntervalStyle = '") + style + "'");
            result r = c.query("SELECT '1 day 04:05:06'::interval");
            std::string msg = conversion_error<interval>(r[0][0]);
            BOOST_TEST(has(msg, "SET IntervalStyle = 'postgres'"), msg);
        }
    }
}

ASIOPG_TEST_CASE(precision_loss_is_an_error) {
    connected c;
    result r = c.query("SELECT '2024-01-01 00:00:00.5+00'::timestamptz AS ts, '2024-01-01 00:00:00+05:30'::timestamptz AS day");
    std::string msg = conversion_error<sys_seconds>(r[0][0]);
    BOOST_TEST(has(msg, "would lose precision"), msg);
    BOOST_TEST(has(msg, "\"ts\""), msg);
    BOOST_TEST((r[0][0].as<sys_time<milliseconds>>() == sys_days{2024y / 1 / 1} + 500ms));
    BOOST_TEST(has(conversion_error<sys_days>(r[0][1]), "would lose precision")); // not midnight UTC
    BOOST_TEST(has(conversion_error<sys_time<nanoseconds>>(c.query("SELECT '3000-01-01 00:00:00+00'::timestamptz")[0][0]),
                   "out of the C++ type's range"));
}

// A nanosecond that is not a whole microsecond is refused before anything is sent, in every
// style: the operation fails with invalid_parameter and the connection stays usable.
ASIOPG_TEST_CASE(sub_microsecond_parameters_are_refused_before_sending) {
    connected c;
    const sys_time<nanoseconds> tp = sys_days{2024y / 1 / 1} + 1ns;
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            auto out = run<result>(s, c.ctx, [&](auto&& tok) { return c.conn.async_execute("SELECT $1", params(tp), tok); });
            BOOST_TEST(out.completed);
            BOOST_TEST((out.ec == client_errc::invalid_parameter));
            const std::string msg = throws(s) ? out.diag.message : c.conn.get_diagnostics().message;
            BOOST_TEST(has(msg, "would lose precision"), msg);
            BOOST_TEST(has(msg, "std::chrono::sys_time<std::chrono::nanoseconds>"), msg);
            BOOST_TEST(c.conn.is_open());
            BOOST_TEST(c.query("SELECT 1")[0][0].as<int>() == 1); // nothing was sent; still usable
        }
    }
}

ASIOPG_TEST_CASE(every_completion_style) {
    connected c;
    const us_tp tp = sys_days{2024y / 2 / 29} + 12h + 34min + 56s + 123456us;
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT("style " << s) {
            auto ps = params(tp, 2024y / 2 / 29, interval{1, 2, 3s});
            auto out = run<result>(s, c.ctx, [&](auto&& tok) {
                return c.conn.async_execute("SELECT $1::timestamptz, $2::date, $3::interval", ps, tok);
            });
            BOOST_TEST_REQUIRE(!out.ec, out.what);
            BOOST_TEST(((*out.value)[0][0].as<us_tp>() == tp));
            BOOST_TEST(((*out.value)[0][1].as<year_month_day>() == 2024y / 2 / 29));
            BOOST_TEST(((*out.value)[0][2].as<interval>() == interval{1, 2, 3s}));
        }
    }
}

ASIOPG_TEST_CASE(arrays_of_timestamps) {
    const std::vector<us_tp> v = {sys_days{2024y / 1 / 1}, sys_days{year(-43) / 3 / 15} + 12h, us_tp::max()};
    for (data_format f : both_formats) {
        BOOST_TEST_CONTEXT(name(f)) {
            connected c(f);
            c.query("SET TimeZone = 'Asia/Kolkata'");
            result r = c.query("SELECT $1::timestamptz[], pg_typeof($1)::text", params(v));
            BOOST_TEST((r[0][0].as<std::vector<us_tp>>() == v));
            BOOST_TEST(r[0][1].as<std::string>() == "timestamp with time zone[]");
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
