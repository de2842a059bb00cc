// Date/time codecs without a server: binary and text values built by hand, decoded through
// result_traits; parameters encoded through param_traits.
#include <asiopg/error.hpp>
#include <asiopg/result_traits.hpp>
#include <asiopg/types/chrono.hpp>

#include "../../libs/core/src/datetime.hpp"

#include "test_case.hpp"

#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

using namespace asiopg;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

std::string be(std::int64_t v, int n) {
    std::string s(static_cast<std::size_t>(n), '\0');
    for (int i = 0; i < n; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>(static_cast<std::uint64_t>(v) >> (8 * (n - 1 - i)));
    return s;
}
std::string be64(std::int64_t v) { return be(v, 8); }
std::string be32(std::int32_t v) { return be(v, 4); }
std::string interval_bytes(std::int64_t us, std::int32_t days, std::int32_t months) {
    return be64(us) + be32(days) + be32(months);
}

// µs since 2000-01-01 of a UTC instant.
constexpr std::int64_t pg_epoch_us = 946684800LL * 1000000;
std::int64_t pg_us(sys_time<microseconds> tp) { return tp.time_since_epoch().count() - pg_epoch_us; }

value_view bin(oid t, const std::string& b) { return {b, data_format::binary, t}; }
value_view txt(oid t, std::string_view s) { return {s, data_format::text, t}; }

template <class T>
T dec(const value_view& v) {
    T out{};
    result_traits<T>::decode(v, out);
    return out;
}

template <class T>
std::string enc(const T& v, oid expected_type) {
    param_scratch s;
    param_ref r = param_traits<T>::encode(v, s);
    BOOST_TEST(r.type == expected_type);
    BOOST_TEST((r.format == data_format::binary));
    return std::string(r.data, static_cast<std::size_t>(r.length));
}

// The error's message, after checking its code.
template <class F>
std::string error_of(F f, client_errc code) {
    try {
        f();
    } catch (const error_with_diagnostics& e) {
        BOOST_TEST((e.code() == code), e.what());
        return e.get_diagnostics().message;
    }
    BOOST_ERROR("no exception");
    return {};
}
bool has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

std::string text_of(const value_view& v) {
    std::string out = "untouched";
    BOOST_TEST(detail::datetime_text(v, out));
    return out;
}

using us_tp = sys_time<microseconds>;
using local_us = local_time<microseconds>;

} // namespace

BOOST_AUTO_TEST_SUITE(datetime)

ASIOPG_TEST_CASE(timestamptz_binary_round_trips) {
    const us_tp cases[] = {
        us_tp{},                                                            // 1970-01-01
        sys_days{2000y / 1 / 1},                                            // PostgreSQL's epoch
        sys_days{1969y / 7 / 20} + 20h + 17min + 40s,                       // before 1970
        sys_days{2100y / 3 / 1} + 1us,                                      // after 2038
        sys_days{2024y / 2 / 29} + 12h + 34min + 56s + 123456us,            // microseconds
        sys_days{1y / 1 / 1},                                               // year 1
        sys_days{year(-43) / 3 / 15} + 12h,                                 // 44 BC
        sys_days{year(-4713) / 11 / 24},                                    // PostgreSQL's first day
        sys_days{year(32767) / 12 / 31} + 23h + 59min + 59s + 999999us,
    };
    for (const us_tp& tp : cases) {
        BOOST_TEST_CONTEXT(tp.time_since_epoch().count()) {
            const std::string b = enc(tp, oids::timestamptz);
            BOOST_TEST(b == be64(pg_us(tp)));
            BOOST_TEST((dec<us_tp>(bin(oids::timestamptz, b)) == tp));
        }
    }
    BOOST_TEST(enc(us_tp{}, oids::timestamptz) == be64(-pg_epoch_us));
    BOOST_TEST(enc(us_tp{sys_days{2000y / 1 / 1}}, oids::timestamptz) == be64(0));
}

ASIOPG_TEST_CASE(timestamptz_text_applies_the_offset) {
    const us_tp midnight = sys_days{2024y / 1 / 1};
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "2024-01-01 00:00:00+00")) == midnight));
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "2024-01-01 05:30:00+05:30")) == midnight));
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "2023-12-31 16:00:00-08")) == midnight));
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "2023-12-31 19:00:00-05")) == midnight));
    // Local mean time offsets have seconds (Asia/Kolkata before 1854, America/New_York before 1883).
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "1800-01-01 05:53:28+05:53:28")) == us_tp{sys_days{1800y / 1 / 1}}));
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "1799-12-31 19:03:58-04:56:02")) == us_tp{sys_days{1800y / 1 / 1}}));
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "1970-01-01 00:00:00+00")) == us_tp{}));
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "2024-02-29 12:34:56.123456+00")) ==
                us_tp{sys_days{2024y / 2 / 29} + 12h + 34min + 56s + 123456us}));
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "2024-02-29 12:34:56.5+01")) ==
                us_tp{sys_days{2024y / 2 / 29} + 11h + 34min + 56s + 500ms}));
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "0044-03-15 12:00:00+00 BC")) ==
                us_tp{sys_days{year(-43) / 3 / 15} + 12h}));
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "0001-01-01 00:00:00+00")) == us_tp{sys_days{1y / 1 / 1}}));
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "0001-12-31 23:59:59.999999+00 BC")) ==
                us_tp{sys_days{1y / 1 / 1}} - 1us));
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "12345-06-07 08:09:10+00")) ==
                us_tp{sys_days{year(12345) / 6 / 7} + 8h + 9min + 10s}));
    // Seconds precision and days from text, exactly.
    BOOST_TEST((dec<sys_seconds>(txt(oids::timestamptz, "2024-01-01 05:30:01+05:30")) == sys_days{2024y / 1 / 1} + 1s));
    BOOST_TEST((dec<sys_days>(txt(oids::timestamptz, "2024-01-01 05:30:00+05:30")) == sys_days{2024y / 1 / 1}));
}

ASIOPG_TEST_CASE(timestamp_without_time_zone_is_local_time) {
    const local_us tp = local_days{2024y / 7 / 1} + 13h + 14min + 15s + 16us;
    const std::string b = enc(tp, oids::timestamp);
    BOOST_TEST(b == be64(pg_us(us_tp{tp.time_since_epoch()})));
    BOOST_TEST((dec<local_us>(bin(oids::timestamp, b)) == tp));
    BOOST_TEST((dec<local_us>(txt(oids::timestamp, "2024-07-01 13:14:15.000016")) == tp));
    BOOST_TEST((dec<local_us>(txt(oids::timestamp, "0001-01-01 00:00:00 BC")) == local_us{local_days{year(0) / 1 / 1}}));
    BOOST_TEST((dec<local_seconds>(txt(oids::timestamp, "1960-05-06 07:08:09")) ==
                local_seconds{local_days{1960y / 5 / 6} + 7h + 8min + 9s}));
    // No offset in a timestamp, and the two kinds are not interchangeable.
    BOOST_TEST(has(error_of([] { dec<local_us>(txt(oids::timestamp, "2024-07-01 13:14:15+00")); },
                            client_errc::conversion_error), "not an ISO timestamp"));
    BOOST_TEST(has(error_of([] { dec<us_tp>(bin(oids::timestamp, be64(0))); }, client_errc::conversion_error),
                   "local_time"));
    BOOST_TEST(has(error_of([] { dec<local_us>(bin(oids::timestamptz, be64(0))); }, client_errc::conversion_error),
                   "sys_time"));
    BOOST_TEST(has(error_of([] { dec<us_tp>(txt(oids::text, "2024-01-01 00:00:00+00")); }, client_errc::conversion_error),
                   "not a timestamptz or date"));
    BOOST_TEST(result_traits<local_us>::accepts(oids::timestamp));
    BOOST_TEST(result_traits<local_us>::accepts(oids::date));
    BOOST_TEST(!result_traits<local_us>::accepts(oids::timestamptz));
    BOOST_TEST(result_traits<us_tp>::accepts(oids::timestamptz));
    BOOST_TEST(!result_traits<us_tp>::accepts(oids::timestamp));
}

ASIOPG_TEST_CASE(coarser_durations_must_be_exact) {
    const std::string half = be64(500000); // 2000-01-01 00:00:00.5
    auto lossy = error_of([&] { dec<sys_seconds>(bin(oids::timestamptz, half)); }, client_errc::conversion_error);
    BOOST_TEST(has(lossy, "would lose precision"), lossy);
    BOOST_TEST(has(lossy, "2000-01-01 00:00:00.5+00"), lossy);
    BOOST_TEST(has(lossy, "std::chrono::sys_time<std::chrono::seconds>"), lossy);
    lossy = error_of([] { dec<sys_days>(txt(oids::timestamptz, "2024-01-01 00:00:00+05:30")); }, client_errc::conversion_error);
    BOOST_TEST(has(lossy, "would lose precision"), lossy);
    BOOST_TEST(has(lossy, "std::chrono::sys_days"), lossy);
    BOOST_TEST(has(error_of([] { dec<sys_time<milliseconds>>(txt(oids::timestamptz, "2024-01-01 00:00:00.0005+00")); },
                            client_errc::conversion_error), "would lose precision"));
    BOOST_TEST((dec<sys_time<milliseconds>>(txt(oids::timestamptz, "2024-01-01 00:00:00.123+00")) ==
                sys_time<milliseconds>{sys_days{2024y / 1 / 1} + 123ms}));
    // Finer durations are always exact, within their range.
    BOOST_TEST((dec<sys_time<nanoseconds>>(bin(oids::timestamptz, be64(1))) ==
                sys_time<nanoseconds>{sys_days{2000y / 1 / 1} + 1000ns}));
    auto range = error_of([] { dec<sys_time<nanoseconds>>(txt(oids::timestamptz, "3000-01-01 00:00:00+00")); },
                          client_errc::conversion_error);
    BOOST_TEST(has(range, "out of the C++ type's range"), range);
    // PostgreSQL's last timestamps do not fit sys_time<microseconds> (int64 µs since 1970).
    BOOST_TEST(has(error_of([] { dec<us_tp>(txt(oids::timestamptz, "294276-12-31 23:59:59.999999+00")); },
                            client_errc::conversion_error), "out of the C++ type's range"));
    const sys_seconds last = dec<sys_seconds>(txt(oids::timestamptz, "294276-12-31 23:59:59+00"));
    BOOST_TEST(last.time_since_epoch().count() == (9223371331200000000LL / 1000000 - 1) + 946684800LL);
    // A narrow representation: int32 seconds end in 2038.
    using narrow = sys_time<duration<std::int32_t>>;
    BOOST_TEST((dec<narrow>(txt(oids::timestamptz, "2038-01-19 03:14:06+00")).time_since_epoch().count() == 2147483646));
    BOOST_TEST(has(error_of([] { dec<narrow>(txt(oids::timestamptz, "2038-01-19 03:14:07+00")); }, // would be max()
                            client_errc::conversion_error), "out of the C++ type's range"));
}

ASIOPG_TEST_CASE(finer_parameters_must_be_whole_microseconds) {
    const sys_time<nanoseconds> whole = sys_days{2000y / 1 / 1} + 1234000ns;
    BOOST_TEST(enc(whole, oids::timestamptz) == be64(1234));
    const sys_time<nanoseconds> frac = whole + 1ns;
    auto msg = error_of([&] { enc(frac, oids::timestamptz); }, client_errc::invalid_parameter);
    BOOST_TEST(has(msg, "would lose precision"), msg);
    BOOST_TEST(has(msg, "std::chrono::sys_time<std::chrono::nanoseconds>"), msg);
    BOOST_TEST(has(error_of([&] { enc(local_time<nanoseconds>{frac.time_since_epoch()}, oids::timestamp); },
                            client_errc::invalid_parameter), "would lose precision"));
    // Coarser ones are exact, and checked against PostgreSQL's range.
    BOOST_TEST(enc(sys_seconds{sys_days{2000y / 1 / 1} + 1s}, oids::timestamptz) == be64(1000000));
    BOOST_TEST(enc(sys_time<minutes>{sys_days{1999y / 12 / 31} + 23h + 59min}, oids::timestamptz) == be64(-60000000));
    BOOST_TEST(has(error_of([] { enc(sys_seconds{sys_days{year(-4713) / 11 / 24}} - 1s, oids::timestamptz); },
                            client_errc::invalid_parameter), "out of the range"));
    BOOST_TEST(has(error_of([] { enc(sys_seconds{seconds{std::numeric_limits<std::int64_t>::max() - 1}}, oids::timestamptz); },
                            client_errc::invalid_parameter), "out of the range"));
    BOOST_TEST(has(error_of([] { enc(us_tp{microseconds{std::numeric_limits<std::int64_t>::min() + 1}}, oids::timestamptz); },
                            client_errc::invalid_parameter), "out of the range"));
    BOOST_TEST(enc(sys_seconds{sys_days{year(-4713) / 11 / 24}}, oids::timestamptz) == be64(-211813488000000000));
}

ASIOPG_TEST_CASE(infinities_are_max_and_min) {
    const std::string pinf = be64(std::numeric_limits<std::int64_t>::max());
    const std::string ninf = be64(std::numeric_limits<std::int64_t>::min());
    BOOST_TEST(enc(us_tp::max(), oids::timestamptz) == pinf);
    BOOST_TEST(enc(us_tp::min(), oids::timestamptz) == ninf);
    BOOST_TEST(enc(sys_seconds::max(), oids::timestamptz) == pinf);
    BOOST_TEST(enc(local_seconds::min(), oids::timestamp) == ninf);
    BOOST_TEST(enc(sys_days::max(), oids::date) == be32(std::numeric_limits<std::int32_t>::max()));
    BOOST_TEST(enc(local_days::min(), oids::date) == be32(std::numeric_limits<std::int32_t>::min()));

    BOOST_TEST((dec<us_tp>(bin(oids::timestamptz, pinf)) == us_tp::max()));
    BOOST_TEST((dec<sys_seconds>(bin(oids::timestamptz, ninf)) == sys_seconds::min()));
    BOOST_TEST((dec<local_us>(bin(oids::timestamp, pinf)) == local_us::max()));
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "infinity")) == us_tp::max()));
    BOOST_TEST((dec<us_tp>(txt(oids::timestamptz, "-infinity")) == us_tp::min()));
    BOOST_TEST((dec<local_time<nanoseconds>>(txt(oids::timestamp, "-infinity")) == local_time<nanoseconds>::min()));
    BOOST_TEST((dec<sys_days>(txt(oids::date, "infinity")) == sys_days::max()));
    BOOST_TEST((dec<sys_days>(bin(oids::date, be32(std::numeric_limits<std::int32_t>::min()))) == sys_days::min()));
    BOOST_TEST((dec<us_tp>(txt(oids::date, "-infinity")) == us_tp::min()));
    auto msg = error_of([] { dec<year_month_day>(txt(oids::date, "infinity")); }, client_errc::conversion_error);
    BOOST_TEST(has(msg, "infinity is not a calendar date"), msg);
    BOOST_TEST(has(error_of([&] { dec<year_month_day>(bin(oids::date, be32(std::numeric_limits<std::int32_t>::min()))); },
                            client_errc::conversion_error), "-infinity"));
}

ASIOPG_TEST_CASE(dates) {
    BOOST_TEST(enc(sys_days{2000y / 1 / 1}, oids::date) == be32(0));
    BOOST_TEST(enc(sys_days{1970y / 1 / 1}, oids::date) == be32(-10957));
    BOOST_TEST(enc(local_days{2000y / 1 / 2}, oids::date) == be32(1));
    BOOST_TEST(enc(2024y / 2 / 29, oids::date) == be32(8825));
    BOOST_TEST((dec<year_month_day>(bin(oids::date, be32(8825))) == 2024y / 2 / 29));
    BOOST_TEST((dec<sys_days>(bin(oids::date, be32(-10957))) == sys_days{}));
    BOOST_TEST((dec<year_month_day>(txt(oids::date, "1969-12-31")) == 1969y / 12 / 31));
    BOOST_TEST((dec<year_month_day>(txt(oids::date, "2500-06-15")) == 2500y / 6 / 15));
    BOOST_TEST((dec<year_month_day>(txt(oids::date, "0001-01-01")) == 1y / 1 / 1));
    BOOST_TEST((dec<year_month_day>(txt(oids::date, "0001-01-01 BC")) == year(0) / 1 / 1));
    BOOST_TEST((dec<year_month_day>(txt(oids::date, "4714-11-24 BC")) == year(-4713) / 11 / 24));
    BOOST_TEST((dec<sys_days>(txt(oids::date, "5874897-12-31")).time_since_epoch().count() == 2145031948 + 10957));
    BOOST_TEST(has(error_of([] { dec<year_month_day>(txt(oids::date, "40000-01-01")); }, client_errc::conversion_error),
                   "out of std::chrono::year's range"));
    BOOST_TEST(has(error_of([] { dec<us_tp>(txt(oids::timestamptz, "999999999-01-01 00:00:00+00")); },
                            client_errc::conversion_error), "the value is out of the C++ type's range"));
    BOOST_TEST(has(error_of([] { dec<us_tp>(txt(oids::date, "999999999-01-01")); }, client_errc::conversion_error),
                   "the value is out of the C++ type's range"));
    // A date reads as midnight in time points.
    BOOST_TEST((dec<us_tp>(txt(oids::date, "2024-03-04")) == us_tp{sys_days{2024y / 3 / 4}}));
    BOOST_TEST((dec<local_seconds>(bin(oids::date, be32(1))) == local_seconds{local_days{2000y / 1 / 2}}));
    // Bad dates, as parameters and as text.
    BOOST_TEST(has(error_of([] { enc(2023y / 2 / 29, oids::date); }, client_errc::invalid_parameter), "not a valid date"));
    BOOST_TEST(has(error_of([] { enc(year_month_day{}, oids::date); }, client_errc::invalid_parameter), "not a valid date"));
    BOOST_TEST(has(error_of([] { enc(sys_days{days{std::numeric_limits<int>::max()}}, oids::date); },
                            client_errc::invalid_parameter), "out of the range"));
    BOOST_TEST(has(error_of([] { dec<sys_days>(txt(oids::date, "2023-02-29")); }, client_errc::conversion_error),
                   "is not an ISO date"));
    BOOST_TEST(has(error_of([] { dec<sys_days>(txt(oids::date, "0000-01-01")); }, client_errc::conversion_error),
                   "is not an ISO date"));
    BOOST_TEST(has(error_of([] { dec<sys_days>(bin(oids::date, "abc")); }, client_errc::conversion_error), "4 bytes"));
    // NULL keeps the date type.
    param_scratch s;
    param_ref r = param_traits<std::optional<year_month_day>>::encode(std::nullopt, s);
    BOOST_TEST(r.data == nullptr);
    BOOST_TEST(r.type == oids::date);
    r = param_traits<std::optional<sys_days>>::encode(std::nullopt, s);
    BOOST_TEST(r.data == nullptr);
    BOOST_TEST(r.type == oids::date);
    BOOST_TEST(result_traits<year_month_day>::accepts(oids::date));
    BOOST_TEST(!result_traits<year_month_day>::accepts(oids::timestamp));
}

ASIOPG_TEST_CASE(non_iso_date_styles_fail_with_a_hint) {
    const char* samples[] = {"01/02/2024 03:04:05 UTC", "Tue Jan 02 03:04:05 2024 UTC", "02.01.2024 03:04:05 UTC",
                             "01-02-2024"};
    for (const char* s : samples) {
        BOOST_TEST_CONTEXT(s) {
            auto msg = error_of([&] { dec<us_tp>(txt(oids::timestamptz, s)); }, client_errc::conversion_error);
            BOOST_TEST(has(msg, "SET DateStyle = 'ISO'"), msg);
            msg = error_of([&] { dec<sys_days>(txt(oids::date, s)); }, client_errc::conversion_error);
            BOOST_TEST(has(msg, "ISO"), msg);
        }
    }
}

ASIOPG_TEST_CASE(times_of_day) {
    using tod = hh_mm_ss<microseconds>;
    const tod t{13h + 14min + 15s + 16us};
    BOOST_TEST(enc(t, oids::time) == be64((13 * 3600 + 14 * 60 + 15) * 1000000LL + 16));
    BOOST_TEST((dec<tod>(bin(oids::time, be64(t.to_duration().count()))).to_duration() == t.to_duration()));
    BOOST_TEST((dec<tod>(txt(oids::time, "13:14:15.000016")).to_duration() == t.to_duration()));
    BOOST_TEST((dec<tod>(txt(oids::time, "00:00:00")).to_duration() == 0us));
    BOOST_TEST((dec<tod>(txt(oids::time, "24:00:00")).hours() == 24h));
    BOOST_TEST(enc(tod{24h}, oids::time) == be64(86400000000LL));
    BOOST_TEST(has(error_of([] { enc(tod{24h + 1us}, oids::time); }, client_errc::invalid_parameter), "out of the range"));
    BOOST_TEST(has(error_of([] { enc(tod{-1s}, oids::time); }, client_errc::invalid_parameter), "out of the range"));
    BOOST_TEST(has(error_of([] { enc(hh_mm_ss<nanoseconds>{1ns}, oids::time); }, client_errc::invalid_parameter),
                   "would lose precision"));
    BOOST_TEST(enc(hh_mm_ss<seconds>{90s}, oids::time) == be64(90000000));
    BOOST_TEST((dec<hh_mm_ss<seconds>>(txt(oids::time, "00:01:30")).to_duration() == 90s));
    BOOST_TEST(has(error_of([] { dec<hh_mm_ss<seconds>>(txt(oids::time, "12:00:00.5")); }, client_errc::conversion_error),
                   "would lose precision"));
    BOOST_TEST(has(error_of([] { dec<tod>(txt(oids::time, "24:00:01")); }, client_errc::conversion_error), "not a time"));
    BOOST_TEST(has(error_of([] { dec<tod>(txt(oids::timetz, "12:00:00+00")); }, client_errc::conversion_error),
                   "time with time zone"));
    // A time also reads as a duration since midnight.
    BOOST_TEST((dec<minutes>(txt(oids::time, "01:30:00")) == 90min));
}

ASIOPG_TEST_CASE(intervals_binary) {
    const interval i{14, 3, 4h + 5min + 6s + 789ms};
    const std::string b = enc(i, oids::interval);
    BOOST_TEST(b == interval_bytes(14706789000, 3, 14));
    BOOST_TEST((dec<interval>(bin(oids::interval, b)) == i));
    BOOST_TEST((interval{} == interval{0, 0, 0us}));
    BOOST_TEST(!(interval{1, 0, 0us} == interval{0, 30, 0us}));
    BOOST_TEST(has(error_of([] { dec<interval>(bin(oids::interval, "short")); }, client_errc::conversion_error), "16 bytes"));
}

ASIOPG_TEST_CASE(intervals_text_postgres_style) {
    struct sample {
        const char* text;
        interval value;
    };
    const sample samples[] = {
        {"1 year 2 mons 3 days 04:05:06.789", {14, 3, 4h + 5min + 6s + 789ms}},
        {"-1 days +02:03:00", {0, -1, 2h + 3min}},
        {"00:00:00", {}},
        {"-00:00:01", {0, 0, -1s}},
        {"00:00:00.000001", {0, 0, 1us}},
        {"1 day", {0, 1, 0us}},
        {"2 years", {24, 0, 0us}},
        {"1 mon", {1, 0, 0us}},
        {"-1 years -2 mons", {-14, 0, 0us}},
        {"3 days -04:00:00", {0, 3, -4h}},
        {"1 year -1 mons +1 day", {11, 1, 0us}},
        {"-1 days -00:00:01", {0, -1, -1s}},
        {"36:00:00", {0, 0, 36h}},
        {"178956970 years 7 mons", {std::numeric_limits<std::int32_t>::max(), 0, 0us}},
        {"-178956970 years -8 mons", {std::numeric_limits<std::int32_t>::min(), 0, 0us}},
        {"2562047788:00:54.775807", {0, 0, microseconds::max()}},
        {"-2562047788:00:54.775808", {0, 0, microseconds::min()}},
        {"4:05:06", {0, 0, 4h + 5min + 6s}}, // IntervalStyle sql_standard, same meaning
    };
    for (const sample& s : samples) {
        BOOST_TEST_CONTEXT(s.text) {
            const interval got = dec<interval>(txt(oids::interval, s.text));
            BOOST_TEST(got.months == s.value.months);
            BOOST_TEST(got.days == s.value.days);
            BOOST_TEST(got.time.count() == s.value.time.count());
        }
    }
    // PostgreSQL 17's infinite intervals.
    BOOST_TEST((dec<interval>(txt(oids::interval, "infinity")) ==
                interval{std::numeric_limits<std::int32_t>::max(), std::numeric_limits<std::int32_t>::max(), microseconds::max()}));
    // Other IntervalStyles say what to change.
    for (const char* other : {"@ 1 year 2 mons", "P1Y2M3DT4H5M6S", "PT0S", "1-2", "+1-2 +3 +4:05:06", "0", "1 2:03:04",
                              "", "1 week", "1 year 00:00:00 extra", "12:3:00"}) {
        BOOST_TEST_CONTEXT(other) {
            auto msg = error_of([&] { dec<interval>(txt(oids::interval, other)); }, client_errc::conversion_error);
            BOOST_TEST(has(msg, "SET IntervalStyle = 'postgres'"), msg);
        }
    }
    BOOST_TEST(has(error_of([] { dec<interval>(txt(oids::interval, "178956971 years")); }, client_errc::conversion_error),
                   "out of the range"));
}

ASIOPG_TEST_CASE(durations_are_intervals_of_time_only) {
    // A plain microseconds parameter is an interval of that time: no days, no months.
    BOOST_TEST(enc(90000000us, oids::interval) == interval_bytes(90000000, 0, 0));
    BOOST_TEST(enc(36h, oids::interval) == interval_bytes(36 * 3600000000LL, 0, 0));
    BOOST_TEST(enc(-1500ms, oids::interval) == interval_bytes(-1500000, 0, 0));
    BOOST_TEST(enc(days{2}, oids::interval) == interval_bytes(2 * 86400000000LL, 0, 0));
    BOOST_TEST(enc(5000ns, oids::interval) == interval_bytes(5, 0, 0));
    BOOST_TEST(has(error_of([] { enc(5001ns, oids::interval); }, client_errc::invalid_parameter), "would lose precision"));
    BOOST_TEST(has(error_of([] { enc(hours::max(), oids::interval); }, client_errc::invalid_parameter), "out of the range"));
    // Reading: a day counts as 24 hours; months cannot be a duration.
    BOOST_TEST((dec<hours>(txt(oids::interval, "1 day 02:00:00")) == 26h));
    BOOST_TEST((dec<microseconds>(bin(oids::interval, interval_bytes(-1, -1, 0))) == -86400000001us));
    BOOST_TEST((dec<seconds>(txt(oids::interval, "-1 days +02:03:00")) == -(21h + 57min)));
    BOOST_TEST((dec<nanoseconds>(txt(oids::interval, "00:00:00.5")) == 500ms));
    auto msg = error_of([] { dec<seconds>(txt(oids::interval, "1 mon")); }, client_errc::conversion_error);
    BOOST_TEST(has(msg, "months"), msg);
    BOOST_TEST(has(msg, "asiopg::interval"), msg);
    msg = error_of([] { dec<seconds>(txt(oids::interval, "00:00:00.5")); }, client_errc::conversion_error);
    BOOST_TEST(has(msg, "would lose precision"), msg);
    BOOST_TEST(has(msg, "std::chrono::seconds"), msg);
    BOOST_TEST(has(error_of([] { dec<duration<std::int32_t>>(txt(oids::interval, "1000000 days")); },
                            client_errc::conversion_error), "out of the C++ type's range"));
    BOOST_TEST(has(error_of([] { dec<seconds>(txt(oids::int4, "1")); }, client_errc::conversion_error),
                   "not an interval or time"));
    BOOST_TEST(result_traits<seconds>::accepts(oids::interval));
    BOOST_TEST(!result_traits<seconds>::accepts(oids::int8));
}

ASIOPG_TEST_CASE(parameter_lists_pick_the_types) {
    param_scratch s[6];
    std::array<param_ref, 6> r;
    auto list = params(us_tp{}, local_seconds{}, sys_days{}, 2024y / 1 / 1, hh_mm_ss<microseconds>{1h}, 5us);
    list.encode(r, s);
    BOOST_TEST(r[0].type == oids::timestamptz);
    BOOST_TEST(r[1].type == oids::timestamp);
    BOOST_TEST(r[2].type == oids::date);
    BOOST_TEST(r[3].type == oids::date);
    BOOST_TEST(r[4].type == oids::time);
    BOOST_TEST(r[5].type == oids::interval);
    BOOST_TEST(std::string(r[5].data, 16) == interval_bytes(5, 0, 0));
}

ASIOPG_TEST_CASE(binary_values_as_postgres_text) {
    struct sample {
        oid type;
        std::string bytes;
        const char* text;
    };
    const sample samples[] = {
        {oids::timestamptz, be64(0), "2000-01-01 00:00:00+00"},
        {oids::timestamptz, be64(-pg_epoch_us), "1970-01-01 00:00:00+00"},
        {oids::timestamptz, be64(pg_us(sys_days{2024y / 2 / 29} + 12h + 34min + 56s + 120000us)), "2024-02-29 12:34:56.12+00"},
        {oids::timestamptz, be64(pg_us(sys_days{year(-43) / 3 / 15} + 12h)), "0044-03-15 12:00:00+00 BC"},
        {oids::timestamptz, be64(-211813488000000000), "4714-11-24 00:00:00+00 BC"},
        {oids::timestamptz, be64(9223371331200000000 - 1), "294276-12-31 23:59:59.999999+00"},
        {oids::timestamptz, be64(std::numeric_limits<std::int64_t>::max()), "infinity"},
        {oids::timestamptz, be64(std::numeric_limits<std::int64_t>::min()), "-infinity"},
        {oids::timestamp, be64(1), "2000-01-01 00:00:00.000001"},
        {oids::timestamp, be64(-1), "1999-12-31 23:59:59.999999"},
        {oids::timestamp, be64(pg_us(sys_days{10000y / 1 / 1})), "10000-01-01 00:00:00"},
        {oids::date, be32(0), "2000-01-01"},
        {oids::date, be32(-730485), "0001-01-01 BC"},
        {oids::date, be32(2145031948), "5874897-12-31"},
        {oids::date, be32(std::numeric_limits<std::int32_t>::max()), "infinity"},
        {oids::date, be32(std::numeric_limits<std::int32_t>::min()), "-infinity"},
        {oids::time, be64(0), "00:00:00"},
        {oids::time, be64(86400000000LL), "24:00:00"},
        {oids::time, be64(45296500000LL), "12:34:56.5"},
        {oids::interval, interval_bytes(14706789000, 3, 14), "1 year 2 mons 3 days 04:05:06.789"},
        {oids::interval, interval_bytes(7380000000, -1, 0), "-1 days +02:03:00"},
        {oids::interval, interval_bytes(0, 0, 0), "00:00:00"},
        {oids::interval, interval_bytes(-1000000, 0, 0), "-00:00:01"},
        {oids::interval, interval_bytes(0, 0, -14), "-1 years -2 mons"},
        {oids::interval, interval_bytes(0, 1, 1), "1 mon 1 day"},
        {oids::interval, interval_bytes(-14400000000, 3, 0), "3 days -04:00:00"},
        {oids::interval, interval_bytes(0, 1, -1), "-1 mons +1 day"},
        {oids::interval, interval_bytes(std::numeric_limits<std::int64_t>::max(), 0, 0), "2562047788:00:54.775807"},
        {oids::interval, interval_bytes(std::numeric_limits<std::int64_t>::min(), 0, 0), "-2562047788:00:54.775808"},
    };
    for (const sample& s : samples) {
        BOOST_TEST_CONTEXT(s.text) { BOOST_TEST(text_of(bin(s.type, s.bytes)) == s.text); }
    }
    // Values no server sends still print (no overflow at the ends of int64).
    BOOST_TEST(has(text_of(bin(oids::timestamp, be64(std::numeric_limits<std::int64_t>::min() + 1))), " BC"));
    BOOST_TEST(!has(text_of(bin(oids::timestamptz, be64(std::numeric_limits<std::int64_t>::max() - 1))), "BC"));
    BOOST_TEST(text_of(bin(oids::time, be64(-1))) == "-00:00:00.000001");
    std::string out = "untouched";
    BOOST_TEST(!detail::datetime_text(txt(oids::timestamptz, "2000-01-01 00:00:00+00"), out)); // text: as is
    BOOST_TEST(!detail::datetime_text(bin(oids::int4, be32(1)), out));
    BOOST_TEST(!detail::datetime_text(bin(oids::timetz, be64(0) + be32(0)), out));
    BOOST_TEST(out == "untouched");
    BOOST_TEST(has(error_of([&] { detail::datetime_text(bin(oids::timestamptz, be32(0)), out); }, client_errc::conversion_error),
                   "8 bytes"));
}

// Binary → text → value gives the value back, and dates agree with std::chrono's calendar.
ASIOPG_TEST_CASE(text_and_binary_agree_on_random_values) {
    std::mt19937_64 rng(20240229);
    std::uniform_int_distribution<std::int64_t> any_ts(-211813488000000000, 9223371331200000000 - 1);
    std::uniform_int_distribution<std::int32_t> any_date(-2451545, 2145031948);
    const auto first_ymd = sys_days{year::min() / 1 / 1}.time_since_epoch().count() - 10957;
    const auto last_ymd = sys_days{year::max() / 12 / 31}.time_since_epoch().count() - 10957;
    std::uniform_int_distribution<std::int32_t> chrono_date(static_cast<std::int32_t>(first_ymd),
                                                            static_cast<std::int32_t>(last_ymd));
    std::uniform_int_distribution<std::int64_t> any_i64(std::numeric_limits<std::int64_t>::min(),
                                                        std::numeric_limits<std::int64_t>::max());
    std::uniform_int_distribution<std::int32_t> any_i32(std::numeric_limits<std::int32_t>::min(),
                                                        std::numeric_limits<std::int32_t>::max());
    for (int i = 0; i < 20000; ++i) {
        const std::int64_t us = any_ts(rng);
        const std::string b = be64(us);
        const std::string tz = text_of(bin(oids::timestamptz, b));
        const std::string local = text_of(bin(oids::timestamp, b));
        // sys_time<microseconds> (µs since 1970) ends before PostgreSQL's last timestamps.
        const std::int64_t pg_max_in_us_tp = std::numeric_limits<std::int64_t>::max() - pg_epoch_us;
        if (us < pg_max_in_us_tp) {
            BOOST_TEST_REQUIRE((dec<us_tp>(txt(oids::timestamptz, tz)) == dec<us_tp>(bin(oids::timestamptz, b))), tz);
            BOOST_TEST_REQUIRE((dec<local_us>(txt(oids::timestamp, local)) == dec<local_us>(bin(oids::timestamp, b))), local);
            BOOST_TEST_REQUIRE(enc(dec<us_tp>(txt(oids::timestamptz, tz)), oids::timestamptz) == b);
        }

        const std::int32_t d = any_date(rng);
        const std::string date_text = text_of(bin(oids::date, be32(d)));
        BOOST_TEST_REQUIRE(enc(dec<sys_days>(txt(oids::date, date_text)), oids::date) == be32(d), date_text);

        const std::int32_t cd = chrono_date(rng);
        const year_month_day ymd{sys_days{days{cd + 10957}}};
        BOOST_TEST_REQUIRE((dec<year_month_day>(bin(oids::date, be32(cd))) == ymd));
        BOOST_TEST_REQUIRE((dec<year_month_day>(txt(oids::date, text_of(bin(oids::date, be32(cd))))) == ymd));

        const interval iv{any_i32(rng), any_i32(rng), microseconds{any_i64(rng)}};
        const std::string iv_text = text_of(bin(oids::interval, enc(iv, oids::interval)));
        BOOST_TEST_REQUIRE((dec<interval>(txt(oids::interval, iv_text)) == iv), iv_text);
    }
}

BOOST_AUTO_TEST_SUITE_END()
