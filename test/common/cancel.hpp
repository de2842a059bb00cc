// Cancellation helpers for integration tests: a signal emitted after a delay, and a token with
// a cancellation slot bound.
#ifndef ASIOPG_TEST_CANCEL_HPP
#define ASIOPG_TEST_CANCEL_HPP

#include "styles.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <type_traits>
#include <utility>

namespace asiopg::test {

// Emits `type` on `sig` after `after`, on `ctx`.
struct delayed_cancel {
    asio::steady_timer timer;
    asio::cancellation_signal sig;
    delayed_cancel(asio::io_context& ctx, std::chrono::milliseconds after,
                   asio::cancellation_type type = asio::cancellation_type::partial)
        : timer(ctx, after) {
        timer.async_wait([this, type](error_code ec) {
            if (!ec) sig.emit(type);
        });
    }
};

// `tok` with `slot` bound — except asio::deferred, which Boost 1.81 cannot bind a slot to (the
// deferred style is not run with these; run<> still instantiates it).
template <class Token>
decltype(auto) with_slot(asio::cancellation_slot slot, Token&& tok) {
    if constexpr (std::is_same_v<std::decay_t<Token>, asio::deferred_t>) return std::forward<Token>(tok);
    else return asio::bind_cancellation_slot(slot, std::forward<Token>(tok));
}

} // namespace asiopg::test

#endif
