// Keeping passwords out of messages (fuzzed: test/fuzz).
#include "redact.hpp"

namespace asiopg::detail {

std::string redact(std::string text, const std::string& secret, bool always) {
    if (secret.empty() || (secret.size() < 4 && !always)) return text;
    for (std::size_t pos = text.find(secret); pos != std::string::npos;
         pos = text.find(secret, pos + 3))
        text.replace(pos, secret.size(), "***");
    return text;
}

std::string guess_password(std::string_view conninfo) {
    std::size_t p = conninfo.find("password");
    if (p != std::string_view::npos) {
        std::size_t eq = conninfo.find('=', p);
        if (eq != std::string_view::npos) {
            std::size_t b = conninfo.find_first_not_of(" '", eq + 1);
            std::size_t e = b == std::string_view::npos ? b : conninfo.find_first_of(" '&", b);
            if (b != std::string_view::npos) return std::string(conninfo.substr(b, e - b));
        }
    }
    std::size_t scheme = conninfo.find("://");
    std::size_t at = conninfo.find('@');
    if (scheme != std::string_view::npos && at != std::string_view::npos && at > scheme) {
        std::size_t colon = conninfo.find(':', scheme + 3);
        if (colon != std::string_view::npos && colon < at)
            return std::string(conninfo.substr(colon + 1, at - colon - 1));
    }
    return {};
}

} // namespace asiopg::detail
