// Internal: what every operation's machine shares: its id on the connection and error reporting.
#ifndef ASIOPG_SRC_MACHINE_BASE_HPP
#define ASIOPG_SRC_MACHINE_BASE_HPP

#include "driver.hpp"

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

protected:
    // Claims the connection; false (and a finished step in `rejected`) if another op is in flight.
    bool begin(connection_impl& impl, step& rejected) {
        id_ = impl.begin_op();
        if (id_ != 0) return true;
        rejected = fail(impl, client_errc::operation_in_progress,
                        "another operation is in progress on this connection");
        return false;
    }
    // Records the failure for the caller and the connection, and finishes.
    step fail(connection_impl& impl, error_code ec, diagnostics d) {
        impl.fail(diag_out_, std::move(d));
        return step::finish(ec);
    }
    step fail(connection_impl& impl, error_code ec, std::string message) {
        return fail(impl, ec, impl.client_diagnostics(std::move(message)));
    }

    diagnostics* diag_out_;
    std::uint64_t id_ = 0;
    bool keep_ = false; // done, but the connection stays this operation's (streams)
};

} // namespace asiopg::detail

#endif
