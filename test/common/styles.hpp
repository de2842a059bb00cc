// Runs one asiopg operation in each completion style and reports what came out, so a test body
// is written once and checked for callback, use_future, spawn/yield_context, co_spawn/
// use_awaitable and deferred. Every run has a deadline: a hang is a failure, not a stuck suite.
#ifndef ASIOPG_TEST_STYLES_HPP
#define ASIOPG_TEST_STYLES_HPP

#include <asiopg/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <exception>
#include <future>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace asiopg::test {

namespace asio = boost::asio;

enum class style { callback, future, yield, awaitable, deferred };
inline constexpr style all_styles[] = {style::callback, style::future, style::yield, style::awaitable,
                                       style::deferred};

inline std::ostream& operator<<(std::ostream& os, style s) {
    constexpr const char* names[] = {"callback", "use_future", "yield_context", "use_awaitable", "deferred"};
    return os << names[static_cast<int>(s)];
}

/// What an operation produced: its error code, its value, and — for styles that throw — the
/// exception's what() and diagnostics.
template <class T>
struct outcome {
    bool completed = false;      // false: the deadline passed first
    error_code ec;
    std::optional<T> value;
    bool threw = false;          // the error arrived as error_with_diagnostics
    std::string what;
    diagnostics diag;            // from the exception (styles that throw)
};

struct no_value {};

inline constexpr std::chrono::seconds default_deadline{20};

namespace detail {
template <class T>
void record_exception(outcome<T>& out, std::exception_ptr ep) {
    try {
        std::rethrow_exception(ep);
    } catch (const error_with_diagnostics& e) {
        out.ec = e.code();
        out.threw = true;
        out.what = e.what();
        out.diag = e.get_diagnostics();
    } catch (const boost::system::system_error& e) { // the wrong exception type: visible in tests
        out.ec = e.code();
        out.what = std::string("system_error, not error_with_diagnostics: ") + e.what();
    }
}

template <class T, class Launch>
auto launch_value(Launch& launch, auto&& token) {
    if constexpr (std::is_same_v<T, no_value>) {
        launch(token);
        return no_value{};
    } else {
        return launch(token);
    }
}
} // namespace detail

/// Runs `launch(token)` — which must start one operation with the given token and return what
/// the token returns — in style `s` on `ctx`, until it completes or `deadline` passes.
/// T is the operation's value type (`no_value` for `void(error_code)`).
template <class T, class Launch>
outcome<T> run(style s, asio::io_context& ctx, Launch launch,
               std::chrono::steady_clock::duration deadline = default_deadline) {
    outcome<T> out;
    auto on_complete = [&out](error_code ec, auto&&... v) {
        out.completed = true;
        out.ec = ec;
        if constexpr (sizeof...(v) == 1) out.value.emplace(std::move(v)...);
        else out.value.emplace();
    };
    auto drive = [&](auto done) {
        ctx.restart();
        auto until = std::chrono::steady_clock::now() + deadline;
        while (!done() && std::chrono::steady_clock::now() < until)
            if (ctx.run_one_until(until) == 0 && ctx.stopped()) ctx.restart();
    };
    switch (s) {
    case style::callback:
        launch(on_complete);
        drive([&] { return out.completed; });
        break;
    case style::deferred: {
        auto op = launch(asio::deferred);
        std::move(op)(on_complete);
        drive([&] { return out.completed; });
        break;
    }
    case style::future: {
        auto fut = launch(asio::use_future);
        drive([&] { return fut.wait_for(std::chrono::seconds(0)) == std::future_status::ready; });
        if (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) break;
        out.completed = true;
        try {
            if constexpr (std::is_same_v<T, no_value>) { fut.get(); out.value.emplace(); }
            else out.value.emplace(fut.get());
        } catch (...) { detail::record_exception(out, std::current_exception()); }
        break;
    }
    case style::yield: {
        asio::spawn(ctx, [&](asio::yield_context yield) {
            try {
                out.value.emplace(detail::launch_value<T>(launch, yield));
            } catch (...) { detail::record_exception(out, std::current_exception()); }
            out.completed = true;
        }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
        drive([&] { return out.completed; });
        break;
    }
    case style::awaitable: {
        asio::co_spawn(ctx, [&]() -> asio::awaitable<void> {
            try {
                if constexpr (std::is_same_v<T, no_value>) {
                    co_await launch(asio::use_awaitable);
                    out.value.emplace();
                } else {
                    out.value.emplace(co_await launch(asio::use_awaitable));
                }
            } catch (...) { detail::record_exception(out, std::current_exception()); }
            out.completed = true;
        }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
        drive([&] { return out.completed; });
        break;
    }
    }
    if (out.ec) out.value.reset();
    return out;
}

/// True for the styles whose errors arrive as exceptions.
/// Runs `ctx` until `done` becomes true or `deadline` passes; returns `done`.
inline bool run_until_done(asio::io_context& ctx, const bool& done,
                           std::chrono::steady_clock::duration deadline = default_deadline) {
    ctx.restart();
    auto until = std::chrono::steady_clock::now() + deadline;
    while (!done && std::chrono::steady_clock::now() < until)
        if (ctx.run_one_until(until) == 0 && ctx.stopped()) ctx.restart();
    return done;
}

/// Runs `ctx` until `done()` is true or `deadline` passes; returns `done()`.
template <class Predicate>
    requires std::is_invocable_r_v<bool, Predicate&>
bool run_until_done(asio::io_context& ctx, Predicate done,
                    std::chrono::steady_clock::duration deadline = default_deadline) {
    ctx.restart();
    auto until = std::chrono::steady_clock::now() + deadline;
    while (!done() && std::chrono::steady_clock::now() < until)
        if (ctx.run_one_until(until) == 0 && ctx.stopped()) ctx.restart();
    return done();
}

/// Milliseconds elapsed since `t0`.
inline long long ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

inline bool throws(style s) { return s == style::future || s == style::yield || s == style::awaitable; }

} // namespace asiopg::test

#endif
