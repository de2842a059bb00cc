#ifndef ASIOPG_PARAMS_HPP
#define ASIOPG_PARAMS_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace asiopg {

/// A PostgreSQL type OID.
using oid = std::uint32_t;

/// Wire format of a parameter or result column.
enum class data_format : int { text = 0, binary = 1 };

/// Binary data, sent as `bytea`.
using bytes = std::vector<unsigned char>;
using bytes_view = std::span<const unsigned char>;

/// The most parameters one statement takes: the protocol counts them in 16 bits (libpq's limit
/// too). More is refused with `client_errc::invalid_parameter` before anything is sent.
inline constexpr std::size_t max_parameters = 65535;

/// One parameter ready for libpq: a view of its bytes, its format and its type.
/// `data == nullptr` means SQL NULL. `type == 0` lets the server infer the type.
struct param_ref {
    const char* data = nullptr;
    int length = 0;
    data_format format = data_format::text;
    oid type = 0;
};

/// Per-parameter scratch space: `bytes` for fixed-size binary values, `heap` for variable-size
/// encodings (arrays …). Lives until the command has been handed to libpq.
struct param_scratch {
    alignas(8) char bytes[24]; // fits the 20 digits of the largest uint64 as text
    std::string heap;
};

/// Customization point: how a C++ value is sent as a query parameter.
/// A specialization provides `static param_ref encode(const T& value, param_scratch& scratch)`;
/// the returned view must point into `value` or `scratch`. It may throw
/// `error_with_diagnostics` (`client_errc::invalid_parameter`) for a value that cannot be sent:
/// the operation then completes with that error and nothing is sent. Text parameters may hold any byte
/// except NUL (libpq sends them as C strings); asiopg rejects a NUL with
/// `client_errc::invalid_parameter` before anything is sent.
template <class T, class = void>
struct param_traits; // not defined: a type without a specialization is not a parameter

namespace detail {
template <class T>
void store_be(char* out, T v) noexcept {
    using U = std::make_unsigned_t<T>;
    U u = static_cast<U>(v);
    for (std::size_t i = 0; i < sizeof(T); ++i)
        out[i] = static_cast<char>(u >> (8 * (sizeof(T) - 1 - i)));
}
template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
} // namespace detail

/// Signed integers: int2, int4 or int8 in binary; wider unsigned values as int8 or numeric.
template <class T>
struct param_traits<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                        !std::is_same_v<T, char>>> {
    static param_ref encode(T v, param_scratch& s) noexcept {
        if constexpr (std::is_signed_v<T> && sizeof(T) <= 2) {
            detail::store_be<std::int16_t>(s.bytes, v);
            return {s.bytes, 2, data_format::binary, 21};
        } else if constexpr (std::is_signed_v<T> && sizeof(T) <= 4) {
            detail::store_be<std::int32_t>(s.bytes, v);
            return {s.bytes, 4, data_format::binary, 23};
        } else if constexpr (sizeof(T) < 8 || std::is_signed_v<T>) {
            detail::store_be<std::int64_t>(s.bytes, static_cast<std::int64_t>(v));
            return {s.bytes, 8, data_format::binary, 20};
        } else { // unsigned 64-bit: may exceed int8, so send exact decimal text as numeric
            char* end = s.bytes + sizeof(s.bytes);
            char* p = end;
            do { *--p = static_cast<char>('0' + v % 10); v /= 10; } while (v != 0);
            return {p, static_cast<int>(end - p), data_format::text, 1700};
        }
    }
};

template <> struct param_traits<bool> {
    static param_ref encode(bool v, param_scratch& s) noexcept {
        s.bytes[0] = v ? 1 : 0;
        return {s.bytes, 1, data_format::binary, 16};
    }
};

template <> struct param_traits<double> {
    static param_ref encode(double v, param_scratch& s) noexcept {
        std::uint64_t u;
        std::memcpy(&u, &v, sizeof u);
        detail::store_be(s.bytes, u);
        return {s.bytes, 8, data_format::binary, 701};
    }
};

template <> struct param_traits<float> {
    static param_ref encode(float v, param_scratch& s) noexcept {
        std::uint32_t u;
        std::memcpy(&u, &v, sizeof u);
        detail::store_be(s.bytes, u);
        return {s.bytes, 4, data_format::binary, 700};
    }
};

/// Strings go as text of unknown type (OID 0), so the server infers the type from context
/// (`WHERE int_col = $1` works with "42").
template <> struct param_traits<std::string_view> {
    static param_ref encode(std::string_view v, param_scratch&) noexcept {
        // An empty view may have no data pointer; a null pointer would mean NULL.
        return {v.data() ? v.data() : "", static_cast<int>(v.size()), data_format::text, 0};
    }
};
template <> struct param_traits<std::string> : param_traits<std::string_view> {};
template <> struct param_traits<const char*> {
    static param_ref encode(const char* v, param_scratch& s) noexcept {
        if (v == nullptr) return {};
        return param_traits<std::string_view>::encode(v, s);
    }
};
template <std::size_t N> struct param_traits<char[N]> {
    static param_ref encode(const char (&v)[N], param_scratch& s) noexcept {
        return param_traits<std::string_view>::encode(std::string_view(v, std::strlen(v)), s);
    }
};

/// Binary data as bytea.
template <> struct param_traits<bytes_view> {
    static param_ref encode(bytes_view v, param_scratch&) noexcept {
        return {v.data() ? reinterpret_cast<const char*>(v.data()) : "", static_cast<int>(v.size()),
                data_format::binary, 17};
    }
};
template <> struct param_traits<bytes> : param_traits<bytes_view> {};

/// NULL.
template <> struct param_traits<std::nullopt_t> {
    static param_ref encode(std::nullopt_t, param_scratch&) noexcept { return {}; }
};
/// NULL when empty, else the value (typed as the value's type even when NULL).
template <class T> struct param_traits<std::optional<T>> {
    static param_ref encode(const std::optional<T>& v, param_scratch& s) {
        if (v) return param_traits<T>::encode(*v, s);
        T probe{};
        param_ref r = param_traits<T>::encode(probe, s);
        return {nullptr, 0, r.format, r.type};
    }
};

/// Parameters for `$1 … $n`, captured by `asiopg::params(…)`: lvalues by reference (no copy),
/// rvalues by value. A `param_list` refers to its lvalue arguments, so they must stay alive
/// until the operation is initiated (for `asio::deferred`, until the deferred operation runs).
template <class... Ts>
class param_list {
public:
    template <class... Us>
    explicit param_list(Us&&... vs) : values_(std::forward<Us>(vs)...) {}

    static constexpr std::size_t size() noexcept { return sizeof...(Ts); }

    /// Encodes every parameter into `out`, using `scratch` for their bytes.
    /// \throws error_with_diagnostics (`client_errc::invalid_parameter`) for a value that
    /// cannot be sent.
    void encode(std::span<param_ref> out, std::span<param_scratch> scratch) const {
        encode_each(out, scratch, std::index_sequence_for<Ts...>{});
    }

private:
    template <std::size_t... I>
    void encode_each(std::span<param_ref> out, std::span<param_scratch> scratch,
                     std::index_sequence<I...>) const {
        ((out[I] = param_traits<std::remove_cvref_t<Ts>>::encode(std::get<I>(values_),
                                                                 scratch[I])),
         ...);
    }
    std::tuple<Ts...> values_;
};

namespace detail {
template <class T> struct is_param_list : std::false_type {};
template <class... Ts> struct is_param_list<param_list<Ts...>> : std::true_type {};
} // namespace detail

/// Binds values to `$1 … $n`: `conn.async_execute("SELECT $1::int + $2", asiopg::params(a, 2), tok)`.
/// Supported out of the box: integers, bool, float, double, strings (`std::string`,
/// `std::string_view`, `const char*`), `asiopg::bytes`/`bytes_view` (bytea), `std::optional<T>`
/// and `std::nullopt` (NULL); with their headers, `std::vector` (arrays, types/array.hpp),
/// std::chrono time points, dates, durations and `asiopg::interval` (types/chrono.hpp),
/// `boost::uuids::uuid` (types/uuid.hpp), `boost::json::value` (types/json.hpp).
/// Other types: specialize `param_traits`.
template <class... Ts>
param_list<Ts...> params(Ts&&... vs) {
    return param_list<Ts...>(std::forward<Ts>(vs)...);
}

} // namespace asiopg

#endif
