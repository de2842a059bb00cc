// async_receive_notification: waits for the next NOTIFY, whatever else runs on the connection.
//
// Notifications are drained into the connection's queue after every read, by whichever
// operation reads. The receiver does not claim the connection: it waits on notify_signal
// (cancelled when notifications arrive, when the connection closes and when an operation ends)
// and, while no operation runs, also on the socket — then it reads what the server sent itself
// (notifications, or the FATAL and end of stream of a terminated backend).
#include <asiopg/connection.hpp>

#include "connection_impl.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>

#include <array>

namespace asiopg {

namespace {

namespace asio = boost::asio;

class receive_op {
public:
    receive_op(std::shared_ptr<detail::connection_impl> impl, diagnostics* diag)
        : impl_(std::move(impl)), diag_(diag) {}

    template <class Self>
    void operator()(Self& self) {
        self.reset_cancellation_state(asio::enable_total_cancellation());
        if (impl_->receiver_waiting) { // one receiver at a time
            return finish(self, client_errc::operation_in_progress,
                          "another async_receive_notification is waiting on this connection", true);
        }
        next(self, true);
    }

    // notify_signal or the socket (alone, or the winner of the two) woke us.
    template <class Self>
    void operator()(Self& self, error_code) { resumed(self); }
    template <class Self>
    void operator()(Self& self, std::array<std::size_t, 2>, error_code, error_code) { resumed(self); }

private:
    template <class Self>
    void resumed(Self& self) {
        impl_->receiver_waiting = false;
        if (self.cancelled() != asio::cancellation_type::none)
            return finish(self, asio::error::operation_aborted, "operation cancelled", false);
        // Idle: read what the server sent (a dead connection is closed here).
        if (impl_->active_op == 0 && impl_->stream_op == 0 && impl_->connected()) impl_->poll_idle();
        next(self, false);
    }

    template <class Self>
    void next(Self& self, bool initiating) {
        detail::connection_impl& impl = *impl_;
        if (!impl.notifications.empty()) { // queued ones first, even from a connection now lost
            value_ = std::move(impl.notifications.front());
            impl.notifications.pop_front();
            return finish(self, {}, {}, initiating);
        }
        if (!impl.connected()) {
            // Lost while we waited, or found lost while idle: connection_lost (the queue is empty
            // now); closed otherwise: not connected.
            error_code ec = !initiating || impl.lost_while_idle ? error_code(client_errc::connection_lost)
                                                                : error_code(client_errc::not_connected);
            std::string message = impl.last_diagnostics.empty() ? std::string("the connection is not open")
                                                                : impl.last_diagnostics.message;
            return finish(self, ec, std::move(message), initiating);
        }
        impl.receiver_waiting = true;
        impl.notify_signal.expires_at(std::chrono::steady_clock::time_point::max());
        if (impl.active_op != 0 || impl.stream_op != 0)
            return impl.notify_signal.async_wait(std::move(self)); // the operation reads for us
        asio::experimental::make_parallel_group(
            impl.notify_signal.async_wait(asio::deferred),
            impl.socket.async_wait(asio::posix::descriptor_base::wait_read, asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), std::move(self));
    }

    template <class Self>
    void finish(Self& self, error_code ec, std::string message, bool initiating) {
        ec_ = ec;
        if (ec) {
            diagnostics d;
            d.message = std::move(message);
            if (diag_) *diag_ = d;
        }
        if (initiating) { // never complete inside the initiating function
            auto ex = impl_->executor;
            // (value before self: self holds the op, and value_ in it.)
            return asio::post(ex, asio::bind_executor(ex, [value = std::move(value_), ec = ec_,
                                                           self = std::move(self)]() mutable {
                self.complete(ec, std::move(value));
            }));
        }
        self.complete(ec_, std::move(value_));
    }

    std::shared_ptr<detail::connection_impl> impl_;
    diagnostics* diag_;
    error_code ec_;
    notification value_;
};

} // namespace

void connection::async_receive_notification_erased(impl_ptr impl, diagnostics* diag,
                                                   handler<void(error_code, notification)> h) {
    auto& socket = impl->socket;
    asio::async_compose<handler<void(error_code, notification)>, void(error_code, notification)>(
        receive_op(std::move(impl), diag), h, socket);
}

std::size_t connection::discard_notifications() noexcept {
    if (!impl_) return 0;
    std::size_t n = impl_->notifications.size();
    impl_->notifications.clear();
    return n;
}

} // namespace asiopg
