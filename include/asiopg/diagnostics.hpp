#ifndef ASIOPG_DIAGNOSTICS_HPP
#define ASIOPG_DIAGNOSTICS_HPP

#include <string>

namespace asiopg {

/// What went wrong, in words: the server's error fields, or the client's own message.
///
/// Filled by every operation that fails. For a server error the fields come from the
/// ErrorResponse (libpq's `PQresultErrorField`); for a client or network error only `message`
/// is set (libpq's or asiopg's text). Server messages may echo user data: treat them as
/// untrusted text. Passwords never appear in them: asiopg redacts the password it was given.
struct diagnostics {
    std::string severity;   ///< "ERROR", "FATAL" or "PANIC" (non-localized); empty for client errors
    std::string sqlstate;   ///< five-character SQLSTATE, empty for client errors
    std::string message;    ///< primary message (server or client)
    std::string detail;     ///< optional secondary message
    std::string hint;       ///< optional suggestion
    int position = 0;       ///< 1-based character position of the error in the statement; 0 if none
    std::string context;    ///< call stack of PL/pgSQL functions etc., if any
    std::string internal_query;  ///< text of an internally generated failing command, if any
    int internal_position = 0;   ///< position in `internal_query`; 0 if none
    std::string schema;     ///< schema of the object involved, if any
    std::string table;      ///< table involved, if any
    std::string column;     ///< column involved, if any
    std::string datatype;   ///< data type involved, if any
    std::string constraint; ///< constraint violated, if any

    /// True when the server produced these diagnostics (a SQLSTATE is present).
    bool from_server() const noexcept { return !sqlstate.empty(); }
    bool empty() const noexcept { return message.empty() && sqlstate.empty(); }
    void clear() { *this = diagnostics{}; }

    /// One readable line, e.g. `ERROR 42601: syntax error at or near "selec" (position 1)`,
    /// followed by detail and hint when present.
    std::string to_string() const;
};

} // namespace asiopg

#endif
