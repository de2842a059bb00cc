#ifndef ASIOPG_DETAIL_ERASE_HANDLER_HPP
#define ASIOPG_DETAIL_ERASE_HANDLER_HPP

// How a completion handler crosses into the compiled core: as an any_completion_handler.
//
// Boost 1.81's any_completion_handler answers every query of its associated executor by
// building a new any_completion_executor around the handler's own executor. When that is an
// any_io_executor (a C++20 coroutine's, a spawn's), the new one does not fit in place and is
// heap-allocated — several times per socket wait, a large part of a short query's CPU. The
// same goes for a composed operation whose handler is an any_completion_handler (its executor is
// then an any_completion_executor built around the candidate). Given the plain io_context
// executor inside either instead (the same executor, so the same behaviour), the handler
// answers with an executor that fits in place.

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/io_context.hpp>

#include <type_traits>
#include <utility>

namespace asiopg::detail {

// `Handler` with `Executor` as its associated executor; its other associations are the handler's.
template <class Handler, class Executor>
struct with_executor {
    using executor_type = Executor;
    Handler handler;
    Executor executor;

    executor_type get_executor() const noexcept { return executor; }
    template <class... Args>
    void operator()(Args&&... args) {
        std::move(handler)(std::forward<Args>(args)...);
    }
};

// The plain io_context executor an erased executor holds, or nullptr.
template <class Executor>
const boost::asio::io_context::executor_type* io_context_executor_in(const Executor& ex) noexcept {
    return ex.template target<boost::asio::io_context::executor_type>();
}

// `ex` as an any_completion_executor, holding the plain io_context executor when it has one:
// one that fits in place (see above).
inline boost::asio::any_completion_executor completion_executor_of(const boost::asio::any_io_executor& ex) {
    if (auto* io = io_context_executor_in(ex)) return boost::asio::any_completion_executor(*io);
    return boost::asio::any_completion_executor(ex);
}

template <class Sig, class Handler>
boost::asio::any_completion_handler<Sig> erase_handler(Handler&& h) {
    namespace asio = boost::asio;
    using handler_type = std::decay_t<Handler>;
    using executor = asio::associated_executor_t<handler_type>;
    if constexpr (std::is_same_v<handler_type, asio::any_completion_handler<Sig>>) {
        return std::forward<Handler>(h); // already erased
    } else if constexpr (std::is_same_v<executor, asio::any_io_executor> ||
                         std::is_same_v<executor, asio::any_completion_executor>) {
        executor ex = asio::get_associated_executor(h);
        if (auto* io = io_context_executor_in(ex)) {
            return asio::any_completion_handler<Sig>(
                with_executor<handler_type, asio::io_context::executor_type>{std::forward<Handler>(h), *io});
        }
    }
    return asio::any_completion_handler<Sig>(std::forward<Handler>(h));
}

} // namespace asiopg::detail

// The allocator and cancellation slot stay the handler's.
template <template <class, class> class Associator, class Handler, class Executor, class DefaultCandidate>
struct boost::asio::associator<Associator, asiopg::detail::with_executor<Handler, Executor>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type
    get(const asiopg::detail::with_executor<Handler, Executor>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.handler);
    }
    static auto get(const asiopg::detail::with_executor<Handler, Executor>& h, const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
        return Associator<Handler, DefaultCandidate>::get(h.handler, c);
    }
};

#endif
