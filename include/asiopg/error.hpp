#ifndef ASIOPG_ERROR_HPP
#define ASIOPG_ERROR_HPP

#include <asiopg/diagnostics.hpp>
#include <asiopg/sqlstate.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <string_view>
#include <type_traits>

namespace asiopg {

using error_code = boost::system::error_code;

/// Errors raised by asiopg itself (not by the server). Category: `client_category()`.
enum class client_errc : int {
    invalid_conninfo = 1,   ///< the conninfo string or URI could not be parsed
    connect_failed,         ///< no host accepted the connection (see diagnostics for each attempt)
    timeout,                ///< the operation's deadline passed (connect timeout …)
    not_connected,          ///< the connection is not open
    connection_lost,        ///< the connection broke during the operation
    operation_in_progress,  ///< the connection is held by a stream or COPY, or busy for an operation that cannot wait
    invalid_parameter,      ///< a parameter cannot be sent (e.g. a NUL byte in a text parameter)
    send_failed,            ///< libpq refused to queue the command
    unexpected_result,      ///< the server answered in a way this operation does not handle
    conversion_error,       ///< a field cannot be converted to the requested C++ type
    unexpected_null,        ///< a NULL field was read into a non-optional type
    column_not_found,       ///< no column has the requested name
    index_out_of_range,     ///< row or column index out of range
    invalid_statement,      ///< a statement not prepared on this session, or wrong parameter count
    pool_exhausted,         ///< no pooled connection became free within the acquire timeout
    pool_closed,            ///< the connection pool is closed (or closing)
    transaction_abandoned,  ///< a transaction on this connection was abandoned: only ROLLBACK is accepted
    commit_in_doubt,        ///< the connection failed while COMMIT was in flight: the outcome is unknown
    transaction_ended,      ///< the transaction (or savepoint) was already committed, rolled back or prepared
    transaction_in_progress,///< BEGIN on a connection that is already inside a transaction block
    pipeline_aborted,       ///< skipped by the server: an earlier statement of the pipeline's sync segment failed
    result_handler_failed,  ///< a function the caller gave to receive results threw; the rest was discarded
};

/// The category of `client_errc` ("asiopg.client").
const boost::system::error_category& client_category() noexcept;
/// The category of `sqlstate` ("asiopg.sqlstate"): the value is the SQLSTATE read in base 36.
const boost::system::error_category& sqlstate_category() noexcept;

inline error_code make_error_code(client_errc e) noexcept {
    return {static_cast<int>(e), client_category()};
}
inline error_code make_error_code(sqlstate e) noexcept {
    return {static_cast<int>(e), sqlstate_category()};
}

/// The `sqlstate_category()` error code of a five-character SQLSTATE such as "23505". Any
/// well-formed code maps, known to this PostgreSQL version or not; anything else maps to
/// `sqlstate::internal_error` (XX000).
error_code make_sqlstate_error(std::string_view code) noexcept;

/// The five-character text of an error code of `sqlstate_category()` ("" for other categories).
std::string sqlstate_text(const error_code& ec);

/// Error conditions to test against, each matching a family of codes:
/// `if (ec == asiopg::condition::serialization_failure) retry();`.
enum class condition : int {
    connection_error = 1,           ///< the connection failed or broke: class 08, 57P01-57P03,
                                    ///< client connect_failed/timeout/not_connected/connection_lost
    integrity_constraint_violation, ///< class 23
    unique_violation,               ///< 23505
    foreign_key_violation,          ///< 23503
    not_null_violation,             ///< 23502
    check_violation,                ///< 23514
    transaction_rollback,           ///< class 40
    serialization_failure,          ///< 40001
    deadlock_detected,              ///< 40P01
    query_canceled,                 ///< 57014 (cancel request or statement_timeout)
    admin_shutdown,                 ///< 57P01 (pg_terminate_backend, server shutdown)
    data_exception,                 ///< class 22
    syntax_error_or_access_rule_violation, ///< class 42
    invalid_transaction_state,      ///< class 25
    insufficient_resources,         ///< class 53
    operator_intervention,          ///< class 57
};

/// The category of `condition` ("asiopg.condition").
const boost::system::error_category& condition_category() noexcept;

inline boost::system::error_condition make_error_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

/// True when the connection cannot be used any more after this error and must be reconnected:
/// connect failures (`invalid_conninfo`, `connect_failed`, `timeout`), `not_connected`,
/// `connection_lost`, server errors that end the session (class 08, 57P01-57P03, 25P03
/// idle-in-transaction timeout, 57P05 idle-session timeout), and `asio::error::operation_aborted`
/// (a cancelled or abandoned operation closes the connection).
bool is_fatal(const error_code& ec) noexcept;

/// The exception thrown when an operation fails with a token that reports errors as
/// exceptions (`asio::use_future`, `asio::use_awaitable`, a `yield_context` without `[ec]`).
/// `what()` includes the server's message; `get_diagnostics()` has every field.
class error_with_diagnostics : public boost::system::system_error {
public:
    error_with_diagnostics(const error_code& ec, diagnostics diag);
    const diagnostics& get_diagnostics() const noexcept { return diag_; }

private:
    diagnostics diag_;
};

} // namespace asiopg

namespace boost::system {
template <> struct is_error_code_enum<asiopg::client_errc> : std::true_type {};
template <> struct is_error_code_enum<asiopg::sqlstate> : std::true_type {};
template <> struct is_error_condition_enum<asiopg::condition> : std::true_type {};
} // namespace boost::system

#endif
