// Table descriptions and the DDL written from them.
#include <asiopg/sql/table.hpp>

#include <asiopg/sql/quote.hpp>

#include "refuse.hpp"

#include <atomic>
#include <set>

namespace asiopg::sql {

using detail::refuse;

namespace {
// Ids of tables and columns: unique for the life of the process.
std::uint64_t next_id() noexcept {
    static std::atomic<std::uint64_t> last{0};
    return ++last;
}
} // namespace

sql_type varchar(std::size_t n) { return {"varchar(" + std::to_string(n) + ")"}; }

sql_type numeric(unsigned precision, unsigned scale) {
    return {"numeric(" + std::to_string(precision) + ", " + std::to_string(scale) + ")"};
}

namespace detail {
column_default default_text(std::string_view text) { return {quote_literal(text)}; }
column_default default_integer(std::int64_t number) {
    // Parenthesised: a negative number stays one constant whatever follows.
    return {number < 0 ? "(" + std::to_string(number) + ")" : std::to_string(number)};
}
column_default default_bool(bool value) { return {value ? "true" : "false"}; }
} // namespace detail
column_default default_expression(std::string expression) { return {std::move(expression)}; }

table::table(std::string name, std::string schema)
    : name_(std::move(name)), schema_(std::move(schema)),
      quoted_(schema_.empty() ? quote_identifier(name_) : quote_identifier(schema_) + "." + quote_identifier(name_)),
      id_(next_id()) {}

const column_base* table::find(std::string_view column_name) const noexcept {
    for (const column_base* c : columns_)
        if (c->name() == column_name) return c;
    return nullptr;
}

column_base::column_base(table* owner, std::string name, sql_type type, bool nullable)
    : owner_(owner), name_(std::move(name)), quoted_(quote_identifier(name_)), type_(std::move(type)),
      nullable_(nullable), id_(next_id()) {
    owner->columns_.push_back(this);
}

std::string create_table(const table& t, bool if_not_exists) {
    if (t.columns().empty()) refuse("table " + t.quoted_name() + " has no columns");
    std::vector<const column_base*> key;
    std::set<std::string_view> seen;
    for (const column_base* c : t.columns()) {
        if (!seen.insert(c->name()).second) refuse("table " + t.quoted_name() + " has two columns " + c->quoted_name());
        if (c->type().name.empty())
            refuse("column " + c->quoted_name() + " of " + t.quoted_name() + " has no SQL type: give one (sql::text …)");
        if (c->is_primary_key()) key.push_back(c);
    }
    std::string sql = if_not_exists ? "CREATE TABLE IF NOT EXISTS " : "CREATE TABLE ";
    sql += t.quoted_name();
    sql += " (";
    bool first = true;
    for (const column_base* c : t.columns()) {
        if (!first) sql += ", ";
        first = false;
        sql += c->quoted_name();
        sql += ' ';
        sql += c->type().name;
        if (key.size() == 1 && key.front() == c) sql += " PRIMARY KEY";
        else if (!c->nullable()) sql += " NOT NULL";
        if (c->is_unique()) sql += " UNIQUE";
        if (!c->default_sql().empty()) {
            sql += " DEFAULT ";
            sql += c->default_sql();
        }
    }
    if (key.size() > 1) {
        sql += ", PRIMARY KEY (";
        for (std::size_t i = 0; i < key.size(); ++i) {
            if (i) sql += ", ";
            sql += key[i]->quoted_name();
        }
        sql += ')';
    }
    sql += ')';
    return sql;
}

std::string drop_table(const table& t, bool if_exists) {
    return (if_exists ? "DROP TABLE IF EXISTS " : "DROP TABLE ") + t.quoted_name();
}

} // namespace asiopg::sql
