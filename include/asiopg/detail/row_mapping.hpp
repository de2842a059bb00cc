#ifndef ASIOPG_DETAIL_ROW_MAPPING_HPP
#define ASIOPG_DETAIL_ROW_MAPPING_HPP

// Rows into Boost.Describe structs (columns by name) and std::tuple (columns by position).
// The whole mapping is checked — every member has a column, its type is accepted, no NULL goes
// into a non-optional member — before any field is decoded.

#include <asiopg/error.hpp>
#include <asiopg/result_traits.hpp>

#include <boost/core/demangle.hpp>
#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>

namespace asiopg {
class result_view;
namespace detail {

template <class T> struct is_tuple : std::false_type {};
template <class... Ts> struct is_tuple<std::tuple<Ts...>> : std::true_type {};

template <class T>
inline constexpr bool is_described_struct_v =
    boost::describe::has_describe_members<T>::value && std::is_class_v<T>;

template <class T>
inline constexpr bool is_row_type_v = is_tuple<T>::value || is_described_struct_v<T>;

template <class T>
using row_members = boost::describe::describe_members<T, boost::describe::mod_public>;

template <class T>
constexpr std::size_t row_size() {
    if constexpr (is_tuple<T>::value) return std::tuple_size_v<T>;
    else return boost::mp11::mp_size<row_members<T>>::value;
}

template <class M> using unoptional_t = typename std::conditional_t<is_optional<M>::value, M, std::optional<M>>::value_type;

template <class M>
bool accepts_type(oid t) {
    using V = unoptional_t<M>;
    if constexpr (requires { result_traits<V>::accepts(t); }) return result_traits<V>::accepts(t);
    else return true;
}

// Compiled helpers (result.cpp): metadata of a result, and the errors.
std::size_t result_columns(const result_view& r) noexcept;
std::size_t result_rows(const result_view& r) noexcept;
oid result_column_type(const result_view& r, std::size_t c) noexcept;
long result_find_column(const result_view& r, std::string_view name) noexcept; // -1: none
long result_first_null(const result_view& r, std::size_t column, std::size_t first_row,
                       std::size_t end_row) noexcept; // -1: none
[[noreturn]] void mapping_error(client_errc code, std::string message);

// Which column feeds each member, checked against the result's metadata and rows
// [first_row, end_row) for NULLs.
template <class T>
std::array<std::size_t, row_size<T>()> map_columns(const result_view& r, std::size_t first_row, std::size_t end_row) {
    std::array<std::size_t, row_size<T>()> map{};
    const std::string cpp = boost::core::demangle(typeid(T).name());
    auto check = [&](std::size_t i, std::size_t column, std::string_view member, auto type_tag) {
        using M = typename decltype(type_tag)::type;
        oid t = result_column_type(r, column);
        if (!accepts_type<M>(t))
            mapping_error(client_errc::conversion_error,
                          "column " + std::to_string(column) + " (" + type_name_of(t) + ") cannot be read into " +
                              cpp + "::" + std::string(member) + " (" + boost::core::demangle(typeid(M).name()) + ")");
        if constexpr (!is_optional<M>::value) {
            long row = result_first_null(r, column, first_row, end_row);
            if (row >= 0)
                mapping_error(client_errc::unexpected_null,
                              "row " + std::to_string(row) + ", column " + std::to_string(column) +
                                  " is NULL but " + cpp + "::" + std::string(member) + " is not optional");
        }
        map[i] = column;
    };
    if constexpr (is_tuple<T>::value) {
        if (result_columns(r) != std::tuple_size_v<T>)
            mapping_error(client_errc::conversion_error,
                          "the result has " + std::to_string(result_columns(r)) + " columns, " + cpp + " has " +
                              std::to_string(std::tuple_size_v<T>) + " elements");
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (check(I, I, "element " + std::to_string(I), std::type_identity<std::tuple_element_t<I, T>>{}), ...);
        }(std::make_index_sequence<std::tuple_size_v<T>>{});
    } else {
        std::size_t i = 0;
        boost::mp11::mp_for_each<row_members<T>>([&](auto d) {
            using M = std::remove_cvref_t<decltype(std::declval<T&>().*d.pointer)>;
            long column = result_find_column(r, d.name);
            if (column < 0)
                mapping_error(client_errc::column_not_found,
                              "no column named \"" + std::string(d.name) + "\" for " + cpp + "::" + d.name);
            check(i++, static_cast<std::size_t>(column), d.name, std::type_identity<M>{});
        });
    }
    return map;
}

} // namespace detail
} // namespace asiopg

#endif
