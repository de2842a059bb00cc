#ifndef ASIOPG_SQL_SELECT_HPP
#define ASIOPG_SQL_SELECT_HPP

#include <asiopg/sql/expression.hpp>
#include <asiopg/sql/statement.hpp>
#include <asiopg/sql/table.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace asiopg::sql {

/// `SELECT …`: built by `sql::select(…)`, refined by the members below, each of which returns
/// a new statement (`where` and `having` called twice AND their conditions).
class select_statement : public statement {
public:
    /// `FROM t` (otherwise the table of the first column named by the selected expressions, or
    /// by the WHERE condition).
    select_statement from(const table& t) const;
    /// `JOIN t ON on` / `LEFT JOIN t ON on`.
    template <class C> requires detail::condition<C>
    select_statement join(const table& t, const C& on) const { return joined(join_kind::inner, t, detail::node_of(on)); }
    template <class C> requires detail::condition<C>
    select_statement left_join(const table& t, const C& on) const { return joined(join_kind::left, t, detail::node_of(on)); }
    template <class C> requires detail::condition<C>
    select_statement where(const C& c) const { return with_condition(&select_statement::where_, detail::node_of(c)); }
    template <class... X> requires(detail::is_sql_v<X> && ...)
    select_statement group_by(const X&... x) const {
        select_statement s = *this;
        (s.group_by_.push_back(detail::node_of(x)), ...);
        return s;
    }
    template <class C> requires detail::condition<C>
    select_statement having(const C& c) const { return with_condition(&select_statement::having_, detail::node_of(c)); }
    /// `ORDER BY`: `asc(x)`, `desc(x)`, or a column or expression (ascending).
    template <class... O>
    select_statement order_by(const O&... items) const {
        select_statement s = *this;
        (s.order_by_.push_back(order_node(items)), ...);
        return s;
    }
    /// `LIMIT n`, `OFFSET n` (bound).
    select_statement limit(std::int64_t n) const;
    select_statement offset(std::int64_t n) const;
    /// `SELECT DISTINCT`.
    select_statement distinct() const;

    void write(detail::writer& w) const override;

    // Use sql::select().
    explicit select_statement(std::vector<detail::node_ptr> columns, const table* first_table);

private:
    enum class join_kind : std::uint8_t { inner, left };
    struct join_item {
        join_kind kind;
        const table* t;
        detail::node_ptr on;
    };
    select_statement joined(join_kind k, const table& t, detail::node_ptr on) const;
    select_statement with_condition(detail::node_ptr select_statement::*clause, detail::node_ptr c) const;
    static detail::node_ptr order_node(const ordering& o) { return o.node; }
    template <class X> requires detail::is_sql_v<X>
    static detail::node_ptr order_node(const X& x) { return asc(x).node; }

    std::vector<detail::node_ptr> columns_;
    const table* from_ = nullptr;
    std::vector<join_item> joins_;
    detail::node_ptr where_;
    std::vector<detail::node_ptr> group_by_;
    detail::node_ptr having_;
    std::vector<detail::node_ptr> order_by_;
    detail::node_ptr limit_;
    detail::node_ptr offset_;
    bool distinct_ = false;
};

namespace detail {
template <class X>
const table* table_of(const X& x) {
    if constexpr (requires { x.owner(); }) return &x.owner();
    else return nullptr;
}
} // namespace detail

/// `SELECT` these columns and expressions (`sql::select(tbl.id, sql::count())`).
template <class... X> requires(sizeof...(X) > 0 && (detail::is_sql_v<X> && ...))
select_statement select(const X&... x) {
    const table* first = nullptr;
    ((first = first ? first : detail::table_of(x)), ...);
    return select_statement({detail::node_of(x)...}, first);
}
/// `SELECT` every column of `t`, in declaration order (SQLAlchemy's `tbl.select()`).
select_statement select(const table& t);

} // namespace asiopg::sql

#endif
