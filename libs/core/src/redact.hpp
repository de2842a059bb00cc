// Internal: keeping passwords out of messages.
#ifndef ASIOPG_SRC_REDACT_HPP
#define ASIOPG_SRC_REDACT_HPP

#include <string>
#include <string_view>

namespace asiopg::detail {

// Replaces every occurrence of `secret` in `text` by "***". Secrets shorter than 4 characters
// are left alone unless `always` (they would mangle ordinary words; libpq never echoes a
// password, only the conninfo parser quotes its input, and that path passes `always`).
std::string redact(std::string text, const std::string& secret, bool always = false);

// A password written in a conninfo string or URI that failed to parse, so the parser's message
// (which may quote a fragment of the string) can be redacted; empty if none is seen.
std::string guess_password(std::string_view conninfo);

} // namespace asiopg::detail

#endif
