// Helpers for pool tests: parameters for the test server, and running a context until a
// condition holds (bounded).
#ifndef ASIOPG_TEST_POOL_HPP
#define ASIOPG_TEST_POOL_HPP

#include <asiopg/pool.hpp>

#include "server.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>

namespace asiopg::test {

/// A pool of min_size..max_size connections to the test server (TCP), 10 s acquire timeout.
inline pool_params pool_params_for(std::size_t min_size, std::size_t max_size) {
    pool_params p;
    p.connect.conninfo = tcp_conninfo();
    p.min_size = min_size;
    p.max_size = max_size;
    p.acquire_timeout = std::chrono::seconds(10);
    return p;
}

/// Runs `ctx` until `pred()` holds or `limit` passes; returns pred().
template <class Pred>
bool run_until(boost::asio::io_context& ctx, Pred pred,
               std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto until = std::chrono::steady_clock::now() + limit;
    ctx.restart();
    while (!pred() && std::chrono::steady_clock::now() < until) {
        ctx.run_one_for(std::chrono::milliseconds(5));
        if (ctx.stopped()) ctx.restart();
    }
    return pred();
}

} // namespace asiopg::test

#endif
