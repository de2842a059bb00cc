// Keeping passwords out of messages (fuzzed: test/fuzz).
#include "redact.hpp"

#include <algorithm>

namespace asiopg::detail {

std::string redact(std::string text, const std::string& secret, bool always) {
    if (secret.empty() || (secret.size() < 4 && !always)) return text;
    // The mask beside what surrounds it can spell the secret anew ("x***" in "xx***"): passes
    // until none is left. Each replacement of a secret of 4+ characters shortens the text, so
    // the passes end; a shorter secret (always) gets one pass.
    for (bool again = true; again;) {
        again = false;
        for (std::size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3)) {
            text.replace(pos, secret.size(), "***");
            again = secret.size() > 3;
        }
    }
    return text;
}

namespace {

constexpr std::string_view blanks = " \t\n\r\f\v";

// A keyword/value `password=…` (also as a URI query parameter): the keyword at the start or
// after a blank, '?' or '&', then '=', then the value (quoted or not).
std::string keyword_password(std::string_view s) {
    for (std::size_t p = s.find("password"); p != std::string_view::npos; p = s.find("password", p + 1)) {
        if (p > 0 && blanks.find(s[p - 1]) == std::string_view::npos && s[p - 1] != '?' && s[p - 1] != '&')
            continue;
        std::size_t eq = s.find_first_not_of(blanks, p + 8);
        if (eq == std::string_view::npos || s[eq] != '=') continue;
        if (p > 0 && (s[p - 1] == '?' || s[p - 1] == '&')) { // a URI's query parameter: up to '&'
            std::size_t e = s.find('&', eq + 1);
            return std::string(s.substr(eq + 1, e == std::string_view::npos ? e : e - eq - 1));
        }
        std::size_t b = s.find_first_not_of(blanks, eq + 1);
        if (b == std::string_view::npos) return {};
        if (s[b] == '\'') { // 'quoted', \' and \\ escaped: kept as written, as messages quote it
            std::size_t i = b + 1;
            while (i < s.size() && s[i] != '\'') i += s[i] == '\\' && i + 1 < s.size() ? 2 : 1;
            return std::string(s.substr(b + 1, std::min(i, s.size()) - b - 1));
        }
        std::size_t e = s.find_first_of(" \t\n\r\f\v&", b);
        return std::string(s.substr(b, e == std::string_view::npos ? e : e - b));
    }
    return {};
}

// postgresql://user:password@host…: the part between the first ':' and the last '@' of the
// authority (which ends at the first '/' or '?' after the scheme).
std::string uri_password(std::string_view s) {
    std::size_t scheme = s.find("://");
    if (scheme == std::string_view::npos) return {};
    std::string_view authority = s.substr(scheme + 3);
    authority = authority.substr(0, authority.find_first_of("/?"));
    std::size_t at = authority.rfind('@');
    if (at == std::string_view::npos) return {};
    std::size_t colon = authority.find(':');
    if (colon == std::string_view::npos || colon > at) return {};
    return std::string(authority.substr(colon + 1, at - colon - 1));
}

} // namespace

std::string guess_password(std::string_view conninfo) {
    std::string from_uri = uri_password(conninfo);
    return from_uri.empty() ? keyword_password(conninfo) : from_uri;
}

} // namespace asiopg::detail
