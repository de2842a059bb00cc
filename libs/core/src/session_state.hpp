// Whether SQL may change session state that outlives a transaction: what lets a pool skip the
// reset of a connection that only read and wrote data.
#ifndef ASIOPG_SRC_SESSION_STATE_HPP
#define ASIOPG_SRC_SESSION_STATE_HPP

#include <string_view>

namespace asiopg::detail {

// False only for text whose every statement begins with a keyword of plain data access or
// transaction control (SELECT, INSERT, UPDATE, DELETE, WITH, VALUES, TABLE, MERGE, COPY, SHOW,
// BEGIN, START, COMMIT, END, ROLLBACK, ABORT, SAVEPOINT, RELEASE) and that names none of
// the built-in functions with session effects (set_config, advisory locks, sequence functions,
// dblink) nor `INTO` after a SELECT (SELECT INTO creates a table). Conservative: statements are
// split at every `;`, even one inside a literal, and anything unrecognised counts as a change.
// Functions of the user's own that change settings are not seen.
bool may_change_session(std::string_view sql) noexcept;

// True for one statement (a `;` only at its end) of plain data access — SELECT, WITH, VALUES,
// TABLE, INSERT, UPDATE, DELETE, MERGE, SHOW — that may_change_session() passes: what a pool may
// pipeline onto a connection other such statements are using. Not transaction control (it would
// open or end a transaction around its neighbours), not COPY (it holds the connection).
bool may_share_connection(std::string_view sql) noexcept;

} // namespace asiopg::detail

#endif
