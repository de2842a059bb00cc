// The table of aiopg's SQLAlchemy page, for the query builder's tests.
#ifndef ASIOPG_TEST_SQL_TABLES_HPP
#define ASIOPG_TEST_SQL_TABLES_HPP

#include <asiopg/sql.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace asiopg::test {

// tbl(id serial primary key, val varchar(255)), under `name`.
struct tbl_table : sql::table {
    sql::column<std::int32_t> id{this, "id", sql::serial, sql::primary_key};
    sql::column<std::optional<std::string>> val{this, "val", sql::varchar(255)};
    explicit tbl_table(std::string name = "tbl") : table(std::move(name)) {}
};

} // namespace asiopg::test

#endif
