// Internal: throwing a client error with a message, for code that reports through exceptions
// (parameter encoders, COPY rows, pipeline building, format_sql).
#ifndef ASIOPG_SRC_CLIENT_ERROR_HPP
#define ASIOPG_SRC_CLIENT_ERROR_HPP

#include <asiopg/error.hpp>

#include <string>

namespace asiopg::detail {

// Throws error_with_diagnostics(code) whose diagnostics carry `message`.
[[noreturn]] void throw_client_error(client_errc code, std::string message);
[[noreturn]] inline void throw_invalid_parameter(std::string message) {
    throw_client_error(client_errc::invalid_parameter, std::move(message));
}

} // namespace asiopg::detail

#endif
