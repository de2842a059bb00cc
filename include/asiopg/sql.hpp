#ifndef ASIOPG_SQL_HPP
#define ASIOPG_SQL_HPP

/// The query builder (library asiopg_sql, b2 target /asiopg//sql): tables described in C++,
/// and the SQL written from them — names quoted, values always bound as parameters.
#include <asiopg/sql/execute.hpp>
#include <asiopg/sql/expression.hpp>
#include <asiopg/sql/modify.hpp>
#include <asiopg/sql/quote.hpp>
#include <asiopg/sql/select.hpp>
#include <asiopg/sql/statement.hpp>
#include <asiopg/sql/table.hpp>

#endif
