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

select_statement select(const table& t) {
    std::vector<detail::node_ptr> columns;
    columns.reserve(t.columns().size());
    for (const column_base* c : t.columns()) columns.push_back(detail::make_column(*c));
    return select_statement(std::move(columns), &t);
}

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
    detail::node_ptr& slot = s.*clause;
    slot = slot ? detail::make_binary(detail::op::and_, slot, std::move(c)) : std::move(c);
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
    if (where_) {
        w.token(t_where);
        w.text(" WHERE ");
        where_->write(w);
    }
    if (!group_by_.empty()) {
        w.token(t_group_by);
        w.text(" GROUP BY ");
        detail::write_list(w, group_by_);
    }
    if (having_) {
        w.token(t_having);
        w.text(" HAVING ");
        having_->write(w);
    }
    if (!order_by_.empty()) {
        w.token(t_order_by);
        w.text(" ORDER BY ");
        detail::write_list(w, order_by_);
    }
    if (limit_) {
        w.token(t_limit);
        w.text(" LIMIT ");
        limit_->write(w);
    }
    if (offset_) {
        w.token(t_offset);
        w.text(" OFFSET ");
        offset_->write(w);
    }
    w.token(t_end);
}

} // namespace asiopg::sql
