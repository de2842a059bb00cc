// Internal: what every operation's machine shares: its id on the connection and error reporting.
#ifndef ASIOPG_SRC_MACHINE_BASE_HPP
#define ASIOPG_SRC_MACHINE_BASE_HPP

#include "driver.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace asiopg::detail {

class machine_base {
public:
    explicit machine_base(diagnostics* diag_out) noexcept : diag_out_(diag_out) {}
    std::uint64_t op_id() const noexcept { return id_; }
    bool keeps_connection() const noexcept { return keep_; }

    // The operation lost the connection to close() or a new connect while it waited.
    void note_abandoned() {
        if (diag_out_) {
            diag_out_->clear();
            diag_out_->message = "operation aborted: the connection was closed";
        }
    }

    // Waiting for its turn (see connection_impl::waiters): the driver waits on turn_signal().
    bool waiting() const noexcept {
        return waiter_ && (waiter_->st == waiter::state::queued || waiter_->st == waiter::state::sent);
    }
    // The turn came, or the connection was closed, before the driver started to wait.
    bool turn_decided() const noexcept { return waiter_ && !waiting(); }
    bool dropped() const noexcept { return waiter_ && waiter_->st == waiter::state::dropped; }
    asio::steady_timer& turn_signal() noexcept { return waiter_->signal; }
    // Machines that wait override this (see driver.hpp); others never get a turn to take.
    step on_turn(connection_impl&, asio::cancellation_type) { return step::finish(client_errc::unexpected_result); }
    // The operation is finishing: a waiter leaves the queue (only a query not yet sent can).
    void leave_queue(connection_impl& impl) noexcept {
        if (!waiter_ || waiter_->st != waiter::state::queued) return;
        std::erase(impl.waiters, waiter_.get());
        waiter_->st = waiter::state::dropped;
    }

protected:
    // What an operation does when the connection is busy.
    enum class admission {
        refuse,   // fail with operation_in_progress (connect, streams, COPY)
        wait,     // wait for its turn, then run alone (simple queries, prepare, explicit pipelines)
        pipeline, // be sent at once if the pipeline runs, else wait (parameterised queries)
        eager,    // as pipeline, and queued even on an idle connection: the caller admits it at
                  // once, in pipeline mode (connection::set_eager_pipelining)
    };
    // Claims the connection, or queues the operation as a waiter (waiting() is then true); false
    // (and a finished step in `rejected`) when it is busy and the operation cannot wait, or a
    // stream or COPY holds it between two calls.
    bool begin(connection_impl& impl, step& rejected, admission how = admission::refuse) {
        if (!impl.busy() && how != admission::eager) {
            id_ = impl.begin_op();
            return true;
        }
        if (how == admission::refuse || impl.stream_op != 0) {
            rejected = fail(impl, client_errc::operation_in_progress,
                            impl.stream_op != 0 ? "a stream or COPY holds this connection until it ends"
                                                : "another operation is in progress on this connection");
            return false;
        }
        id_ = ++impl.last_op_id;
        waiter_ = std::make_unique<waiter>(impl, id_, how == admission::pipeline || how == admission::eager);
        impl.waiters.push_back(waiter_.get());
        return true;
    }
    // Records the failure for the caller and the connection, and finishes.
    step fail(connection_impl& impl, error_code ec, diagnostics d) {
        impl.fail(diag_out_, std::move(d));
        return step::finish(ec);
    }
    step fail(connection_impl& impl, error_code ec, std::string message) {
        return fail(impl, ec, impl.client_diagnostics(std::move(message)));
    }

    // Cancelled while it waited for its turn, before anything of it was sent.
    step cancelled_unsent(connection_impl& impl, std::string_view what) {
        return fail(impl, asio::error::operation_aborted,
                    "the " + std::string(what) + " was cancelled before it was sent; nothing ran");
    }

    // The session carries a transaction its owner abandoned: only a ROLLBACK may run.
    step refuse_abandoned_transaction(connection_impl& impl) {
        return fail(impl, client_errc::transaction_abandoned,
                    "a transaction on this connection was abandoned without commit or rollback: "
                    "run ROLLBACK first (a pool does it when the connection is returned)");
    }

    // Partial or total cancellation of a command: one cancel request to the server (PQcancel,
    // off this thread), and the operation's deadline armed so that a server that has not ended
    // the command `cancel_bound` later costs the connection (see abandon()). False when no
    // request could be sent; true (doing nothing) once one was.
    static constexpr std::chrono::seconds cancel_bound{5};
    bool request_server_cancel(connection_impl& impl) {
        if (cancel_sent_) return true;
        cancel_sent_ = true;
        if (!impl.connected() || !impl.request_cancel()) return false;
        if (impl.logs(log_level::info))
            impl.note(log_level::info, "connection",
                      "cancel request sent for the command of backend pid " + std::to_string(PQbackendPID(impl.pg)));
        impl.start_deadline(id_, std::chrono::steady_clock::now() + cancel_bound);
        return true;
    }

    // Terminal cancellation, the deadline or a socket error: the server may still be running the
    // command, so the connection cannot be reused. `what` names the operation in the message.
    step abandon(connection_impl& impl, error_code ec, std::string_view what) {
        impl.close();
        const std::string name(what);
        if (cancel_sent_ && ec == client_errc::timeout)
            return noted(impl, log_level::warning, asio::error::operation_aborted,
                         "the server did not cancel the " + name + " within 5 s; connection closed");
        if (ec == asio::error::operation_aborted)
            return noted(impl, log_level::info, ec, name + " cancelled; connection closed");
        if (ec == client_errc::timeout) return noted(impl, log_level::warning, ec, name + " timed out; connection closed");
        return noted(impl, log_level::warning, client_errc::connection_lost, "socket error: " + ec.message());
    }
    // fail(), and the message (after `log_prefix`) to the connection's logger.
    step noted(connection_impl& impl, log_level level, error_code ec, std::string message,
               std::string_view log_prefix = {}) {
        if (impl.logs(level)) impl.note(level, "connection", std::string(log_prefix) + message);
        return fail(impl, ec, std::move(message));
    }

    // The first error of a command is the one reported.
    void capture_error(const PGresult* res) {
        if (error_) return;
        diag_ = diagnostics_from(res);
        error_ = diag_.sqlstate.empty() ? error_code(client_errc::connection_lost) : make_sqlstate_error(diag_.sqlstate);
    }

    // The command's results are all in: success, or its first error.
    step command_done(connection_impl& impl) {
        if (impl.transaction_abandoned && impl.pg && PQtransactionStatus(impl.pg) == PQTRANS_IDLE)
            impl.transaction_abandoned = false; // rolled back
        if (!error_) return step::finish();
        if (!impl.connected()) {
            // The session ended. A FATAL server error (57P01 …) arrives before the socket
            // closes: keep its SQLSTATE when is_fatal() recognises it, else report the loss and
            // leave the SQLSTATE in the diagnostics. Close our side so is_open() tells the truth.
            impl.close();
            if (!is_fatal(error_)) error_ = client_errc::connection_lost;
        }
        return fail(impl, error_, std::move(diag_));
    }

    // The connection broke.
    step lost(connection_impl& impl) {
        // A server message that arrived just before the close (FATAL 57P01 …) is still in
        // libpq's buffer: parse it for its SQLSTATE. libpq's socket is closed by now, so
        // PQgetResult cannot block; it ends with its own "connection lost" result.
        if (impl.pg && PQstatus(impl.pg) == CONNECTION_BAD) {
            for (int i = 0; i < 64; ++i) {
                PGresult* res = PQgetResult(impl.pg);
                if (!res) break;
                if (PQresultStatus(res) == PGRES_FATAL_ERROR) capture_error(res);
                PQclear(res);
            }
        }
        diagnostics d = error_ ? std::move(diag_) : impl.client_diagnostics(impl.libpq_message());
        if (d.message.empty()) d.message = "connection to the server lost";
        // As in command_done(): keep a SQLSTATE that says the session ended, else report the loss.
        error_code ec = error_ && is_fatal(error_) ? error_ : error_code(client_errc::connection_lost);
        impl.close();
        if (impl.logs(log_level::warning)) impl.note(log_level::warning, "connection", "connection lost: " + d.message);
        return fail(impl, ec, std::move(d));
    }

    diagnostics* diag_out_;
    std::uint64_t id_ = 0;
    std::unique_ptr<waiter> waiter_; // only when the operation had to wait
    error_code error_;  // the command's first error
    diagnostics diag_;
    bool keep_ = false; // done, but the connection stays this operation's (streams)
    bool cancel_sent_ = false; // request_server_cancel() was called
};

} // namespace asiopg::detail

#endif
