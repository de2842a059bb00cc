#ifndef ASIOPG_TYPES_ARRAY_HPP
#define ASIOPG_TYPES_ARRAY_HPP

// PostgreSQL arrays ↔ std::vector (nested for several dimensions), NULL elements as
// std::optional. `asiopg::bytes` (std::vector<unsigned char>) stays bytea, not an array.

#include <asiopg/error.hpp>
#include <asiopg/params.hpp>
#include <asiopg/result_traits.hpp>

#include <deque>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace asiopg {
namespace detail {

// An array value taken apart: its dimensions and its elements in row-major order.
struct array_contents {
    std::vector<int> dims;                             // empty for an empty array
    std::vector<std::optional<value_view>> elements;   // nullopt: NULL
    std::deque<std::string> storage;                   // unescaped text elements
};
// Parses an array in text or binary format. \throws error_with_diagnostics (conversion_error).
void parse_array(const value_view& v, array_contents& out);
// Encodes elements (row-major) of the given dimensions as one array parameter into `out`.
// \throws error_with_diagnostics (invalid_parameter) for mixed element types.
param_ref encode_array(const std::vector<param_ref>& elements, const std::vector<int>& dims,
                       oid empty_element_type, param_scratch& out);

template <class T> struct is_array_vector : std::false_type {};
template <class T, class A> struct is_array_vector<std::vector<T, A>> : std::true_type {};
template <class A> struct is_array_vector<std::vector<unsigned char, A>> : std::false_type {};

template <class T> constexpr int array_depth() {
    if constexpr (is_array_vector<T>::value) return 1 + array_depth<typename T::value_type>();
    else return 0;
}
template <class T> struct array_leaf { using type = T; };
template <class T, class A> struct array_leaf<std::vector<T, A>> : array_leaf<T> {};
template <class A> struct array_leaf<std::vector<unsigned char, A>> { using type = std::vector<unsigned char, A>; };

template <class V>
void fill_array(V& out, const array_contents& a, std::size_t dim, std::size_t& pos, const value_view& whole) {
    using item_type = typename V::value_type;
    out.resize(static_cast<std::size_t>(a.dims[dim]));
    for (std::size_t i = 0; i < out.size(); ++i) {
        if constexpr (is_array_vector<item_type>::value) {
            fill_array(out[i], a, dim + 1, pos, whole);
        } else {
            const std::optional<value_view>& e = a.elements[pos++];
            item_type item{}; // by value: std::vector<bool> has no element references
            if constexpr (is_optional<item_type>::value) {
                if (e) result_traits<typename item_type::value_type>::decode(*e, item.emplace());
            } else {
                if (!e) conversion_failed(whole, "std::vector", "a NULL element needs std::optional elements");
                result_traits<item_type>::decode(*e, item);
            }
            out[i] = std::move(item);
        }
    }
}

template <class V>
void collect_array(const V& in, std::vector<param_ref>& elems, std::deque<param_scratch>& scratch,
                   std::vector<int>& dims, std::size_t dim) {
    if (dims.size() <= dim) dims.push_back(static_cast<int>(in.size()));
    else if (dims[dim] != static_cast<int>(in.size())) {
        diagnostics d;
        d.message = "array parameter is not rectangular: sub-arrays of different lengths";
        throw error_with_diagnostics(client_errc::invalid_parameter, std::move(d));
    }
    for (const auto& item : in) {
        using item_type = std::remove_cvref_t<decltype(item)>;
        if constexpr (is_array_vector<item_type>::value) collect_array(item, elems, scratch, dims, dim + 1);
        else elems.push_back(param_traits<item_type>::encode(item, scratch.emplace_back()));
    }
}

// The element type of an empty array: what a default element would be sent as.
template <class T> oid element_type_of() {
    using leaf = typename array_leaf<T>::type;
    param_scratch s;
    if constexpr (is_optional<leaf>::value) return param_traits<leaf>::encode(std::nullopt, s).type;
    else return param_traits<std::optional<leaf>>::encode(std::nullopt, s).type; // NULLs carry the type
}

} // namespace detail

/// Arrays read into `std::vector<T>`, `std::vector<std::optional<T>>` (NULL elements), or nested
/// vectors for several dimensions (the depth must match the array's). An empty array reads as
/// an empty vector at any depth. Elements are decoded by `result_traits<T>`.
template <class T>
struct result_traits<T, std::enable_if_t<detail::is_array_vector<T>::value>> {
    static void decode(const value_view& v, T& out) {
        detail::array_contents a;
        detail::parse_array(v, a);
        out.clear();
        if (a.dims.empty()) return;
        if (static_cast<int>(a.dims.size()) != detail::array_depth<T>())
            conversion_failed(v, "std::vector", "the array has " + std::to_string(a.dims.size()) +
                                                     " dimension(s), the C++ type " +
                                                     std::to_string(detail::array_depth<T>()));
        std::size_t pos = 0;
        detail::fill_array(out, a, 0, pos, v);
    }
    // Known arrays, and types asiopg does not know (arrays of enums, of composites …).
    static bool accepts(oid t) noexcept { return element_oid_of(t) != 0 || !known_type(t); }
};

/// Vectors (nested for several dimensions, rectangular) are sent as arrays of their elements'
/// type: `WHERE id = ANY($1)` with a `std::vector<int>`. NULL elements via std::optional.
template <class T>
struct param_traits<T, std::enable_if_t<detail::is_array_vector<T>::value>> {
    static param_ref encode(const T& v, param_scratch& s) {
        std::vector<param_ref> elems;
        std::deque<param_scratch> scratch; // stable addresses: elements point into it
        std::vector<int> dims;
        detail::collect_array(v, elems, scratch, dims, 0);
        return detail::encode_array(elems, dims, detail::element_type_of<T>(), s);
    }
};

} // namespace asiopg

#endif
