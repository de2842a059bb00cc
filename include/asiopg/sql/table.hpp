#ifndef ASIOPG_SQL_TABLE_HPP
#define ASIOPG_SQL_TABLE_HPP

// Tables described once in C++ (SQLAlchemy Core's `Table`), from which the builder writes
// statements and `CREATE TABLE`/`DROP TABLE`:
//
//     struct tbl_table : asiopg::sql::table {
//         asiopg::sql::column<std::int32_t> id{this, "id", asiopg::sql::serial, asiopg::sql::primary_key};
//         asiopg::sql::column<std::optional<std::string>> val{this, "val", asiopg::sql::varchar(255)};
//         tbl_table() : table("tbl") {}
//     };

#include <asiopg/result.hpp>
#include <asiopg/sql/expression.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace asiopg::sql {

/// A column's SQL type as DDL writes it (`integer`, `varchar(255)` …). Trusted text: it comes
/// from the program, never from its input.
struct sql_type {
    std::string name;
    bool generated = false; ///< the server fills it in (serial types): no value needed on insert
};

inline const sql_type smallint{"smallint"};
inline const sql_type integer{"integer"};
inline const sql_type bigint{"bigint"};
inline const sql_type serial{"serial", true};
inline const sql_type bigserial{"bigserial", true};
inline const sql_type real{"real"};
inline const sql_type double_precision{"double precision"};
inline const sql_type boolean{"boolean"};
inline const sql_type text{"text"};
inline const sql_type bytea{"bytea"};
inline const sql_type date{"date"};
inline const sql_type timestamp{"timestamp"};
inline const sql_type timestamptz{"timestamptz"};
inline const sql_type uuid{"uuid"};
inline const sql_type jsonb{"jsonb"};
/// `varchar(n)`.
sql_type varchar(std::size_t n);
/// `numeric(precision, scale)`.
sql_type numeric(unsigned precision, unsigned scale = 0);

/// Column options, passed after the name in any order.
struct primary_key_t {};
inline constexpr primary_key_t primary_key{};
struct unique_t {};
inline constexpr unique_t unique{};
/// A column default as SQL text (`DEFAULT …`).
struct column_default {
    std::string sql;
};
namespace detail {
column_default default_text(std::string_view text);
column_default default_integer(std::int64_t number);
column_default default_bool(bool value);
} // namespace detail
/// A constant default, quoted: text (`default_value("n/a")` is `DEFAULT 'n/a'`), an integer or
/// a bool.
template <class T>
column_default default_value(const T& value) {
    if constexpr (std::is_same_v<T, bool>) return detail::default_bool(value);
    else if constexpr (std::is_integral_v<T>) return detail::default_integer(static_cast<std::int64_t>(value));
    else {
        static_assert(std::is_convertible_v<const T&, std::string_view>, "default_value takes text, an integer or a bool");
        return detail::default_text(std::string_view(value));
    }
}
/// A default computed by the server (`default_expression("now()")`). Trusted SQL text.
column_default default_expression(std::string expression);

namespace detail {

// The SQL type of a column of C++ type T, when none is given (empty: give one).
template <class T>
sql_type type_for() {
    using U = typename unwrap_optional<T>::type;
    if constexpr (std::is_same_v<U, bool>) return boolean;
    else if constexpr (std::is_same_v<U, std::int16_t>) return smallint;
    else if constexpr (std::is_same_v<U, std::int32_t>) return integer;
    else if constexpr (std::is_same_v<U, std::int64_t>) return bigint;
    else if constexpr (std::is_same_v<U, float>) return real;
    else if constexpr (std::is_same_v<U, double>) return double_precision;
    else if constexpr (std::is_same_v<U, std::string>) return text;
    else return sql_type{};
}
} // namespace detail

class column_base;

/// A table: its (optionally schema-qualified) name and its columns, in declaration order.
/// Derive from it and declare `column<T>` members (see the top of this header). Neither
/// copyable nor movable: the columns refer to it. Immutable once constructed: safe to share
/// between threads.
class table {
public:
    explicit table(std::string name, std::string schema = {});
    table(const table&) = delete;
    table& operator=(const table&) = delete;

    const std::string& name() const noexcept { return name_; }
    const std::string& schema() const noexcept { return schema_; }
    /// The name as SQL writes it: quoted, schema-qualified when a schema was given.
    const std::string& quoted_name() const noexcept { return quoted_; }
    const std::vector<const column_base*>& columns() const noexcept { return columns_; }
    /// Unique in the process, never reused (the builder's statement cache keys on it).
    std::uint64_t id() const noexcept { return id_; }
    /// The column of that name, or nullptr.
    const column_base* find(std::string_view column_name) const noexcept;

private:
    friend class column_base;
    std::string name_;
    std::string schema_;
    std::string quoted_;
    std::vector<const column_base*> columns_;
    std::uint64_t id_;
};

/// What every column has, whatever its C++ type.
class column_base {
public:
    column_base(const column_base&) = delete;
    column_base& operator=(const column_base&) = delete;

    const table& owner() const noexcept { return *owner_; }
    const std::string& name() const noexcept { return name_; }
    /// Quoted, unqualified: `"val"`.
    const std::string& quoted_name() const noexcept { return quoted_; }
    const sql_type& type() const noexcept { return type_; }
    bool nullable() const noexcept { return nullable_; }
    bool is_primary_key() const noexcept { return primary_key_; }
    bool is_unique() const noexcept { return unique_; }
    /// `DEFAULT` text, empty for none.
    const std::string& default_sql() const noexcept { return default_; }
    /// The server fills it in when an insert leaves it out (serial, or a default).
    bool has_server_value() const noexcept { return type_.generated || !default_.empty(); }
    /// Unique in the process, never reused (the builder's statement cache keys on it).
    std::uint64_t id() const noexcept { return id_; }

protected:
    column_base(table* owner, std::string name, sql_type type, bool nullable);
    void apply(const sql_type& t) { type_ = t; }
    void apply(primary_key_t) { primary_key_ = true; }
    void apply(unique_t) { unique_ = true; }
    void apply(const column_default& d) { default_ = d.sql; }

private:
    const table* owner_;
    std::string name_;
    std::string quoted_;
    sql_type type_;
    bool nullable_;
    bool primary_key_ = false;
    bool unique_ = false;
    std::string default_;
    std::uint64_t id_;
};

/// A column holding values of C++ type `T`; `std::optional<U>` makes it nullable (NULL reads
/// as an empty optional), any other `T` is `NOT NULL`. Its SQL type follows `T` (`integer` for
/// `std::int32_t`, `text` for `std::string` …) unless an `sql_type` is given among `options`
/// (required for other types).
template <class T>
class column : public column_base {
public:
    using value_type = T;

    template <class... Options>
    column(table* owner, std::string name, const Options&... options)
        : column_base(owner, std::move(name), detail::type_for<T>(), detail::is_optional<T>::value) {
        (apply(options), ...);
    }

    /// `column = value` for an INSERT or UPDATE: the value is bound. `std::nullopt` for a
    /// nullable column writes NULL, `sql::default_` the column's default; an expression of a
    /// compatible type is written as is (`tbl.n = tbl.n + 1`; another column of the same type:
    /// `tbl.a = sql::as_expr(tbl.b)`).
    template <class V>
        requires(std::is_same_v<V, default_t> || (std::is_same_v<V, std::nullopt_t> && detail::is_optional<T>::value) ||
                 sql::detail::comparable_v<T, sql::detail::operand_type_t<V>>)
    assignment operator=(const V& v) const {
        return {this, sql::detail::node_of(v)};
    }

    /// This column's value in `r` (by name), as `T`. \throws error_with_diagnostics:
    /// `client_errc::column_not_found` when the row has no such column, or a conversion error.
    T of(const row_view& r) const { return r[name()].template as<T>(); }
};

/// `CREATE TABLE` for `t`: each column with its type, `NOT NULL` unless nullable, `UNIQUE`,
/// `DEFAULT`, and the primary key (on the column, or as a table constraint when several
/// columns make it). Throws `error_with_diagnostics` (`client_errc::invalid_parameter`) for a
/// table without columns, a column without an SQL type, or two columns of the same name.
std::string create_table(const table& t, bool if_not_exists = false);
/// `DROP TABLE` for `t`.
std::string drop_table(const table& t, bool if_exists = false);

} // namespace asiopg::sql

#endif
