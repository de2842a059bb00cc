#ifndef ASIOPG_RESULT_HPP
#define ASIOPG_RESULT_HPP

#include <asiopg/params.hpp>
#include <asiopg/detail/row_mapping.hpp>
#include <asiopg/result_traits.hpp>

#include <boost/core/demangle.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

struct pg_result; // libpq's PGresult

namespace asiopg {

class row_view;
class result;

class row_batch;

namespace detail {
// Iterates positions [0, n) of `h` — a view held by value, or a pointer to a container —
// yielding `h[i]`. Holds no reference to a temporary, so `r[0].begin()` stays valid.
template <class Handle, class Value>
class index_iterator {
public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Value;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Value;
    index_iterator() = default;
    index_iterator(Handle h, std::size_t i) noexcept : h_(h), i_(i) {}
    Value operator*() const noexcept {
        if constexpr (std::is_pointer_v<Handle>) return (*h_)[i_];
        else return h_[i_];
    }
    index_iterator& operator++() noexcept { ++i_; return *this; }
    index_iterator operator++(int) noexcept { auto t = *this; ++i_; return t; }
    friend bool operator==(const index_iterator& a, const index_iterator& b) noexcept { return a.i_ == b.i_; }
    friend difference_type operator-(const index_iterator& a, const index_iterator& b) noexcept {
        return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
    }
private:
    Handle h_{};
    std::size_t i_ = 0;
};

struct result_access { // lets the library hand libpq results to a `result` or a `row_batch`
    static void append(result& r, pg_result* res);
    static void append(row_batch& b, pg_result* res);
};
} // namespace detail

/// One field of one row: a view into the result that owns it.
///
/// \par Object lifetimes
/// Valid while the `result` it comes from is alive; it holds no copy of the data.
class field_view {
public:
    field_view() = default;
    field_view(const pg_result* res, int row, int column) noexcept
        : res_(res), row_(row), col_(column) {}

    bool is_null() const noexcept;
    /// The bytes as the server sent them (text, or binary for binary-format columns).
    std::string_view raw() const noexcept;
    data_format format() const noexcept;
    oid type() const noexcept;
    std::string_view column_name() const noexcept;
    int column() const noexcept { return col_; }

    /// The value as the server sent it (precondition: not NULL).
    value_view value() const noexcept { return {raw(), format(), type()}; }

    /// The value converted to `T` by `result_traits<T>`: `bool`, any integer type (an
    /// out-of-range value is an error, never a wrap), `float`, `double`, `std::string` (the text
    /// form of any value), `std::string_view` (text-like values, no copy), `asiopg::bytes`,
    /// the types of `asiopg/types/*.hpp`, your own specializations, or `std::optional<T>` of
    /// those (NULL becomes `nullopt`).
    /// \throws error_with_diagnostics with `client_errc::unexpected_null` or
    /// `client_errc::conversion_error`; the message names the column, its PostgreSQL type and the
    /// C++ type.
    template <class T>
    T as() const {
        if constexpr (detail::is_optional<T>::value) {
            if (is_null()) return std::nullopt;
            return as<typename T::value_type>();
        } else {
            if (is_null()) null_error(boost::core::demangle(typeid(T).name()));
            T out{};
            try {
                result_traits<T>::decode(value(), out);
            } catch (const std::exception&) {
                rethrow_with_column(); // the message gains the column's name
            }
            return out;
        }
    }

private:
    [[noreturn]] void null_error(const std::string& cpp_type) const;
    [[noreturn]] void rethrow_with_column() const;

    const pg_result* res_ = nullptr;
    int row_ = 0;
    int col_ = 0;
};

/// One row of a result: fields by index or by column name, and range-for over its fields.
/// Valid while the `result` it comes from is alive.
class row_view {
public:
    using iterator = detail::index_iterator<row_view, field_view>;

    row_view() = default;
    row_view(const pg_result* res, int row) noexcept : res_(res), row_(row) {}

    std::size_t size() const noexcept;
    /// Field by position; precondition `column < size()` (see `at` for a checked access).
    field_view operator[](std::size_t column) const noexcept {
        return {res_, row_, static_cast<int>(column)};
    }
    /// Field by position. \throws error_with_diagnostics (`client_errc::index_out_of_range`).
    field_view at(std::size_t column) const;
    /// Field by column name. \throws error_with_diagnostics (`client_errc::column_not_found`).
    field_view operator[](std::string_view name) const;
    field_view at(std::string_view name) const { return (*this)[name]; }

    /// The row as a `BOOST_DESCRIBE_STRUCT` struct (columns matched by member name) or a
    /// `std::tuple` (by position). Members that may be NULL must be `std::optional`.
    /// \throws error_with_diagnostics before any field is read when the row does not fit:
    /// `column_not_found`, `conversion_error` (incompatible type, wrong column count) or
    /// `unexpected_null`; or a field's conversion error.
    template <class T>
        requires detail::is_row_type_v<T>
    T as() const;
    iterator begin() const noexcept { return {*this, 0}; }
    iterator end() const noexcept { return {*this, size()}; }
    int index() const noexcept { return row_; }

private:
    const pg_result* res_ = nullptr;
    int row_ = 0;
};

/// Read access to the outcome of one statement: rows, columns, affected rows, command tag.
class result_view {
public:
    using iterator = detail::index_iterator<result_view, row_view>;

    result_view() = default;
    explicit result_view(const pg_result* res) noexcept : res_(res) {}

    /// Number of rows.
    std::size_t size() const noexcept;
    bool empty() const noexcept { return size() == 0; }
    /// Row by position; precondition `row < size()` (see `at` for a checked access).
    row_view operator[](std::size_t row) const noexcept { return {res_, static_cast<int>(row)}; }
    /// Row by position. \throws error_with_diagnostics (`client_errc::index_out_of_range`).
    row_view at(std::size_t row) const;
    iterator begin() const noexcept { return {*this, 0}; }
    iterator end() const noexcept { return {*this, size()}; }

    /// Number of columns.
    std::size_t columns() const noexcept;
    std::string_view column_name(std::size_t column) const noexcept;
    /// Position of the column with this name, or `nullopt`.
    std::optional<std::size_t> column_index(std::string_view name) const noexcept;
    /// PostgreSQL type OID of a column (aiopg's `description` type code).
    oid column_type(std::size_t column) const noexcept;
    data_format column_format(std::size_t column) const noexcept;

    /// Every row as a `BOOST_DESCRIBE_STRUCT` struct (columns by name) or `std::tuple` (by
    /// position). The mapping is checked once against the columns and every row (a NULL going
    /// into a non-optional member) before any field is decoded.
    /// \throws error_with_diagnostics as `row_view::as`.
    template <class T>
        requires detail::is_row_type_v<T>
    std::vector<T> rows() const;

    /// Rows inserted, updated, deleted, selected, copied … (0 when the command reports none).
    std::uint64_t affected_rows() const noexcept;
    /// The command tag, e.g. "INSERT 0 1", "SELECT 3", "BEGIN".
    std::string_view command_tag() const noexcept;

    /// The underlying libpq result (owned by the `result`), or nullptr for an empty result.
    const pg_result* native_handle() const noexcept { return res_; }

protected:
    const pg_result* res_ = nullptr;
};

/// The outcome of `connection::async_execute`: owns libpq's results, readable as a
/// `result_view` of the last statement.
///
/// A simple-protocol query may hold several statements (`"CREATE …; INSERT …; SELECT …"`);
/// the `result_view` interface describes the last one (as psql and aiopg do) and
/// `statement(i)` reaches each of them. Move-only; moving keeps views valid.
class result : public result_view {
public:
    result() noexcept = default;
    result(result&& other) noexcept;
    result& operator=(result&& other) noexcept;
    ~result();

    /// Number of statements that produced a result (0 for a default-constructed result).
    std::size_t statement_count() const noexcept { return first_ ? 1 + more_.size() : 0; }
    /// The result of statement `i` (0-based; precondition `i < statement_count()`).
    /// Valid while this object is alive.
    result_view statement(std::size_t i) const noexcept { return result_view(i == 0 ? first_ : more_[i - 1]); }

private:
    friend struct detail::result_access;
    void release_all() noexcept;
    // The first statement's result kept apart: most results have one, and then cost no
    // allocation beyond libpq's.
    pg_result* first_ = nullptr;
    std::vector<pg_result*> more_;
};

namespace detail {
template <class T, std::size_t N>
T read_row(const row_view& row, const std::array<std::size_t, N>& map) {
    if constexpr (is_tuple<T>::value) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return T{row[map[I]].template as<std::tuple_element_t<I, T>>()...};
        }(std::make_index_sequence<N>{});
    } else {
        T out{};
        std::size_t i = 0;
        boost::mp11::mp_for_each<row_members<T>>([&](auto d) {
            using M = std::remove_cvref_t<decltype(out.*d.pointer)>;
            out.*d.pointer = row[map[i++]].template as<M>();
        });
        return out;
    }
}
} // namespace detail

template <class T>
    requires detail::is_row_type_v<T>
T row_view::as() const {
    result_view r(res_);
    auto map = detail::map_columns<T>(r, static_cast<std::size_t>(row_), static_cast<std::size_t>(row_) + 1);
    return detail::read_row<T>(*this, map);
}

template <class T>
    requires detail::is_row_type_v<T>
std::vector<T> result_view::rows() const {
    auto map = detail::map_columns<T>(*this, 0, size());
    std::vector<T> out;
    out.reserve(size());
    for (row_view row : *this) out.push_back(detail::read_row<T>(row, map));
    return out;
}

} // namespace asiopg

#endif
