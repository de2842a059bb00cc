// format_sql, escape_literal, escape_identifier: SQL text with values quoted by libpq for the
// connection's session (client encoding, standard_conforming_strings).
#include <asiopg/connection.hpp>
#include <asiopg/error.hpp>
#include <asiopg/sql_format.hpp>

#include "client_error.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

namespace asiopg {
namespace detail {

void literal_builder::reserve(std::size_t n) {
    values_.reserve(n);
    offsets_.reserve(n);
}

void literal_builder::add(const sql_value& v) {
    offsets_.push_back(buffer_.size());
    values_.push_back(v);
    if (v.kind == sql_value_kind::text) {
        buffer_.append(v.text);
        values_.back().text = {}; // the caller's text may not outlive this call: bound in finish()
    }
}

void literal_builder::finish(literal& out, bool list) {
    bool any_text = std::any_of(values_.begin(), values_.end(),
                                [](const sql_value& v) { return v.kind == sql_value_kind::text; });
    std::shared_ptr<const std::string> storage;
    if (any_text) {
        storage = std::make_shared<const std::string>(std::move(buffer_));
        for (std::size_t i = 0; i < values_.size(); ++i) {
            if (values_[i].kind != sql_value_kind::text) continue;
            std::size_t end = i + 1 < values_.size() ? offsets_[i + 1] : storage->size();
            values_[i].text = std::string_view(storage->data() + offsets_[i], end - offsets_[i]);
        }
    }
    sql_format_access::set(out, std::move(values_), std::move(storage), list);
    values_.clear();
    offsets_.clear();
    buffer_.clear();
}

} // namespace detail

namespace {

using detail::format_arg;
using detail::sql_value;
using detail::sql_value_kind;

[[noreturn]] void fail(client_errc code, std::string message) { detail::throw_client_error(code, std::move(message)); }

std::string str(std::size_t n) { return std::to_string(n); }

struct pq_freer {
    void operator()(char* p) const noexcept { PQfreemem(p); }
};
using pq_string = std::unique_ptr<char, pq_freer>;

// The connection's PGconn, if values can be quoted for it now.
PGconn* session(const connection& conn, const char* who) {
    PGconn* pg = conn.native_handle();
    if (pg == nullptr || !conn.is_open())
        fail(client_errc::not_connected,
             std::string(who) + ": the connection is not open (values are quoted for the session's "
                                "client_encoding, so it must be connected)");
    if (PQtransactionStatus(pg) == PQTRANS_ACTIVE)
        fail(client_errc::operation_in_progress,
             std::string(who) + ": an operation is in flight on this connection (it may change the "
                                "session's encoding); format before starting it or after it completes");
    return pg;
}

// What is being quoted, for error messages: "format_sql: argument 2 (placeholder at byte 14), ..."
struct position {
    const char* who;
    std::size_t arg = 0;         // 1-based; 0: the single value of escape_literal/escape_identifier
    std::size_t offset = 0;      // of the placeholder in the format string
    std::size_t element = 0;     // 1-based list element; 0: not in a list
    std::size_t part = 0;        // 1-based part of a qualified name; 0: unqualified

    // "format_sql: argument 2 (placeholder at byte 14), list element 3: "
    std::string prefix() const {
        std::string s = who;
        s += ": ";
        if (arg != 0) {
            s += "argument " + str(arg) + " (placeholder at byte " + str(offset) + ")";
            if (element != 0) s += ", list element " + str(element);
            if (part != 0) s += ", name part " + str(part);
            s += ": ";
        }
        return s;
    }
};

void check_no_nul(std::string_view s, const position& pos, const char* what) {
    std::size_t at = s.find('\0');
    if (at == std::string_view::npos) return;
    fail(client_errc::invalid_parameter,
         pos.prefix() + what + " contains a NUL byte (at byte " + str(at) +
             "): PostgreSQL text cannot hold NUL bytes (send binary data as a bound bytea parameter)");
}

void check_name(std::string_view name, const position& pos) {
    if (name.empty())
        fail(client_errc::invalid_parameter, pos.prefix() + "the identifier is empty: PostgreSQL has no empty names");
    check_no_nul(name, pos, "the identifier");
}

std::string libpq_message(PGconn* pg) {
    const char* m = PQerrorMessage(pg);
    std::string s = m != nullptr ? m : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s.empty() ? std::string("libpq could not quote it") : s;
}

// Appends libpq's quoting of `s`. libpq stops at a NUL byte: callers checked for them.
void append_quoted(std::string& out, PGconn* pg, std::string_view s, bool as_identifier,
                   const position& pos) {
    const char* data = s.empty() ? "" : s.data();
    pq_string q(as_identifier ? PQescapeIdentifier(pg, data, s.size()) : PQescapeLiteral(pg, data, s.size()));
    if (!q) {
        const char* encoding = PQparameterStatus(pg, "client_encoding");
        fail(client_errc::invalid_parameter,
             pos.prefix() + "libpq refused the " + (as_identifier ? "identifier" : "text") + " for client_encoding " +
                 (encoding != nullptr ? encoding : "?") + ": " + libpq_message(pg));
    }
    out += q.get();
}

template <class Int>
void append_integer(std::string& out, Int v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    if (v < 0) out += ' '; // `1-{}` must not become the comment `1--5`
    out.append(buf, r.ptr);
}

void append_floating(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "'NaN'::float8";
    } else if (std::isinf(v)) {
        out += v > 0 ? "'Infinity'::float8" : "'-Infinity'::float8";
    } else if (v == 0 && std::signbit(v)) {
        out += "'-0'::float8"; // a numeric constant has no negative zero
    } else {
        char buf[40];
        auto r = std::to_chars(buf, buf + sizeof buf, v); // shortest form that reads back exactly
        std::string_view digits(buf, static_cast<std::size_t>(r.ptr - buf));
        if (v < 0) out += ' ';
        out += digits;
        // `100` would be an integer constant (and `100 / 3` integer division): keep it numeric.
        if (digits.find_first_of(".e") == std::string_view::npos) out += ".0";
    }
}

void append_value(std::string& out, PGconn* pg, const sql_value& v, const position& pos) {
    switch (v.kind) {
    case sql_value_kind::null: out += "NULL"; break;
    case sql_value_kind::boolean: out += v.boolean ? "true" : "false"; break;
    case sql_value_kind::signed_integer: append_integer(out, v.signed_integer); break;
    case sql_value_kind::unsigned_integer: append_integer(out, v.unsigned_integer); break;
    case sql_value_kind::floating: append_floating(out, v.floating); break;
    case sql_value_kind::text: append_quoted(out, pg, v.text, false, pos); break;
    }
}

void append_name(std::string& out, PGconn* pg, const identifier& id, position pos) {
    auto parts = id.parts();
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i != 0) out += '.';
        if (parts.size() > 1) pos.part = i + 1;
        append_quoted(out, pg, parts[i], true, pos);
    }
}

// Checks everything that can be checked without the connection, so that nothing is formatted
// when an argument is bad.
void validate(const format_arg& a, position pos) {
    switch (a.type) {
    case format_arg::kind::value:
        if (a.value.kind == sql_value_kind::text) check_no_nul(a.value.text, pos, "the text");
        break;
    case format_arg::kind::list:
        if (a.values.empty())
            fail(client_errc::invalid_parameter,
                 pos.prefix() +
                     "the list is empty: `IN ()` is not SQL, and no value stands for an empty list (`x NOT IN "
                     "(NULL)` is NULL, not true); handle the empty case in code, or bind the values as one "
                     "array parameter, which may be empty (`x = ANY($1)`)");
        for (std::size_t i = 0; i < a.values.size(); ++i) {
            pos.element = i + 1;
            if (a.values[i].kind == sql_value_kind::text) check_no_nul(a.values[i].text, pos, "the text");
        }
        break;
    case format_arg::kind::identifiers:
        if (a.names.empty())
            fail(client_errc::invalid_parameter, pos.prefix() + "the list of identifiers is empty");
        for (std::size_t i = 0; i < a.names.size(); ++i) {
            if (a.name_list) pos.element = i + 1;
            auto parts = a.names[i].parts();
            for (std::size_t k = 0; k < parts.size(); ++k) {
                pos.part = parts.size() > 1 ? k + 1 : 0;
                check_name(parts[k], pos);
            }
        }
        break;
    case format_arg::kind::raw: check_no_nul(a.raw, pos, "raw_sql"); break;
    }
}

void append_arg(std::string& out, PGconn* pg, const format_arg& a, position pos) {
    switch (a.type) {
    case format_arg::kind::value: append_value(out, pg, a.value, pos); break;
    case format_arg::kind::list:
        for (std::size_t i = 0; i < a.values.size(); ++i) {
            if (i != 0) out += ", ";
            pos.element = i + 1;
            append_value(out, pg, a.values[i], pos);
        }
        break;
    case format_arg::kind::identifiers:
        for (std::size_t i = 0; i < a.names.size(); ++i) {
            if (i != 0) out += ", ";
            if (a.name_list) pos.element = i + 1;
            append_name(out, pg, a.names[i], pos);
        }
        break;
    case format_arg::kind::raw: out += a.raw; break;
    }
}

std::size_t size_hint(const format_arg& a) {
    switch (a.type) {
    case format_arg::kind::value: return a.value.text.size() + 24;
    case format_arg::kind::list: {
        std::size_t n = 0;
        for (const sql_value& v : a.values) n += v.text.size() + 26;
        return n;
    }
    case format_arg::kind::identifiers: return a.names.size() * 24;
    case format_arg::kind::raw: return a.raw.size();
    }
    return 0;
}

// ---- the format string ----

bool ident_start(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool ident_cont(unsigned char c) { return ident_start(c) || (c >= '0' && c <= '9') || c == '$'; }

enum class region { code, string, escape_string, quoted_identifier, dollar_string, line_comment, block_comment };

const char* region_name(region r) {
    switch (r) {
    case region::code: return "SQL";
    case region::string:
    case region::escape_string: return "a string constant ('...')";
    case region::quoted_identifier: return "a quoted identifier (\"...\")";
    case region::dollar_string: return "a dollar-quoted string ($$...$$)";
    case region::line_comment:
    case region::block_comment: return "a comment";
    }
    return "SQL";
}

// The byte offsets of the placeholders of `fmt`. Checks the braces, and lexes the SQL around
// them as PostgreSQL does (strings, E'' strings, quoted identifiers, dollar quotes, nested
// comments) to refuse a placeholder where a value's content could end the surrounding construct.
std::vector<std::size_t> scan_format(std::string_view fmt, bool standard_strings) {
    std::vector<std::size_t> placeholders;
    region in = region::code;
    std::string_view dollar_tag;
    int comment_depth = 0;
    unsigned char prev = 0, prev2 = 0; // the two characters before, as the server will see them
    auto at = [&](std::size_t k) -> unsigned char {
        return k < fmt.size() ? static_cast<unsigned char>(fmt[k]) : 0; // NUL bytes were refused
    };
    auto seen = [&](unsigned char c) {
        prev2 = prev;
        prev = c;
    };
    std::size_t i = 0;
    while (i < fmt.size()) {
        unsigned char c = at(i);
        if (c == '{') {
            if (at(i + 1) == '}') {
                if (in != region::code)
                    fail(client_errc::invalid_parameter,
                         "format_sql: the placeholder at byte " + str(i) + " of the format string is inside " +
                             region_name(in) +
                             ": write {} on its own — values bring their own quotes, and inside quotes or "
                             "comments their content could end the surrounding construct");
                placeholders.push_back(i);
                seen('\''); // a value ends like a quoted constant
                i += 2;
                continue;
            }
            if (at(i + 1) != '{')
                fail(client_errc::invalid_parameter,
                     "format_sql: '{' at byte " + str(i) +
                         " of the format string is not followed by '}' (a placeholder) or '{' (a literal "
                         "brace); only {} placeholders are supported");
            seen('{');
            i += 2;
            continue;
        }
        if (c == '}') {
            if (at(i + 1) != '}')
                fail(client_errc::invalid_parameter,
                     "format_sql: '}' at byte " + str(i) +
                         " of the format string has no matching '{' (write }} for a literal brace)");
            seen('}');
            i += 2;
            continue;
        }
        std::size_t step = 1;
        switch (in) {
        case region::code:
            if (c == '\'') {
                bool e_prefix = (prev == 'E' || prev == 'e') && !ident_cont(prev2);
                in = e_prefix || !standard_strings ? region::escape_string : region::string;
            } else if (c == '"') {
                in = region::quoted_identifier;
            } else if (c == '-' && at(i + 1) == '-') {
                in = region::line_comment;
                step = 2;
            } else if (c == '/' && at(i + 1) == '*') {
                in = region::block_comment;
                comment_depth = 1;
                step = 2;
            } else if (c == '$' && !ident_cont(prev)) { // $tag$ or $$, not $1 nor a$b
                std::size_t j = i + 1;
                if (ident_start(at(j)))
                    while (ident_cont(at(j)) && at(j) != '$') ++j;
                if (at(j) == '$') {
                    dollar_tag = fmt.substr(i, j - i + 1);
                    in = region::dollar_string;
                    step = dollar_tag.size();
                }
            }
            break;
        case region::string:
        case region::escape_string:
            if (in == region::escape_string && c == '\\' && (at(i + 1) == '\\' || at(i + 1) == '\'')) {
                step = 2;
            } else if (c == '\'') {
                if (at(i + 1) == '\'') step = 2;
                else in = region::code;
            }
            break;
        case region::quoted_identifier:
            if (c == '"') {
                if (at(i + 1) == '"') step = 2;
                else in = region::code;
            }
            break;
        case region::dollar_string:
            if (c == '$' && fmt.substr(i, dollar_tag.size()) == dollar_tag) {
                step = dollar_tag.size();
                in = region::code;
            }
            break;
        case region::line_comment:
            if (c == '\n' || c == '\r') in = region::code;
            break;
        case region::block_comment:
            if (c == '/' && at(i + 1) == '*') {
                ++comment_depth;
                step = 2;
            } else if (c == '*' && at(i + 1) == '/') {
                step = 2;
                if (--comment_depth == 0) in = region::code;
            }
            break;
        }
        for (std::size_t k = i; k < i + step; ++k) seen(at(k));
        i += step;
    }
    return placeholders;
}

} // namespace

namespace detail {

std::string format_sql_erased(const connection& conn, std::string_view fmt, std::span<const format_arg> args) {
    if (std::size_t at = fmt.find('\0'); at != std::string_view::npos)
        fail(client_errc::invalid_parameter,
             "format_sql: the format string contains a NUL byte (at byte " + str(at) + ")");

    // How the server reads backslashes in plain '...' strings of the format string.
    bool standard_strings = true;
    if (PGconn* pg = conn.native_handle(); pg != nullptr && conn.is_open()) {
        const char* v = PQparameterStatus(pg, "standard_conforming_strings");
        standard_strings = v == nullptr || std::strcmp(v, "off") != 0;
    }
    std::vector<std::size_t> placeholders = scan_format(fmt, standard_strings);
    if (placeholders.size() != args.size())
        fail(client_errc::invalid_parameter,
             "format_sql: the format string has " + str(placeholders.size()) + " placeholder" +
                 (placeholders.size() == 1 ? "" : "s") + " but " + str(args.size()) + " argument" +
                 (args.size() == 1 ? " was" : "s were") + " given");

    std::size_t hint = fmt.size();
    for (std::size_t k = 0; k < args.size(); ++k) {
        validate(args[k], position{"format_sql", k + 1, placeholders[k]});
        hint += size_hint(args[k]);
    }

    PGconn* pg = session(conn, "format_sql");
    std::string out;
    out.reserve(hint);
    std::size_t next = 0;
    for (std::size_t i = 0; i < fmt.size();) {
        char c = fmt[i];
        if (c == '{' && fmt[i + 1] == '}') {
            append_arg(out, pg, args[next], position{"format_sql", next + 1, i});
            ++next;
            i += 2;
        } else if (c == '{' || c == '}') { // a doubled brace (scan_format checked)
            out += c;
            i += 2;
        } else {
            std::size_t j = std::min(fmt.find_first_of("{}", i), fmt.size());
            out.append(fmt.substr(i, j - i));
            i = j;
        }
    }
    return out;
}

} // namespace detail

std::string escape_literal(const connection& conn, std::string_view value) {
    position pos{"escape_literal"};
    check_no_nul(value, pos, "the text");
    PGconn* pg = session(conn, "escape_literal");
    std::string out;
    append_quoted(out, pg, value, false, pos);
    return out;
}

std::string escape_identifier(const connection& conn, std::string_view name) {
    position pos{"escape_identifier"};
    check_name(name, pos);
    PGconn* pg = session(conn, "escape_identifier");
    std::string out;
    append_quoted(out, pg, name, true, pos);
    return out;
}

} // namespace asiopg
