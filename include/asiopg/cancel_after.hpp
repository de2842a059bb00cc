#ifndef ASIOPG_CANCEL_AFTER_HPP
#define ASIOPG_CANCEL_AFTER_HPP

// Per-operation timeouts without timer code (Boost 1.81 has no asio::cancel_after):
//
//     co_await conn.async_execute(sql, asiopg::cancel_after(100ms, asio::use_awaitable));
//
// wraps any completion token for an asiopg operation. When the time is up before the operation
// completes, the operation is cancelled — with partial cancellation by default: a query is
// cancelled on the server (a cancel request), drained, and the connection stays usable — and
// completes with `client_errc::timeout` instead of the cancellation's own error. A server-side
// `statement_timeout` still reports itself (`sqlstate::query_canceled`, "canceling statement due
// to statement timeout"): only this timer's expiry is reported as `client_errc::timeout`.
// Cancellation from the token's own slot (bind_cancellation_slot, awaitable operators) keeps
// working alongside. For asiopg's operations only (connection, pool); not a general Asio adapter.

#include <asiopg/error.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <type_traits>
#include <utility>

namespace asiopg {

/// A completion token: `token`, with the operation cancelled (`type`) after `timeout`.
template <class Token>
struct cancel_after_t {
    std::chrono::steady_clock::duration timeout;
    Token token;
    boost::asio::cancellation_type type = boost::asio::cancellation_type::partial;
};

/// Wraps `token`: the operation is cancelled with `type` (default: partial — cancel the query on
/// the server, keep the connection) when `timeout` passes first, and then completes with
/// `client_errc::timeout`. Terminal cancellation closes the connection instead.
template <class Rep, class Period, class Token>
cancel_after_t<std::decay_t<Token>> cancel_after(std::chrono::duration<Rep, Period> timeout, Token&& token,
                                                 boost::asio::cancellation_type type =
                                                     boost::asio::cancellation_type::partial) {
    return {std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout), std::forward<Token>(token), type};
}

namespace detail {

template <class T> struct is_cancel_after : std::false_type {};
template <class T> struct is_cancel_after<cancel_after_t<T>> : std::true_type {};

// The timer, the signal the operation listens to, and whether the timer fired.
struct timeout_state {
    explicit timeout_state(const boost::asio::any_io_executor& ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    boost::asio::cancellation_signal signal;
    bool fired = false;
};

// The operation's handler: its cancellation slot is the timeout's signal (fed by the timer and
// by the caller's own slot); on completion, the timeout's cancellation becomes client_errc::timeout.
template <class Handler>
struct timeout_handler {
    Handler handler;
    std::shared_ptr<timeout_state> state;

    using cancellation_slot_type = boost::asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept { return state->signal.slot(); }

    template <class... Ts>
    void operator()(error_code ec, Ts&&... values) {
        state->timer.cancel();
        auto outer = boost::asio::get_associated_cancellation_slot(handler);
        if (outer.is_connected()) outer.clear();
        if (state->fired && (ec == boost::asio::error::operation_aborted || ec == sqlstate::query_canceled))
            ec = client_errc::timeout;
        std::move(handler)(ec, std::forward<Ts>(values)...);
    }
};

// Starts the timer, links the caller's slot, and starts the operation with timeout_handler.
template <class Initiation>
struct timeout_initiation {
    Initiation init;
    std::chrono::steady_clock::duration timeout;
    boost::asio::cancellation_type type;

    using executor_type = typename Initiation::executor_type;
    executor_type get_executor() const noexcept { return init.get_executor(); }

    template <class Handler, class... Args>
    void operator()(Handler&& h, Args&&... args) {
        auto state = std::make_shared<timeout_state>(init.get_executor());
        auto outer = boost::asio::get_associated_cancellation_slot(h);
        if (outer.is_connected()) {
            outer.template emplace<forward_cancellation>(std::weak_ptr<timeout_state>(state));
        }
        state->timer.expires_after(timeout);
        // The expiry emits the cancellation where the operation's own steps run: on the
        // handler's executor (as asio::cancel_after does), never beside them on another thread.
        state->timer.async_wait(boost::asio::bind_executor(
            boost::asio::get_associated_executor(h, init.get_executor()),
            [weak = std::weak_ptr<timeout_state>(state), type = type](error_code ec) {
                auto s = weak.lock();
                if (ec || !s) return;
                s->fired = true;
                s->signal.emit(type);
            }));
        std::move(init)(timeout_handler<std::decay_t<Handler>>{std::forward<Handler>(h), std::move(state)},
                        std::forward<Args>(args)...);
    }

    struct forward_cancellation {
        std::weak_ptr<timeout_state> state;
        void operator()(boost::asio::cancellation_type t) const {
            if (auto s = state.lock()) s->signal.emit(t);
        }
    };
};

} // namespace detail
} // namespace asiopg

// timeout_handler keeps the executor and allocator of the handler it wraps (not its
// cancellation slot: that one feeds the timeout's signal).
template <template <class, class> class Associator, class Handler, class DefaultCandidate>
struct boost::asio::associator<Associator, asiopg::detail::timeout_handler<Handler>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type
    get(const asiopg::detail::timeout_handler<Handler>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.handler);
    }
    static auto get(const asiopg::detail::timeout_handler<Handler>& h, const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
        return Associator<Handler, DefaultCandidate>::get(h.handler, c);
    }
};

#endif
