// The scoped helpers' algorithms, compiled once over type-erased bodies (async_transaction.hpp
// adapts awaitable and callback bodies to them; the stackful helpers have their own loop).
#include <asiopg/transaction/async_transaction.hpp>

#include <boost/asio/this_coro.hpp>

namespace asiopg::detail {

namespace {
namespace asio = boost::asio;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(tuple_awaitable);
}
} // namespace

bool should_retry(const transaction_options& o, unsigned attempt, const error_code& ec) noexcept {
    return attempt < o.max_attempts && is_retryable(ec);
}

std::chrono::milliseconds retry_delay(const transaction_options& o, unsigned attempt) noexcept {
    std::chrono::milliseconds d = o.retry_delay;
    for (unsigned i = 1; i < attempt && d < o.max_retry_delay; ++i) d *= 2;
    return std::min(d, std::max(o.max_retry_delay, o.retry_delay));
}

asio::awaitable<void> run_transaction(connection& conn, transaction_options options, scope_body body) {
    for (unsigned attempt = 1;; ++attempt) {
        transaction tx = co_await transaction::async_begin(conn, options, asio::use_awaitable);
        std::exception_ptr failure;
        error_code failure_ec;
        try {
            co_await body(tx);
        } catch (const boost::system::system_error& e) {
            failure = std::current_exception();
            failure_ec = e.code();
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure) {
            // The body's error is the one reported: the rollback's own outcome is ignored (on a
            // dead connection it fails too, and the server rolls back anyway). Retried only if
            // this attempt's work was rolled back (not if the body had ended it itself).
            const bool was_active = tx.active();
            if (was_active) co_await tx.async_rollback(tuple_awaitable);
            if (was_active && should_retry(options, attempt, failure_ec)) {
                co_await sleep_for(retry_delay(options, attempt));
                continue;
            }
            std::rethrow_exception(failure);
        }
        if (!tx.active()) co_return; // the body ended it itself
        auto [ec] = co_await tx.async_commit(tuple_awaitable);
        if (!ec) co_return;
        if (should_retry(options, attempt, ec)) {
            co_await sleep_for(retry_delay(options, attempt));
            continue;
        }
        diagnostics d = conn.get_diagnostics();
        if (ec == client_errc::commit_in_doubt) d.message = "COMMIT outcome unknown: " + d.message;
        throw error_with_diagnostics(ec, std::move(d));
    }
}

asio::awaitable<void> run_savepoint(transaction* tx, savepoint* parent, savepoint_body body) {
    // (Not `tx ? co_await … : co_await …`: GCC 12 destroys the result of a co_await in a
    // conditional expression twice.)
    savepoint sp;
    if (tx) sp = co_await tx->async_savepoint(asio::use_awaitable);
    else sp = co_await parent->async_savepoint(asio::use_awaitable);
    std::exception_ptr failure;
    try {
        co_await body(sp);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        if (sp.active()) co_await sp.async_rollback(tuple_awaitable);
        std::rethrow_exception(failure);
    }
    if (!sp.active()) co_return;
    auto [ec] = co_await sp.async_release(tuple_awaitable);
    if (!ec) co_return;
    // RELEASE failed (the body swallowed a failed statement: 25P02): undo the savepoint's work so
    // that the outer transaction stays usable, and report the failure.
    diagnostics d = sp.get_connection().get_diagnostics();
    if (sp.active()) co_await sp.async_rollback(tuple_awaitable);
    throw error_with_diagnostics(ec, std::move(d));
}

} // namespace asiopg::detail
