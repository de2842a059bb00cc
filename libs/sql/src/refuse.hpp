// Internal: how the builder refuses what it cannot write.
#ifndef ASIOPG_SQL_SRC_REFUSE_HPP
#define ASIOPG_SQL_SRC_REFUSE_HPP

#include <asiopg/diagnostics.hpp>
#include <asiopg/error.hpp>

#include <string>

namespace asiopg::sql::detail {

// Throws error_with_diagnostics(client_errc::invalid_parameter) saying `message`.
[[noreturn]] inline void refuse(std::string message) {
    diagnostics d;
    d.message = std::move(message);
    throw error_with_diagnostics(client_errc::invalid_parameter, std::move(d));
}

} // namespace asiopg::sql::detail

#endif
