// Internal: sending a cancel request (PQcancel) without blocking the connection's executor.
#ifndef ASIOPG_SRC_CANCEL_REQUEST_HPP
#define ASIOPG_SRC_CANCEL_REQUEST_HPP

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_io_executor.hpp>

#include <libpq-fe.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace asiopg::detail {

// How a cancel request's thread reports back: an executor to post to (the executor of the
// operation that sent the request, set with each request), while anyone listens.
// libpq 15's PQcancel blocks without a timeout (over a blackholed network, until the network
// heals), so the thread may outlive the connection and even its io_context. The way back is
// closed by whichever comes first: the connection's destructor (close_cancel_return) or the
// shutdown of the execution context — which ~io_context runs before it destroys the handlers
// (and strands) a late post would go through.
struct cancel_return {
    std::mutex mtx;
    std::optional<boost::asio::any_completion_executor> executor;
    bool closed = false;
};

// A way back, closed at the latest when the execution context of `ex` (the connection's)
// shuts down.
std::shared_ptr<cancel_return> open_cancel_return(const boost::asio::any_io_executor& ex);

void close_cancel_return(cancel_return& back) noexcept;

// Sends `request` (taken: freed here) on a thread of its own and posts `done` to `reply_to`
// once PQcancel returned, unless the way back was closed meanwhile. False when no thread could
// be had or too many requests are already out (a blackholed network must not pile up threads);
// `request` is freed then too.
bool send_cancel_request(PGcancel* request, std::shared_ptr<cancel_return> back,
                         const boost::asio::any_completion_executor& reply_to, std::function<void()> done);

} // namespace asiopg::detail

#endif
