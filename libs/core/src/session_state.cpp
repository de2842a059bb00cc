#include "session_state.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace asiopg::detail {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_letter(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_word_char(char c) noexcept { return is_letter(c) || (c >= '0' && c <= '9'); }
bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// A word of the text, lower-cased into `buf` (words longer than it cannot be any of the
// keywords or function names below, so they are cut: only their prefix is compared).
std::string_view lowered(std::string_view word, char (&buf)[32]) noexcept {
    std::size_t n = std::min(word.size(), sizeof buf);
    for (std::size_t i = 0; i < n; ++i) buf[i] = lower(word[i]);
    return {buf, n};
}

// How a statement's first keyword classifies it.
enum class opening {
    changes,    // anything but plain data access or transaction control
    query,      // SELECT, WITH, VALUES, TABLE: INTO after them creates a table
    data,       // INSERT, UPDATE, DELETE, MERGE, SHOW
    control,    // COPY and transaction control
};

opening classify(std::string_view kw) noexcept {
    constexpr std::array<std::string_view, 4> queries = {"select", "with", "values", "table"};
    constexpr std::array<std::string_view, 5> data = {"insert", "update", "delete", "merge", "show"};
    constexpr std::array<std::string_view, 9> control = {"copy",     "begin", "start",     "commit", "end",
                                                         "rollback", "abort", "savepoint", "release"};
    if (std::find(queries.begin(), queries.end(), kw) != queries.end()) return opening::query;
    if (std::find(data.begin(), data.end(), kw) != data.end()) return opening::data;
    if (std::find(control.begin(), control.end(), kw) != control.end()) return opening::control;
    return opening::changes;
}

// How a statement's first word classifies it (a word longer than any keyword: changes).
opening classify_word(std::string_view word) noexcept {
    char buf[32];
    return word.size() > 9 ? opening::changes : classify(lowered(word, buf));
}

// Built-in functions whose effects outlive the transaction (or are session caches), matched
// inside longer names too (pg_advisory_xact_lock, dblink_exec …).
// `word` is lower-cased unless `any_case` (a word too long for the buffer).
bool names_session_function(std::string_view word, bool any_case) noexcept {
    constexpr std::array<std::string_view, 7> parts = {"set_config", "advisory", "nextval", "setval",
                                                       "currval",    "lastval",  "dblink"};
    auto equal_ci = [](char a, char b) { return lower(a) == b; };
    for (std::string_view part : parts) {
        bool found = any_case ? std::search(word.begin(), word.end(), part.begin(), part.end(), equal_ci) != word.end()
                              : word.find(part) != std::string_view::npos;
        if (found) return true;
    }
    return false;
}

// Past the blanks, opening parentheses and comments before a statement's first keyword: the
// keyword's first letter, a `;` (an empty statement), `end`, or nullptr when something else
// comes first (or a comment is not closed).
const char* skip_to_keyword(const char* p, const char* end) noexcept {
    while (p != end) {
        char c = *p;
        if (is_space(c) || c == '(') {
            ++p;
        } else if (c == '-' && end - p > 1 && p[1] == '-') {
            // As PostgreSQL's lexer: a line comment ends at \n or \r.
            p = std::find_if(p, end, [](char ch) { return ch == '\n' || ch == '\r'; });
        } else if (c == '/' && end - p > 1 && p[1] == '*') {
            // Block comments nest in PostgreSQL: "/* /* */ SELECT */ SET …" is a SET.
            int depth = 1;
            p += 2;
            while (depth > 0) {
                if (end - p < 2) return nullptr; // not closed
                if (p[0] == '/' && p[1] == '*') {
                    ++depth;
                    p += 2;
                } else if (p[0] == '*' && p[1] == '/') {
                    --depth;
                    p += 2;
                } else {
                    ++p;
                }
            }
        } else {
            return is_letter(c) || c == ';' ? p : nullptr;
        }
    }
    return end;
}

} // namespace

// One pass over the text, word by word: it runs for every statement a connection executes.
bool may_change_session(std::string_view sql) noexcept {
    const char* p = sql.data();
    const char* const end = p + sql.size();
    bool at_start = true; // before the first keyword of a statement
    opening current = opening::control;
    char buf[32];
    while (p != end) {
        char c = *p;
        if (c == ';') {
            at_start = true;
            ++p;
            continue;
        }
        if (at_start) {
            p = skip_to_keyword(p, end);
            if (p == nullptr) return true;
            if (p == end || *p == ';') continue;
        } else if (!is_word_char(c)) {
            ++p;
            continue;
        }
        const char* w = p;
        while (p != end && is_word_char(*p)) ++p;
        std::string_view word(w, static_cast<std::size_t>(p - w));
        if (at_start) {
            at_start = false;
            current = classify_word(word);
            if (current == opening::changes) return true;
            continue;
        }
        if (word.size() < 4) continue;
        std::string_view lw = lowered(word, buf);
        if (current == opening::query && lw == "into") return true;
        if (word.size() > sizeof buf) {
            if (names_session_function(word, true)) return true;
        } else if (word.size() >= 6 && names_session_function(lw, false)) {
            return true;
        }
    }
    return false;
}

bool may_share_connection(std::string_view sql) noexcept {
    const char* end = sql.data() + sql.size();
    // One statement: a `;` only at the end.
    if (std::size_t semi = sql.find(';'); semi != std::string_view::npos) {
        const char* after = sql.data() + semi + 1;
        if (!std::all_of(after, end, is_space)) return false;
        end = sql.data() + semi;
    }
    const char* p = skip_to_keyword(sql.data(), end);
    if (p == nullptr || p == end) return false;
    const char* w = p;
    while (p != end && is_word_char(*p)) ++p;
    opening o = classify_word(std::string_view(w, static_cast<std::size_t>(p - w)));
    return (o == opening::query || o == opening::data) && !may_change_session(sql);
}

} // namespace asiopg::detail
