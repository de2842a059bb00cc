#ifndef ASIOPG_TRANSACTION_TRANSACTION_OPTIONS_HPP
#define ASIOPG_TRANSACTION_TRANSACTION_OPTIONS_HPP

#include <asiopg/error.hpp>

#include <chrono>
#include <string>

namespace asiopg {

/// SQL isolation levels. `server_default` says nothing in BEGIN: the session's
/// `default_transaction_isolation` applies (read committed unless configured).
enum class isolation_level { server_default, read_committed, repeatable_read, serializable };

/// How a transaction begins, and whether a scoped transaction is retried.
struct transaction_options {
    isolation_level isolation = isolation_level::server_default;
    bool read_only = false;
    /// Only meaningful for serializable read-only transactions (PostgreSQL ignores it otherwise).
    bool deferrable = false;

    /// Scoped helpers (`async_transaction`) only: how many times the whole body may run when
    /// the transaction fails with a serialization failure (40001) or a deadlock (40P01) — in
    /// the body or at COMMIT. 1 (the default) never retries. The body must be re-runnable:
    /// everything it did in the database is rolled back before the next attempt, but its
    /// effects outside the database are not.
    unsigned max_attempts = 1;
    /// Wait before the second attempt; doubled for each further one, up to `max_retry_delay`.
    std::chrono::milliseconds retry_delay{10};
    std::chrono::milliseconds max_retry_delay{1000};
};

/// The statement that begins a transaction with `o`: exactly
/// `BEGIN [ISOLATION LEVEL …] [READ ONLY] [DEFERRABLE]`.
std::string begin_statement(const transaction_options& o);

/// True for the errors a scoped transaction retries: serialization failure and deadlock.
bool is_retryable(const error_code& ec) noexcept;

} // namespace asiopg

#endif
