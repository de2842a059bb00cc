#ifndef ASIOPG_SQL_MODIFY_HPP
#define ASIOPG_SQL_MODIFY_HPP

// INSERT, UPDATE and DELETE: `insert_into(tbl).values(tbl.val = "abc").returning(tbl.id)`,
// `update(tbl).set(tbl.val = "x").where(tbl.id == 3)`, `delete_from(tbl).where(tbl.id == 3)`.
// Each member returns a new statement.

#include <asiopg/sql/expression.hpp>
#include <asiopg/sql/statement.hpp>
#include <asiopg/sql/table.hpp>

#include <vector>

namespace asiopg::sql {

namespace detail {
// RETURNING's items: columns, expressions, or every column of the table.
class returning_list {
public:
    template <class... X>
    void add(const X&... x) {
        (items_.push_back(node_of(x)), ...);
    }
    void add_all(const table& t);
    void write(writer& w) const;

private:
    std::vector<node_ptr> items_;
};
} // namespace detail

/// `INSERT INTO t …`.
class insert_statement : public statement {
public:
    /// One more row: `values(tbl.a = 1, tbl.b = "x")`. Every row must set the same columns in
    /// the same order. No row at all: `DEFAULT VALUES`.
    template <class... A> requires(std::is_same_v<A, assignment> && ...)
    insert_statement values(const A&... a) const {
        insert_statement s = *this;
        s.rows_.push_back({a...});
        return s;
    }
    /// `RETURNING` these columns or expressions (aiopg.sa: the new id).
    template <class... X> requires(detail::is_sql_v<X> && ...)
    insert_statement returning(const X&... x) const {
        insert_statement s = *this;
        s.returning_.add(x...);
        return s;
    }
    /// `RETURNING` every column of the table.
    insert_statement returning_all() const;

    void write(detail::writer& w) const override;

    explicit insert_statement(const table& t) : table_(&t) {}

private:
    const table* table_;
    std::vector<std::vector<assignment>> rows_;
    detail::returning_list returning_;
};

/// `UPDATE t SET …`.
class update_statement : public statement {
public:
    template <class... A> requires(std::is_same_v<A, assignment> && ...)
    update_statement set(const A&... a) const {
        update_statement s = *this;
        (s.set_.push_back(a), ...);
        return s;
    }
    /// Without `where`, every row is updated.
    template <class C> requires detail::condition<C>
    update_statement where(const C& c) const { return with_condition(detail::node_of(c)); }
    template <class... X> requires(detail::is_sql_v<X> && ...)
    update_statement returning(const X&... x) const {
        update_statement s = *this;
        s.returning_.add(x...);
        return s;
    }
    update_statement returning_all() const;

    void write(detail::writer& w) const override;

    explicit update_statement(const table& t) : table_(&t) {}

private:
    update_statement with_condition(detail::node_ptr c) const;
    const table* table_;
    std::vector<assignment> set_;
    detail::node_ptr where_;
    detail::returning_list returning_;
};

/// `DELETE FROM t …`.
class delete_statement : public statement {
public:
    /// Without `where`, every row is deleted.
    template <class C> requires detail::condition<C>
    delete_statement where(const C& c) const { return with_condition(detail::node_of(c)); }
    template <class... X> requires(detail::is_sql_v<X> && ...)
    delete_statement returning(const X&... x) const {
        delete_statement s = *this;
        s.returning_.add(x...);
        return s;
    }
    delete_statement returning_all() const;

    void write(detail::writer& w) const override;

    explicit delete_statement(const table& t) : table_(&t) {}

private:
    delete_statement with_condition(detail::node_ptr c) const;
    const table* table_;
    detail::node_ptr where_;
    detail::returning_list returning_;
};

inline insert_statement insert_into(const table& t) { return insert_statement(t); }
inline update_statement update(const table& t) { return update_statement(t); }
inline delete_statement delete_from(const table& t) { return delete_statement(t); }

} // namespace asiopg::sql

#endif
