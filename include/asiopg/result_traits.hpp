#ifndef ASIOPG_RESULT_TRAITS_HPP
#define ASIOPG_RESULT_TRAITS_HPP

#include <asiopg/params.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace asiopg {

/// One non-NULL value as the server sent it: its bytes, their format and its type.
/// A view: valid while the result (or the array it comes from) is alive.
struct value_view {
    std::string_view bytes;
    data_format format = data_format::text;
    oid type = 0;
};

/// Well-known type OIDs (PostgreSQL's pg_type.dat).
namespace oids {
inline constexpr oid bool_ = 16, bytea = 17, char_ = 18, name = 19, int8 = 20, int2 = 21, int4 = 23,
                     text = 25, oid_ = 26, json = 114, xml = 142, float4 = 700, float8 = 701,
                     unknown = 705, cidr = 650, inet = 869, bpchar = 1042, varchar = 1043,
                     date = 1082, time = 1083, timestamp = 1114, timestamptz = 1184,
                     interval = 1186, timetz = 1266, numeric = 1700, uuid = 2950, jsonb = 3802;
} // namespace oids

/// The array type of an element type (int4 → int4[] …), 0 if asiopg does not know it.
oid array_oid_of(oid element) noexcept;
/// The element type of an array type (int4[] → int4 …), 0 if asiopg does not know it.
oid element_oid_of(oid array) noexcept;
/// Whether asiopg knows the type (a built-in scalar or an array of one).
bool known_type(oid type) noexcept;
/// PostgreSQL's name for a type OID asiopg knows ("integer", "text[]" …), else "type <oid>".
std::string type_name_of(oid type);

/// Thrown by decoders (via `conversion_failed`); `field_view::as` adds the column's name.
/// \throws error_with_diagnostics with `client_errc::conversion_error`, whose message names the
/// PostgreSQL type, the C++ type and why.
[[noreturn]] void conversion_failed(const value_view& v, std::string_view cpp_type, std::string_view why);

/// Customization point: how a result value becomes a `T`.
///
/// A specialization provides
/// \code
///   static void decode(const value_view& v, T& out);   // v is never NULL here
/// \endcode
/// handling the formats it supports (`v.format`: text, and binary when results are requested
/// in binary) and calling `conversion_failed(v, "T", "why")` for anything else. Optionally
/// `static bool accepts(oid type)`: whether columns of that type can be read (checked before any
/// row is read when rows are mapped to structs; absent means "any type").
/// NULL never reaches `decode`: `field_view::as<std::optional<T>>` maps it to `nullopt`, and
/// `as<T>` reports `client_errc::unexpected_null`. `example/custom_type.cpp` shows a composite.
template <class T, class = void>
struct result_traits; // not defined: a type without a specialization cannot be read

namespace detail {
// Compiled decoders of the built-in types.
std::int64_t decode_signed(const value_view& v, std::int64_t min, std::int64_t max, const char* cpp_type);
std::uint64_t decode_unsigned(const value_view& v, std::uint64_t max, const char* cpp_type);
double decode_double(const value_view& v, const char* cpp_type);
float decode_float(const value_view& v);
bool decode_bool(const value_view& v);
void decode_text(const value_view& v, std::string& out);   // the value as text, any known type
void decode_bytes(const value_view& v, bytes& out);
bool accepts_integer(oid t) noexcept;
bool accepts_floating(oid t) noexcept;

template <class T>
constexpr const char* integer_name() noexcept {
    if constexpr (std::is_same_v<T, signed char>) return "signed char";
    else if constexpr (std::is_same_v<T, unsigned char>) return "unsigned char";
    else if constexpr (std::is_same_v<T, short>) return "short";
    else if constexpr (std::is_same_v<T, unsigned short>) return "unsigned short";
    else if constexpr (std::is_same_v<T, int>) return "int";
    else if constexpr (std::is_same_v<T, unsigned>) return "unsigned int";
    else if constexpr (std::is_same_v<T, long>) return "long";
    else if constexpr (std::is_same_v<T, unsigned long>) return "unsigned long";
    else if constexpr (std::is_same_v<T, long long>) return "long long";
    else return "unsigned long long";
}
} // namespace detail

/// Integers: from int2, int4, int8, oid (and numeric text without a fraction); a value the C++
/// type cannot hold is an error, never a wrap.
template <class T>
struct result_traits<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                         !std::is_same_v<T, char>>> {
    static void decode(const value_view& v, T& out) {
        if constexpr (std::is_signed_v<T>)
            out = static_cast<T>(detail::decode_signed(v, std::numeric_limits<T>::min(),
                                                       std::numeric_limits<T>::max(),
                                                       detail::integer_name<T>()));
        else
            out = static_cast<T>(detail::decode_unsigned(v, std::numeric_limits<T>::max(),
                                                         detail::integer_name<T>()));
    }
    static bool accepts(oid t) noexcept { return detail::accepts_integer(t); }
};

/// bool, from boolean.
template <> struct result_traits<bool> {
    static void decode(const value_view& v, bool& out) { out = detail::decode_bool(v); }
    static bool accepts(oid t) noexcept { return t == oids::bool_; }
};

/// double and float: from float4, float8, integers and numeric; NaN and ±Infinity included.
template <> struct result_traits<double> {
    static void decode(const value_view& v, double& out) { out = detail::decode_double(v, "double"); }
    static bool accepts(oid t) noexcept { return detail::accepts_floating(t); }
};
template <> struct result_traits<float> {
    static void decode(const value_view& v, float& out) { out = detail::decode_float(v); }
    static bool accepts(oid t) noexcept { return detail::accepts_floating(t); }
};

/// std::string: the value's text, for every type (binary values of known types are converted
/// to PostgreSQL's text form; bytea gives its hex text `\x…`). Enums, domains and unknown types
/// read as text with text results.
template <> struct result_traits<std::string> {
    static void decode(const value_view& v, std::string& out) { detail::decode_text(v, out); }
};

/// std::string_view: the raw bytes, without copy (valid while the result is alive). Only for
/// text-like values (text, varchar, char, name, json, xml, enums …, or any type in text format).
template <> struct result_traits<std::string_view> {
    static void decode(const value_view& v, std::string_view& out);
};

/// asiopg::bytes: bytea (binary, or hex text), or the raw bytes of any other value.
template <> struct result_traits<bytes> {
    static void decode(const value_view& v, bytes& out) { detail::decode_bytes(v, out); }
};

} // namespace asiopg

#endif
