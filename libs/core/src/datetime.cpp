// Date/time codecs: std::chrono and asiopg::interval ↔ PostgreSQL's date, time, timestamp,
// timestamptz and interval, in binary and in text (ISO DateStyle, 'postgres' IntervalStyle).
//
// PostgreSQL's binary forms (integer datetimes, big-endian): timestamp/timestamptz int64 µs
// since 2000-01-01 00:00:00 (UTC for timestamptz), ±infinity INT64_MAX/INT64_MIN; date int32
// days since 2000-01-01, ±infinity INT32_MAX/INT32_MIN; time int64 µs since midnight; interval
// int64 µs, int32 days, int32 months. Calendar: proleptic Gregorian, astronomical years
// (1 BC = year 0), as PostgreSQL.
#include "client_error.hpp"
#include "datetime.hpp"

#include <asiopg/error.hpp>
#include <asiopg/types/chrono.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace asiopg {
namespace detail {
namespace {

__extension__ typedef __int128 i128;

constexpr std::int64_t usecs_per_sec = 1'000'000;
constexpr std::int64_t usecs_per_minute = 60 * usecs_per_sec;
constexpr std::int64_t usecs_per_hour = 60 * usecs_per_minute;
constexpr std::int64_t usecs_per_day = 24 * usecs_per_hour;
constexpr std::int64_t unix_to_pg_days = 10957; // 1970-01-01 → 2000-01-01
constexpr std::int64_t unix_to_pg_usecs = unix_to_pg_days * usecs_per_day;

// PostgreSQL's valid ranges (datatype/timestamp.h), relative to 2000-01-01; the ends excluded.
constexpr std::int64_t min_timestamp = -211813488000000000;  // 4714-11-24 BC 00:00:00
constexpr std::int64_t end_timestamp = 9223371331200000000;  // 294277-01-01 00:00:00
constexpr std::int64_t min_date = -2451545;                  // 4714-11-24 BC
constexpr std::int64_t end_date = 2145031949;                // 5874898-01-01

constexpr std::int64_t i64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t i64_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int32_t i32_max = std::numeric_limits<std::int32_t>::max();
constexpr std::int32_t i32_min = std::numeric_limits<std::int32_t>::min();

// ---- names and errors ----

std::string duration_name(const chrono_tick& t) {
    struct named {
        std::intmax_t num, den;
        const char* name;
    };
    static constexpr named known[] = {
        {1, 1000000000, "std::chrono::nanoseconds"}, {1, 1000000, "std::chrono::microseconds"},
        {1, 1000, "std::chrono::milliseconds"},      {1, 1, "std::chrono::seconds"},
        {60, 1, "std::chrono::minutes"},             {3600, 1, "std::chrono::hours"},
        {86400, 1, "std::chrono::days"},             {604800, 1, "std::chrono::weeks"},
        {2629746, 1, "std::chrono::months"},         {31556952, 1, "std::chrono::years"},
    };
    for (const named& n : known)
        if (n.num == t.num && n.den == t.den) return n.name;
    return "std::chrono::duration<…, std::ratio<" + std::to_string(t.num) + ", " + std::to_string(t.den) + ">>";
}

bool is_days(const chrono_tick& t) noexcept { return t.num == 86400 && t.den == 1; }

std::string chrono_name(chrono_kind k, const chrono_tick& t) {
    switch (k) {
    case chrono_kind::sys_time:
        return is_days(t) ? "std::chrono::sys_days" : "std::chrono::sys_time<" + duration_name(t) + ">";
    case chrono_kind::local_time:
        return is_days(t) ? "std::chrono::local_days" : "std::chrono::local_time<" + duration_name(t) + ">";
    case chrono_kind::hh_mm_ss: return "std::chrono::hh_mm_ss<" + duration_name(t) + ">";
    case chrono_kind::duration: break;
    }
    return duration_name(t);
}

// What a decoder is reading into, for its error messages.
struct target {
    const value_view& v;
    chrono_kind kind = chrono_kind::duration;
    const chrono_tick* tick = nullptr;
    const char* fixed = nullptr;

    std::string name() const { return fixed ? std::string(fixed) : chrono_name(kind, *tick); }
    [[noreturn]] void fail(std::string_view why) const { conversion_failed(v, name(), why); }
};

target chrono_target(const value_view& v, chrono_kind k, const chrono_tick& t) { return {v, k, &t, nullptr}; }
target named_target(const value_view& v, const char* name) { return {v, chrono_kind::duration, nullptr, name}; }

std::string quoted(std::string_view s) {
    constexpr std::size_t limit = 64;
    return "\"" + std::string(s.substr(0, limit)) + (s.size() > limit ? "…\"" : "\"");
}

// ---- arithmetic ----

i128 gcd(i128 a, i128 b) noexcept {
    while (b != 0) {
        i128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

// µs = ticks * mul / div, in lowest terms.
struct scale {
    i128 mul;
    i128 div;
};
scale scale_of(const chrono_tick& t) noexcept {
    i128 a = static_cast<i128>(t.num) * usecs_per_sec;
    i128 b = t.den;
    i128 g = gcd(a, b);
    return {a / g, b / g};
}

enum class conv { ok, inexact, overflow };

conv ticks_to_usecs(std::int64_t count, const chrono_tick& t, i128& us) noexcept {
    const scale s = scale_of(t);
    i128 p;
    if (__builtin_mul_overflow(static_cast<i128>(count), s.mul, &p)) return conv::overflow;
    if (p % s.div != 0) return conv::inexact;
    us = p / s.div;
    return conv::ok;
}

// Ticks of `t` for `us`, strictly inside the count's range when `exclusive` (time points keep
// min() and max() for the infinities).
conv usecs_to_ticks(i128 us, const chrono_tick& t, bool exclusive, std::int64_t& count) noexcept {
    const scale s = scale_of(t);
    i128 p;
    if (__builtin_mul_overflow(us, s.div, &p)) return conv::overflow;
    if (p % s.mul != 0) return conv::inexact;
    const i128 c = p / s.mul;
    if (exclusive ? (c <= t.min || c >= t.max) : (c < t.min || c > t.max)) return conv::overflow;
    count = static_cast<std::int64_t>(c);
    return conv::ok;
}

// ---- calendar (Howard Hinnant's algorithms, proleptic Gregorian, astronomical years) ----

struct civil {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept { // since 1970-01-01
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

civil civil_from_days(std::int64_t z) noexcept { // z: days since 1970-01-01
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

unsigned last_day_of(std::int64_t y, unsigned m) noexcept {
    static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    return m == 2 && leap ? 29 : days[m - 1];
}

// ---- binary ----

std::int64_t read_be(std::string_view b) noexcept {
    std::uint64_t v = 0;
    for (unsigned char c : b) v = (v << 8) | c;
    const std::size_t n = b.size();
    if (n > 0 && n < 8 && ((v >> (8 * n - 1)) & 1)) v |= ~std::uint64_t{0} << (8 * n);
    return static_cast<std::int64_t>(v);
}

void expect_size(const target& t, std::size_t n, const char* what) {
    if (t.v.bytes.size() != n)
        t.fail("a binary " + std::string(what) + " has " + std::to_string(n) + " bytes, not " +
               std::to_string(t.v.bytes.size()));
}

// ---- text output (PostgreSQL's EncodeDateOnly/EncodeDateTime/EncodeTimeOnly/EncodeInterval) ----

void append_padded(std::string& out, std::uint64_t v, int width) {
    char buf[24];
    int n = 0;
    do {
        buf[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n < width) buf[n++] = '0';
    while (n > 0) out += buf[--n];
}

std::uint64_t magnitude(std::int64_t v) noexcept {
    return v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
}

// Two-digit seconds, then the fraction without trailing zeros (none when zero).
void append_seconds(std::string& out, std::uint64_t sec, std::uint64_t usec) {
    append_padded(out, sec, 2);
    if (usec == 0) return;
    char digits[6];
    for (int i = 5; i >= 0; --i, usec /= 10) digits[i] = static_cast<char>('0' + usec % 10);
    int n = 6;
    while (digits[n - 1] == '0') --n;
    out += '.';
    out.append(digits, static_cast<std::size_t>(n));
}

// Y-M-D of `days` (since 2000-01-01); returns true for a BC year (the caller appends " BC").
bool append_ymd(std::string& out, std::int64_t days) {
    const civil c = civil_from_days(days + unix_to_pg_days);
    const bool bc = c.year <= 0;
    append_padded(out, static_cast<std::uint64_t>(bc ? 1 - c.year : c.year), 4);
    out += '-';
    append_padded(out, c.month, 2);
    out += '-';
    append_padded(out, c.day, 2);
    return bc;
}

void append_time_of_day(std::string& out, std::uint64_t us) { // hours may reach 24
    append_padded(out, us / usecs_per_hour, 2);
    out += ':';
    append_padded(out, us / usecs_per_minute % 60, 2);
    out += ':';
    append_seconds(out, us / usecs_per_sec % 60, us % usecs_per_sec);
}

void format_date(std::string& out, std::int32_t days) {
    if (days == i32_max) { out = "infinity"; return; }
    if (days == i32_min) { out = "-infinity"; return; }
    out.clear();
    if (append_ymd(out, days)) out += " BC";
}

void format_timestamp(std::string& out, std::int64_t us, bool with_tz) {
    if (us == i64_max) { out = "infinity"; return; }
    if (us == i64_min) { out = "-infinity"; return; }
    out.clear();
    // In 128 bits: near INT64_MIN the day's start is below INT64_MIN (never valid, still printed).
    i128 days = us / usecs_per_day, rest = us % usecs_per_day;
    if (rest < 0) {
        rest += usecs_per_day;
        --days;
    }
    const bool bc = append_ymd(out, static_cast<std::int64_t>(days));
    out += ' ';
    append_time_of_day(out, static_cast<std::uint64_t>(rest));
    if (with_tz) out += "+00";
    if (bc) out += " BC";
}

void format_time(std::string& out, std::int64_t us) {
    out.clear();
    if (us < 0) out += '-'; // never sent by a server; shown rather than hidden
    append_time_of_day(out, magnitude(us));
}

bool is_infinite(const interval& v, bool& negative) noexcept {
    if (v.months == i32_max && v.days == i32_max && v.time.count() == i64_max) { negative = false; return true; }
    if (v.months == i32_min && v.days == i32_min && v.time.count() == i64_min) { negative = true; return true; }
    return false;
}

void format_interval(std::string& out, const interval& v) {
    bool negative = false;
    if (is_infinite(v, negative)) { out = negative ? "-infinity" : "infinity"; return; }
    out.clear();
    bool is_zero = true, is_before = false;
    auto part = [&](std::int64_t value, const char* unit) {
        if (value == 0) return;
        if (!is_zero) out += ' ';
        if (is_before && value > 0) out += '+';
        out += std::to_string(value);
        out += ' ';
        out += unit;
        if (value != 1) out += 's';
        is_before = value < 0; // as PostgreSQL: each nonzero field sets it for the next one
        is_zero = false;
    };
    part(v.months / 12, "year");
    part(v.months % 12, "mon");
    part(v.days, "day");
    std::int64_t t = v.time.count();
    const std::int64_t hour = t / usecs_per_hour;
    t -= hour * usecs_per_hour;
    const std::int64_t min = t / usecs_per_minute;
    t -= min * usecs_per_minute;
    const std::int64_t sec = t / usecs_per_sec;
    const std::int64_t usec = t - sec * usecs_per_sec;
    if (is_zero || hour != 0 || min != 0 || sec != 0 || usec != 0) {
        const bool minus = hour < 0 || min < 0 || sec < 0 || usec < 0;
        if (!is_zero) out += ' ';
        if (minus) out += '-';
        else if (is_before) out += '+';
        append_padded(out, magnitude(hour), 2);
        out += ':';
        append_padded(out, magnitude(min), 2);
        out += ':';
        append_seconds(out, magnitude(sec), magnitude(usec));
    }
}

// ---- text input ----

class scanner {
public:
    explicit scanner(std::string_view s) noexcept : s_(s) {}
    bool at_end() const noexcept { return i_ == s_.size(); }
    char peek() const noexcept { return i_ < s_.size() ? s_[i_] : '\0'; }
    bool eat(char c) noexcept {
        if (peek() != c || at_end()) return false;
        ++i_;
        return true;
    }
    bool eat(std::string_view w) noexcept {
        if (s_.substr(i_, w.size()) != w) return false;
        i_ += w.size();
        return true;
    }
    // All the digits here: between min and max of them (max ≤ 18), else false.
    bool number(std::int64_t& out, int min_digits, int max_digits) noexcept {
        int n = 0;
        std::int64_t v = 0;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
            if (++n > max_digits) return false;
            v = v * 10 + (s_[i_++] - '0');
        }
        out = v;
        return n >= min_digits;
    }
    // After '.': 1 to 6 digits, as microseconds.
    bool fraction(std::int64_t& us) noexcept {
        int n = 0;
        std::int64_t v = 0;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
            if (++n > 6) return false;
            v = v * 10 + (s_[i_++] - '0');
        }
        for (int k = n; k < 6; ++k) v *= 10;
        us = v;
        return n > 0;
    }

private:
    std::string_view s_;
    std::size_t i_ = 0;
};

// "HH:MM:SS[.ffffff]" (hours of min_digits to max_digits digits, at most `max_hour`), as µs.
bool scan_clock(scanner& sc, std::int64_t max_hour, int min_digits, int max_digits, i128& us) noexcept {
    std::int64_t h = 0, m = 0, s = 0, f = 0;
    if (!sc.number(h, min_digits, max_digits) || !sc.eat(':') || !sc.number(m, 2, 2) || !sc.eat(':') ||
        !sc.number(s, 2, 2))
        return false;
    if (sc.eat('.') && !sc.fraction(f)) return false;
    if (h > max_hour || m > 59 || s > 59) return false;
    us = static_cast<i128>(h) * usecs_per_hour + m * usecs_per_minute + s * usecs_per_sec + f;
    return true;
}

// ISO DateStyle output starts with a year of 4 or more digits and a '-'; SQL ("01/02/2024"),
// German ("02.01.2024") and Postgres ("Tue Jan 02 …", "01-02-2024") do not.
bool looks_iso(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i >= 4 && i < s.size() && s[i] == '-';
}

// A date, timestamp or timestamptz: µs since 2000-01-01 (UTC for timestamptz; a date's midnight).
struct pg_instant {
    time_kind kind = time_kind::finite;
    i128 us = 0;
};

pg_instant parse_instant_text(const target& t) {
    const std::string_view s = t.v.bytes;
    if (s == "infinity") return {time_kind::infinity, 0};
    if (s == "-infinity") return {time_kind::minus_infinity, 0};
    if (!looks_iso(s))
        t.fail(quoted(s) + " is not in the ISO DateStyle: asiopg reads dates in ISO format only "
                           "(SET DateStyle = 'ISO')");
    const char* what = t.v.type == oids::date ? "date" : t.v.type == oids::timestamp ? "timestamp" : "timestamptz";
    auto malformed = [&]() { t.fail(quoted(s) + " is not an ISO " + what); };
    scanner sc(s);
    std::int64_t y = 0, mo = 0, d = 0;
    if (!sc.number(y, 4, 9) || !sc.eat('-') || !sc.number(mo, 2, 2) || !sc.eat('-') || !sc.number(d, 2, 2))
        malformed();
    i128 clock = 0, offset = 0;
    if (t.v.type != oids::date) {
        if (!sc.eat(' ') || !scan_clock(sc, 23, 2, 2, clock)) malformed();
        if (t.v.type == oids::timestamptz) {
            const char sign = sc.peek();
            if (!sc.eat('+') && !sc.eat('-')) malformed();
            std::int64_t oh = 0, om = 0, os = 0;
            if (!sc.number(oh, 2, 2)) malformed();
            if (sc.eat(':')) {
                if (!sc.number(om, 2, 2)) malformed();
                if (sc.eat(':') && !sc.number(os, 2, 2)) malformed();
            }
            if (om > 59 || os > 59) malformed();
            offset = static_cast<i128>(oh * 3600 + om * 60 + os) * usecs_per_sec;
            if (sign == '-') offset = -offset;
        }
    }
    const bool bc = sc.eat(" BC");
    if (!sc.at_end() || y == 0 || mo < 1 || mo > 12 || d < 1) malformed();
    const std::int64_t year = bc ? 1 - y : y;
    if (static_cast<unsigned>(d) > last_day_of(year, static_cast<unsigned>(mo))) malformed();
    const std::int64_t days = days_from_civil(year, static_cast<unsigned>(mo), static_cast<unsigned>(d)) - unix_to_pg_days;
    return {time_kind::finite, static_cast<i128>(days) * usecs_per_day + clock - offset};
}

// A date, timestamp or timestamptz in either format.
pg_instant read_instant(const target& t) {
    if (t.v.format == data_format::text) return parse_instant_text(t);
    if (t.v.type == oids::date) {
        expect_size(t, 4, "date");
        const std::int64_t days = read_be(t.v.bytes);
        if (days == i32_max) return {time_kind::infinity, 0};
        if (days == i32_min) return {time_kind::minus_infinity, 0};
        return {time_kind::finite, static_cast<i128>(days) * usecs_per_day};
    }
    expect_size(t, 8, t.v.type == oids::timestamp ? "timestamp" : "timestamptz");
    const std::int64_t us = read_be(t.v.bytes);
    if (us == i64_max) return {time_kind::infinity, 0};
    if (us == i64_min) return {time_kind::minus_infinity, 0};
    return {time_kind::finite, us};
}

// time: µs since midnight, 0 … 24:00:00.
std::int64_t read_time(const target& t) {
    if (t.v.type != oids::time) {
        if (t.v.type == oids::timetz) t.fail("time with time zone is not supported (cast it to time)");
        t.fail("not a time");
    }
    if (t.v.format == data_format::binary) {
        expect_size(t, 8, "time");
        return read_be(t.v.bytes);
    }
    scanner sc(t.v.bytes);
    i128 us = 0;
    if (!scan_clock(sc, 24, 2, 2, us) || !sc.at_end() || us > usecs_per_day)
        t.fail(quoted(t.v.bytes) + " is not a time");
    return static_cast<std::int64_t>(us);
}

[[noreturn]] void not_postgres_interval(const target& t) {
    t.fail(quoted(t.v.bytes) + " is not an interval in the 'postgres' IntervalStyle: asiopg reads that "
                               "style only (SET IntervalStyle = 'postgres')");
}

interval parse_interval_text(const target& t) {
    const std::string_view s = t.v.bytes;
    if (s == "infinity") return {i32_max, i32_max, std::chrono::microseconds(i64_max)};
    if (s == "-infinity") return {i32_min, i32_min, std::chrono::microseconds(i64_min)};
    scanner sc(s);
    i128 months = 0, days = 0, time = 0;
    if (sc.at_end()) not_postgres_interval(t);
    for (;;) {
        const bool negative = sc.eat('-');
        if (!negative) sc.eat('+');
        std::int64_t n = 0;
        if (sc.peek() < '0' || sc.peek() > '9') not_postgres_interval(t);
        // "04:05:06": the time, always last; else "<n> <unit>".
        scanner probe = sc;
        if (!probe.number(n, 1, 18)) not_postgres_interval(t);
        if (probe.peek() == ':') { // "04:05:06" ('sql_standard' writes "4:05:06": the same)
            i128 us = 0;
            if (!scan_clock(sc, i64_max, 1, 18, us) || !sc.at_end()) not_postgres_interval(t);
            time = negative ? -us : us;
            break;
        }
        sc = probe;
        const i128 value = negative ? -static_cast<i128>(n) : static_cast<i128>(n);
        if (!sc.eat(' ')) not_postgres_interval(t);
        if (sc.eat("years") || sc.eat("year")) months += value * 12;
        else if (sc.eat("mons") || sc.eat("mon")) months += value;
        else if (sc.eat("days") || sc.eat("day")) days += value;
        else not_postgres_interval(t);
        if (sc.at_end()) break;
        if (!sc.eat(' ')) not_postgres_interval(t);
    }
    if (months < i32_min || months > i32_max || days < i32_min || days > i32_max || time < i64_min || time > i64_max)
        t.fail(quoted(s) + " is out of the range of an interval");
    return {static_cast<std::int32_t>(months), static_cast<std::int32_t>(days),
            std::chrono::microseconds(static_cast<std::int64_t>(time))};
}

interval read_interval(const target& t) {
    if (t.v.type != oids::interval) t.fail("not an interval");
    if (t.v.format == data_format::text) return parse_interval_text(t);
    expect_size(t, 16, "interval");
    const std::string_view b = t.v.bytes;
    return {static_cast<std::int32_t>(read_be(b.substr(12, 4))), static_cast<std::int32_t>(read_be(b.substr(8, 4))),
            std::chrono::microseconds(read_be(b.substr(0, 8)))};
}

// The value for an error message (text input can be absurd: "999999999-01-01").
std::string instant_text(i128 us, oid type) {
    std::string s;
    if (type == oids::date) {
        const i128 days = us / usecs_per_day;
        if (days < min_date || days >= end_date) return "the value";
        format_date(s, static_cast<std::int32_t>(days));
    } else {
        if (us < min_timestamp || us >= end_timestamp) return "the value";
        format_timestamp(s, static_cast<std::int64_t>(us), type == oids::timestamptz);
    }
    return s;
}

std::string time_text(std::int64_t us) {
    std::string s;
    format_time(s, us);
    return s;
}

} // namespace

// ---- encoders ----

param_ref encode_time_point(chrono_kind kind, time_kind k, std::int64_t count, const chrono_tick& tick,
                            param_scratch& s) {
    if (is_days(tick)) { // sys_days, local_days: a date
        std::int32_t days = i32_max;
        if (k == time_kind::minus_infinity) days = i32_min;
        else if (k == time_kind::finite) {
            const i128 d = static_cast<i128>(count) - unix_to_pg_days;
            if (d < min_date || d >= end_date)
                throw_invalid_parameter(chrono_name(kind, tick) +
                              " parameter is out of the range of a PostgreSQL date (4713 BC to 5874897 AD)");
            days = static_cast<std::int32_t>(d);
        }
        store_be<std::int32_t>(s.bytes, days);
        return {s.bytes, 4, data_format::binary, oids::date};
    }
    std::int64_t us = i64_max;
    if (k == time_kind::minus_infinity) us = i64_min;
    else if (k == time_kind::finite) {
        i128 u = 0;
        const conv c = ticks_to_usecs(count, tick, u);
        if (c == conv::inexact)
            throw_invalid_parameter(chrono_name(kind, tick) +
                          " parameter would lose precision: PostgreSQL keeps whole microseconds");
        u -= unix_to_pg_usecs;
        if (c == conv::overflow || u < min_timestamp || u >= end_timestamp)
            throw_invalid_parameter(chrono_name(kind, tick) +
                          " parameter is out of the range of a PostgreSQL timestamp (4713 BC to 294276 AD)");
        us = static_cast<std::int64_t>(u);
    }
    store_be<std::int64_t>(s.bytes, us);
    return {s.bytes, 8, data_format::binary, kind == chrono_kind::local_time ? oids::timestamp : oids::timestamptz};
}

param_ref encode_date(const std::chrono::year_month_day& ymd, param_scratch& s) {
    if (!ymd.ok()) throw_invalid_parameter("std::chrono::year_month_day parameter is not a valid date");
    const std::int64_t days = static_cast<std::int64_t>(std::chrono::sys_days(ymd).time_since_epoch().count());
    store_be<std::int32_t>(s.bytes, static_cast<std::int32_t>(days - unix_to_pg_days)); // ±32767 years: in range
    return {s.bytes, 4, data_format::binary, oids::date};
}

param_ref encode_time_of_day(std::int64_t count, const chrono_tick& tick, param_scratch& s) {
    i128 us = 0;
    const conv c = ticks_to_usecs(count, tick, us);
    if (c == conv::inexact)
        throw_invalid_parameter(chrono_name(chrono_kind::hh_mm_ss, tick) +
                      " parameter would lose precision: PostgreSQL keeps whole microseconds");
    if (c == conv::overflow || us < 0 || us > usecs_per_day)
        throw_invalid_parameter(chrono_name(chrono_kind::hh_mm_ss, tick) +
                      " parameter is out of the range of a PostgreSQL time (00:00:00 to 24:00:00)");
    store_be<std::int64_t>(s.bytes, static_cast<std::int64_t>(us));
    return {s.bytes, 8, data_format::binary, oids::time};
}

param_ref encode_duration(std::int64_t count, const chrono_tick& tick, param_scratch& s) {
    i128 us = 0;
    const conv c = ticks_to_usecs(count, tick, us);
    if (c == conv::inexact)
        throw_invalid_parameter(chrono_name(chrono_kind::duration, tick) +
                      " parameter would lose precision: PostgreSQL keeps whole microseconds");
    if (c == conv::overflow || us < i64_min || us > i64_max)
        throw_invalid_parameter(chrono_name(chrono_kind::duration, tick) +
                      " parameter is out of the range of an interval's time (±2562047788 hours)");
    return encode_interval(interval{0, 0, std::chrono::microseconds(static_cast<std::int64_t>(us))}, s);
}

param_ref encode_interval(const interval& v, param_scratch& s) noexcept {
    store_be<std::int64_t>(s.bytes, static_cast<std::int64_t>(v.time.count()));
    store_be<std::int32_t>(s.bytes + 8, v.days);
    store_be<std::int32_t>(s.bytes + 12, v.months);
    return {s.bytes, 16, data_format::binary, oids::interval};
}

// ---- decoders ----

bool accepts_time_point(oid t, chrono_kind kind) noexcept {
    return t == oids::date || t == (kind == chrono_kind::local_time ? oids::timestamp : oids::timestamptz);
}

time_point_value decode_time_point(const value_view& v, chrono_kind kind, const chrono_tick& tick) {
    const target t = chrono_target(v, kind, tick);
    if (!accepts_time_point(v.type, kind)) {
        if (v.type == oids::timestamp)
            t.fail("a timestamp without time zone is not an instant: read it as std::chrono::local_time");
        if (v.type == oids::timestamptz)
            t.fail("a timestamp with time zone is an instant: read it as std::chrono::sys_time");
        t.fail(kind == chrono_kind::local_time ? "not a timestamp or date" : "not a timestamptz or date");
    }
    const pg_instant p = read_instant(t);
    if (p.kind != time_kind::finite) return {p.kind, 0};
    std::int64_t count = 0;
    switch (usecs_to_ticks(p.us + unix_to_pg_usecs, tick, true, count)) {
    case conv::ok: break;
    case conv::inexact: t.fail(instant_text(p.us, v.type) + " would lose precision");
    case conv::overflow: t.fail(instant_text(p.us, v.type) + " is out of the C++ type's range");
    }
    return {time_kind::finite, count};
}

std::chrono::year_month_day decode_year_month_day(const value_view& v) {
    const target t = named_target(v, "std::chrono::year_month_day");
    if (v.type != oids::date) t.fail("not a date");
    const pg_instant p = read_instant(t);
    if (p.kind != time_kind::finite)
        t.fail(std::string(p.kind == time_kind::infinity ? "infinity" : "-infinity") +
               " is not a calendar date (read it as std::chrono::sys_days)");
    const civil c = civil_from_days(static_cast<std::int64_t>(p.us / usecs_per_day) + unix_to_pg_days);
    if (c.year < -32767 || c.year > 32767) t.fail(instant_text(p.us, v.type) + " is out of std::chrono::year's range");
    return std::chrono::year_month_day{std::chrono::year(static_cast<int>(c.year)), std::chrono::month(c.month),
                                       std::chrono::day(c.day)};
}

std::int64_t decode_time_of_day(const value_view& v, const chrono_tick& tick) {
    const target t = chrono_target(v, chrono_kind::hh_mm_ss, tick);
    const std::int64_t us = read_time(t);
    std::int64_t count = 0;
    switch (usecs_to_ticks(us, tick, false, count)) {
    case conv::ok: break;
    case conv::inexact: t.fail(time_text(us) + " would lose precision");
    case conv::overflow: t.fail(time_text(us) + " is out of the C++ type's range");
    }
    return count;
}

std::int64_t decode_duration(const value_view& v, const chrono_tick& tick) {
    const target t = chrono_target(v, chrono_kind::duration, tick);
    i128 us = 0;
    std::string text;
    if (v.type == oids::time) {
        us = read_time(t);
        text = time_text(static_cast<std::int64_t>(us));
    } else if (v.type == oids::interval) {
        const interval i = read_interval(t);
        format_interval(text, i);
        if (i.months != 0)
            t.fail("interval " + quoted(text) +
                   " has months, whose length varies: read it as asiopg::interval");
        us = static_cast<i128>(i.days) * usecs_per_day + i.time.count();
    } else {
        t.fail("not an interval or time");
    }
    std::int64_t count = 0;
    switch (usecs_to_ticks(us, tick, false, count)) {
    case conv::ok: break;
    case conv::inexact: t.fail(quoted(text) + " would lose precision");
    case conv::overflow: t.fail(quoted(text) + " is out of the C++ type's range");
    }
    return count;
}

interval decode_interval(const value_view& v) { return read_interval(named_target(v, "asiopg::interval")); }

bool datetime_text(const value_view& v, std::string& out) {
    if (v.format != data_format::binary) return false;
    const target t = named_target(v, "std::string");
    switch (v.type) {
    case oids::date: {
        expect_size(t, 4, "date");
        format_date(out, static_cast<std::int32_t>(read_be(v.bytes)));
        return true;
    }
    case oids::timestamp:
    case oids::timestamptz:
        expect_size(t, 8, v.type == oids::timestamp ? "timestamp" : "timestamptz");
        format_timestamp(out, read_be(v.bytes), v.type == oids::timestamptz);
        return true;
    case oids::time:
        expect_size(t, 8, "time");
        format_time(out, read_be(v.bytes));
        return true;
    case oids::interval: format_interval(out, read_interval(t)); return true;
    default: return false;
    }
}

} // namespace detail
} // namespace asiopg
