// libFuzzer driver for the parsers asiopg owns (see test/fuzz/README.md; built and run by
// tools/fuzz). One binary, several targets: the first input byte picks the target
// (byte % target_count), the rest is that target's input.
//
// Contract checked everywhere: a parser either succeeds or throws error_with_diagnostics with the
// documented client_errc. A crash, a sanitizer report, a hang, any other exception or a broken
// invariant (checked with FUZZ_CHECK, which prints what failed and aborts) is a finding.

// sql_format.cpp is included, not compiled on its own: its format-string lexer (scan_format) has
// internal linkage, and format_sql() itself needs an open connection. The two connection members
// it references are stubbed below (connection.cpp, and Boost.Asio's run time with it, is not
// linked into the fuzzer).
#include "sql_format.cpp" // libs/core/src

#include "copy_format.hpp"
#include "datetime.hpp"
#include "redact.hpp"
#include "session_state.hpp"

#include <asiopg/error.hpp>
#include <asiopg/params.hpp>
#include <asiopg/result_traits.hpp>
#include <asiopg/sql/quote.hpp>
#include <asiopg/types/array.hpp>
#include <asiopg/types/chrono.hpp>
#include <asiopg/types/numeric.hpp>
#include <asiopg/types/uuid.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

namespace asiopg {
// Stubs for sql_format.cpp's references to the connection (see the top of this file): never a
// connection, so format_sql_erased() would throw not_connected. Only scan_format() is called.
pg_conn* connection::native_handle() const noexcept { return nullptr; }
bool connection::is_open() const noexcept { return false; }
} // namespace asiopg

namespace fuzz {

using asiopg::client_errc;
using asiopg::data_format;
using asiopg::oid;
using asiopg::value_view;
namespace oids = asiopg::oids;
namespace detail = asiopg::detail;

[[noreturn]] void check_failed(const char* expr, const char* file, int line, const std::string& info) {
    std::fprintf(stderr, "\n==FUZZ== invariant failed at %s:%d: %s\n", file, line, expr);
    if (!info.empty()) std::fprintf(stderr, "==FUZZ== %s\n", info.c_str());
    std::fflush(stderr);
    std::abort();
}
#define FUZZ_CHECK(cond, info)                                                                     \
    do {                                                                                           \
        if (!(cond)) ::fuzz::check_failed(#cond, __FILE__, __LINE__, (info));                     \
    } while (0)

std::string printable(std::string_view s, std::size_t limit = 200) {
    std::string out;
    for (unsigned char c : s.substr(0, limit)) {
        if (c >= 0x20 && c < 0x7f && c != '\\') out += static_cast<char>(c);
        else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    if (s.size() > limit) out += "...";
    return "\"" + out + "\"";
}

// Runs `f`; an error_with_diagnostics with code `expected` is the parser refusing the input
// (fine), anything else thrown is a finding. Returns whether `f` completed.
template <class F>
bool expect(client_errc expected, const char* what, F&& f) {
    try {
        f();
        return true;
    } catch (const asiopg::error_with_diagnostics& e) {
        if (e.code() != asiopg::make_error_code(expected))
            check_failed("error_with_diagnostics with the documented code", __FILE__, __LINE__,
                         std::string(what) + " threw " + e.code().to_string() + ": " + e.what());
        return false;
    } catch (const std::exception& e) {
        check_failed("only error_with_diagnostics is thrown", __FILE__, __LINE__,
                     std::string(what) + " threw " + typeid(e).name() + ": " + e.what());
    } catch (...) {
        check_failed("only error_with_diagnostics is thrown", __FILE__, __LINE__,
                     std::string(what) + " threw a non-std::exception");
    }
}
template <class F>
bool decodes(const char* what, F&& f) {
    return expect(client_errc::conversion_error, what, std::forward<F>(f));
}

// Reads the fuzz input front to back.
class input {
public:
    input(const std::uint8_t* d, std::size_t n) : p_(reinterpret_cast<const char*>(d)), n_(n) {}
    std::uint8_t byte() {
        if (n_ == 0) return 0;
        --n_;
        return static_cast<std::uint8_t>(*p_++);
    }
    std::string_view take(std::size_t k) {
        k = std::min(k, n_);
        std::string_view s(p_, k);
        p_ += k;
        n_ -= k;
        return s;
    }
    std::string_view rest() { return take(n_); }
    std::size_t size() const { return n_; }

private:
    const char* p_;
    std::size_t n_;
};

std::string be(std::uint64_t v, int n) {
    std::string s;
    for (int i = n - 1; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
}

std::int64_t read_be_ref(std::string_view b) {
    std::uint64_t v = 0;
    for (unsigned char c : b) v = (v << 8) | c;
    if (b.size() < 8 && !b.empty() && (static_cast<unsigned char>(b[0]) & 0x80)) v |= ~std::uint64_t{0} << (8 * b.size());
    return static_cast<std::int64_t>(v);
}

// Every type OID the decoders know (type_table in decode.cpp), their arrays, and unknown ones.
constexpr oid known_oids[] = {
    oids::bool_, oids::bytea, oids::char_, oids::name, oids::int8, oids::int2, oids::int4, oids::text,
    oids::oid_, oids::json, oids::xml, oids::float4, oids::float8, oids::unknown, oids::cidr, oids::inet,
    oids::bpchar, oids::varchar, oids::date, oids::time, oids::timestamp, oids::timestamptz,
    oids::interval, oids::timetz, oids::numeric, oids::uuid, oids::jsonb,
    0, 12345, // unknown types (enums, domains …)
    1000, 1001, 1005, 1007, 1016, 1009, 1028, 199, 1021, 1022, 1015, 1182, 1183, 1115, 1185, 1187,
    1270, 1231, 2951, 3807, 1041, 651,
};
constexpr std::size_t known_oid_count = sizeof known_oids / sizeof known_oids[0];

// ------------------------------------------------------------------------------------------
// 0: scalar decoders (result_traits.hpp, decode.cpp)
//    input: [format/type][decoder] value…

void target_scalar(input in) {
    const std::uint8_t sel = in.byte();
    const std::uint8_t op = in.byte();
    const std::string value(in.rest());
    const value_view v{value, (sel & 1) ? data_format::binary : data_format::text, known_oids[(sel >> 1) % known_oid_count]};
    const bool binary = v.format == data_format::binary;

    switch (op % 11) {
    case 0: {
        std::int64_t s = 0;
        if (decodes("decode_signed", [&] { s = detail::decode_signed(v, INT64_MIN, INT64_MAX, "long long"); })) {
            // binary integers of the right size: what the server sent, and the same as their text
            if (binary && ((v.type == oids::int2 && value.size() == 2) || (v.type == oids::int4 && value.size() == 4) ||
                           (v.type == oids::int8 && value.size() == 8))) {
                FUZZ_CHECK(s == read_be_ref(value), printable(value));
                std::string text;
                decodes("decode_text", [&] { detail::decode_text(v, text); });
                FUZZ_CHECK(text == std::to_string(s), text);
            }
        }
        std::int64_t small = 0;
        if (decodes("decode_signed(short)", [&] { small = detail::decode_signed(v, INT16_MIN, INT16_MAX, "short"); }))
            FUZZ_CHECK(small >= INT16_MIN && small <= INT16_MAX, std::to_string(small));
        break;
    }
    case 1: {
        std::uint64_t u = 0;
        if (decodes("decode_unsigned(unsigned)", [&] { u = detail::decode_unsigned(v, UINT32_MAX, "unsigned int"); }))
            FUZZ_CHECK(u <= UINT32_MAX, std::to_string(u));
        decodes("decode_unsigned", [&] { detail::decode_unsigned(v, UINT64_MAX, "unsigned long long"); });
        break;
    }
    case 2: {
        double d = 0;
        if (decodes("decode_double", [&] { d = detail::decode_double(v, "double"); }) && binary &&
            v.type == oids::float8 && value.size() == 8) {
            // binary float8 → its text → the same double, bit for bit (NaN: any NaN)
            std::string text;
            decodes("decode_text", [&] { detail::decode_text(v, text); });
            double back = 0;
            decodes("decode_double(text)", [&] { back = detail::decode_double({text, data_format::text, v.type}, "double"); });
            FUZZ_CHECK((std::isnan(d) && std::isnan(back)) || std::memcmp(&d, &back, sizeof d) == 0, text);
        }
        break;
    }
    case 3: {
        float f = 0;
        if (decodes("decode_float", [&] { f = detail::decode_float(v); }) && binary && v.type == oids::float4 &&
            value.size() == 4) {
            std::string text;
            decodes("decode_text", [&] { detail::decode_text(v, text); });
            float back = 0;
            decodes("decode_float(text)", [&] { back = detail::decode_float({text, data_format::text, v.type}); });
            FUZZ_CHECK((std::isnan(f) && std::isnan(back)) || std::memcmp(&f, &back, sizeof f) == 0, text);
        }
        break;
    }
    case 4: decodes("decode_bool", [&] { detail::decode_bool(v); }); break;
    case 5: {
        std::string text;
        decodes("decode_text", [&] { detail::decode_text(v, text); });
        break;
    }
    case 6: {
        asiopg::bytes b;
        if (decodes("decode_bytes", [&] { detail::decode_bytes(v, b); }) && !binary && v.type == oids::bytea) {
            // hex text → bytes → the same hex (case aside)
            std::string hex = "\\x";
            for (unsigned char c : b) {
                char buf[3];
                std::snprintf(buf, sizeof buf, "%02x", c);
                hex += buf;
            }
            std::string lower = value;
            for (char& c : lower) c = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
            FUZZ_CHECK(hex == lower, printable(value));
        }
        break;
    }
    case 7: {
        std::string_view out;
        if (decodes("string_view", [&] { asiopg::result_traits<std::string_view>::decode(v, out); }))
            FUZZ_CHECK(out == value, printable(value));
        break;
    }
    case 8: {
        asiopg::numeric n;
        decodes("numeric", [&] { asiopg::result_traits<asiopg::numeric>::decode(v, n); });
        break;
    }
    case 9: {
        boost::uuids::uuid u{};
        decodes("uuid", [&] { asiopg::result_traits<boost::uuids::uuid>::decode(v, u); });
        break;
    }
    case 10: { // a well-formed binary numeric (digits 0…9999) always reads as asiopg::numeric
        if (value.size() < 8) break;
        std::string b = value.substr(0, 8);
        const unsigned ndigits = std::min<unsigned>(static_cast<unsigned char>(value[1]) % 8, static_cast<unsigned>((value.size() - 8) / 2));
        b[0] = 0;
        b[1] = static_cast<char>(ndigits);
        b[4] = (value[4] & 1) ? 0x40 : 0; // sign: + or -
        b[5] = 0;
        b[6] = 0;
        b[7] = static_cast<char>(static_cast<unsigned char>(value[7]) % 40); // dscale
        for (unsigned i = 0; i < ndigits; ++i) {
            unsigned d = ((static_cast<unsigned char>(value[8 + 2 * i]) << 8) | static_cast<unsigned char>(value[9 + 2 * i])) % 10000;
            b += be(d, 2);
        }
        asiopg::numeric n;
        const value_view nv{b, data_format::binary, oids::numeric};
        const bool ok = decodes("numeric(binary)", [&] { asiopg::result_traits<asiopg::numeric>::decode(nv, n); });
        FUZZ_CHECK(ok, "well-formed binary numeric refused: " + printable(b));
        decodes("decode_double(numeric)", [&] { detail::decode_double(nv, "double"); }); // may be out of range
        break;
    }
    }
}

// ------------------------------------------------------------------------------------------
// 1: dates and times (types/chrono.hpp, datetime.cpp)
//    input: [format/type][op][tick] value…

using detail::chrono_tick;
template <class Rep, class Period>
constexpr chrono_tick tick() {
    return detail::tick_of<std::chrono::duration<Rep, Period>>();
}
const chrono_tick ticks[] = {
    tick<std::int64_t, std::nano>(),         tick<std::int64_t, std::micro>(),
    tick<std::int64_t, std::milli>(),        tick<std::int64_t, std::ratio<1>>(),
    tick<std::int64_t, std::ratio<60>>(),    tick<std::int32_t, std::ratio<3600>>(),
    tick<std::int32_t, std::ratio<86400>>(), tick<std::int32_t, std::ratio<604800>>(),
    tick<std::int32_t, std::ratio<2629746>>(), tick<std::int16_t, std::ratio<31556952>>(),
    tick<std::int32_t, std::micro>(),        tick<std::int8_t, std::ratio<1>>(),
    tick<std::int16_t, std::ratio<1, 3>>(),  tick<std::int64_t, std::ratio<7>>(),
    tick<std::int64_t, std::pico>(),         tick<std::int64_t, std::ratio<INTMAX_MAX>>(),
    tick<std::int64_t, std::ratio<1, INTMAX_MAX>>(),
};
constexpr oid datetime_oids[] = {oids::date,     oids::time, oids::timestamp, oids::timestamptz,
                                 oids::interval, oids::timetz, oids::int8, oids::text};

constexpr std::int64_t usecs_per_day = 86'400'000'000;
constexpr std::int64_t pg_epoch_days = 10957; // 1970-01-01 → 2000-01-01

void target_datetime(input in) {
    const std::uint8_t sel = in.byte();
    const std::uint8_t op = in.byte();
    const chrono_tick& t = ticks[in.byte() % (sizeof ticks / sizeof ticks[0])];
    const std::string value(in.rest());
    const oid type = datetime_oids[(sel >> 1) % (sizeof datetime_oids / sizeof datetime_oids[0])];
    const value_view v{value, (sel & 1) ? data_format::binary : data_format::text, type};
    using detail::chrono_kind;

    switch (op % 9) {
    case 0: decodes("decode_time_point(sys)", [&] { detail::decode_time_point(v, chrono_kind::sys_time, t); }); break;
    case 1: decodes("decode_time_point(local)", [&] { detail::decode_time_point(v, chrono_kind::local_time, t); }); break;
    case 2: decodes("decode_year_month_day", [&] { detail::decode_year_month_day(v); }); break;
    case 3: decodes("decode_time_of_day", [&] { detail::decode_time_of_day(v, t); }); break;
    case 4: decodes("decode_duration", [&] { detail::decode_duration(v, t); }); break;
    case 5: decodes("decode_interval", [&] { detail::decode_interval(v); }); break;
    case 6: {
        std::string text;
        decodes("datetime_text", [&] { detail::datetime_text(v, text); });
        break;
    }
    case 7: { // through the public templates
        using namespace std::chrono;
        sys_time<seconds> st;
        local_time<milliseconds> lt;
        sys_days sd;
        year_month_day ymd;
        hh_mm_ss<microseconds> hms{};
        minutes m;
        asiopg::interval iv;
        switch (op / 9 % 7) {
        case 0: decodes("sys_time<seconds>", [&] { asiopg::result_traits<sys_time<seconds>>::decode(v, st); }); break;
        case 1: decodes("local_time<ms>", [&] { asiopg::result_traits<local_time<milliseconds>>::decode(v, lt); }); break;
        case 2: decodes("sys_days", [&] { asiopg::result_traits<sys_days>::decode(v, sd); }); break;
        case 3: decodes("year_month_day", [&] { asiopg::result_traits<year_month_day>::decode(v, ymd); }); break;
        case 4: decodes("hh_mm_ss<us>", [&] { asiopg::result_traits<hh_mm_ss<microseconds>>::decode(v, hms); }); break;
        case 5: decodes("minutes", [&] { asiopg::result_traits<minutes>::decode(v, m); }); break;
        default: decodes("interval", [&] { asiopg::result_traits<asiopg::interval>::decode(v, iv); }); break;
        }
        break;
    }
    case 8: { // binary → PostgreSQL's text (datetime_text) → read back as text: the same value
        std::string b = value;
        std::int64_t n = 0;
        if (type == oids::date) {
            b.resize(4, '\0');
            n = read_be_ref(b);
            const std::int64_t min_date = -2451545, end_date = 2145031949; // PostgreSQL's range
            if (n != INT32_MAX && n != INT32_MIN) n = min_date + (n - INT32_MIN) % (end_date - min_date);
            b = be(static_cast<std::uint64_t>(n), 4);
        } else if (type == oids::interval) {
            b.resize(16, '\0');
        } else {
            b.resize(8, '\0');
            n = read_be_ref(b);
            if (type == oids::time) n = static_cast<std::int64_t>(static_cast<std::uint64_t>(n) % (usecs_per_day + 1));
            else if (type == oids::timestamp || type == oids::timestamptz) {
                const std::int64_t min_ts = -211813488000000000, end_ts = 9223371331200000000;
                if (n != INT64_MAX && n != INT64_MIN) {
                    const __int128 range = static_cast<__int128>(end_ts) - min_ts;
                    n = static_cast<std::int64_t>(min_ts + static_cast<__int128>(static_cast<std::uint64_t>(n)) % range);
                }
            } else {
                break; // timetz, int8, text: not date/time types of datetime_text
            }
            b = be(static_cast<std::uint64_t>(n), 8);
        }
        const value_view bv{b, data_format::binary, type};
        std::string text;
        bool is_datetime = false;
        FUZZ_CHECK(decodes("datetime_text", [&] { is_datetime = detail::datetime_text(bv, text); }) && is_datetime,
                   printable(b));
        const value_view tv{text, data_format::text, type};
        const chrono_tick us_tick = tick<std::int64_t, std::micro>();
        const std::string info = printable(b) + " -> " + printable(text);
        if (type == oids::interval) {
            asiopg::interval a{}, c{};
            FUZZ_CHECK(decodes("decode_interval(binary)", [&] { a = detail::decode_interval(bv); }), info);
            FUZZ_CHECK(decodes("decode_interval(text)", [&] { c = detail::decode_interval(tv); }), info);
            FUZZ_CHECK(a == c, info);
        } else if (type == oids::time) {
            std::int64_t a = 0, c = 0;
            FUZZ_CHECK(decodes("decode_time_of_day(binary)", [&] { a = detail::decode_time_of_day(bv, us_tick); }), info);
            FUZZ_CHECK(decodes("decode_time_of_day(text)", [&] { c = detail::decode_time_of_day(tv, us_tick); }), info);
            FUZZ_CHECK(a == c && a == n, info);
        } else {
            // date as sys_days (infinite dates: min()/max()), timestamps as µs (time points of
            // int64 µs hold all of PostgreSQL's range)
            const chrono_tick tk = type == oids::date ? tick<std::int32_t, std::ratio<86400>>() : us_tick;
            const auto kind = type == oids::timestamp ? chrono_kind::local_time : chrono_kind::sys_time;
            detail::time_point_value a{}, c{};
            const bool a_ok = decodes("decode_time_point(binary)", [&] { a = detail::decode_time_point(bv, kind, tk); });
            const bool c_ok = decodes("decode_time_point(text)", [&] { c = detail::decode_time_point(tv, kind, tk); });
            FUZZ_CHECK(a_ok == c_ok, info);
            if (a_ok) FUZZ_CHECK(a.kind == c.kind && a.count == c.count, info);
            if (a_ok && a.kind == detail::time_kind::finite) {
                const std::int64_t expected = type == oids::date ? n + pg_epoch_days : n + pg_epoch_days * usecs_per_day;
                FUZZ_CHECK(a.count == expected, info);
            }
        }
        break;
    }
    }
}

// ------------------------------------------------------------------------------------------
// 2: arrays (types/array.hpp, array.cpp)
//    input: [format/type][op] value…

constexpr oid array_oids[] = {1007, 1016, 1005, 1009, 1000, 1001, 1021, 1022, 1182, 1115, 1185, 1187,
                              1231, 2951, 199, 3807, 1041, 1028, 1015, 1270, 1183, 12345};

// The elements of an array, as comparable data: NULL or (format, type, bytes).
struct flat_element {
    bool null;
    std::string bytes;
    friend bool operator==(const flat_element&, const flat_element&) = default;
};
std::vector<flat_element> flatten(const detail::array_contents& a) {
    std::vector<flat_element> out;
    for (const auto& e : a.elements) out.push_back(e ? flat_element{false, std::string(e->bytes)} : flat_element{true, {}});
    return out;
}

std::string dims_text(const std::vector<int>& dims) {
    std::string s = "[";
    for (int d : dims) s += std::to_string(d) + " ";
    return s + "]";
}

// The dimensions multiplied (without overflow: saturating above 2^64).
unsigned __int128 element_count(const std::vector<int>& dims) {
    unsigned __int128 product = 1;
    for (int d : dims) {
        product *= static_cast<unsigned>(d < 0 ? 0 : d);
        if (product > (static_cast<unsigned __int128>(1) << 64)) break;
    }
    return product;
}

// What every reader of array_contents relies on (render() in array.cpp, fill_array() in
// array.hpp read `product of dims` elements): no negative dimension, and at least as many
// elements as the dimensions multiply to; no dimensions only for no elements. And at most 6
// dimensions, PostgreSQL's MAXDIM, which parse_binary enforces: the text parser recurses once
// per level, so without that limit a deeply nested text value overflows the stack.
void check_shape(const detail::array_contents& a, std::string_view value) {
    FUZZ_CHECK(a.dims.size() <= 6, dims_text(a.dims) + " " + printable(value));
    if (a.dims.empty()) {
        FUZZ_CHECK(a.elements.empty(), printable(value));
        return;
    }
    for (int d : a.dims) FUZZ_CHECK(d >= 0, dims_text(a.dims) + " " + printable(value));
    FUZZ_CHECK(element_count(a.dims) <= a.elements.size(),
               "dims " + dims_text(a.dims) + " but " + std::to_string(a.elements.size()) + " elements: " + printable(value));
}

void target_array(input in) {
    const std::uint8_t sel = in.byte();
    const std::uint8_t op = in.byte();
    const std::string value(in.rest());
    const oid type = array_oids[(sel >> 1) % (sizeof array_oids / sizeof array_oids[0])];
    const value_view v{value, (sel & 1) ? data_format::binary : data_format::text, type};

    switch (op % 6) {
    case 0: {
        detail::array_contents a;
        if (decodes("parse_array", [&] { detail::parse_array(v, a); })) check_shape(a, value);
        break;
    }
    case 1: {
        std::string text;
        decodes("decode_text(array)", [&] { detail::decode_text(v, text); });
        break;
    }
    case 2: {
        std::vector<std::optional<long long>> out;
        decodes("vector<optional<long long>>", [&] { asiopg::result_traits<decltype(out)>::decode(v, out); });
        break;
    }
    case 3: {
        std::vector<std::vector<std::optional<std::string>>> out;
        decodes("vector<vector<optional<string>>>", [&] { asiopg::result_traits<decltype(out)>::decode(v, out); });
        break;
    }
    case 4: {
        std::vector<std::vector<std::vector<double>>> out;
        decodes("vector<vector<vector<double>>>", [&] { asiopg::result_traits<decltype(out)>::decode(v, out); });
        break;
    }
    case 5: { // round trip: parse → encode_array (binary or text) → parse: the same dims and elements
        detail::array_contents a;
        if (!decodes("parse_array", [&] { detail::parse_array(v, a); })) break;
        check_shape(a, value);
        if (!a.dims.empty() && element_count(a.dims) != a.elements.size()) break; // lenient parse (see README)
        // Text elements keep their type (an array of a type with a binary array form is sent in
        // text: encode_array renders it) or become text (sent as a binary text[]); binary
        // elements become text (their bytes unchanged).
        const bool keep_type = v.format == data_format::text && (op / 6) % 2 == 1;
        std::vector<asiopg::param_ref> refs;
        for (const auto& e : a.elements) {
            if (!e) {
                refs.push_back({});
                continue;
            }
            if (e->format == data_format::text && e->bytes.find('\0') != std::string_view::npos) return;
            refs.push_back({e->bytes.data(), static_cast<int>(e->bytes.size()), e->format,
                            keep_type ? e->type : oids::text});
        }
        asiopg::param_scratch scratch;
        asiopg::param_ref enc;
        if (!expect(client_errc::invalid_parameter, "encode_array",
                    [&] { enc = detail::encode_array(refs, a.dims, oids::text, scratch); }))
            break;
        const std::string encoded(enc.data, static_cast<std::size_t>(enc.length));
        detail::array_contents b;
        const value_view ev{encoded, enc.format, enc.type == 0 ? type : enc.type};
        FUZZ_CHECK(decodes("parse_array(encoded)", [&] { detail::parse_array(ev, b); }), printable(encoded));
        FUZZ_CHECK(a.dims == b.dims, dims_text(a.dims) + " vs " + dims_text(b.dims) + ": " + printable(encoded));
        FUZZ_CHECK(flatten(a) == flatten(b), printable(value) + " -> " + printable(encoded));
        if (enc.format == data_format::binary) { // and its text rendering (array_text) reads back the same
            std::string text;
            FUZZ_CHECK(decodes("decode_text(encoded)", [&] { detail::decode_text(ev, text); }), printable(encoded));
            detail::array_contents c;
            const value_view tv{text, data_format::text, enc.type};
            FUZZ_CHECK(decodes("parse_array(text)", [&] { detail::parse_array(tv, c); }), printable(text));
            FUZZ_CHECK(a.dims == c.dims, dims_text(a.dims) + " vs " + dims_text(c.dims) + ": " + printable(text));
            FUZZ_CHECK(flatten(a) == flatten(c), printable(value) + " -> " + printable(text));
        }
        break;
    }
    }
}

// ------------------------------------------------------------------------------------------
// 3, 4: COPY rows (copy_format.cpp). Messages: [length byte] bytes… (the last one: the rest).

std::vector<std::string_view> messages(input& in) {
    std::vector<std::string_view> out;
    while (in.size() > 0 && out.size() < 16) {
        const std::size_t n = in.byte();
        out.push_back(n == 255 ? in.rest() : in.take(n));
    }
    return out;
}

void check_fields(const std::string& data, const std::vector<asiopg::detail::copy_field_ref>& fields, std::size_t from) {
    for (std::size_t i = from; i < fields.size(); ++i) {
        const auto& f = fields[i];
        FUZZ_CHECK(f.length >= -1, std::to_string(f.length));
        FUZZ_CHECK(f.offset <= data.size(), std::to_string(f.offset) + " > " + std::to_string(data.size()));
        if (f.length > 0)
            FUZZ_CHECK(static_cast<std::size_t>(f.length) <= data.size() - f.offset,
                       std::to_string(f.offset) + "+" + std::to_string(f.length) + " > " + std::to_string(data.size()));
    }
}

using field_values = std::vector<std::optional<std::string>>;
field_values values_of(const std::string& data, const std::vector<asiopg::detail::copy_field_ref>& fields, std::size_t from) {
    field_values out;
    for (std::size_t i = from; i < fields.size(); ++i) {
        if (fields[i].length < 0) out.emplace_back();
        else out.emplace_back(data.substr(fields[i].offset, static_cast<std::size_t>(fields[i].length)));
    }
    return out;
}

void target_copy_text(input in) {
    std::string data;
    std::vector<asiopg::detail::copy_field_ref> fields;
    for (std::string_view row : messages(in)) {
        const std::size_t first = fields.size();
        expect(client_errc::conversion_error, "copy_decode_text",
               [&] { detail::copy_decode_text(data, fields, row.data(), row.size()); });
        check_fields(data, fields, 0);
        // round trip: the row's values, encoded by copy_encode_row, decode to the same values
        const field_values vals = values_of(data, fields, first);
        std::vector<asiopg::param_ref> refs;
        bool has_nul = false;
        for (const auto& f : vals) {
            if (!f) refs.push_back({});
            else {
                has_nul = has_nul || f->find('\0') != std::string::npos;
                refs.push_back({f->data(), static_cast<int>(f->size()), data_format::text, oids::text});
            }
        }
        if (has_nul || vals.empty()) continue;
        std::string encoded, scratch;
        bool header = false;
        FUZZ_CHECK(expect(client_errc::invalid_parameter, "copy_encode_row",
                          [&] { detail::copy_encode_row(encoded, scratch, data_format::text, header, refs); }),
                   printable(row));
        std::string data2;
        std::vector<asiopg::detail::copy_field_ref> fields2;
        detail::copy_decode_text(data2, fields2, encoded.data(), encoded.size());
        FUZZ_CHECK(values_of(data2, fields2, 0) == vals, printable(row) + " -> " + printable(encoded));
    }
}

void target_copy_binary(input in) {
    std::string data;
    std::vector<asiopg::detail::copy_field_ref> fields;
    bool header_seen = false, trailer_seen = false;
    for (std::string_view msg : messages(in)) {
        const std::size_t first = fields.size();
        bool is_row = false, ok = false;
        expect(client_errc::conversion_error, "copy_decode_binary", [&] {
            ok = detail::copy_decode_binary(data, fields, header_seen, trailer_seen, is_row, msg.data(), msg.size());
        });
        check_fields(data, fields, 0);
        if (!ok) break; // the reader stops at a malformed message
        if (!is_row) continue;
        // round trip: the row encoded by copy_encode_row (binary) decodes to the same values
        const field_values vals = values_of(data, fields, first);
        std::vector<asiopg::param_ref> refs;
        for (const auto& f : vals)
            refs.push_back(f ? asiopg::param_ref{f->data(), static_cast<int>(f->size()), data_format::binary, oids::bytea}
                             : asiopg::param_ref{});
        std::string encoded, scratch;
        bool header = true; // only the row
        FUZZ_CHECK(expect(client_errc::invalid_parameter, "copy_encode_row",
                          [&] { detail::copy_encode_row(encoded, scratch, data_format::binary, header, refs); }),
                   printable(msg));
        std::string data2;
        std::vector<asiopg::detail::copy_field_ref> fields2;
        bool h = true, t = false, r = false;
        FUZZ_CHECK(detail::copy_decode_binary(data2, fields2, h, t, r, encoded.data(), encoded.size()) && r,
                   printable(encoded));
        FUZZ_CHECK(values_of(data2, fields2, 0) == vals, printable(msg) + " -> " + printable(encoded));
    }
}

// ------------------------------------------------------------------------------------------
// 5: the SQL classifier (session_state.cpp), against a reference: PostgreSQL's lexer
//    (src/backend/parser/scan.l) reduced to statement boundaries and each statement's first word.

bool pg_ident_start(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80; }
bool pg_ident_cont(unsigned char c) { return pg_ident_start(c) || (c >= '0' && c <= '9') || c == '$'; }
bool pg_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool pg_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// The lower-cased first word of each statement as the server splits the text. False when the
// text is something the reference does not model exactly (backslashes: they depend on
// standard_conforming_strings; a number glued to a word; an unterminated construct, which
// makes the whole text a syntax error) or cannot be sent (a NUL byte).
bool pg_first_words(std::string_view s, std::vector<std::string>& words) {
    if (s.find('\\') != std::string_view::npos) return false;
    if (s.find('\0') != std::string_view::npos) return false; // never sent (unsendable_statement)
    const std::size_t n = s.size();
    auto at = [&](std::size_t k) -> unsigned char { return k < n ? static_cast<unsigned char>(s[k]) : 0; };
    bool at_start = true;
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = at(i);
        if (pg_space(c)) { ++i; continue; }
        if (c == '-' && at(i + 1) == '-') { // to the end of the line: \n or \r
            while (i < n && at(i) != '\n' && at(i) != '\r') ++i;
            continue;
        }
        if (c == '/' && at(i + 1) == '*') { // nested
            int depth = 0;
            do {
                if (i >= n) return false;
                if (at(i) == '/' && at(i + 1) == '*') { ++depth; i += 2; }
                else if (at(i) == '*' && at(i + 1) == '/') { --depth; i += 2; }
                else ++i;
            } while (depth > 0);
            continue;
        }
        if (c == ';') { at_start = true; ++i; continue; }
        if (at_start && c == '(') { ++i; continue; }
        if (pg_ident_start(c)) {
            const std::size_t b = i;
            while (i < n && pg_ident_cont(at(i))) ++i;
            if (at_start) {
                std::string w(s.substr(b, i - b));
                for (char& ch : w) ch = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
                words.push_back(w);
            }
            at_start = false;
            // a string right after: E'…' (no backslashes here: the same as '…'), U&'…' …
            continue;
        }
        at_start = false;
        if (pg_digit(c) || (c == '.' && pg_digit(at(i + 1)))) {
            while (i < n && (pg_digit(at(i)) || at(i) == '.' || at(i) == '_')) ++i;
            if (i < n && (pg_ident_start(at(i)) || at(i) == '$')) return false; // "1e5", "1x": not modelled
            continue;
        }
        if (c == '\'' || c == '"') {
            ++i;
            for (;;) {
                if (i >= n) return false;
                if (at(i) == c) {
                    if (at(i + 1) == c) { i += 2; continue; }
                    ++i;
                    break;
                }
                ++i;
            }
            continue;
        }
        if (c == '$') {
            std::size_t j = i + 1;
            if (pg_digit(at(j))) { // $1
                while (j < n && pg_digit(at(j))) ++j;
                if (j < n && pg_ident_cont(at(j))) return false;
                i = j;
                continue;
            }
            if (pg_ident_start(at(j)))
                while (j < n && pg_ident_cont(at(j)) && at(j) != '$') ++j;
            if (at(j) != '$') return false; // "$x" without a closing '$'
            const std::string_view tag = s.substr(i, j - i + 1);
            const std::size_t close = s.find(tag, j + 1);
            if (close == std::string_view::npos) return false;
            i = close + tag.size();
            continue;
        }
        ++i; // operators, punctuation
    }
    return true;
}

// First words of statements that are neither data access nor transaction control.
bool changes_session(const std::string& w) {
    static const char* const words[] = {
        "set",   "reset", "discard", "prepare", "deallocate", "listen", "unlisten", "declare", "load",
        "create", "alter", "drop",   "call",    "do",         "execute", "close",   "fetch",   "move",
        "lock",  "grant", "revoke",  "notify",  "truncate",   "vacuum", "analyze", "cluster", "reindex",
        "refresh", "comment", "security", "import", "reassign", "checkpoint", "explain"};
    for (const char* k : words)
        if (w == k) return true;
    return false;
}

void target_sql_classify(input in) {
    const std::string sql(in.rest());
    const bool changes = detail::may_change_session(sql);
    const bool shares = detail::may_share_connection(sql);
    FUZZ_CHECK(!(shares && changes), printable(sql));
    std::vector<std::string> words;
    if (changes || !pg_first_words(sql, words)) return;
    // the documented contract: false only when every statement begins with a keyword of data
    // access or transaction control
    for (const std::string& w : words)
        FUZZ_CHECK(!changes_session(w), "may_change_session() is false, but PostgreSQL reads a statement "
                                        "beginning with \"" + w + "\" in " + printable(sql));
    if (shares) FUZZ_CHECK(words.size() <= 1, "may_share_connection() is true for several statements: " + printable(sql));
}

// ------------------------------------------------------------------------------------------
// 6: format_sql's format string (scan_format in sql_format.cpp) and literal_builder

void target_sql_format(input in) {
    const std::uint8_t flags = in.byte();
    const std::string fmt(in.rest());
    if (fmt.find('\0') != std::string::npos) return; // format_sql_erased refuses NUL bytes first
    std::vector<std::size_t> places;
    const bool ok = expect(client_errc::invalid_parameter, "scan_format",
                           [&] { places = asiopg::scan_format(fmt, (flags & 1) != 0); });
    if (ok) {
        // the placeholders are where format_sql_erased's own pass over the string finds them:
        // it indexes the arguments with them, unchecked
        std::vector<std::size_t> walk;
        for (std::size_t i = 0; i < fmt.size();) {
            if (fmt[i] == '{' && i + 1 < fmt.size() && fmt[i + 1] == '}') { walk.push_back(i); i += 2; }
            else if (fmt[i] == '{' || fmt[i] == '}') {
                FUZZ_CHECK(i + 1 < fmt.size() && fmt[i + 1] == fmt[i], printable(fmt));
                i += 2;
            } else ++i;
        }
        FUZZ_CHECK(walk == places, printable(fmt));
    }
    // literal_builder: each text value is kept exactly, whatever its neighbours
    std::vector<std::string> texts;
    std::string_view rest = fmt;
    while (!rest.empty() && texts.size() < 8) {
        std::size_t k = std::min<std::size_t>(rest.size(), static_cast<unsigned char>(rest[0]) % 16);
        texts.emplace_back(rest.substr(0, k));
        rest.remove_prefix(std::max<std::size_t>(k, 1));
    }
    std::vector<std::optional<std::string>> values;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        if ((flags >> 1 >> (i % 7)) & 1) values.emplace_back();
        else values.emplace_back(texts[i]);
    }
    const asiopg::literal lit(values);
    const asiopg::detail::format_arg arg = asiopg::detail::make_format_arg(lit);
    FUZZ_CHECK(arg.values.size() == values.size(), std::to_string(arg.values.size()));
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (!values[i]) FUZZ_CHECK(arg.values[i].kind == asiopg::detail::sql_value_kind::null, std::to_string(i));
        else FUZZ_CHECK(arg.values[i].kind == asiopg::detail::sql_value_kind::text && arg.values[i].text == *values[i],
                        std::to_string(i));
    }
}

// ------------------------------------------------------------------------------------------
// 7: redact (redact.cpp). input: [always | secret length << 1] secret… text…
//    invariant: a secret of 4+ characters never remains in the result. (Shorter ones, redacted
//    only when `always`, are not checked: "*" cannot disappear behind "***".)

void target_redact(input in) {
    const std::uint8_t sel = in.byte();
    const bool always = sel & 1;
    const std::string secret(in.take(sel >> 1 & 15));
    const std::string text(in.rest());
    const std::string out = detail::redact(text, secret, always);
    if (secret.empty() || (secret.size() < 4 && !always) || text.find(secret) == std::string::npos) {
        FUZZ_CHECK(out == text, printable(text));
        return;
    }
    if (secret.size() >= 4)
        FUZZ_CHECK(out.find(secret) == std::string::npos,
                   "redact(" + printable(text) + ", " + printable(secret) + ") = " + printable(out));
}

// ------------------------------------------------------------------------------------------
// 8: guess_password (redact.cpp), alone and as connect.cpp uses it: a conninfo libpq cannot
//    parse has its error message redacted with the guess.
//    input: [mode] … — even mode: free-form conninfo. Odd: a URI around a password made of
//    uppercase letters (the other parts use an alphabet without them, nor percent-escapes that
//    spell them), written as the user:password of the authority (mode bit 1 clear) or as a
//    password= query parameter, where it may also hold ' and \ (bit 1 set). When libpq refuses
//    the URI, its message redacted with the guess must not show the password (nor, for a query
//    parameter, any run of 4+ of its letters).
//    [mode][password bytes (6 + mode>>2 % 8)][user length] user [host length] host rest…

// `raw` in `alphabet`: its characters kept, the others mapped into it.
std::string spell(std::string_view raw, std::string_view alphabet) {
    std::string out;
    for (unsigned char c : raw)
        out += alphabet.find(static_cast<char>(c)) != std::string_view::npos ? static_cast<char>(c) : alphabet[c % alphabet.size()];
    return out;
}

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

void target_conninfo(input in) {
    const std::uint8_t mode = in.byte();
    if (!(mode & 1)) { // free-form
        const std::string conninfo(in.rest());
        const std::string guess = detail::guess_password(conninfo);
        if (conninfo.find('\\') == std::string::npos) // (quoted values lose their backslash escapes)
            FUZZ_CHECK(guess.empty() || conninfo.find(guess) != std::string::npos, printable(conninfo));
        return;
    }
    const bool in_query = mode & 2;
    const std::string password =
        spell(in.take(6 + (mode >> 2) % 8), in_query ? "ABCDEFGHIJKLMNOPQRSTUVWXYZ'\\" : "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (std::count_if(password.begin(), password.end(), is_upper) < 4) return;
    // no uppercase letters, no 4 or 5 (so no %4x/%5x escape spells an uppercase letter)
    constexpr std::string_view word = "abcdefghijklmnopqrstuvwxyz012367_";
    constexpr std::string_view any = "abcdefghijklmnopqrstuvwxyz012367 89._-~/?&=:[]@%'\"";
    constexpr std::string_view host_chars = "abcdefghijklmnopqrstuvwxyz012367 89._-~:[]%";
    const std::string user = spell(in.take(in.byte() % 8), word);
    std::string conninfo;
    if (!in_query) {
        const std::string host = spell(in.take(in.byte() % 16), any);
        const std::string tail = spell(in.rest(), any);
        conninfo = "postgresql://" + user + ":" + password + "@" + host + tail;
        // a password= parameter as well is a second password: not this test
        for (std::size_t p = tail.find("password"); p != std::string::npos; p = tail.find("password", p + 1))
            if (p > 0 && (tail[p - 1] == '?' || tail[p - 1] == '&')) return;
    } else {
        const std::string host = spell(in.take(in.byte() % 16), host_chars);
        const std::string before = spell(in.take(in.byte() % 16), "abcdefghijklmnopqrstuvwxyz012367_=&");
        const std::string after = spell(in.rest(), "abcdefghijklmnopqrstuvwxyz012367_=&");
        conninfo = "postgresql://" + user + "@" + host + "/db?" + before + (before.empty() ? "" : "&") + "password=" +
                   password + (after.empty() ? "" : "&") + after;
        if (conninfo.find("password") != conninfo.rfind("password")) return; // one password only
    }
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
    if (opts) {
        PQconninfoFree(opts);
        return;
    }
    std::string msg = err ? err : "";
    if (err) PQfreemem(err);
    const std::string guess = detail::guess_password(conninfo);
    const std::string shown = detail::redact(msg, guess, true); // what connect.cpp reports
    const std::string info = "password " + printable(password) + " of " + printable(conninfo) + " guessed as " +
                             printable(guess) + ", in libpq's message: " + printable(shown);
    FUZZ_CHECK(shown.find(password) == std::string::npos, info);
    for (std::size_t i = 0; i < password.size();) { // each run of 4+ letters
        std::size_t j = i;
        while (j < password.size() && is_upper(password[j])) ++j;
        if (j - i >= 4) FUZZ_CHECK(shown.find(password.substr(i, j - i)) == std::string::npos, info);
        i = j == i ? i + 1 : j;
    }
}

// ------------------------------------------------------------------------------------------
// 9: asiopg::sql::quote_identifier / quote_literal (libs/sql/src/quote.cpp)
//    invariants: refused iff a NUL byte or not UTF-8 (a reference validator, RFC 3629), the quoted
//    text unquotes to the input.

bool utf8_reference(std::string_view s) {
    std::size_t i = 0;
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    while (i < s.size()) {
        const unsigned char c = b(i);
        if (c == 0) return false;
        if (c < 0x80) { ++i; continue; }
        std::size_t n;
        std::uint32_t cp;
        if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
        else return false;
        if (i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            if ((b(i + k) & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (b(i + k) & 0x3F);
        }
        const std::uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n;
    }
    return true;
}

// `q` without its quotes, each doubled `quote` (and, for E'', doubled backslash) undone.
std::optional<std::string> unquote(std::string_view q, char quote, bool backslashes) {
    if (q.size() < 2 || q.front() != quote || q.back() != quote) return std::nullopt;
    q = q.substr(1, q.size() - 2);
    std::string out;
    for (std::size_t i = 0; i < q.size(); ++i) {
        const char c = q[i];
        if (c == quote || (backslashes && c == '\\')) {
            if (i + 1 >= q.size() || q[i + 1] != c) return std::nullopt; // a lone quote ends the constant early
            ++i;
        }
        out += c;
    }
    return out;
}

void target_sql_quote(input in) {
    const std::string text(in.rest());
    const bool valid = utf8_reference(text);
    std::string id, lit;
    const bool id_ok = expect(client_errc::invalid_parameter, "quote_identifier", [&] { id = asiopg::sql::quote_identifier(text); });
    const bool lit_ok = expect(client_errc::invalid_parameter, "quote_literal", [&] { lit = asiopg::sql::quote_literal(text); });
    FUZZ_CHECK(id_ok == (valid && !text.empty()), printable(text));
    FUZZ_CHECK(lit_ok == valid, printable(text));
    if (id_ok) FUZZ_CHECK(unquote(id, '"', false) == text, printable(text) + " -> " + printable(id));
    if (lit_ok) {
        const bool escaped = text.find('\\') != std::string::npos;
        std::string_view body = lit;
        if (escaped) {
            FUZZ_CHECK(body.substr(0, 2) == " E", printable(lit));
            body.remove_prefix(2);
        }
        FUZZ_CHECK(unquote(body, '\'', escaped) == text, printable(text) + " -> " + printable(lit));
    }
}

// ------------------------------------------------------------------------------------------

using target_fn = void (*)(input);
constexpr target_fn targets[] = {
    target_scalar,       // 0
    target_datetime,     // 1
    target_array,        // 2
    target_copy_text,    // 3
    target_copy_binary,  // 4
    target_sql_classify, // 5
    target_sql_format,   // 6
    target_redact,       // 7
    target_conninfo,     // 8
    target_sql_quote,    // 9
};

} // namespace fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    constexpr std::size_t count = sizeof fuzz::targets / sizeof fuzz::targets[0];
    fuzz::targets[data[0] % count](fuzz::input(data + 1, size - 1));
    return 0;
}
