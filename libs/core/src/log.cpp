// The logger hook: level names and the connection's reporting.
#include <asiopg/logger.hpp>

#include "connection_impl.hpp"

namespace asiopg {

std::string_view to_string(log_level l) noexcept {
    switch (l) {
    case log_level::trace: return "trace";
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
    case log_level::off: break;
    }
    return "off";
}

void logger::write(log_level l, std::string_view category, std::string_view message) const noexcept {
    if (!enabled(l)) return;
    try {
        sink(log_record{l, category, message});
    } catch (...) {
        // A logger must never break the operation that reports.
    }
}

namespace detail {

void connection_impl::note(log_level l, std::string_view category, std::string message) const noexcept {
    if (!log.enabled(l)) return;
    try {
        // Messages are built from libpq's and the server's text and the user's SQL: none should
        // hold the password, but a server echoing a bad conninfo or a statement setting a
        // password could. (Short passwords are left alone: they would mangle ordinary words.)
        log.write(l, category, redact(std::move(message), password));
    } catch (...) { // (redact could not allocate: the record is dropped)
    }
}

} // namespace detail
} // namespace asiopg
