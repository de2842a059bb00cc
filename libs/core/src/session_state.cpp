#include "session_state.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace asiopg::detail {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_letter(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool contains_word_ci(std::string_view text, std::string_view word) noexcept {
    auto equal_ci = [](char a, char b) { return lower(a) == b; };
    for (auto it = text.begin();;) {
        it = std::search(it, text.end(), word.begin(), word.end(), equal_ci);
        if (it == text.end()) return false;
        auto end = it + static_cast<std::ptrdiff_t>(word.size());
        bool starts = it == text.begin() || !is_letter(*(it - 1));
        bool ends = end == text.end() || !is_letter(*end);
        if (starts && ends) return true;
        ++it;
    }
}

bool contains_ci(std::string_view text, std::string_view part) noexcept {
    auto equal_ci = [](char a, char b) { return lower(a) == b; };
    return std::search(text.begin(), text.end(), part.begin(), part.end(), equal_ci) != text.end();
}

// The first keyword of one statement, lower-cased, after blanks, comments and opening
// parentheses; empty for a statement of nothing but those; "?" for anything else.
std::string_view first_keyword(std::string_view s, char (&buf)[16]) noexcept {
    std::size_t i = 0;
    for (;;) {
        while (i < s.size() && (is_space(s[i]) || s[i] == '(')) ++i;
        if (s.substr(i, 2) == "--") {
            std::size_t nl = s.find('\n', i);
            if (nl == std::string_view::npos) return {};
            i = nl + 1;
        } else if (s.substr(i, 2) == "/*") {
            std::size_t close = s.find("*/", i + 2); // nested comments: the rest then reads as "?"
            if (close == std::string_view::npos) return "?";
            i = close + 2;
        } else {
            break;
        }
    }
    if (i == s.size()) return {};
    std::size_t n = 0;
    while (i + n < s.size() && is_letter(s[i + n])) {
        if (n == sizeof buf) return "?";
        buf[n] = lower(s[i + n]);
        ++n;
    }
    return n ? std::string_view(buf, n) : std::string_view("?");
}

constexpr std::array<std::string_view, 18> clean_keywords = {
    "select", "insert", "update", "delete", "with",   "values",    "table",   "merge", "copy",  "show",
    "begin", "start",  "commit", "end",    "rollback",  "abort",   "savepoint", "release"};

// Built-in functions whose effects outlive the transaction (or are session caches).
constexpr std::array<std::string_view, 7> session_functions = {"set_config", "advisory", "nextval", "setval",
                                                               "currval",    "lastval",  "dblink"};

} // namespace

bool may_change_session(std::string_view sql) noexcept {
    for (std::string_view f : session_functions)
        if (contains_ci(sql, f)) return true;
    for (std::size_t start = 0; start <= sql.size();) {
        std::size_t semi = sql.find(';', start);
        std::string_view piece = sql.substr(start, semi == std::string_view::npos ? std::string_view::npos : semi - start);
        char buf[16];
        std::string_view kw = first_keyword(piece, buf);
        if (!kw.empty()) {
            if (std::find(clean_keywords.begin(), clean_keywords.end(), kw) == clean_keywords.end()) return true;
            // SELECT … INTO new_table (also after WITH); INSERT/MERGE INTO is plain data access.
            if ((kw == "select" || kw == "with" || kw == "values" || kw == "table") &&
                contains_word_ci(piece, "into"))
                return true;
        }
        if (semi == std::string_view::npos) break;
        start = semi + 1;
    }
    return false;
}

} // namespace asiopg::detail
