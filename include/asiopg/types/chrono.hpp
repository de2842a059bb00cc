#ifndef ASIOPG_TYPES_CHRONO_HPP
#define ASIOPG_TYPES_CHRONO_HPP

// Dates, times, timestamps and intervals ↔ std::chrono, as parameters and as results.
//
//   PostgreSQL    C++ (parameter → sent as; result ← read from)
//   ───────────   ──────────────────────────────────────────────────────────────────────────────
//   timestamptz   std::chrono::sys_time<D>   (UTC)      → timestamptz;  ← timestamptz, date
//   timestamp     std::chrono::local_time<D>            → timestamp;    ← timestamp, date
//   date          std::chrono::sys_days, local_days     → date;         ← date, and timestamptz
//                                                          (sys_days) / timestamp (local_days)
//                                                          when exactly at midnight
//                 std::chrono::year_month_day           → date;         ← date
//   time          std::chrono::hh_mm_ss<D>              → time;         ← time
//   interval      asiopg::interval                      → interval;     ← interval
//                 std::chrono::duration<R, P>           → interval (0 months, 0 days, all time);
//                                                        ← interval without months (a day counts
//                                                          as 24 h), time (since midnight)
//
// D is any std::chrono::duration with a signed integer representation of at most 64 bits
// (nanoseconds … days, weeks, years, or your own). A time point or duration whose period is
// exactly one day (sys_days, local_days) is sent as a date; any other period as a timestamp.
//
// Precision. PostgreSQL keeps microseconds. Reading into a coarser duration (seconds, days …)
// must be exact, else `client_errc::conversion_error` ("would lose precision"): a timestamptz
// read as sys_days must be at midnight UTC. Sending a finer duration (nanoseconds) that is not
// a whole number of microseconds is refused before anything is sent: `param_traits::encode`
// throws `error_with_diagnostics` with `client_errc::invalid_parameter`, which `async_execute`
// reports as the operation's error (the message says "would lose precision"). Values outside
// PostgreSQL's range (timestamps 4713 BC … 294276 AD, dates 4713 BC … 5874897 AD, time
// 00:00:00 … 24:00:00) are refused the same way; values outside the C++ type's range (year
// 3000 as sys_time<nanoseconds>, 294276 AD as sys_time<microseconds>) fail to read with
// conversion_error.
//
// Infinity. timestamp, timestamptz and date have the special values 'infinity' and
// '-infinity'. They map to the time point type's `max()` and `min()` in both directions:
//   'infinity'  ↔ sys_time<D>::max(), local_time<D>::max(), sys_days::max(), local_days::max()
//   '-infinity' ↔ sys_time<D>::min(), local_time<D>::min(), sys_days::min(), local_days::min()
// so `tp == decltype(tp)::max()` tests for infinity, and sending `max()` stores 'infinity'.
// year_month_day has no infinity: reading one fails with conversion_error (read sys_days).
// asiopg::interval reads PostgreSQL 17's infinite intervals as all fields at their maximum
// ('infinity') or minimum ('-infinity'); a std::chrono::duration cannot hold them.
//
// Time zones. sys_time is UTC. Binary results are UTC by definition; text results (all
// simple-protocol queries) carry the session's UTC offset ("… 05:30:00+05:30"), which asiopg
// applies, so any TimeZone setting reads the same instant. local_time and timestamp carry no
// zone: nothing is converted. No time zone database is used.
//
// Text results must be in the ISO DateStyle (the default; "ISO, DMY" etc. too) and the
// 'postgres' IntervalStyle (the default); other styles fail with a conversion_error saying
// which setting to change. `field.as<std::string>()` on a binary date/time value gives
// PostgreSQL's ISO text (timestamptz in UTC, "+00").

#include <asiopg/params.hpp>
#include <asiopg/result_traits.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <ratio>
#include <type_traits>

namespace asiopg {

/// A PostgreSQL interval: months, days and microseconds are kept apart, because a month and a
/// day have no fixed length (across a DST change a day may last 23 or 25 hours).
/// Sent and read as `interval`. `interval{1, 2, std::chrono::hours(3)}` is '1 mon 2 days 03:00:00'.
struct interval {
    std::int32_t months = 0;
    std::int32_t days = 0;
    std::chrono::microseconds time{0};

    friend bool operator==(const interval&, const interval&) = default;
};

namespace detail {

// A duration type's tick as the compiled codecs see it: seconds per tick = num / den, and the
// range of the count.
struct chrono_tick {
    std::intmax_t num;
    std::intmax_t den;
    std::int64_t min;
    std::int64_t max;
};

template <class Rep>
inline constexpr bool is_chrono_rep =
    std::is_integral_v<Rep> && std::is_signed_v<Rep> && sizeof(Rep) <= sizeof(std::int64_t);

template <class D>
constexpr chrono_tick tick_of() noexcept {
    return {D::period::num, D::period::den, static_cast<std::int64_t>(std::numeric_limits<typename D::rep>::min()),
            static_cast<std::int64_t>(std::numeric_limits<typename D::rep>::max())};
}

enum class chrono_kind { sys_time, local_time, hh_mm_ss, duration };
enum class time_kind { finite, infinity, minus_infinity };

struct time_point_value {
    time_kind kind;
    std::int64_t count; // ticks since 1970-01-01 00:00:00 (UTC or local), when finite
};

template <class TP>
time_kind kind_of(const TP& tp) noexcept {
    if (tp == TP::max()) return time_kind::infinity;
    if (tp == TP::min()) return time_kind::minus_infinity;
    return time_kind::finite;
}

template <class TP>
TP time_point_of(const time_point_value& v) noexcept {
    if (v.kind == time_kind::infinity) return TP::max();
    if (v.kind == time_kind::minus_infinity) return TP::min();
    return TP(typename TP::duration(static_cast<typename TP::rep>(v.count)));
}

// Compiled codecs (datetime.cpp). Encoders throw error_with_diagnostics (invalid_parameter);
// decoders call conversion_failed.
param_ref encode_time_point(chrono_kind kind, time_kind k, std::int64_t count, const chrono_tick& tick,
                            param_scratch& s);
param_ref encode_date(const std::chrono::year_month_day& ymd, param_scratch& s);
param_ref encode_time_of_day(std::int64_t count, const chrono_tick& tick, param_scratch& s);
param_ref encode_duration(std::int64_t count, const chrono_tick& tick, param_scratch& s);
param_ref encode_interval(const interval& v, param_scratch& s) noexcept;

time_point_value decode_time_point(const value_view& v, chrono_kind kind, const chrono_tick& tick);
std::chrono::year_month_day decode_year_month_day(const value_view& v);
std::int64_t decode_time_of_day(const value_view& v, const chrono_tick& tick);
std::int64_t decode_duration(const value_view& v, const chrono_tick& tick);
interval decode_interval(const value_view& v);

bool accepts_time_point(oid t, chrono_kind kind) noexcept;

} // namespace detail

// ---- timestamptz ↔ std::chrono::sys_time<D> (sys_days ↔ date) ----

template <class Rep, class Period>
struct param_traits<std::chrono::time_point<std::chrono::system_clock, std::chrono::duration<Rep, Period>>,
                    std::enable_if_t<detail::is_chrono_rep<Rep>>> {
    using type = std::chrono::time_point<std::chrono::system_clock, std::chrono::duration<Rep, Period>>;
    static param_ref encode(const type& v, param_scratch& s) {
        return detail::encode_time_point(detail::chrono_kind::sys_time, detail::kind_of(v),
                                         static_cast<std::int64_t>(v.time_since_epoch().count()),
                                         detail::tick_of<typename type::duration>(), s);
    }
};

template <class Rep, class Period>
struct result_traits<std::chrono::time_point<std::chrono::system_clock, std::chrono::duration<Rep, Period>>,
                     std::enable_if_t<detail::is_chrono_rep<Rep>>> {
    using type = std::chrono::time_point<std::chrono::system_clock, std::chrono::duration<Rep, Period>>;
    static void decode(const value_view& v, type& out) {
        out = detail::time_point_of<type>(detail::decode_time_point(
            v, detail::chrono_kind::sys_time, detail::tick_of<typename type::duration>()));
    }
    static bool accepts(oid t) noexcept {
        return detail::accepts_time_point(t, detail::chrono_kind::sys_time);
    }
};

// ---- timestamp ↔ std::chrono::local_time<D> (local_days ↔ date) ----

template <class Rep, class Period>
struct param_traits<std::chrono::time_point<std::chrono::local_t, std::chrono::duration<Rep, Period>>,
                    std::enable_if_t<detail::is_chrono_rep<Rep>>> {
    using type = std::chrono::time_point<std::chrono::local_t, std::chrono::duration<Rep, Period>>;
    static param_ref encode(const type& v, param_scratch& s) {
        return detail::encode_time_point(detail::chrono_kind::local_time, detail::kind_of(v),
                                         static_cast<std::int64_t>(v.time_since_epoch().count()),
                                         detail::tick_of<typename type::duration>(), s);
    }
};

template <class Rep, class Period>
struct result_traits<std::chrono::time_point<std::chrono::local_t, std::chrono::duration<Rep, Period>>,
                     std::enable_if_t<detail::is_chrono_rep<Rep>>> {
    using type = std::chrono::time_point<std::chrono::local_t, std::chrono::duration<Rep, Period>>;
    static void decode(const value_view& v, type& out) {
        out = detail::time_point_of<type>(detail::decode_time_point(
            v, detail::chrono_kind::local_time, detail::tick_of<typename type::duration>()));
    }
    static bool accepts(oid t) noexcept {
        return detail::accepts_time_point(t, detail::chrono_kind::local_time);
    }
};

// ---- date ↔ std::chrono::year_month_day ----

/// Sent as a date; a date that is not `ok()` (2023-02-29, a default-constructed one) throws
/// `invalid_parameter`. Read from a date; 'infinity' and years outside ±32767 fail.
template <> struct param_traits<std::chrono::year_month_day> {
    static param_ref encode(const std::chrono::year_month_day& v, param_scratch& s) {
        return detail::encode_date(v, s);
    }
};
/// NULL of type date (the generic optional probes `T{}`, which is not a valid date).
template <> struct param_traits<std::optional<std::chrono::year_month_day>> {
    static param_ref encode(const std::optional<std::chrono::year_month_day>& v, param_scratch& s) {
        if (v) return detail::encode_date(*v, s);
        return {nullptr, 0, data_format::binary, oids::date};
    }
};
template <> struct result_traits<std::chrono::year_month_day> {
    static void decode(const value_view& v, std::chrono::year_month_day& out) {
        out = detail::decode_year_month_day(v);
    }
    static bool accepts(oid t) noexcept { return t == oids::date; }
};

// ---- time ↔ std::chrono::hh_mm_ss<D> ----

template <class Rep, class Period>
struct param_traits<std::chrono::hh_mm_ss<std::chrono::duration<Rep, Period>>,
                    std::enable_if_t<detail::is_chrono_rep<Rep>>> {
    using type = std::chrono::hh_mm_ss<std::chrono::duration<Rep, Period>>;
    static param_ref encode(const type& v, param_scratch& s) {
        // to_duration() is in the precision type (at least seconds).
        auto d = v.to_duration();
        return detail::encode_time_of_day(static_cast<std::int64_t>(d.count()),
                                          detail::tick_of<decltype(d)>(), s);
    }
};

template <class Rep, class Period>
struct result_traits<std::chrono::hh_mm_ss<std::chrono::duration<Rep, Period>>,
                     std::enable_if_t<detail::is_chrono_rep<Rep>>> {
    using type = std::chrono::hh_mm_ss<std::chrono::duration<Rep, Period>>;
    static void decode(const value_view& v, type& out) {
        using D = std::chrono::duration<Rep, Period>;
        out = type(D(static_cast<Rep>(detail::decode_time_of_day(v, detail::tick_of<D>()))));
    }
    static bool accepts(oid t) noexcept { return t == oids::time; }
};

// ---- interval ↔ asiopg::interval, std::chrono::duration ----

template <> struct param_traits<interval> {
    static param_ref encode(const interval& v, param_scratch& s) noexcept { return detail::encode_interval(v, s); }
};
template <> struct result_traits<interval> {
    static void decode(const value_view& v, interval& out) { out = detail::decode_interval(v); }
    static bool accepts(oid t) noexcept { return t == oids::interval; }
};

/// Any duration (std::chrono::microseconds, seconds, hours …) is sent as an interval of that
/// many microseconds (0 months, 0 days): elapsed time, not calendar time.
template <class Rep, class Period>
struct param_traits<std::chrono::duration<Rep, Period>, std::enable_if_t<detail::is_chrono_rep<Rep>>> {
    using type = std::chrono::duration<Rep, Period>;
    static param_ref encode(const type& v, param_scratch& s) {
        return detail::encode_duration(static_cast<std::int64_t>(v.count()), detail::tick_of<type>(), s);
    }
};

template <class Rep, class Period>
struct result_traits<std::chrono::duration<Rep, Period>, std::enable_if_t<detail::is_chrono_rep<Rep>>> {
    using type = std::chrono::duration<Rep, Period>;
    static void decode(const value_view& v, type& out) {
        out = type(static_cast<Rep>(detail::decode_duration(v, detail::tick_of<type>())));
    }
    static bool accepts(oid t) noexcept { return t == oids::interval || t == oids::time; }
};

} // namespace asiopg

#endif
