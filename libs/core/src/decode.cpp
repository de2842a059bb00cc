// Decoders of the built-in types, in text and binary format, and the type tables.
#include <asiopg/error.hpp>
#include <asiopg/result.hpp>
#include <asiopg/result_traits.hpp>

#include "array_codec.hpp"
#include "datetime.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace asiopg {
namespace {

struct type_row {
    oid element;
    oid array;
    const char* name;
};
constexpr type_row type_table[] = {
    {oids::bool_, 1000, "boolean"}, {oids::bytea, 1001, "bytea"}, {oids::char_, 1002, "\"char\""},
    {oids::name, 1003, "name"}, {oids::int8, 1016, "bigint"}, {oids::int2, 1005, "smallint"},
    {oids::int4, 1007, "integer"}, {oids::text, 1009, "text"}, {oids::oid_, 1028, "oid"},
    {oids::json, 199, "json"}, {oids::xml, 143, "xml"}, {oids::float4, 1021, "real"},
    {oids::float8, 1022, "double precision"}, {oids::cidr, 651, "cidr"}, {oids::inet, 1041, "inet"},
    {oids::bpchar, 1014, "character"}, {oids::varchar, 1015, "character varying"},
    {oids::date, 1182, "date"}, {oids::time, 1183, "time"}, {oids::timestamp, 1115, "timestamp"},
    {oids::timestamptz, 1185, "timestamptz"}, {oids::interval, 1187, "interval"},
    {oids::timetz, 1270, "timetz"}, {oids::numeric, 1231, "numeric"}, {oids::uuid, 2951, "uuid"},
    {oids::jsonb, 3807, "jsonb"}, {oids::unknown, 0, "unknown"},
};

std::int64_t read_be(const char* p, std::size_t n) noexcept {
    if (n == 0 || n > 8) return 0; // (callers check sizes; never a shift by 8 * n - 1 out of range)
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    if (n < 8 && ((v >> (8 * n - 1)) & 1)) v |= ~std::uint64_t{0} << (8 * n); // sign-extend
    return static_cast<std::int64_t>(v);
}

bool is_binary(const value_view& v) noexcept { return v.format == data_format::binary; }

// PostgreSQL's binary numeric: ndigits, weight, sign, dscale, then base-10000 digits.
std::string numeric_text(const value_view& v) {
    const std::string_view b = v.bytes;
    if (b.size() < 8) conversion_failed(v, "std::string", "truncated numeric");
    auto u16 = [&](std::size_t at) { return static_cast<std::uint16_t>(read_be(b.data() + at, 2) & 0xffff); };
    int ndigits = u16(0);
    int weight = static_cast<std::int16_t>(u16(2));
    std::uint16_t sign = u16(4);
    int dscale = u16(6);
    if (b.size() < 8 + 2 * static_cast<std::size_t>(ndigits)) conversion_failed(v, "std::string", "truncated numeric");
    if (sign == 0xC000) return "NaN";
    if (sign == 0xD000) return "Infinity";
    if (sign == 0xF000) return "-Infinity";
    std::string out;
    if (sign == 0x4000) out += '-';
    auto digit = [&](int i) { return i >= 0 && i < ndigits ? u16(8 + 2 * static_cast<std::size_t>(i)) : 0; };
    // integer part: groups 0..weight
    if (weight < 0) {
        out += '0';
    } else {
        for (int i = 0; i <= weight; ++i) {
            char buf[8];
            int d = digit(i);
            if (i == 0) out += std::to_string(d);
            else {
                std::snprintf(buf, sizeof buf, "%04d", d);
                out += buf;
            }
        }
    }
    if (dscale > 0) {
        out += '.';
        std::string frac;
        for (int i = weight + 1; static_cast<int>(frac.size()) < dscale; ++i) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "%04d", digit(i));
            frac += buf;
        }
        frac.resize(static_cast<std::size_t>(dscale));
        out += frac;
    }
    return out;
}

std::string inet_text(const value_view& v) {
    const std::string_view b = v.bytes;
    if (b.size() < 4) conversion_failed(v, "std::string", "truncated inet");
    unsigned family = static_cast<unsigned char>(b[0]), bits = static_cast<unsigned char>(b[1]);
    bool is_cidr = b[2] != 0;
    std::size_t n = static_cast<unsigned char>(b[3]);
    if (b.size() < 4 + n) conversion_failed(v, "std::string", "truncated inet");
    std::string out;
    if (family == 2 && n == 4) { // PGSQL_AF_INET
        for (std::size_t i = 0; i < 4; ++i) {
            if (i) out += '.';
            out += std::to_string(static_cast<unsigned char>(b[4 + i]));
        }
        if (is_cidr || bits != 32) out += "/" + std::to_string(bits);
    } else if (n == 16) { // IPv6: the longest run of zero groups becomes "::"
        unsigned g[8];
        for (int i = 0; i < 8; ++i)
            g[i] = static_cast<unsigned>(read_be(b.data() + 4 + 2 * i, 2) & 0xffff);
        int best = -1, best_len = 0;
        for (int i = 0; i < 8;) {
            int j = i;
            while (j < 8 && g[j] == 0) ++j;
            if (j - i > best_len && j - i >= 2) { best = i; best_len = j - i; }
            i = j == i ? i + 1 : j;
        }
        char buf[8];
        for (int i = 0; i < 8; ++i) {
            if (i == best) { out += "::"; i += best_len - 1; continue; }
            if (!out.empty() && out.back() != ':') out += ':';
            std::snprintf(buf, sizeof buf, "%x", g[i]);
            out += buf;
        }
        if (is_cidr || bits != 128) out += "/" + std::to_string(bits);
    } else {
        conversion_failed(v, "std::string", "unknown inet family");
    }
    return out;
}

void append_hex(std::string& out, std::string_view raw) {
    static const char digits[] = "0123456789abcdef";
    for (unsigned char c : raw) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
}

std::string float_text(double d, bool single) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    char buf[64];
    auto r = single ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(d))
                    : std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
}

bool text_like(oid t) noexcept {
    switch (t) {
    case oids::bool_: case oids::bytea: case oids::int8: case oids::int2: case oids::int4:
    case oids::oid_: case oids::float4: case oids::float8: case oids::numeric: case oids::uuid:
    case oids::inet: case oids::cidr: case oids::date: case oids::time: case oids::timestamp:
    case oids::timestamptz: case oids::interval: case oids::timetz: case oids::jsonb:
        return false;
    default:
        return element_oid_of(t) == 0; // arrays are not text-like either
    }
}

template <class T>
bool parse_number(std::string_view s, T& out) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size();
}

} // namespace

oid array_oid_of(oid element) noexcept {
    for (const auto& r : type_table)
        if (r.element == element) return r.array;
    return 0;
}

oid element_oid_of(oid array) noexcept {
    if (array == 0) return 0;
    for (const auto& r : type_table)
        if (r.array == array) return r.element;
    return 0;
}

bool known_type(oid type) noexcept {
    for (const auto& r : type_table)
        if (r.element == type || (r.array != 0 && r.array == type)) return true;
    return false;
}

std::string type_name_of(oid type) {
    for (const auto& r : type_table) {
        if (r.element == type) return r.name;
        if (r.array == type && r.array != 0) return std::string(r.name) + "[]";
    }
    return "type " + std::to_string(type);
}

void conversion_failed(const value_view& v, std::string_view cpp_type, std::string_view why) {
    diagnostics d;
    d.message = type_name_of(v.type) + " to " + std::string(cpp_type) + ": " + std::string(why);
    throw error_with_diagnostics(client_errc::conversion_error, std::move(d));
}

namespace detail {

bool accepts_integer(oid t) noexcept {
    return t == oids::int2 || t == oids::int4 || t == oids::int8 || t == oids::oid_ || t == oids::numeric ||
           t == oids::text || t == oids::varchar || t == oids::unknown;
}
bool accepts_floating(oid t) noexcept {
    return accepts_integer(t) || t == oids::float4 || t == oids::float8;
}

// Integers arrive as int2/int4/int8/oid (binary) or text; a numeric must have no fraction.
static bool integer_of(const value_view& v, std::int64_t& s, std::uint64_t& u, bool& negative, const char* cpp) {
    if (is_binary(v) && text_like(v.type)) // text columns send the same bytes in both formats
        return integer_of({v.bytes, data_format::text, v.type}, s, u, negative, cpp);
    if (is_binary(v)) {
        const std::size_t n = v.bytes.size();
        if ((v.type == oids::int2 && n == 2) || (v.type == oids::int4 && n == 4) || (v.type == oids::int8 && n == 8)) {
            s = read_be(v.bytes.data(), n);
            negative = s < 0;
            u = static_cast<std::uint64_t>(s);
            return true;
        }
        if (v.type == oids::oid_ && n == 4) {
            u = static_cast<std::uint32_t>(read_be(v.bytes.data(), 4));
            s = static_cast<std::int64_t>(u);
            negative = false;
            return true;
        }
        if (v.type == oids::numeric || v.type == oids::float4 || v.type == oids::float8) {
            std::string t; // as its text reads: 3 is an integer, 3.5 is not
            decode_text(v, t);
            return integer_of({t, data_format::text, v.type}, s, u, negative, cpp);
        }
        conversion_failed(v, cpp, "not an integer type");
    }
    std::string_view t = v.bytes;
    negative = !t.empty() && t[0] == '-';
    if (negative ? parse_number(t, s) : parse_number(t, u)) {
        if (!negative) s = static_cast<std::int64_t>(u);
        return true;
    }
    // out of range of 64 bits, or not an integer at all
    bool digits = !t.empty() && std::all_of(t.begin() + (negative ? 1 : 0), t.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) conversion_failed(v, cpp, "value " + std::string(t) + " is out of range");
    conversion_failed(v, cpp, "\"" + std::string(t.substr(0, 64)) + "\" is not an integer");
}

std::int64_t decode_signed(const value_view& v, std::int64_t min, std::int64_t max, const char* cpp_type) {
    std::int64_t s = 0;
    std::uint64_t u = 0;
    bool negative = false;
    integer_of(v, s, u, negative, cpp_type);
    if (!negative && u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        conversion_failed(v, cpp_type, "value " + std::to_string(u) + " is out of range");
    if (s < min || s > max) conversion_failed(v, cpp_type, "value " + std::to_string(s) + " is out of range");
    return s;
}

std::uint64_t decode_unsigned(const value_view& v, std::uint64_t max, const char* cpp_type) {
    std::int64_t s = 0;
    std::uint64_t u = 0;
    bool negative = false;
    integer_of(v, s, u, negative, cpp_type);
    if (negative) conversion_failed(v, cpp_type, "value " + std::to_string(s) + " is out of range");
    if (u > max) conversion_failed(v, cpp_type, "value " + std::to_string(u) + " is out of range");
    return u;
}

double decode_double(const value_view& v, const char* cpp_type) {
    if (is_binary(v) && text_like(v.type)) return decode_double({v.bytes, data_format::text, v.type}, cpp_type);
    if (is_binary(v)) {
        const std::size_t n = v.bytes.size();
        if (v.type == oids::float8 && n == 8) {
            auto u = static_cast<std::uint64_t>(read_be(v.bytes.data(), 8));
            double d;
            std::memcpy(&d, &u, 8);
            return d;
        }
        if (v.type == oids::float4 && n == 4) {
            auto u = static_cast<std::uint32_t>(read_be(v.bytes.data(), 4));
            float f;
            std::memcpy(&f, &u, 4);
            return f;
        }
        if (v.type == oids::int2 || v.type == oids::int4 || v.type == oids::int8)
            return static_cast<double>(read_be(v.bytes.data(), n));
        if (v.type == oids::oid_ && n == 4)
            return static_cast<double>(static_cast<std::uint32_t>(read_be(v.bytes.data(), 4)));
        if (v.type == oids::numeric) {
            std::string t = numeric_text(v);
            return decode_double({t, data_format::text, v.type}, cpp_type);
        }
        conversion_failed(v, cpp_type, "not a number type");
    }
    std::string_view t = v.bytes;
    if (t == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (t == "Infinity") return std::numeric_limits<double>::infinity();
    if (t == "-Infinity") return -std::numeric_limits<double>::infinity();
    double d = 0;
    if (!parse_number(t, d))
        conversion_failed(v, cpp_type, "\"" + std::string(t.substr(0, 64)) + "\" is not a number");
    return d;
}

float decode_float(const value_view& v) {
    if (is_binary(v) && v.type == oids::float4 && v.bytes.size() == 4) return static_cast<float>(decode_double(v, "float"));
    if (!is_binary(v)) { // parse as float so the value is the nearest float, not a double rounded twice
        std::string_view t = v.bytes;
        if (t == "NaN") return std::numeric_limits<float>::quiet_NaN();
        if (t == "Infinity") return std::numeric_limits<float>::infinity();
        if (t == "-Infinity") return -std::numeric_limits<float>::infinity();
        float f = 0;
        if (parse_number(t, f)) return f;
    }
    return static_cast<float>(decode_double(v, "float"));
}

bool decode_bool(const value_view& v) {
    if (is_binary(v) && v.type == oids::bool_ && v.bytes.size() == 1) return v.bytes[0] != 0;
    if (!is_binary(v) && (v.bytes == "t" || v.bytes == "f")) return v.bytes == "t";
    conversion_failed(v, "bool", "not a boolean");
}

void decode_text(const value_view& v, std::string& out) {
    if (!is_binary(v) || text_like(v.type)) {
        out.assign(v.bytes);
        return;
    }
    const std::string_view b = v.bytes;
    switch (v.type) {
    case oids::bool_: out = decode_bool(v) ? "t" : "f"; return;
    case oids::int2: case oids::int4: case oids::int8: // (decode_signed checks the size)
        out = std::to_string(decode_signed(v, std::numeric_limits<std::int64_t>::min(),
                                           std::numeric_limits<std::int64_t>::max(), "std::string"));
        return;
    case oids::oid_: out = std::to_string(decode_unsigned(v, 0xffffffffu, "std::string")); return;
    case oids::float4: out = float_text(decode_double(v, "std::string"), true); return;
    case oids::float8: out = float_text(decode_double(v, "std::string"), false); return;
    case oids::numeric: out = numeric_text(v); return;
    case oids::bytea: out = "\\x"; append_hex(out, b); return;
    case oids::uuid: {
        if (b.size() != 16) conversion_failed(v, "std::string", "a uuid has 16 bytes");
        out.clear();
        for (std::size_t i = 0; i < 16; ++i) {
            if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
            append_hex(out, b.substr(i, 1));
        }
        return;
    }
    case oids::inet: case oids::cidr: out = inet_text(v); return;
    case oids::timetz: { // int64 µs since midnight, then the zone in seconds *west* of UTC
        if (b.size() != 12) conversion_failed(v, "std::string", "a timetz has 12 bytes");
        std::int64_t us = read_be(b.data(), 8);
        auto west = static_cast<std::int32_t>(read_be(b.data() + 8, 4));
        char buf[64];
        int n = std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(us / 3600000000),
                              static_cast<long long>(us / 60000000 % 60), static_cast<long long>(us / 1000000 % 60));
        out.assign(buf, static_cast<std::size_t>(n));
        if (long long frac = us % 1000000) {
            n = std::snprintf(buf, sizeof buf, ".%06lld", frac);
            std::string f(buf, static_cast<std::size_t>(n));
            while (f.back() == '0') f.pop_back();
            out += f;
        }
        long long east = -static_cast<long long>(west); // (west may be INT32_MIN from a hostile server)
        out += east < 0 ? '-' : '+';
        east = east < 0 ? -east : east;
        n = std::snprintf(buf, sizeof buf, "%02lld", east / 3600);
        out.append(buf, static_cast<std::size_t>(n));
        if (east % 3600) {
            n = std::snprintf(buf, sizeof buf, ":%02lld", east / 60 % 60);
            out.append(buf, static_cast<std::size_t>(n));
            if (east % 60) {
                n = std::snprintf(buf, sizeof buf, ":%02lld", east % 60);
                out.append(buf, static_cast<std::size_t>(n));
            }
        }
        return;
    }
    case oids::jsonb: // version byte, then the text
        if (b.empty() || b[0] != 1) conversion_failed(v, "std::string", "unknown jsonb version");
        out.assign(b.substr(1));
        return;
    default: break;
    }
    if (datetime_text(v, out)) return;
    if (element_oid_of(v.type) != 0) {
        array_text(v, out);
        return;
    }
    out.assign(b); // unknown binary representation: the bytes as sent
}

void decode_bytes(const value_view& v, bytes& out) {
    std::string_view raw = v.bytes;
    if (is_binary(v) || v.type != oids::bytea) {
        out.assign(raw.begin(), raw.end());
        return;
    }
    // bytea text output: hex format "\x0a1b…" (the default since PostgreSQL 9.0).
    if (raw.size() < 2 || raw[0] != '\\' || raw[1] != 'x' || raw.size() % 2 != 0)
        conversion_failed(v, "asiopg::bytes", "bytea text is not in hex format (bytea_output = 'escape'?)");
    auto hex = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    out.clear();
    out.reserve((raw.size() - 2) / 2);
    for (std::size_t i = 2; i < raw.size(); i += 2) {
        int hi = hex(raw[i]), lo = hex(raw[i + 1]);
        if (hi < 0 || lo < 0) conversion_failed(v, "asiopg::bytes", "bad hex digit");
        out.push_back(static_cast<unsigned char>(hi * 16 + lo));
    }
}

} // namespace detail

void result_traits<std::string_view>::decode(const value_view& v, std::string_view& out) {
    if (v.format == data_format::binary && !text_like(v.type))
        conversion_failed(v, "std::string_view", "not a text value (read it as std::string)");
    out = v.bytes;
}

} // namespace asiopg
