// Internal: throwing a client error with a message, for code that reports through exceptions
// (parameter encoders, COPY rows, pipeline building, format_sql).
#ifndef ASIOPG_SRC_CLIENT_ERROR_HPP
#define ASIOPG_SRC_CLIENT_ERROR_HPP

#include <asiopg/error.hpp>
#include <asiopg/params.hpp>

#include <string>
#include <string_view>

namespace asiopg::detail {

// Throws error_with_diagnostics(code) whose diagnostics carry `message`.
[[noreturn]] void throw_client_error(client_errc code, std::string message);
[[noreturn]] inline void throw_invalid_parameter(std::string message) {
    throw_client_error(client_errc::invalid_parameter, std::move(message));
}

// The client-side checks of a statement before anything is sent, shared by single statements
// and pipelines: why it cannot go, or an empty string.
inline std::string unsendable_statement(std::string_view sql, std::size_t parameters) {
    if (sql.find('\0') != std::string_view::npos) return "the SQL text contains a NUL byte";
    if (parameters > max_parameters)
        return std::to_string(parameters) + " parameters; a statement takes at most " + std::to_string(max_parameters) +
               " (the protocol's limit)";
    return {};
}
// Why text parameter $`index + 1` cannot go (it holds a NUL byte).
inline std::string nul_in_text_parameter(std::size_t index) {
    return "parameter $" + std::to_string(index + 1) +
           " contains a NUL byte, which a text parameter cannot carry (send binary data as asiopg::bytes)";
}

} // namespace asiopg::detail

#endif
