#ifndef ASIOPG_SQL_QUOTE_HPP
#define ASIOPG_SQL_QUOTE_HPP

// Quoting for SQL text the query builder writes without a connection at hand: names, and the
// few constants DDL cannot bind (column defaults). Values of queries are never quoted: they are
// bound as parameters.

#include <string>
#include <string_view>

namespace asiopg::sql {

/// `name` as a quoted identifier, as libpq's `PQescapeIdentifier` writes it for a UTF-8
/// connection: in double quotes, each `"` doubled — `Weird "name"` becomes `"Weird ""name"""`.
/// Quoting keeps case and every character (`"Users"` is not `users`), so reserved words and
/// any name are safe. Throws `error_with_diagnostics` (`client_errc::invalid_parameter`) for an
/// empty name, a NUL byte or text that is not UTF-8 (asiopg's connections use UTF-8).
std::string quote_identifier(std::string_view name);

/// `text` as a string constant, as `PQescapeLiteral` writes it: in single quotes, each `'`
/// doubled, and with the `E` prefix and doubled backslashes when it holds a backslash (so it
/// reads the same whatever `standard_conforming_strings` is). Same errors as `quote_identifier`
/// (an empty text is fine: `''`).
std::string quote_literal(std::string_view text);

} // namespace asiopg::sql

#endif
