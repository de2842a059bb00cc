// Internal: what a statement reports to the connection's logger (logger::echo, slow_statement,
// parameters). Costs nothing unless the logger asks for statements: then the SQL (and the
// parameters, if asked) is copied when the statement starts, and it is timed.
#ifndef ASIOPG_SRC_STATEMENT_LOG_HPP
#define ASIOPG_SRC_STATEMENT_LOG_HPP

#include "connection_impl.hpp"

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace asiopg::detail {

class statement_log {
public:
    // `what`: "statement", "prepare", "pipeline" …; `sql` and `params` are read now only.
    void start(const connection_impl& impl, std::string_view what, std::string_view sql,
               std::span<const param_ref> params);
    // The statement is over (ec: how); the connection's diagnostics tell a failure.
    void finish(const connection_impl& impl, error_code ec);
    bool active() const noexcept { return started_.has_value(); }

private:
    std::string tail() const { return text_.empty() ? std::string() : ": " + text_; }

    std::optional<std::chrono::steady_clock::time_point> started_;
    std::string what_;
    std::string text_; // the SQL, shortened, and the parameters when the logger asks for them
};

} // namespace asiopg::detail

#endif
