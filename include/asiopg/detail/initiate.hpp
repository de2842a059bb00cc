#ifndef ASIOPG_DETAIL_INITIATE_HPP
#define ASIOPG_DETAIL_INITIATE_HPP

// How a completion token reaches the compiled core, and how errors become exceptions.
//
// Every operation's initiation takes `(handler, diagnostics* diag_out, args...)`; the core writes
// the failed operation's diagnostics to `*diag_out` when it is not null (and always to the
// connection's `diagnostics()`). For tokens that report errors as exceptions — use_future,
// use_awaitable, and a yield_context without `[ec]` — asiopg turns `error_code` into an
// `error_with_diagnostics` carrying the server's message:
//  * use_future / use_awaitable: the initiation is wrapped so the handler it receives owns the
//    diagnostics and completes the token's handler with `std::exception_ptr` instead of
//    `error_code` (Boost 1.81 supports `(exception_ptr[, T])` for these two tokens).
//  * yield_context: Boost 1.81 terminates on `exception_ptr` signatures under spawn, so the
//    operation runs with `yield[ec]` and the shell throws after the coroutine resumes.

#include <asiopg/cancel_after.hpp>
#include <asiopg/error.hpp>

#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>

#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

// Declared, not included: only code that uses these tokens needs their headers.
namespace boost::asio {
template <class Allocator> class use_future_t;
template <class Executor> struct use_awaitable_t;
template <class Executor> class basic_yield_context;
template <class T, class Executor> class executor_binder;
template <class T, class CancellationSlot> class cancellation_slot_binder;
template <class T, class Allocator> class allocator_binder;
} // namespace boost::asio

namespace asiopg::detail {

namespace asio = boost::asio;

template <class T> struct is_future_token : std::false_type {};
template <class A> struct is_future_token<asio::use_future_t<A>> : std::true_type {};
template <class T> struct is_awaitable_token : std::false_type {};
template <class E> struct is_awaitable_token<asio::use_awaitable_t<E>> : std::true_type {};
template <class T> struct is_yield_token : std::false_type {};
template <class E> struct is_yield_token<asio::basic_yield_context<E>> : std::true_type {};

// The binders Asio users put around a token (a strand, a cancellation slot, an allocator) do
// not change how it reports errors: look through them.
template <class T> struct unbound { using type = T; };
template <class T, class E> struct unbound<asio::executor_binder<T, E>> : unbound<T> {};
template <class T, class S> struct unbound<asio::cancellation_slot_binder<T, S>> : unbound<T> {};
template <class T, class A> struct unbound<asio::allocator_binder<T, A>> : unbound<T> {};

template <class Token>
using unbound_t = typename unbound<std::decay_t<Token>>::type;

template <class Token>
inline constexpr bool throws_diagnostics_v =
    is_future_token<unbound_t<Token>>::value || is_awaitable_token<unbound_t<Token>>::value;

template <class Sig> struct exception_signature;
template <class... Ts> struct exception_signature<void(error_code, Ts...)> {
    using type = void(std::exception_ptr, Ts...);
};

// Completes `Handler` with an exception_ptr built from the error code and the diagnostics it owns.
template <class Handler>
struct diagnostics_handler {
    Handler handler;
    std::unique_ptr<diagnostics> diag;

    template <class... Ts>
    void operator()(error_code ec, Ts&&... values) {
        std::exception_ptr ep;
        if (ec) ep = std::make_exception_ptr(error_with_diagnostics(ec, std::move(*diag)));
        diag.reset();
        std::move(handler)(ep, std::forward<Ts>(values)...);
    }
};

template <class Initiation>
struct diagnostics_initiation {
    Initiation init;

    template <class Handler, class... Args>
    void operator()(Handler&& handler, diagnostics*, Args&&... args) {
        auto diag = std::make_unique<diagnostics>();
        diagnostics* out = diag.get();
        std::move(init)(diagnostics_handler<std::decay_t<Handler>>{std::forward<Handler>(handler),
                                                                   std::move(diag)},
                        out, std::forward<Args>(args)...);
    }
};

// Internal token adapter: the operation writes its diagnostics to `*out` (for a pool's
// statement on a connection shared with others, whose get_diagnostics() may tell a neighbour's
// by the time its handler runs). `Token` must report errors as error_code.
template <class Token>
struct diagnostics_to {
    diagnostics* out;
    Token token;
};
template <class T> struct is_diagnostics_to : std::false_type {};
template <class T> struct is_diagnostics_to<diagnostics_to<T>> : std::true_type {};

/// Starts an operation of signature `Sig` (beginning with error_code) with any completion token.
template <class Sig, class Initiation, class Token, class... Args>
auto initiate(Initiation&& init, Token&& token, Args&&... args) {
    if constexpr (is_diagnostics_to<std::decay_t<Token>>::value) {
        static_assert(!throws_diagnostics_v<decltype(token.token)> && !is_yield_token<std::decay_t<decltype(token.token)>>::value);
        return asio::async_initiate<decltype(token.token), Sig>(std::forward<Initiation>(init), token.token, token.out,
                                                                std::forward<Args>(args)...);
    } else if constexpr (is_cancel_after<std::decay_t<Token>>::value) {
        // cancel_after(d, token): the timeout wraps the operation's own handler, inside any
        // conversion of errors to exceptions, so that its expiry is reported as a timeout.
        return initiate<Sig>(timeout_initiation<std::decay_t<Initiation>>{std::forward<Initiation>(init),
                                                                          token.timeout, token.type},
                             token.token, std::forward<Args>(args)...);
    } else if constexpr (throws_diagnostics_v<Token>) {
        return asio::async_initiate<Token, typename exception_signature<Sig>::type>(
            diagnostics_initiation<std::decay_t<Initiation>>{std::forward<Initiation>(init)}, token,
            static_cast<diagnostics*>(nullptr), std::forward<Args>(args)...);
    } else if constexpr (is_yield_token<std::decay_t<Token>>::value) {
        if (token.ec_ == nullptr) {
            error_code ec;
            diagnostics diag;
            auto tok = token[ec];
            if constexpr (std::is_void_v<decltype(asio::async_initiate<decltype(tok), Sig>(
                              std::forward<Initiation>(init), tok, &diag,
                              std::forward<Args>(args)...))>) {
                asio::async_initiate<decltype(tok), Sig>(std::forward<Initiation>(init), tok, &diag,
                                                         std::forward<Args>(args)...);
                if (ec) throw error_with_diagnostics(ec, std::move(diag));
            } else {
                auto value = asio::async_initiate<decltype(tok), Sig>(
                    std::forward<Initiation>(init), tok, &diag, std::forward<Args>(args)...);
                if (ec) throw error_with_diagnostics(ec, std::move(diag));
                return value;
            }
        } else {
            return asio::async_initiate<Token, Sig>(std::forward<Initiation>(init), token,
                                                     static_cast<diagnostics*>(nullptr),
                                                     std::forward<Args>(args)...);
        }
    } else {
        return asio::async_initiate<Token, Sig>(std::forward<Initiation>(init), token,
                                                 static_cast<diagnostics*>(nullptr),
                                                 std::forward<Args>(args)...);
    }
}

} // namespace asiopg::detail

// The wrapped handler keeps the executor, allocator and cancellation slot of the inner one.
template <template <class, class> class Associator, class Handler, class DefaultCandidate>
struct boost::asio::associator<Associator, asiopg::detail::diagnostics_handler<Handler>,
                               DefaultCandidate> : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type
    get(const asiopg::detail::diagnostics_handler<Handler>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.handler);
    }
    static auto get(const asiopg::detail::diagnostics_handler<Handler>& h,
                    const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
        return Associator<Handler, DefaultCandidate>::get(h.handler, c);
    }
};

#endif
