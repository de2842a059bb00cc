#ifndef ASIOPG_SQL_EXECUTE_HPP
#define ASIOPG_SQL_EXECUTE_HPP

// Running builder statements on a `connection` or a `connection_pool` (anything with
// `async_execute(std::string_view, const param_buffer&, token)`), with any completion token.

#include <asiopg/detail/initiate.hpp>
#include <asiopg/error.hpp>
#include <asiopg/result.hpp>
#include <asiopg/sql/statement.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace asiopg::sql {

namespace detail {

// A statement compiled at the call, or why it could not be.
struct prepared_call {
    std::shared_ptr<const compiled_statement> compiled;
    std::shared_ptr<const error_with_diagnostics> refused;
};

inline prepared_call prepare_call(const statement& s) {
    try {
        return {std::make_shared<const compiled_statement>(compile(s)), nullptr};
    } catch (const error_with_diagnostics& e) {
        return {nullptr, std::make_shared<const error_with_diagnostics>(e)};
    }
}

// Runs the compiled statement on `target`, completing `h` with void(error_code, result); a
// statement that could not be compiled completes `h` (posted) with its error, nothing sent.
template <class Target, class Handler>
void run_compiled(Target& target, const prepared_call& call, diagnostics* diag, Handler&& h) {
    if (call.refused) {
        if (diag) *diag = call.refused->get_diagnostics();
        boost::asio::post(target.get_executor(),
                          boost::asio::append(std::forward<Handler>(h), call.refused->code(), result{}));
        return;
    }
    const compiled_statement& c = *call.compiled;
    if (diag) {
        target.async_execute(c.text(), c.params,
                             asiopg::detail::diagnostics_to<std::decay_t<Handler>>{diag, std::forward<Handler>(h)});
    } else {
        target.async_execute(c.text(), c.params, std::forward<Handler>(h));
    }
}

template <class Target>
struct execute_initiation {
    Target* target;
    // An initiation with an executor: what cancel_after needs for its timer.
    using executor_type = typename Target::executor_type;
    executor_type get_executor() const noexcept { return target->get_executor(); }
    template <class Handler>
    void operator()(Handler&& h, diagnostics* diag, const prepared_call& call) const {
        run_compiled(*target, call, diag, std::forward<Handler>(h));
    }
};

// Completes `handler` with the first column of the first row (nullopt for no row or NULL).
template <class T, class Handler>
struct scalar_handler {
    Handler handler;
    diagnostics* diag;

    void operator()(error_code ec, result r) {
        std::optional<T> value;
        if (!ec && !r.empty() && r.columns() > 0 && !r[0][0].is_null()) {
            try {
                value = r[0][0].template as<T>();
            } catch (const error_with_diagnostics& e) {
                ec = e.code();
                if (diag) *diag = e.get_diagnostics();
            }
        }
        std::move(handler)(ec, std::move(value));
    }
};

template <class T, class Target>
struct scalar_initiation {
    Target* target;
    using executor_type = typename Target::executor_type;
    executor_type get_executor() const noexcept { return target->get_executor(); }
    template <class Handler>
    void operator()(Handler&& h, diagnostics* diag, const prepared_call& call) const {
        run_compiled(*target, call, diag, scalar_handler<T, std::decay_t<Handler>>{std::forward<Handler>(h), diag});
    }
};

} // namespace detail

/// Runs `s` on `target` (a `connection` or a `connection_pool`). Signature:
/// `void(error_code, result)`; errors as for the target's `async_execute` (the server's
/// diagnostics included). `s` is compiled before this returns, so it need not outlive the
/// call; a statement that cannot be compiled completes with `client_errc::invalid_parameter`
/// and sends nothing. Cancellation: as the target's `async_execute`.
template <class Target, class Token = boost::asio::deferred_t>
auto async_execute(Target& target, const statement& s, Token&& token = {}) {
    return asiopg::detail::initiate<void(error_code, result)>(detail::execute_initiation<Target>{&target},
                                                              std::forward<Token>(token), detail::prepare_call(s));
}

/// Runs `s` and gives the first column of its first row as `T` (aiopg.sa's `scalar`):
/// `std::nullopt` when there is no row or the value is NULL. Signature:
/// `void(error_code, std::optional<T>)`; a value that does not convert to `T` completes with
/// the conversion error (`client_errc::conversion_error`).
template <class T, class Target, class Token = boost::asio::deferred_t>
auto async_scalar(Target& target, const statement& s, Token&& token = {}) {
    return asiopg::detail::initiate<void(error_code, std::optional<T>)>(detail::scalar_initiation<T, Target>{&target},
                                                                        std::forward<Token>(token), detail::prepare_call(s));
}

} // namespace asiopg::sql

// The scalar handler keeps its inner handler's executor, allocator and cancellation slot.
template <template <class, class> class Associator, class T, class Handler, class DefaultCandidate>
struct boost::asio::associator<Associator, asiopg::sql::detail::scalar_handler<T, Handler>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type
    get(const asiopg::sql::detail::scalar_handler<T, Handler>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.handler);
    }
    static auto get(const asiopg::sql::detail::scalar_handler<T, Handler>& h, const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
        return Associator<Handler, DefaultCandidate>::get(h.handler, c);
    }
};

#endif
