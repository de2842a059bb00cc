// result, row_view, field_view: views over libpq's PGresult, and conversions of basic types.
#include <asiopg/error.hpp>
#include <asiopg/result.hpp>

#include <libpq-fe.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <typeinfo>

namespace asiopg {
namespace {

// Well-known type OIDs (pg_type.dat).
constexpr oid bool_oid = 16, bytea_oid = 17, int8_oid = 20, int2_oid = 21, int4_oid = 23,
              oid_oid = 26, float4_oid = 700, float8_oid = 701, numeric_oid = 1700;

const char* type_name(oid t) {
    switch (t) {
    case bool_oid: return "boolean";
    case bytea_oid: return "bytea";
    case 18: return "\"char\"";
    case 19: return "name";
    case int8_oid: return "bigint";
    case int2_oid: return "smallint";
    case int4_oid: return "integer";
    case 25: return "text";
    case oid_oid: return "oid";
    case 114: return "json";
    case float4_oid: return "real";
    case float8_oid: return "double precision";
    case 1042: return "character";
    case 1043: return "character varying";
    case 1082: return "date";
    case 1083: return "time";
    case 1114: return "timestamp";
    case 1184: return "timestamptz";
    case 1186: return "interval";
    case numeric_oid: return "numeric";
    case 2950: return "uuid";
    case 3802: return "jsonb";
    default: return nullptr;
    }
}

[[noreturn]] void throw_field_error(const field_view& f, client_errc code, const char* cpp_type,
                                    std::string_view why) {
    diagnostics d;
    const char* tn = type_name(f.type());
    d.message = "column \"" + std::string(f.column_name()) + "\" (" +
                (tn ? std::string(tn) : "type oid " + std::to_string(f.type())) + ") to " + cpp_type +
                ": " + std::string(why);
    d.column = std::string(f.column_name());
    throw error_with_diagnostics(code, std::move(d));
}

std::int64_t read_be(const char* p, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~std::uint64_t{0} << (8 * n); // sign-extend
    return static_cast<std::int64_t>(v);
}

template <class T>
T decode_integer(const field_view& f, const char* cpp_type) {
    if (f.is_null()) throw_field_error(f, client_errc::unexpected_null, cpp_type, "value is NULL");
    std::string_view raw = f.raw();
    if (f.format() == data_format::binary) {
        oid t = f.type();
        if ((t == int2_oid && raw.size() == 2) || (t == int4_oid && raw.size() == 4) ||
            (t == int8_oid && raw.size() == 8)) {
            std::int64_t v = read_be(raw.data(), static_cast<int>(raw.size()));
            if (std::in_range<T>(v)) return static_cast<T>(v);
            throw_field_error(f, client_errc::conversion_error, cpp_type,
                              "value " + std::to_string(v) + " is out of range");
        }
        if (t == oid_oid && raw.size() == 4) {
            auto v = static_cast<std::uint32_t>(read_be(raw.data(), 4));
            if (std::in_range<T>(v)) return static_cast<T>(v);
            throw_field_error(f, client_errc::conversion_error, cpp_type, "value is out of range");
        }
        throw_field_error(f, client_errc::conversion_error, cpp_type, "not an integer type");
    }
    T v{};
    auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
    if (ec == std::errc::result_out_of_range)
        throw_field_error(f, client_errc::conversion_error, cpp_type,
                          "value " + std::string(raw) + " is out of range");
    if (ec != std::errc() || ptr != raw.data() + raw.size())
        throw_field_error(f, client_errc::conversion_error, cpp_type,
                          "\"" + std::string(raw.substr(0, 64)) + "\" is not an integer");
    return v;
}

template <class T>
T decode_floating(const field_view& f, const char* cpp_type) {
    if (f.is_null()) throw_field_error(f, client_errc::unexpected_null, cpp_type, "value is NULL");
    std::string_view raw = f.raw();
    if (f.format() == data_format::binary) {
        if (f.type() == float8_oid && raw.size() == 8) {
            auto u = static_cast<std::uint64_t>(read_be(raw.data(), 8));
            double d;
            std::memcpy(&d, &u, 8);
            return static_cast<T>(d);
        }
        if (f.type() == float4_oid && raw.size() == 4) {
            auto u = static_cast<std::uint32_t>(read_be(raw.data(), 4));
            float d;
            std::memcpy(&d, &u, 4);
            return static_cast<T>(d);
        }
        throw_field_error(f, client_errc::conversion_error, cpp_type, "not a floating-point type");
    }
    if (raw == "NaN") return std::numeric_limits<T>::quiet_NaN();
    if (raw == "Infinity") return std::numeric_limits<T>::infinity();
    if (raw == "-Infinity") return -std::numeric_limits<T>::infinity();
    T v{};
    auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
    if (ec != std::errc() || ptr != raw.data() + raw.size())
        throw_field_error(f, client_errc::conversion_error, cpp_type,
                          "\"" + std::string(raw.substr(0, 64)) + "\" is not a number");
    return v;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

} // namespace

bool field_view::is_null() const noexcept { return PQgetisnull(res_, row_, col_) != 0; }
std::string_view field_view::raw() const noexcept {
    return {PQgetvalue(res_, row_, col_), static_cast<std::size_t>(PQgetlength(res_, row_, col_))};
}
data_format field_view::format() const noexcept { return static_cast<data_format>(PQfformat(res_, col_)); }
oid field_view::type() const noexcept { return PQftype(res_, col_); }
std::string_view field_view::column_name() const noexcept {
    const char* n = PQfname(res_, col_);
    return n ? n : "";
}

void field_view::decode(bool& out) const {
    if (is_null()) throw_field_error(*this, client_errc::unexpected_null, "bool", "value is NULL");
    std::string_view raw = this->raw();
    if (format() == data_format::binary && type() == bool_oid && raw.size() == 1) {
        out = raw[0] != 0;
        return;
    }
    if (format() == data_format::text && (raw == "t" || raw == "f")) {
        out = raw == "t";
        return;
    }
    throw_field_error(*this, client_errc::conversion_error, "bool", "not a boolean");
}
void field_view::decode(short& out) const { out = decode_integer<short>(*this, "short"); }
void field_view::decode(int& out) const { out = decode_integer<int>(*this, "int"); }
void field_view::decode(long& out) const { out = decode_integer<long>(*this, "long"); }
void field_view::decode(long long& out) const { out = decode_integer<long long>(*this, "long long"); }
void field_view::decode(unsigned short& out) const {
    out = decode_integer<unsigned short>(*this, "unsigned short");
}
void field_view::decode(unsigned int& out) const { out = decode_integer<unsigned int>(*this, "unsigned int"); }
void field_view::decode(unsigned long& out) const {
    out = decode_integer<unsigned long>(*this, "unsigned long");
}
void field_view::decode(unsigned long long& out) const {
    out = decode_integer<unsigned long long>(*this, "unsigned long long");
}
void field_view::decode(signed char& out) const { out = decode_integer<signed char>(*this, "signed char"); }
void field_view::decode(unsigned char& out) const {
    out = decode_integer<unsigned char>(*this, "unsigned char");
}
void field_view::decode(float& out) const { out = decode_floating<float>(*this, "float"); }
void field_view::decode(double& out) const { out = decode_floating<double>(*this, "double"); }

void field_view::decode(std::string_view& out) const {
    if (is_null()) throw_field_error(*this, client_errc::unexpected_null, "std::string_view", "value is NULL");
    out = raw();
}
void field_view::decode(std::string& out) const {
    if (is_null()) throw_field_error(*this, client_errc::unexpected_null, "std::string", "value is NULL");
    out.assign(raw());
}
void field_view::decode(bytes& out) const {
    if (is_null()) throw_field_error(*this, client_errc::unexpected_null, "asiopg::bytes", "value is NULL");
    std::string_view raw = this->raw();
    if (format() == data_format::binary || type() != bytea_oid) {
        out.assign(raw.begin(), raw.end());
        return;
    }
    // bytea text output: hex format "\x0a1b…" (the default since PostgreSQL 9.0).
    if (raw.size() < 2 || raw[0] != '\\' || raw[1] != 'x' || raw.size() % 2 != 0)
        throw_field_error(*this, client_errc::conversion_error, "asiopg::bytes",
                          "bytea text is not in hex format (bytea_output = 'escape'?)");
    out.clear();
    out.reserve((raw.size() - 2) / 2);
    for (std::size_t i = 2; i < raw.size(); i += 2) {
        int hi = hex_value(raw[i]), lo = hex_value(raw[i + 1]);
        if (hi < 0 || lo < 0)
            throw_field_error(*this, client_errc::conversion_error, "asiopg::bytes", "bad hex digit");
        out.push_back(static_cast<unsigned char>(hi * 16 + lo));
    }
}

std::size_t row_view::size() const noexcept { return res_ ? static_cast<std::size_t>(PQnfields(res_)) : 0; }

field_view row_view::at(std::size_t column) const {
    if (column >= size()) {
        diagnostics d;
        d.message = "column " + std::to_string(column) + " out of range (" + std::to_string(size()) +
                    " columns)";
        throw error_with_diagnostics(client_errc::index_out_of_range, std::move(d));
    }
    return (*this)[column];
}

field_view row_view::operator[](std::string_view name) const {
    if (res_) {
        int n = PQnfields(res_);
        for (int i = 0; i < n; ++i)
            if (name == PQfname(res_, i)) return {res_, row_, i};
    }
    diagnostics d;
    d.message = "no column named \"" + std::string(name) + "\" in the result";
    d.column = std::string(name);
    throw error_with_diagnostics(client_errc::column_not_found, std::move(d));
}

std::size_t result_view::size() const noexcept { return res_ ? static_cast<std::size_t>(PQntuples(res_)) : 0; }

row_view result_view::at(std::size_t row) const {
    if (row >= size()) {
        diagnostics d;
        d.message = "row " + std::to_string(row) + " out of range (" + std::to_string(size()) + " rows)";
        throw error_with_diagnostics(client_errc::index_out_of_range, std::move(d));
    }
    return (*this)[row];
}

std::size_t result_view::columns() const noexcept {
    return res_ ? static_cast<std::size_t>(PQnfields(res_)) : 0;
}
// Column accessors check the range themselves: libpq reports an out-of-range index through the
// connection's notice hook stored in the PGresult, and the connection may be gone by now.
std::string_view result_view::column_name(std::size_t column) const noexcept {
    const char* n = column < columns() ? PQfname(res_, static_cast<int>(column)) : nullptr;
    return n ? n : "";
}
std::optional<std::size_t> result_view::column_index(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < columns(); ++i)
        if (column_name(i) == name) return i;
    return std::nullopt;
}
oid result_view::column_type(std::size_t column) const noexcept {
    return column < columns() ? PQftype(res_, static_cast<int>(column)) : 0;
}
data_format result_view::column_format(std::size_t column) const noexcept {
    return static_cast<data_format>(column < columns() ? PQfformat(res_, static_cast<int>(column)) : 0);
}
std::uint64_t result_view::affected_rows() const noexcept {
    if (!res_) return 0;
    const char* s = PQcmdTuples(const_cast<PGresult*>(res_));
    std::uint64_t v = 0;
    if (s) std::from_chars(s, s + std::strlen(s), v);
    return v;
}
std::string_view result_view::command_tag() const noexcept {
    const char* s = res_ ? PQcmdStatus(const_cast<PGresult*>(res_)) : nullptr;
    return s ? s : "";
}

result::result(result&& other) noexcept : result_view(other.res_), results_(std::move(other.results_)) {
    other.res_ = nullptr;
    other.results_.clear();
}
result& result::operator=(result&& other) noexcept {
    if (this != &other) {
        release_all();
        res_ = other.res_;
        results_ = std::move(other.results_);
        other.res_ = nullptr;
        other.results_.clear();
    }
    return *this;
}
result::~result() { release_all(); }

void detail::result_access::append(result& r, pg_result* res) {
    try {
        r.results_.push_back(res);
    } catch (...) {
        PQclear(res);
        throw;
    }
    r.res_ = res;
}

void result::release_all() noexcept {
    for (pg_result* r : results_) PQclear(r);
    results_.clear();
    res_ = nullptr;
}

} // namespace asiopg
