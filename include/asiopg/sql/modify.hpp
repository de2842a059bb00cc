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

// What INSERT, UPDATE and DELETE share: their table and RETURNING.
template <class Derived>
class modifying : public statement {
public:
    /// `RETURNING` these columns or expressions (aiopg.sa: the new id).
    template <class... X> requires(is_sql_v<X> && ...)
    Derived returning(const X&... x) const {
        Derived s = self();
        (s.returning_.push_back(node_of(x)), ...);
        return s;
    }
    /// `RETURNING` every column of the table.
    Derived returning_all() const {
        Derived s = self();
        for (node_ptr& c : columns_of(*table_)) s.returning_.push_back(std::move(c));
        return s;
    }

protected:
    explicit modifying(const table& t) : table_(&t) {}
    const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }

    const table* table_;
    std::vector<node_ptr> returning_;
};

// UPDATE and DELETE: RETURNING and WHERE.
template <class Derived>
class filtered : public modifying<Derived> {
public:
    /// `WHERE c` (called twice: AND). Without it, every row is touched, as in SQL.
    template <class C> requires condition<C>
    Derived where(const C& c) const {
        Derived s = this->self();
        s.where_ = and_also(s.where_, node_of(c));
        return s;
    }

protected:
    using modifying<Derived>::modifying;
    node_ptr where_;
};

} // namespace detail

/// `INSERT INTO t …`.
class insert_statement : public detail::modifying<insert_statement> {
public:
    /// One more row: `values(tbl.a = 1, tbl.b = "x")`. Every row must set the same columns in
    /// the same order. No row at all: `DEFAULT VALUES`.
    template <class... A> requires(std::is_same_v<A, assignment> && ...)
    insert_statement values(const A&... a) const {
        insert_statement s = *this;
        s.rows_.push_back({a...});
        return s;
    }

    void write(detail::writer& w) const override;

    explicit insert_statement(const table& t) : modifying(t) {}

private:
    std::vector<std::vector<assignment>> rows_;
};

/// `UPDATE t SET …`.
class update_statement : public detail::filtered<update_statement> {
public:
    template <class... A> requires(std::is_same_v<A, assignment> && ...)
    update_statement set(const A&... a) const {
        update_statement s = *this;
        (s.set_.push_back(a), ...);
        return s;
    }

    void write(detail::writer& w) const override;

    explicit update_statement(const table& t) : filtered(t) {}

private:
    std::vector<assignment> set_;
};

/// `DELETE FROM t …`.
class delete_statement : public detail::filtered<delete_statement> {
public:
    void write(detail::writer& w) const override;

    explicit delete_statement(const table& t) : filtered(t) {}
};

inline insert_statement insert_into(const table& t) { return insert_statement(t); }
inline update_statement update(const table& t) { return update_statement(t); }
inline delete_statement delete_from(const table& t) { return delete_statement(t); }

} // namespace asiopg::sql

#endif
