#ifndef ASIOPG_TRANSACTION_ASYNC_TRANSACTION_HPP
#define ASIOPG_TRANSACTION_ASYNC_TRANSACTION_HPP

// Scoped transactions and savepoints: BEGIN (or SAVEPOINT), run the user's asynchronous body,
// COMMIT (RELEASE) if it succeeded, ROLLBACK (ROLLBACK TO) if it failed or threw — and report
// the body's own error, never one from the rollback. A transaction scope may retry the whole
// body on serialization failures and deadlocks (transaction_options::max_attempts).
//
// Three kinds of body, each with the token of its style:
//  * awaitable:  `asio::awaitable<R> body(transaction&)`, with `asio::use_awaitable`
//                → `co_await async_transaction(conn, opts, body, asio::use_awaitable)` gives R;
//                a failure is an exception (thrown by the body, or error_with_diagnostics).
//  * stackful:   `R body(transaction&, asio::yield_context)`, with the coroutine's yield_context
//                → returns R; failures as exceptions (with `yield[ec]`, those of BEGIN/COMMIT
//                set `ec` instead; the body's own exceptions always propagate).
//  * callback:   `void body(transaction&, asio::any_completion_handler<void(error_code)> done)`,
//                with any completion token → `void(error_code)`; the body reports failure with
//                `done(ec)`. An exception thrown by the body: a boost::system::system_error
//                (error_with_diagnostics) is reported as the completion's error, like done(ec);
//                any other is rethrown, after the rollback, from the completion (it leaves
//                io_context::run() like any handler exception). Cancellation of the token is
//                not forwarded to the body: give the body its own slot.
// The transaction object lives until the body completes; the body must not end it itself.

#include <asiopg/connection.hpp>
#include <asiopg/detail/initiate.hpp>
#include <asiopg/transaction/transaction.hpp>
#include <asiopg/transaction/transaction_options.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <concepts>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace asiopg {

namespace detail {

namespace asio = boost::asio;

template <class T> struct is_awaitable : std::false_type {};
template <class T, class E> struct is_awaitable<asio::awaitable<T, E>> : std::true_type {};
template <class T> struct awaitable_value;
template <class T, class E> struct awaitable_value<asio::awaitable<T, E>> { using type = T; };

// The compiled algorithms, over type-erased bodies.
using scope_body = std::function<asio::awaitable<void>(transaction&)>;
using savepoint_body = std::function<asio::awaitable<void>(savepoint&)>;
asio::awaitable<void> run_transaction(connection& conn, transaction_options options, scope_body body);
asio::awaitable<void> run_savepoint(transaction* tx, savepoint* parent, savepoint_body body);
// Retry bookkeeping, shared by the compiled coroutine and the stackful version: whether attempt
// `attempt`, which failed with `ec`, is run again, and the wait before it.
bool should_retry(const transaction_options& o, unsigned attempt, const error_code& ec) noexcept;
std::chrono::milliseconds retry_delay(const transaction_options& o, unsigned attempt) noexcept;

// An awaitable body: its value kept aside, so the compiled algorithm sees awaitable<void>.
template <class Scope, class Body, class R>
auto erase_awaitable(Body& body, std::optional<R>& out) {
    return [&body, &out](Scope& s) -> asio::awaitable<void> {
        if constexpr (std::is_void_v<R>) co_await body(s);
        else out.emplace(co_await body(s));
    };
}

// A callback body seen as an awaitable one: `done(ec)` with an error throws it. The body runs
// inside the initiation, where an exception would escape the coroutine: it is caught there and
// rethrown inside the coroutine, so that the scope rolls back first.
template <class Scope, class Body>
auto callback_as_awaitable(Body body) {
    return [body = std::move(body)](Scope& s) mutable -> asio::awaitable<void> {
        auto token = asio::as_tuple(asio::use_awaitable);
        std::exception_ptr thrown;
        auto [ec] = co_await asio::async_initiate<decltype(token), void(error_code)>(
            [&](auto handler) {
                using handler_type = decltype(handler);
                auto ex = asio::get_associated_executor(handler);
                auto pending = std::make_shared<std::optional<handler_type>>(std::move(handler));
                auto resume = [pending](error_code e) {
                    if (!*pending) return; // `done` called twice, or after the body threw
                    handler_type h = std::move(**pending);
                    pending->reset();
                    std::move(h)(e);
                };
                try {
                    body(s, asio::any_completion_handler<void(error_code)>(asio::bind_executor(ex, resume)));
                } catch (...) {
                    thrown = std::current_exception();
                    resume(error_code(asio::error::operation_aborted));
                }
            },
            token);
        if (thrown) std::rethrow_exception(thrown);
        if (ec) throw error_with_diagnostics(ec, s.get_connection().get_diagnostics());
    };
}

// Runs `coroutine` and completes `token` with `void(error_code)`: an error_with_diagnostics (or
// system_error) becomes its code and diagnostics; any other exception is rethrown.
template <class Token, class MakeCoroutine>
auto complete_with_error_code(connection& conn, MakeCoroutine make, Token&& token) {
    return detail::initiate<void(error_code)>(
        [&conn, make = std::move(make)](auto handler, diagnostics* diag) mutable {
            auto ex = asio::get_associated_executor(handler, conn.get_executor());
            asio::co_spawn(conn.get_executor(), make(),
                           [handler = std::move(handler), diag, ex](std::exception_ptr e) mutable {
                               error_code ec;
                               if (e) {
                                   try {
                                       std::rethrow_exception(e);
                                   } catch (const error_with_diagnostics& x) {
                                       ec = x.code();
                                       if (diag) *diag = x.get_diagnostics();
                                   } catch (const boost::system::system_error& x) {
                                       ec = x.code();
                                   }
                               }
                               asio::dispatch(ex, [handler = std::move(handler), ec]() mutable {
                                   std::move(handler)(ec);
                               });
                           });
        },
        std::forward<Token>(token));
}

} // namespace detail

/// Awaitable body (see the file comment): `co_await async_transaction(conn, opts, body,
/// asio::use_awaitable)`. Returns what the body returns.
template <class Body, class Executor>
    requires std::invocable<Body&, transaction&> &&
             detail::is_awaitable<std::invoke_result_t<Body&, transaction&>>::value
auto async_transaction(connection& conn, transaction_options options, Body body,
                       boost::asio::use_awaitable_t<Executor>)
    -> boost::asio::awaitable<typename detail::awaitable_value<std::invoke_result_t<Body&, transaction&>>::type> {
    using R = typename detail::awaitable_value<std::invoke_result_t<Body&, transaction&>>::type;
    if constexpr (std::is_void_v<R>) {
        co_await detail::run_transaction(conn, options, [&body](transaction& tx) -> boost::asio::awaitable<void> {
            co_await body(tx);
        });
    } else {
        std::optional<R> value;
        co_await detail::run_transaction(conn, options, detail::erase_awaitable<transaction, Body, R>(body, value));
        co_return std::move(*value);
    }
}

/// Callback body (see the file comment), any completion token; signature `void(error_code)`.
template <class Body, class Token = boost::asio::deferred_t>
    requires std::invocable<Body&, transaction&, boost::asio::any_completion_handler<void(error_code)>>
auto async_transaction(connection& conn, transaction_options options, Body body, Token&& token = {}) {
    return detail::complete_with_error_code(
        conn,
        [&conn, options, body = std::move(body)]() mutable {
            return detail::run_transaction(conn, options, detail::callback_as_awaitable<transaction>(std::move(body)));
        },
        std::forward<Token>(token));
}

/// Stackful body (see the file comment): runs inside the calling coroutine.
// (A callback body is excluded: any_completion_handler converts from anything, a yield_context too.)
template <class Body, class Executor>
    requires std::invocable<Body&, transaction&, boost::asio::basic_yield_context<Executor>> &&
             (!std::invocable<Body&, transaction&, boost::asio::any_completion_handler<void(error_code)>>)
auto async_transaction(connection& conn, transaction_options options, Body body,
                       boost::asio::basic_yield_context<Executor> yield)
    -> std::invoke_result_t<Body&, transaction&, boost::asio::basic_yield_context<Executor>> {
    using R = std::invoke_result_t<Body&, transaction&, boost::asio::basic_yield_context<Executor>>;
    error_code* user_ec = yield.ec_;
    auto plain = yield;
    plain.ec_ = nullptr;
    // BEGIN / COMMIT failures: into `ec` when the caller asked for it, else thrown.
    auto report = [&](error_code ec, const diagnostics& d) -> R {
        if (!user_ec) throw error_with_diagnostics(ec, d);
        *user_ec = ec;
        if constexpr (!std::is_void_v<R>) return R{};
    };
    for (unsigned attempt = 1;; ++attempt) {
        error_code ec;
        diagnostics diag;
        transaction tx = transaction::async_begin(conn, options, plain[ec]);
        if (ec) return report(ec, conn.get_diagnostics());
        std::exception_ptr failure;
        error_code failure_ec;
        std::optional<std::conditional_t<std::is_void_v<R>, int, R>> value;
        try {
            if constexpr (std::is_void_v<R>) body(tx, plain);
            else value.emplace(body(tx, plain));
        } catch (const boost::system::system_error& e) {
            failure = std::current_exception();
            failure_ec = e.code();
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure) {
            error_code ignored;
            const bool was_active = tx.active(); // else the body ended it: never retried
            if (was_active) tx.async_rollback(plain[ignored]);
            if (was_active && detail::should_retry(options, attempt, failure_ec)) {
                boost::asio::steady_timer t(conn.get_executor(), detail::retry_delay(options, attempt));
                t.async_wait(plain[ignored]);
                continue;
            }
            std::rethrow_exception(failure);
        }
        if (tx.active()) {
            tx.async_commit(plain[ec]);
            if (ec && detail::should_retry(options, attempt, ec)) {
                error_code ignored;
                boost::asio::steady_timer t(conn.get_executor(), detail::retry_delay(options, attempt));
                t.async_wait(plain[ignored]);
                continue;
            }
            if (ec) return report(ec, conn.get_diagnostics());
        }
        if (user_ec) *user_ec = {};
        if constexpr (!std::is_void_v<R>) return std::move(*value);
        else return;
    }
}

/// A savepoint scope inside `tx` (or inside savepoint `parent` with the overloads taking
/// `savepoint&`): SAVEPOINT, the body, then RELEASE on success or ROLLBACK TO on failure —
/// the outer transaction stays usable either way — and the body's outcome is reported. The
/// same three kinds of body as async_transaction, taking `savepoint&`. Never retried.
template <class Parent, class Body, class Executor>
    requires(std::is_same_v<Parent, transaction> || std::is_same_v<Parent, savepoint>) &&
            std::invocable<Body&, savepoint&> && detail::is_awaitable<std::invoke_result_t<Body&, savepoint&>>::value
auto async_savepoint(Parent& parent, Body body, boost::asio::use_awaitable_t<Executor>)
    -> boost::asio::awaitable<typename detail::awaitable_value<std::invoke_result_t<Body&, savepoint&>>::type> {
    using R = typename detail::awaitable_value<std::invoke_result_t<Body&, savepoint&>>::type;
    transaction* tx = nullptr;
    savepoint* sp = nullptr;
    if constexpr (std::is_same_v<Parent, transaction>) tx = &parent;
    else sp = &parent;
    if constexpr (std::is_void_v<R>) {
        co_await detail::run_savepoint(tx, sp, [&body](savepoint& s) -> boost::asio::awaitable<void> {
            co_await body(s);
        });
    } else {
        std::optional<R> value;
        co_await detail::run_savepoint(tx, sp, detail::erase_awaitable<savepoint, Body, R>(body, value));
        co_return std::move(*value);
    }
}

/// Callback body, any completion token; signature `void(error_code)`.
template <class Parent, class Body, class Token = boost::asio::deferred_t>
    requires(std::is_same_v<Parent, transaction> || std::is_same_v<Parent, savepoint>) &&
            std::invocable<Body&, savepoint&, boost::asio::any_completion_handler<void(error_code)>>
auto async_savepoint(Parent& parent, Body body, Token&& token = {}) {
    connection& conn = parent.get_connection();
    return detail::complete_with_error_code(
        conn,
        [&parent, body = std::move(body)]() mutable {
            transaction* tx = nullptr;
            savepoint* sp = nullptr;
            if constexpr (std::is_same_v<Parent, transaction>) tx = &parent;
            else sp = &parent;
            return detail::run_savepoint(tx, sp, detail::callback_as_awaitable<savepoint>(std::move(body)));
        },
        std::forward<Token>(token));
}

/// Stackful body: runs inside the calling coroutine.
template <class Parent, class Body, class Executor>
    requires(std::is_same_v<Parent, transaction> || std::is_same_v<Parent, savepoint>) &&
            std::invocable<Body&, savepoint&, boost::asio::basic_yield_context<Executor>> &&
            (!std::invocable<Body&, savepoint&, boost::asio::any_completion_handler<void(error_code)>>)
auto async_savepoint(Parent& parent, Body body, boost::asio::basic_yield_context<Executor> yield)
    -> std::invoke_result_t<Body&, savepoint&, boost::asio::basic_yield_context<Executor>> {
    using R = std::invoke_result_t<Body&, savepoint&, boost::asio::basic_yield_context<Executor>>;
    error_code* user_ec = yield.ec_;
    auto plain = yield;
    plain.ec_ = nullptr;
    error_code ec;
    savepoint sp = parent.async_savepoint(plain[ec]);
    if (ec) {
        if (!user_ec) throw error_with_diagnostics(ec, parent.get_connection().get_diagnostics());
        *user_ec = ec;
        if constexpr (!std::is_void_v<R>) return R{};
        else return;
    }
    std::optional<std::conditional_t<std::is_void_v<R>, int, R>> value;
    try {
        if constexpr (std::is_void_v<R>) body(sp, plain);
        else value.emplace(body(sp, plain));
    } catch (...) {
        std::exception_ptr failure = std::current_exception();
        error_code ignored;
        if (sp.active()) sp.async_rollback(plain[ignored]);
        std::rethrow_exception(failure);
    }
    if (sp.active()) {
        sp.async_release(plain[ec]);
        if (ec) { // the body swallowed a failed statement: undo the savepoint, keep the outer usable
            diagnostics d = parent.get_connection().get_diagnostics();
            error_code ignored;
            if (sp.active()) sp.async_rollback(plain[ignored]);
            if (!user_ec) throw error_with_diagnostics(ec, std::move(d));
            *user_ec = ec;
        }
    }
    if constexpr (!std::is_void_v<R>) return std::move(*value);
}

} // namespace asiopg

#endif
