#ifndef ASIOPG_LOGGER_HPP
#define ASIOPG_LOGGER_HPP

#include <chrono>
#include <functional>
#include <string_view>

namespace asiopg {

/// Severity of a log record, least severe first.
enum class log_level : unsigned char { trace, debug, info, warning, error, off };

/// The name of a level ("trace" … "error", "off").
std::string_view to_string(log_level l) noexcept;

/// One log record. The views are valid only during the sink's call.
struct log_record {
    log_level level;
    /// What it is about: "connection" (connects, closes, cancels, timeouts), "statement" (echo
    /// and slow statements) or "pool" (grow, shrink, discard, exhausted, connect failures).
    std::string_view category;
    /// One line of text. Never holds the connection's password nor a conninfo string;
    /// parameter values only when `logger::parameters` is set. Text from the server (error
    /// messages) is quoted as it came: treat it as untrusted.
    std::string_view message;
};

/// Where asiopg reports what it does. The default logger is silent: nothing is formatted
/// unless `sink` is set and a record reaches `level`.
///
/// Set it in `connect_params::log` (a pool's connections get `pool_params::connect.log`, and
/// the pool writes its own events there too) or with `connection::set_logger`. The sink is
/// called on the thread running the operation, never under a lock of asiopg's; a pool or
/// connections used from several threads call it concurrently. An exception thrown by the sink
/// is swallowed. `boost_log_logger()` (<asiopg/boost_log.hpp>) routes records to Boost.Log.
struct logger {
    using sink_type = std::function<void(const log_record&)>;

    /// Records below this level are dropped.
    log_level level = log_level::info;
    /// Receives the records; empty: asiopg is silent.
    sink_type sink;
    /// Every statement with its duration, at `info` (aiopg's `echo`); a failed one at `warning`
    /// with its SQLSTATE and message.
    bool echo = false;
    /// Above zero: statements that take at least this long are logged at `warning`, with or
    /// without `echo`.
    std::chrono::milliseconds slow_statement{0};
    /// Statement records list the parameter values. Off by default: they may be secrets.
    bool parameters = false;

    /// Whether a record of level `l` would reach the sink.
    bool enabled(log_level l) const noexcept { return sink && l != log_level::off && l >= level; }
    /// Passes a record to the sink if `l` is enabled; an exception from the sink is swallowed.
    void write(log_level l, std::string_view category, std::string_view message) const noexcept;
};

} // namespace asiopg

#endif
