#ifndef ASIOPG_SQL_FORMAT_HPP
#define ASIOPG_SQL_FORMAT_HPP

// Safe SQL text formatting (aiopg's `mogrify`) for the places where bound parameters cannot go:
// identifiers, IN lists, DDL, a dynamic ORDER BY. Values are quoted by libpq
// (`PQescapeLiteral` / `PQescapeIdentifier`) with the rules of the connection's session.

#include <asiopg/error.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace asiopg {

class connection;
class literal;

namespace detail {

enum class sql_value_kind : unsigned char { null, text, signed_integer, unsigned_integer, floating, boolean };

// One scalar value as the compiled formatter reads it. `text` is a view: into the caller's
// argument (plain arguments of format_sql) or into the storage of an asiopg::literal.
struct sql_value {
    sql_value_kind kind = sql_value_kind::null;
    bool boolean = false;
    std::int64_t signed_integer = 0;
    std::uint64_t unsigned_integer = 0;
    double floating = 0;
    std::string_view text{};
};

template <class T> struct sql_is_optional : std::false_type {};
template <class T> struct sql_is_optional<std::optional<T>> : std::true_type {};

template <class T>
concept sql_character = std::same_as<T, char> || std::same_as<T, wchar_t> || std::same_as<T, char8_t> ||
                        std::same_as<T, char16_t> || std::same_as<T, char32_t>;

// Byte-sized values: a range of them is binary data, never a list of numbers.
template <class T>
concept sql_byte = std::same_as<T, signed char> || std::same_as<T, unsigned char> || std::same_as<T, std::byte>;

template <class T>
concept sql_c_string = std::same_as<T, const char*> || std::same_as<T, char*>;

template <class T>
concept sql_text = !sql_c_string<T> && !std::is_null_pointer_v<T> &&
                   std::is_convertible_v<const T&, std::string_view>;

template <class T>
concept sql_integer = std::integral<T> && !std::same_as<T, bool> && !sql_character<T> && sizeof(T) <= 8;

template <class T>
concept sql_floating = std::same_as<T, float> || std::same_as<T, double>;

template <class T> struct sql_scalar_trait;

/// A type that `asiopg::literal` accepts as one value (cv/ref-unqualified `T`).
template <class T>
concept sql_scalar = sql_scalar_trait<T>::value;

template <class T>
struct sql_scalar_trait
    : std::bool_constant<std::same_as<T, bool> || sql_integer<T> || sql_floating<T> || sql_c_string<T> ||
                         sql_text<T> || std::same_as<T, std::nullopt_t>> {};
template <class T>
struct sql_scalar_trait<std::optional<T>> : std::bool_constant<sql_scalar_trait<T>::value> {};

/// A range whose elements are scalars: formatted as a comma-separated list.
template <class R>
concept sql_list_range =
    std::ranges::input_range<const R> && !sql_scalar<R> &&
    sql_scalar<std::remove_cvref_t<std::ranges::range_value_t<const R>>> &&
    !sql_byte<std::remove_cvref_t<std::ranges::range_value_t<const R>>>;

template <class T>
sql_value to_sql_value(const T& v) {
    sql_value out;
    if constexpr (sql_is_optional<T>::value) {
        if (v) return to_sql_value<typename T::value_type>(*v);
    } else if constexpr (std::same_as<T, std::nullopt_t>) {
    } else if constexpr (std::same_as<T, bool>) {
        out.kind = sql_value_kind::boolean;
        out.boolean = v;
    } else if constexpr (sql_integer<T> && std::is_signed_v<T>) {
        out.kind = sql_value_kind::signed_integer;
        out.signed_integer = v;
    } else if constexpr (sql_integer<T>) {
        out.kind = sql_value_kind::unsigned_integer;
        out.unsigned_integer = v;
    } else if constexpr (sql_floating<T>) {
        out.kind = sql_value_kind::floating;
        out.floating = v;
    } else if constexpr (sql_c_string<T>) {
        if (v != nullptr) {
            out.kind = sql_value_kind::text;
            out.text = std::string_view(v);
        }
    } else {
        out.kind = sql_value_kind::text;
        out.text = static_cast<std::string_view>(v);
    }
    return out;
}

// Collects values into one literal: text is copied into one buffer owned by the literal.
class literal_builder {
public:
    void reserve(std::size_t n);
    void add(const sql_value& v);
    void finish(literal& out, bool list);  // leaves the builder empty

private:
    std::vector<sql_value> values_;    // text views are bound in finish()
    std::vector<std::size_t> offsets_; // buffer_.size() when each value was added
    std::string buffer_;               // the text values, one after the other
};

struct sql_format_access;

} // namespace detail

/// A value to be written into SQL text as a constant, quoted by libpq for the connection:
/// `'it''s'`, ` E'a\\b'`, `42`, ` -7`, `1.5`, `'NaN'::float8`, `true`, `NULL` — or, built
/// from a range, a comma-separated list of such constants for `x IN ({})` or `VALUES ({})`.
///
/// Accepted values: strings (`std::string`, `std::string_view`, `const char*` — a null pointer
/// is NULL —, string literals, anything convertible to `std::string_view`), integers up to 64
/// bits (not `char`), `float`, `double`, `bool`, `std::nullopt` (NULL), `std::optional<T>` of
/// those (NULL when empty), and any input range of those (`std::vector<int>`,
/// `std::array<std::string, 3>`, `std::vector<std::optional<int>>` …). Not accepted: ranges of
/// bytes (`asiopg::bytes`: send binary data as a bound parameter), nested ranges, other types —
/// passing them is a compile error. Plain values given to `format_sql` are wrapped in a
/// `literal` automatically; writing `literal` yourself is only needed to build a value
/// beforehand or to pass it through your own interfaces.
///
/// How values are written: text as libpq's `PQescapeLiteral` quotes it (with a leading space
/// and the `E` prefix when it holds backslashes); integers in decimal, negative ones with a
/// leading space (so `1-{}` cannot become the comment `1--5`: write `({})::type` to cast a
/// negative number); finite floating-point values in their shortest exact decimal form, always
/// with a `.` or an exponent so SQL reads them as `numeric`, never as an integer (`100.0`, not
/// `100`); NaN, ±infinity and negative zero as typed strings (`'-Infinity'::float8`); `bool` as
/// `true`/`false`.
///
/// A list is written without parentheses: write them in the format string, `x IN ({})`.
/// An empty list is refused when formatted (`client_errc::invalid_parameter`): `IN ()` is not
/// SQL, and writing `NULL` instead would make `x NOT IN (NULL)` NULL — no rows — where "not in
/// an empty set" means every row. Handle the empty case in your code (skip the condition), or
/// bind the values as one array parameter, which may be empty: `x = ANY($1)` with
/// `asiopg::params(ids)` (`std::vector` parameters are arrays, see `asiopg/types/array.hpp`).
///
/// Validity of the value (NUL bytes, encoding) is checked when it is formatted, not here.
///
/// \par Object lifetimes
/// A `literal` owns a copy of its values: it may outlive the strings it was built from and may
/// be copied (cheaply: copies share the immutable text) and moved freely.
///
/// \par Thread safety
/// Immutable after construction: a `literal` may be read from several threads at once.
class literal {
public:
    /// One value (see the class comment for the accepted types); `std::nullopt` is NULL.
    template <class T>
        requires detail::sql_scalar<std::remove_cvref_t<T>>
    literal(const T& value) {
        detail::literal_builder b;
        b.add(detail::to_sql_value<std::remove_cvref_t<T>>(value));
        b.finish(*this, false);
    }

    /// A comma-separated list of the range's values, in order. The values are copied.
    template <class R>
        requires detail::sql_list_range<std::remove_cvref_t<R>>
    literal(const R& values) {
        using value_type = std::remove_cvref_t<std::ranges::range_value_t<const R>>;
        detail::literal_builder b;
        if constexpr (std::ranges::sized_range<const R>)
            b.reserve(static_cast<std::size_t>(std::ranges::size(values)));
        for (auto&& v : values) b.add(detail::to_sql_value<value_type>(v));
        b.finish(*this, true);
    }

    /// True when built from a range (a list, even of one or zero values).
    bool is_list() const noexcept { return list_; }
    /// How many values: 1 for a single value, the list's length for a list.
    std::size_t size() const noexcept { return values_.size(); }

private:
    friend struct detail::sql_format_access;
    std::vector<detail::sql_value> values_;        // text views point into *storage_
    std::shared_ptr<const std::string> storage_;   // never modified once built
    bool list_ = false;
};

/// A name — table, column, schema, index, role … — written as a quoted identifier by libpq's
/// `PQescapeIdentifier`: `identifier("Weird \"name\"")` becomes `"Weird ""name"""`. Quoting
/// preserves case and every character: `identifier("Users")` is not the table `users`.
///
/// Several parts make a qualified name: `identifier("public", "users")` is `"public"."users"`,
/// `identifier("s", "t", "c")` is `"s"."t"."c"`. To write a list of names (`SELECT {} FROM …`),
/// pass a contiguous range of identifiers (`std::vector<asiopg::identifier>`) to `format_sql`.
///
/// An empty name, a NUL byte or an invalid character for the client encoding is refused when
/// formatted (`client_errc::invalid_parameter`). Names longer than 63 bytes are truncated by
/// the server, as any identifier is.
///
/// \par Object lifetimes
/// Owns a copy of its parts. \par Thread safety
/// Immutable after construction.
class identifier {
public:
    explicit identifier(std::string_view name) : parts_{std::string(name)} {}
    identifier(std::string_view qualifier, std::string_view name)
        : parts_{std::string(qualifier), std::string(name)} {}
    identifier(std::string_view first, std::string_view second, std::string_view name)
        : parts_{std::string(first), std::string(second), std::string(name)} {}

    /// The parts, unquoted, outermost first.
    std::span<const std::string> parts() const noexcept { return parts_; }

private:
    std::vector<std::string> parts_;
};

/// A fragment of SQL inserted verbatim — **no quoting, no checks except for NUL bytes**.
///
/// For trusted text only: keywords chosen by your code (`raw_sql(desc ? "DESC" : "ASC")`), an
/// already formatted fragment (`raw_sql(format_sql(conn, "x = {}", v))`). Never build a
/// `raw_sql` from user input: that is SQL injection. It must be a complete fragment (no
/// unbalanced quote or comment), or the rest of the statement is read differently.
class raw_sql {
public:
    explicit raw_sql(std::string_view sql) : sql_(sql) {}
    const std::string& str() const noexcept { return sql_; }

private:
    std::string sql_;
};

namespace detail {

// One argument of format_sql as the compiled formatter reads it; views only.
struct format_arg {
    enum class kind : unsigned char { value, list, identifiers, raw };
    kind type = kind::value;
    sql_value value{};                      // value: one scalar (a plain argument or a literal)
    std::span<const sql_value> values{};    // list
    std::span<const identifier> names{};    // identifiers: one, or a list
    bool name_list = false;
    std::string_view raw{};                 // raw
};

struct sql_format_access {
    static format_arg arg(const literal& l) noexcept {
        format_arg a;
        if (l.list_) {
            a.type = format_arg::kind::list;
            a.values = l.values_;
        } else {
            a.value = l.values_.front();
        }
        return a;
    }
    static void set(literal& l, std::vector<sql_value> values, std::shared_ptr<const std::string> storage,
                    bool list) noexcept {
        l.values_ = std::move(values);
        l.storage_ = std::move(storage);
        l.list_ = list;
    }
};

template <class R>
concept sql_identifier_range = std::ranges::contiguous_range<const R> && std::ranges::sized_range<const R> &&
                               std::same_as<std::ranges::range_value_t<const R>, identifier>;

/// What `format_sql` accepts as an argument (cv/ref-unqualified `T`).
template <class T>
concept sql_format_argument = std::same_as<T, literal> || std::same_as<T, identifier> ||
                              std::same_as<T, raw_sql> || sql_scalar<T> || sql_list_range<T> ||
                              sql_identifier_range<T>;

inline format_arg make_format_arg(const literal& l) noexcept { return sql_format_access::arg(l); }
inline format_arg make_format_arg(const identifier& id) noexcept {
    format_arg a;
    a.type = format_arg::kind::identifiers;
    a.names = std::span<const identifier>(&id, 1);
    return a;
}
inline format_arg make_format_arg(const raw_sql& r) noexcept {
    format_arg a;
    a.type = format_arg::kind::raw;
    a.raw = r.str();
    return a;
}
template <class T>
    requires sql_scalar<T>
format_arg make_format_arg(const T& v) noexcept { // a plain value: viewed, not copied
    format_arg a;
    a.value = to_sql_value<T>(v);
    return a;
}
template <class R>
    requires sql_identifier_range<R>
format_arg make_format_arg(const R& names) noexcept {
    format_arg a;
    a.type = format_arg::kind::identifiers;
    a.names = std::span<const identifier>(std::ranges::data(names), std::ranges::size(names));
    a.name_list = true;
    return a;
}

// A range of values passed directly becomes a temporary literal, alive until format_sql returns.
template <class T>
decltype(auto) hold_format_arg(const T& v) {
    if constexpr (sql_list_range<T> && !std::same_as<T, literal>) return literal(v);
    else return (v);
}

std::string format_sql_erased(const connection& conn, std::string_view fmt, std::span<const format_arg> args);

} // namespace detail

/// Returns `fmt` with each `{}` replaced, in order, by the next argument written as SQL:
///
/// ```cpp
/// std::string sql = asiopg::format_sql(conn,
///     "SELECT {} FROM {} WHERE name = {} AND id IN ({}) ORDER BY {} {}",
///     columns,                              // std::vector<asiopg::identifier>: "a", "b"
///     asiopg::identifier("public", table),  // "public"."my table"
///     name,                                 // std::string: always a quoted literal
///     ids,                                  // std::vector<int>: 1, 2, 3
///     asiopg::identifier(sort_column),
///     asiopg::raw_sql(descending ? "DESC" : "ASC"));
/// co_await conn.async_execute(sql, asio::use_awaitable);
/// ```
///
/// Prefer bound parameters (`async_execute(sql, asiopg::params(…), token)`) for values: they
/// are never part of the SQL text. Use `format_sql` where parameters cannot go.
///
/// Arguments: an `asiopg::literal`, `asiopg::identifier` or `asiopg::raw_sql`; any value or
/// range `literal` accepts (wrapped in a `literal`: a plain string is always a quoted literal,
/// never spliced); or a contiguous range of `identifier` (a comma-separated list of names).
/// Other types do not compile.
///
/// The format string: `{}` is a placeholder, `{{` and `}}` are a literal `{` and `}` (also
/// inside string constants: `'{{1,2}}'::int[]`); nothing else may follow `{`. A placeholder may
/// not stand inside a quoted string, a quoted identifier, a dollar-quoted string or a comment of
/// the format string (`'{}'`, `"{}"`, `$${}$$`, `-- {}`): the value brings its own quotes, and
/// in those places its content could end the surrounding construct. The format string is
/// trusted SQL written by the program; it must not come from user input.
///
/// Writing is done with libpq's escaping for this connection's session (client encoding,
/// `standard_conforming_strings`), so the text is meant for this connection — or one with the
/// same settings. Nothing is sent to the server.
///
/// \throws error_with_diagnostics (`diagnostics().message` says which argument or which byte of
/// the format string, and why), and nothing is formatted:
/// - `client_errc::invalid_parameter`: unbalanced `{`/`}` or a `{` not followed by `}`/`{`;
///   a placeholder inside quotes or a comment; more or fewer arguments than placeholders;
///   a NUL byte in a value, name or `raw_sql`; an empty list; an empty name; a value or name
///   libpq rejects for the client encoding (invalid UTF-8 …, libpq's message is included);
/// - `client_errc::not_connected`: the connection is not open (quoting depends on the session);
/// - `client_errc::operation_in_progress`: an operation is in flight on the connection (it may
///   change the session's encoding, and libpq's error state belongs to it).
/// Also `std::bad_alloc`.
///
/// \par Lifetimes
/// The arguments are read during the call only; the returned string is independent of them.
/// Mind lazy tokens: `async_execute` does not copy its SQL, so keep the formatted string alive
/// until the operation starts (`co_await conn.async_execute(format_sql(…), tok)` in one
/// expression is fine).
///
/// \par Thread safety
/// Reads the connection's session state and may write libpq's error message: call it where
/// you may call the connection's members (not concurrently with another thread's use). It does
/// no I/O and never blocks.
template <class... Args>
    requires(detail::sql_format_argument<std::remove_cvref_t<Args>> && ...)
[[nodiscard]] std::string format_sql(const connection& conn, std::string_view fmt, const Args&... args) {
    // One full-expression: the temporary literals made by hold_format_arg live until it ends.
    return detail::format_sql_erased(
        conn, fmt,
        std::array<detail::format_arg, sizeof...(Args)>{detail::make_format_arg(detail::hold_format_arg(args))...});
}

/// `value` as a quoted SQL string constant, by libpq's `PQescapeLiteral` for this connection:
/// `it's` → `'it''s'`, `a\b` → ` E'a\\b'` (note the leading space). Same errors, lifetimes
/// and thread safety as `format_sql` (NUL bytes and invalid encoding → `invalid_parameter`).
[[nodiscard]] std::string escape_literal(const connection& conn, std::string_view value);

/// `name` as a quoted SQL identifier, by libpq's `PQescapeIdentifier` for this connection:
/// `a"b` → `"a""b"`. Same errors as `escape_literal`; an empty name is `invalid_parameter`.
[[nodiscard]] std::string escape_identifier(const connection& conn, std::string_view name);

} // namespace asiopg

#endif
