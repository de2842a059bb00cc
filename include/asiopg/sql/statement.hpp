#ifndef ASIOPG_SQL_STATEMENT_HPP
#define ASIOPG_SQL_STATEMENT_HPP

// What every builder statement (select, insert_into, update, delete_from) is, and what it
// compiles to: SQL text with `$1 … $n`, and the values bound to them.

#include <asiopg/param_buffer.hpp>

#include <memory>
#include <string>

namespace asiopg::sql {

namespace detail {
class writer; // libs/sql/src
} // namespace detail

/// A statement compiled: its text and its parameters.
///
/// The text is shared: statements of the same shape — the same tables, columns, operators and
/// clauses, whatever the values — compile to one string, built once and cached (so repeated
/// statements do not rebuild it, and hit the connection's prepared-statement cache).
struct compiled_statement {
    std::shared_ptr<const std::string> sql;
    param_buffer params;

    const std::string& text() const noexcept { return *sql; }
};

/// The base of the builder's statements. Statements are immutable values: each builder
/// function returns a new one. Safe to share between threads.
class statement {
public:
    virtual ~statement() = default;
    /// Writes this statement (implementation detail of `compile`).
    virtual void write(detail::writer& w) const = 0;
};

/// Compiles `s`. \throws error_with_diagnostics (`client_errc::invalid_parameter`) when `s`
/// cannot be written (an INSERT whose rows set different columns, a SELECT without columns …).
/// Thread-safe.
compiled_statement compile(const statement& s);

/// How many compiled texts the cache holds (for tests and monitoring).
std::size_t compiled_cache_size() noexcept;

} // namespace asiopg::sql

#endif
