#ifndef ASIOPG_SQL_EXPRESSION_HPP
#define ASIOPG_SQL_EXPRESSION_HPP

// Typed SQL expressions: columns, bound values, comparisons, boolean logic, arithmetic, IN,
// LIKE, IS NULL, functions and aggregates. `tbl.val == "abc"` is an `expr<bool>`; its value
// is never written into the SQL text: it becomes a `$n` parameter. Comparing a number column
// with text, or adding strings, does not compile.
//
// Expressions are immutable values sharing their nodes: cheap to copy, safe to share between
// threads once built.

#include <asiopg/params.hpp>
#include <asiopg/types/array.hpp> // IN lists go as one array parameter

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace asiopg::sql {

class column_base;
class table;
template <class T> class column;

namespace detail {

class node; // defined in libs/sql/src: what a statement writes
using node_ptr = std::shared_ptr<const node>;

enum class op : std::uint8_t {
    eq, ne, lt, le, gt, ge,        // comparisons
    and_, or_, not_,               // logic
    is_null, is_not_null,
    like, not_like, ilike, not_ilike,
    add, sub, mul, div, neg,       // arithmetic
    any, not_all,                  // IN and NOT IN, as = ANY($n) and <> ALL($n) with an array
    asc, desc,                     // ordering
};

node_ptr make_column(const column_base& c);
node_ptr make_param(const param_ref& value);
node_ptr make_binary(op o, node_ptr lhs, node_ptr rhs);
node_ptr make_unary(op o, node_ptr arg);
// A function call: a built-in name written as is, or a user's name, quoted.
node_ptr make_function(std::string name, bool builtin, std::vector<node_ptr> args);
node_ptr make_star();
node_ptr make_label(node_ptr e, std::string name);
node_ptr make_default();
// `before AND c`, or `c` when there is no `before`.
inline node_ptr and_also(node_ptr before, node_ptr c) {
    return before ? make_binary(op::and_, std::move(before), std::move(c)) : c;
}
// Every column of `t`, in declaration order.
std::vector<node_ptr> columns_of(const table& t);

template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> struct unwrap_optional { using type = T; };
template <class T> struct unwrap_optional<std::optional<T>> { using type = T; };
template <class T> using unwrap_optional_t = typename unwrap_optional<T>::type;

// The C++ type an SQL value of a plain C++ value has: text for every string-like value.
template <class V>
using value_type_of = std::conditional_t<std::is_convertible_v<const V&, std::string_view> &&
                                             !std::is_same_v<std::remove_cvref_t<V>, std::nullptr_t>,
                                         std::string, std::remove_cvref_t<V>>;

template <class A, class B>
inline constexpr bool comparable_v =
    std::is_same_v<unwrap_optional_t<A>, unwrap_optional_t<B>> ||
    (std::is_arithmetic_v<unwrap_optional_t<A>> && std::is_arithmetic_v<unwrap_optional_t<B>> &&
     !std::is_same_v<unwrap_optional_t<A>, bool> && !std::is_same_v<unwrap_optional_t<B>, bool>);

template <class V>
node_ptr value_node(const V& v) {
    param_scratch scratch;
    if constexpr (std::is_convertible_v<const V&, std::string_view> && !std::is_same_v<V, std::string>) {
        return make_param(param_traits<std::string_view>::encode(std::string_view(v), scratch));
    } else {
        return make_param(param_traits<V>::encode(v, scratch));
    }
}

} // namespace detail

/// An SQL expression whose values are of C++ type `T` (`bool` for conditions;
/// `std::optional<U>` when it may be NULL).
template <class T>
class expr {
public:
    using value_type = T;
    explicit expr(detail::node_ptr n) noexcept : node_(std::move(n)) {}

    /// `AS "name"`: the name a result column gets.
    expr as(std::string name) const { return expr(detail::make_label(node_, std::move(name))); }
    const detail::node_ptr& node() const noexcept { return node_; }

private:
    detail::node_ptr node_;
};

/// An `ORDER BY` item: `asc(e)`, `desc(e)` (a bare expression or column sorts ascending).
struct ordering {
    detail::node_ptr node;
};

/// `column = value` in an INSERT or UPDATE (`tbl.val = "abc"`).
struct assignment {
    const column_base* column;
    detail::node_ptr value;
};

/// The column's default, as an assigned value: `tbl.created = sql::default_`.
struct default_t {};
inline constexpr default_t default_{};

namespace detail {

template <class X> struct operand_traits { static constexpr bool is_sql = false; };
template <class T> struct operand_traits<expr<T>> {
    static constexpr bool is_sql = true;
    using type = T;
};
template <class T> struct operand_traits<column<T>> {
    static constexpr bool is_sql = true;
    using type = T;
};

template <class X>
inline constexpr bool is_sql_v = operand_traits<std::remove_cvref_t<X>>::is_sql;

// The value type of an operand: an expression's, a column's, or a plain value's own.
template <class X, bool = is_sql_v<X>> struct operand_type { using type = value_type_of<X>; };
template <class X> struct operand_type<X, true> { using type = typename operand_traits<std::remove_cvref_t<X>>::type; };
template <class X> using operand_type_t = typename operand_type<X>::type;

template <class X>
node_ptr node_of(const X& x) {
    if constexpr (std::is_same_v<std::remove_cvref_t<X>, default_t>) return make_default();
    else if constexpr (is_sql_v<X>) {
        if constexpr (requires { x.node(); }) return x.node();
        else return make_column(x);
    } else {
        return value_node(x);
    }
}

template <class L, class R>
concept comparison_operands = (is_sql_v<L> || is_sql_v<R>) && comparable_v<operand_type_t<L>, operand_type_t<R>>;
template <class L, class R>
concept arithmetic_operands = (is_sql_v<L> || is_sql_v<R>) && std::is_arithmetic_v<unwrap_optional_t<operand_type_t<L>>> &&
                              std::is_arithmetic_v<unwrap_optional_t<operand_type_t<R>>> &&
                              !std::is_same_v<unwrap_optional_t<operand_type_t<L>>, bool>;
template <class X>
concept condition = is_sql_v<X> && std::is_same_v<unwrap_optional_t<operand_type_t<X>>, bool>;
template <class X>
concept text_operand = std::is_same_v<unwrap_optional_t<operand_type_t<X>>, std::string>;

template <class L, class R>
expr<bool> compare(op o, const L& l, const R& r) {
    return expr<bool>(make_binary(o, node_of(l), node_of(r)));
}

} // namespace detail

/// An expression or column as an `expr`.
template <class X>
    requires detail::is_sql_v<X>
expr<detail::operand_type_t<X>> as_expr(const X& x) {
    return expr<detail::operand_type_t<X>>(detail::node_of(x));
}
/// A value bound as a parameter, as an expression (`sql::value(3) + tbl.n`).
template <class V>
expr<detail::value_type_of<V>> value(const V& v) {
    return expr<detail::value_type_of<V>>(detail::value_node(v));
}

// ---- comparisons: expr<bool>; the values are bound ----
template <class L, class R> requires detail::comparison_operands<L, R>
expr<bool> operator==(const L& l, const R& r) { return detail::compare(detail::op::eq, l, r); }
template <class L, class R> requires detail::comparison_operands<L, R>
expr<bool> operator!=(const L& l, const R& r) { return detail::compare(detail::op::ne, l, r); }
template <class L, class R> requires detail::comparison_operands<L, R>
expr<bool> operator<(const L& l, const R& r) { return detail::compare(detail::op::lt, l, r); }
template <class L, class R> requires detail::comparison_operands<L, R>
expr<bool> operator<=(const L& l, const R& r) { return detail::compare(detail::op::le, l, r); }
template <class L, class R> requires detail::comparison_operands<L, R>
expr<bool> operator>(const L& l, const R& r) { return detail::compare(detail::op::gt, l, r); }
template <class L, class R> requires detail::comparison_operands<L, R>
expr<bool> operator>=(const L& l, const R& r) { return detail::compare(detail::op::ge, l, r); }

// ---- logic ----
template <class L, class R> requires detail::condition<L> && detail::condition<R>
expr<bool> operator&&(const L& l, const R& r) { return detail::compare(detail::op::and_, l, r); }
template <class L, class R> requires detail::condition<L> && detail::condition<R>
expr<bool> operator||(const L& l, const R& r) { return detail::compare(detail::op::or_, l, r); }
template <class X> requires detail::condition<X>
expr<bool> operator!(const X& x) { return expr<bool>(detail::make_unary(detail::op::not_, detail::node_of(x))); }

// ---- arithmetic (numbers only) ----
namespace detail {
// The type of `l op r`: that of its SQL side (the left one when both are).
template <class L, class R>
using arithmetic_t = expr<operand_type_t<std::conditional_t<is_sql_v<L>, L, R>>>;
template <class X>
using optional_of_t = expr<std::optional<unwrap_optional_t<operand_type_t<X>>>>;
} // namespace detail

template <class L, class R> requires detail::arithmetic_operands<L, R>
detail::arithmetic_t<L, R> operator+(const L& l, const R& r) {
    return detail::arithmetic_t<L, R>(detail::make_binary(detail::op::add, detail::node_of(l), detail::node_of(r)));
}
template <class L, class R> requires detail::arithmetic_operands<L, R>
detail::arithmetic_t<L, R> operator-(const L& l, const R& r) {
    return detail::arithmetic_t<L, R>(detail::make_binary(detail::op::sub, detail::node_of(l), detail::node_of(r)));
}
template <class L, class R> requires detail::arithmetic_operands<L, R>
detail::arithmetic_t<L, R> operator*(const L& l, const R& r) {
    return detail::arithmetic_t<L, R>(detail::make_binary(detail::op::mul, detail::node_of(l), detail::node_of(r)));
}
template <class L, class R> requires detail::arithmetic_operands<L, R>
detail::arithmetic_t<L, R> operator/(const L& l, const R& r) {
    return detail::arithmetic_t<L, R>(detail::make_binary(detail::op::div, detail::node_of(l), detail::node_of(r)));
}
template <class X> requires detail::is_sql_v<X> && std::is_arithmetic_v<detail::unwrap_optional_t<detail::operand_type_t<X>>>
expr<detail::operand_type_t<X>> operator-(const X& x) {
    return expr<detail::operand_type_t<X>>(detail::make_unary(detail::op::neg, detail::node_of(x)));
}

// ---- NULL, IN, LIKE ----
/// `x IS NULL`.
template <class X> requires detail::is_sql_v<X>
expr<bool> is_null(const X& x) { return expr<bool>(detail::make_unary(detail::op::is_null, detail::node_of(x))); }
/// `x IS NOT NULL`.
template <class X> requires detail::is_sql_v<X>
expr<bool> is_not_null(const X& x) { return expr<bool>(detail::make_unary(detail::op::is_not_null, detail::node_of(x))); }

/// `x IN (…)`, written `x = ANY($n)` with the list bound as one array parameter: one
/// statement text whatever the list's length, and an empty list matches nothing.
template <class X, class V>
    requires detail::is_sql_v<X> && detail::comparable_v<detail::operand_type_t<X>, detail::value_type_of<V>>
expr<bool> in(const X& x, const std::vector<V>& list) {
    std::vector<detail::value_type_of<V>> values(list.begin(), list.end());
    return expr<bool>(detail::make_binary(detail::op::any, detail::node_of(x), detail::value_node(values)));
}
/// `x NOT IN (…)`, written `x <> ALL($n)`: an empty list matches every row.
template <class X, class V>
    requires detail::is_sql_v<X> && detail::comparable_v<detail::operand_type_t<X>, detail::value_type_of<V>>
expr<bool> not_in(const X& x, const std::vector<V>& list) {
    std::vector<detail::value_type_of<V>> values(list.begin(), list.end());
    return expr<bool>(detail::make_binary(detail::op::not_all, detail::node_of(x), detail::value_node(values)));
}
/// `x LIKE pattern` (the pattern is bound; `%` and `_` are its wildcards).
template <class X, class P> requires detail::text_operand<X> && detail::text_operand<P> && (detail::is_sql_v<X>)
expr<bool> like(const X& x, const P& pattern) { return detail::compare(detail::op::like, x, pattern); }
template <class X, class P> requires detail::text_operand<X> && detail::text_operand<P> && (detail::is_sql_v<X>)
expr<bool> not_like(const X& x, const P& pattern) { return detail::compare(detail::op::not_like, x, pattern); }
/// `x ILIKE pattern`: case-insensitive.
template <class X, class P> requires detail::text_operand<X> && detail::text_operand<P> && (detail::is_sql_v<X>)
expr<bool> ilike(const X& x, const P& pattern) { return detail::compare(detail::op::ilike, x, pattern); }

// ---- ordering ----
template <class X> requires detail::is_sql_v<X>
ordering asc(const X& x) { return {detail::make_unary(detail::op::asc, detail::node_of(x))}; }
template <class X> requires detail::is_sql_v<X>
ordering desc(const X& x) { return {detail::make_unary(detail::op::desc, detail::node_of(x))}; }

// ---- functions and aggregates ----
/// `count(*)`.
inline expr<std::int64_t> count() { return expr<std::int64_t>(detail::make_function("count", true, {detail::make_star()})); }
/// `count(x)`: the rows where `x` is not NULL.
template <class X> requires detail::is_sql_v<X>
expr<std::int64_t> count(const X& x) { return expr<std::int64_t>(detail::make_function("count", true, {detail::node_of(x)})); }
/// `sum(x)`, `min(x)`, `max(x)`: NULL over no rows.
template <class X> requires detail::is_sql_v<X>
detail::optional_of_t<X> sum(const X& x) {
    return detail::optional_of_t<X>(detail::make_function("sum", true, {detail::node_of(x)}));
}
template <class X> requires detail::is_sql_v<X>
detail::optional_of_t<X> min(const X& x) {
    return detail::optional_of_t<X>(detail::make_function("min", true, {detail::node_of(x)}));
}
template <class X> requires detail::is_sql_v<X>
detail::optional_of_t<X> max(const X& x) {
    return detail::optional_of_t<X>(detail::make_function("max", true, {detail::node_of(x)}));
}
/// `avg(x)` as double precision: NULL over no rows.
template <class X> requires detail::is_sql_v<X>
expr<std::optional<double>> avg(const X& x) {
    return expr<std::optional<double>>(detail::make_function("avg", true, {detail::node_of(x)}));
}
/// `lower(x)`, `upper(x)`, `length(x)` of text.
template <class X> requires detail::text_operand<X> && detail::is_sql_v<X>
expr<detail::operand_type_t<X>> lower(const X& x) {
    return expr<detail::operand_type_t<X>>(detail::make_function("lower", true, {detail::node_of(x)}));
}
template <class X> requires detail::text_operand<X> && detail::is_sql_v<X>
expr<detail::operand_type_t<X>> upper(const X& x) {
    return expr<detail::operand_type_t<X>>(detail::make_function("upper", true, {detail::node_of(x)}));
}
template <class X> requires detail::text_operand<X> && detail::is_sql_v<X>
expr<std::int32_t> length(const X& x) {
    return expr<std::int32_t>(detail::make_function("length", true, {detail::node_of(x)}));
}
/// `coalesce(x, fallback)`: `x` unless it is NULL.
template <class X, class F> requires detail::is_sql_v<X> && detail::comparable_v<detail::operand_type_t<X>, detail::operand_type_t<F>>
expr<detail::unwrap_optional_t<detail::operand_type_t<X>>> coalesce(const X& x, const F& fallback) {
    return expr<detail::unwrap_optional_t<detail::operand_type_t<X>>>(
        detail::make_function("coalesce", true, {detail::node_of(x), detail::node_of(fallback)}));
}
/// Any function by name, with a result type you state: `sql::func<std::string>("md5", tbl.val)`.
/// The name is quoted (so it must be spelled as the server stores it, usually lower-case).
template <class R, class... Args>
expr<R> func(std::string name, const Args&... args) {
    return expr<R>(detail::make_function(std::move(name), false, {detail::node_of(args)...}));
}

} // namespace asiopg::sql

#endif
