// Internal: one async_compose driver runs every operation.
//
// An operation is a sans-io state machine ("machine") that never touches Asio. The driver asks
// it what to do next and does only that:
//     step start(connection_impl&)                 — called inside the initiating function
//     step resume(connection_impl&, error_code)    — after a wait (ec: aborted, deadline …)
//     const std::string& resolve_host()            — the name to resolve (machines that resolve);
//                                                    the answer is in impl.resolve_* at resume
//     template <class Self> void complete(Self&, error_code) — hands the outcome to the handler
//     std::uint64_t op_id()                        — the connection's id for it (0: never started)
//     bool keeps_connection()                      — still owns the connection when done (a
//                                                    stream between its reads)
//     void finished(connection_impl&, error_code)  — optional: the outcome is known (logging)
// and, from machine_base, what a waiter needs (an operation that found the connection busy):
//     step on_turn(connection_impl&, cancellation_type) — its turn came, it was cancelled while
//                                                    waiting, or (step::turn()) it waits on
// A step says: wait readable, wait writable, wait for either, resolve a name, wait for the
// operation's turn, or done.
// The driver guarantees: no completion inside the initiating function (post when no I/O
// happened), cancellation and the deadline checked at every resume.
#ifndef ASIOPG_SRC_DRIVER_HPP
#define ASIOPG_SRC_DRIVER_HPP

#include "connection_impl.hpp"

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>

#include <array>
#include <memory>
#include <string>
#include <utility>

namespace asiopg::detail {

enum class wait_for { done, read, write, read_or_write, resolve, turn };

struct step {
    wait_for what = wait_for::done;
    error_code ec{};
    static step finish(error_code ec = {}) { return {wait_for::done, ec}; }
    static step read() { return {wait_for::read, {}}; }
    static step write() { return {wait_for::write, {}}; }
    static step read_or_write() { return {wait_for::read_or_write, {}}; }
    static step turn() { return {wait_for::turn, {}}; }
};

// How the operation uses the socket: a connecting operation assigns libpq's socket for each
// wait and releases it after (the fd may be a different socket next time); others keep it.
enum class socket_use { per_wait, stable };

template <class Machine>
class driver {
public:
    // The machine lives on the heap: Asio moves the composed operation (and so the driver) at
    // every wait, and a machine carries strings, diagnostics and results — moving a pointer
    // instead was a fifth of the client CPU of a short query.
    driver(std::shared_ptr<connection_impl> impl, std::unique_ptr<Machine> m)
        : impl_(std::move(impl)), machine_(std::move(m)) {}

    template <class Self>
    void operator()(Self& self) {
        if (phase_ == phase::completing) return machine_->complete(self, final_ec_);
        // Every cancellation type reaches the operation; resume() decides what each one does.
        self.reset_cancellation_state(asio::enable_total_cancellation());
        phase_ = phase::running;
        if constexpr (Machine::sockets == socket_use::per_wait) arm_here(self); // connecting: deadlines, resolver
        handle(self, machine_->start(*impl_));
    }


    // A socket wait (or the other wait being cancelled) completed.
    template <class Self>
    void operator()(Self& self, error_code ec) {
        did_io_ = true;
        if (phase_ == phase::awaiting_turn) return turn_resumed(self);
        if (phase_ == phase::awaiting_cancel) return finish_after_cancel(self);
        if (abandoned()) return complete_abandoned(self);
        if (Machine::sockets == socket_use::per_wait) impl_->release_socket();
        resume(self, ec);
    }

    // Either-way wait: the first of the two waits to finish.
    template <class Self>
    void operator()(Self& self, std::array<std::size_t, 2>, error_code read_ec, error_code write_ec) {
        did_io_ = true;
        if (abandoned()) return complete_abandoned(self);
        if (Machine::sockets == socket_use::per_wait) impl_->release_socket();
        // The loser is cancelled by the group; an error on the winner is what matters.
        error_code ec = (read_ec && read_ec != asio::error::operation_aborted) ? read_ec
                      : (write_ec && write_ec != asio::error::operation_aborted) ? write_ec
                      : (read_ec && write_ec) ? read_ec : error_code{};
        resume(self, ec);
    }


private:
    enum class phase { starting, running, awaiting_turn, awaiting_cancel, completing };

    // close(), the destructor or a new connect took the connection from this operation while it
    // waited: the connection (maybe a new session by now) is no longer this operation's to touch.
    bool abandoned() const noexcept {
        return machine_->op_id() != 0 && impl_->active_op != machine_->op_id() && !machine_->waiting();
    }

    // The internal handlers armed next (deadline, cancel request's answer, resolver) run where
    // this operation's steps run: on its handler's executor.
    template <class Self>
    void arm_here(Self& self) {
        impl_->op_executor = asio::prefer(asio::get_associated_executor(self), asio::execution::outstanding_work.untracked);
    }

    // The waiter's signal fired: its turn, the connection closed, or a cancellation.
    template <class Self>
    void turn_resumed(Self& self) {
        phase_ = phase::running;
        if (machine_->dropped()) return complete_abandoned(self);
        arm_here(self); // it may send a cancel request
        handle(self, machine_->on_turn(*impl_, self.cancelled()));
    }
    template <class Self>
    void complete_abandoned(Self& self) {
        machine_->note_abandoned();
        machine_->complete(self, asio::error::operation_aborted);
    }

    // The deadline and terminal cancellation turn any wait result into an error (the machine
    // then gives the connection up). Partial and total cancellation of a machine that can
    // cancel softly (a command: a cancel request to the server, then draining) do that instead.
    template <class Self>
    void resume(Self& self, error_code ec) {
        asio::cancellation_type c = self.cancelled();
        if (machine_->op_id() != 0 && impl_->expired_op == machine_->op_id()) {
            ec = client_errc::timeout;
        } else if (c != asio::cancellation_type::none) {
            if constexpr (requires(Machine& m) { m.soft_cancel(*impl_); }) {
                if ((c & asio::cancellation_type::terminal) == asio::cancellation_type::none) {
                    arm_here(self);
                    return handle(self, machine_->soft_cancel(*impl_));
                }
            }
            ec = asio::error::operation_aborted;
        }
        handle(self, machine_->resume(*impl_, ec));
    }

    // The command is over but its cancel request may still be on its way to the server: wait
    // for it (bounded by the operation's deadline), or it could cancel the next command.
    template <class Self>
    void finish_after_cancel(Self& self) {
        phase_ = phase::running;
        if (impl_->cancel_in_flight && !abandoned()) impl_->close(); // it never came back: no next command here
        handle(self, done_);
    }

    template <class Self>
    void handle(Self& self, step s) {
        switch (s.what) {
        case wait_for::done:
            if (impl_->cancel_in_flight && machine_->op_id() != 0 && !abandoned() && impl_->connected()) {
                phase_ = phase::awaiting_cancel;
                done_ = s;
                return impl_->cancel_signal.async_wait(std::move(self));
            }
            if constexpr (requires(Machine& m) { m.finished(*impl_, s.ec); }) machine_->finished(*impl_, s.ec);
            // The connection is free as soon as the outcome is known, even if the completion
            // itself is posted: an operation started meanwhile must not see this one in flight,
            // and the next waiter gets its turn.
            machine_->leave_queue(*impl_);
            if (machine_->op_id() != 0 && !machine_->keeps_connection()) impl_->end_op(machine_->op_id());
            if (!did_io_) {
                // Never complete inside the initiating function.
                phase_ = phase::completing;
                final_ec_ = s.ec;
                return asio::post(impl_->executor, std::move(self));
            }
            return machine_->complete(self, s.ec);
        case wait_for::turn:
            if (machine_->turn_decided()) return turn_resumed(self);
            phase_ = phase::awaiting_turn;
            return machine_->turn_signal().async_wait(std::move(self));
        case wait_for::resolve:
            if constexpr (requires(Machine& m) { m.resolve_host(); }) {
                arm_here(self);
                impl_->start_resolve(machine_->op_id(), machine_->resolve_host());
                return impl_->resolve_signal.async_wait(std::move(self));
            }
            return handle(self, step::finish(client_errc::unexpected_result));
        default: break;
        }
        if (Machine::sockets == socket_use::per_wait) {
            if (error_code ec = impl_->assign_socket())
                return handle(self, machine_->resume(*impl_, ec));
        }
        using wt = asio::posix::descriptor_base;
        switch (s.what) {
        case wait_for::read: return impl_->socket.async_wait(wt::wait_read, std::move(self));
        case wait_for::write: return impl_->socket.async_wait(wt::wait_write, std::move(self));
        default:
            return asio::experimental::make_parallel_group(
                       impl_->socket.async_wait(wt::wait_read, asio::deferred),
                       impl_->socket.async_wait(wt::wait_write, asio::deferred))
                .async_wait(asio::experimental::wait_for_one(), std::move(self));
        }
    }

    std::shared_ptr<connection_impl> impl_;
    std::unique_ptr<Machine> machine_;
    phase phase_ = phase::starting;
    step done_{};
    bool did_io_ = false;
    error_code final_ec_;
};

// Runs `machine` as one composed operation completing `handler`.
template <class Signature, class Machine, class Handler>
void run(std::shared_ptr<connection_impl> impl, std::unique_ptr<Machine> machine, Handler&& handler) {
    auto& socket = impl->socket;
    asio::async_compose<Handler, Signature>(driver<Machine>(std::move(impl), std::move(machine)), handler, socket);
}
template <class Signature, class Machine, class Handler>
void run(std::shared_ptr<connection_impl> impl, Machine machine, Handler&& handler) {
    run<Signature>(std::move(impl), std::make_unique<Machine>(std::move(machine)), std::forward<Handler>(handler));
}

} // namespace asiopg::detail

#endif
