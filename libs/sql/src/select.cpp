// SELECT.
#include <asiopg/sql/select.hpp>

#include "refuse.hpp"
#include "writer.hpp"

namespace asiopg::sql {

namespace {
enum : std::uint8_t { t_select = 0x40, t_from, t_join, t_left_join, t_where, t_group_by, t_having, t_order_by, t_limit, t_offset, t_distinct, t_end };
} // namespace

select_statement::select_statement(std::vector<detail::node_ptr> columns, const table* first_table)
    : columns_(std::move(columns)), from_(first_table) {}

select_statement select(const table& t) { return select_statement(detail::columns_of(t), &t); }

select_statement select_statement::from(const table& t) const {
    select_statement s = *this;
    s.from_ = &t;
    return s;
}

select_statement select_statement::joined(join_kind k, const table& t, detail::node_ptr on) const {
    select_statement s = *this;
    s.joins_.push_back({k, &t, std::move(on)});
    return s;
}

select_statement select_statement::with_condition(detail::node_ptr select_statement::*clause, detail::node_ptr c) const {
    select_statement s = *this;
    s.*clause = detail::and_also(s.*clause, std::move(c));
    return s;
}

select_statement select_statement::limit(std::int64_t n) const {
    select_statement s = *this;
    s.limit_ = detail::value_node(n);
    return s;
}

select_statement select_statement::offset(std::int64_t n) const {
    select_statement s = *this;
    s.offset_ = detail::value_node(n);
    return s;
}

select_statement select_statement::distinct() const {
    select_statement s = *this;
    s.distinct_ = true;
    return s;
}

void select_statement::write(detail::writer& w) const {
    if (columns_.empty()) detail::refuse("a SELECT needs at least one column");
    const table* from = from_;
    for (std::size_t i = 0; !from && i < columns_.size(); ++i) from = columns_[i]->table_hint();
    if (!from && where_) from = where_->table_hint();
    if (!from) detail::refuse("a SELECT naming no column needs a table: call from(table)");
    w.token(t_select);
    w.qualify(true);
    w.text("SELECT ");
    if (distinct_) {
        w.token(t_distinct);
        w.text("DISTINCT ");
    }
    detail::write_list(w, columns_);
    w.token(t_from);
    w.text(" FROM ");
    w.name(from->id(), from->quoted_name());
    for (const join_item& j : joins_) {
        w.token(j.kind == join_kind::left ? t_left_join : t_join);
        w.text(j.kind == join_kind::left ? " LEFT JOIN " : " JOIN ");
        w.name(j.t->id(), j.t->quoted_name());
        w.text(" ON ");
        j.on->write(w);
    }
    detail::write_clause(w, t_where, " WHERE ", where_);
    detail::write_list_clause(w, t_group_by, " GROUP BY ", group_by_);
    detail::write_clause(w, t_having, " HAVING ", having_);
    detail::write_list_clause(w, t_order_by, " ORDER BY ", order_by_);
    detail::write_clause(w, t_limit, " LIMIT ", limit_);
    detail::write_clause(w, t_offset, " OFFSET ", offset_);
    w.token(t_end);
}

} // namespace asiopg::sql
