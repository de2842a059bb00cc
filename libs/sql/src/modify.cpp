// INSERT, UPDATE, DELETE.
#include <asiopg/sql/modify.hpp>

#include "refuse.hpp"
#include "writer.hpp"

namespace asiopg::sql {

namespace {
enum : std::uint8_t { t_insert = 0x60, t_update, t_delete, t_default_values, t_row, t_set, t_where, t_returning, t_end };

void check_owner(const assignment& a, const table& t, const char* what) {
    if (&a.column->owner() != &t)
        detail::refuse(std::string(what) + " of " + t.quoted_name() + " sets " + a.column->quoted_name() + " of another table, " +
                       a.column->owner().quoted_name());
}
} // namespace

void insert_statement::write(detail::writer& w) const {
    w.token(t_insert);
    w.text("INSERT INTO ");
    w.name(table_->id(), table_->quoted_name());
    if (rows_.empty()) {
        w.token(t_default_values);
        w.text(" DEFAULT VALUES");
    } else {
        const std::vector<assignment>& first = rows_.front();
        if (first.empty()) detail::refuse("an INSERT row sets no column: insert_into(t) alone inserts DEFAULT VALUES");
        for (const std::vector<assignment>& row : rows_) {
            bool same = row.size() == first.size();
            for (std::size_t i = 0; same && i < row.size(); ++i) same = row[i].column == first[i].column;
            if (!same) detail::refuse("the rows of an INSERT into " + table_->quoted_name() + " must set the same columns in the same order");
        }
        w.qualify(false);
        w.text(" (");
        w.count(first.size());
        for (std::size_t i = 0; i < first.size(); ++i) {
            check_owner(first[i], *table_, "an INSERT");
            if (i) w.text(", ");
            w.name(first[i].column->id(), first[i].column->quoted_name());
        }
        w.text(") VALUES ");
        w.qualify(true);
        for (std::size_t r = 0; r < rows_.size(); ++r) {
            w.token(t_row);
            w.text(r ? ", (" : "(");
            for (std::size_t i = 0; i < rows_[r].size(); ++i) {
                if (i) w.text(", ");
                rows_[r][i].value->write(w);
            }
            w.text(")");
        }
    }
    w.qualify(true);
    detail::write_list_clause(w, t_returning, " RETURNING ", returning_);
    w.token(t_end);
}

void update_statement::write(detail::writer& w) const {
    if (set_.empty()) detail::refuse("an UPDATE of " + table_->quoted_name() + " needs set(column = value …)");
    w.token(t_update);
    w.qualify(true);
    w.text("UPDATE ");
    w.name(table_->id(), table_->quoted_name());
    w.text(" SET ");
    for (std::size_t i = 0; i < set_.size(); ++i) {
        check_owner(set_[i], *table_, "an UPDATE");
        w.token(t_set);
        if (i) w.text(", ");
        w.name(set_[i].column->id(), set_[i].column->quoted_name()); // SET takes the bare name
        w.text(" = ");
        set_[i].value->write(w);
    }
    detail::write_clause(w, t_where, " WHERE ", where_);
    detail::write_list_clause(w, t_returning, " RETURNING ", returning_);
    w.token(t_end);
}

void delete_statement::write(detail::writer& w) const {
    w.token(t_delete);
    w.qualify(true);
    w.text("DELETE FROM ");
    w.name(table_->id(), table_->quoted_name());
    detail::write_clause(w, t_where, " WHERE ", where_);
    detail::write_list_clause(w, t_returning, " RETURNING ", returning_);
    w.token(t_end);
}

} // namespace asiopg::sql
