// Quoting without a connection: what PQescapeIdentifier and PQescapeLiteral write for a UTF-8
// client encoding, with the same refusals (a NUL byte, text that is not UTF-8).
#include <asiopg/sql/quote.hpp>

#include "refuse.hpp"

#include <cstddef>

namespace asiopg::sql {
namespace {

using detail::refuse;

// Length of the UTF-8 sequence at s[i], or 0 when it is not one (overlong forms, surrogates
// and code points above U+10FFFF included, as PostgreSQL refuses them).
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    if (c < 0x80) return 1;
    std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
    unsigned char c1 = byte(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0; // overlong
    if (c == 0xED && c1 >= 0xA0) return 0; // surrogate
    if (c == 0xF0 && c1 < 0x90) return 0; // overlong
    if (c == 0xF4 && c1 >= 0x90) return 0; // above U+10FFFF
    return n;
}

void check_text(std::string_view s, const char* what) {
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] == '\0') refuse(std::string(what) + " holds a NUL byte: PostgreSQL text cannot");
        std::size_t n = utf8_sequence(s, i);
        if (n == 0) refuse(std::string(what) + " is not valid UTF-8 (byte " + std::to_string(i) + ")");
        i += n;
    }
}

std::string quoted(std::string_view s, char quote) {
    std::string out;
    out.reserve(s.size() + 2);
    out += quote;
    for (char c : s) {
        if (c == quote) out += quote;
        out += c;
    }
    out += quote;
    return out;
}

} // namespace

std::string quote_identifier(std::string_view name) {
    if (name.empty()) refuse("an identifier cannot be empty: PostgreSQL has no empty names");
    check_text(name, "the identifier");
    return quoted(name, '"');
}

std::string quote_literal(std::string_view text) {
    check_text(text, "the text");
    if (text.find('\\') == std::string_view::npos) return quoted(text, '\'');
    std::string out = " E'";
    for (char c : text) {
        if (c == '\'' || c == '\\') out += c;
        out += c;
    }
    out += '\'';
    return out;
}

} // namespace asiopg::sql
