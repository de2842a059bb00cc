// Streaming: async_start_stream sends a command in single-row mode; async_read_rows reads its
// rows a batch at a time, holding the connection between reads until the last row.
#include <asiopg/row_batch.hpp>

#include "command_machine.hpp"

namespace asiopg {

void detail::result_access::append(row_batch& b, pg_result* res) {
    try {
        b.rows_.push_back(res);
    } catch (...) {
        PQclear(res);
        throw;
    }
}

row_batch::row_batch(row_batch&& other) noexcept : rows_(std::move(other.rows_)) { other.rows_.clear(); }
row_batch& row_batch::operator=(row_batch&& other) noexcept {
    if (this != &other) {
        clear();
        rows_ = std::move(other.rows_);
        other.rows_.clear();
    }
    return *this;
}
row_batch::~row_batch() { clear(); }
void row_batch::clear() noexcept {
    for (pg_result* r : rows_) PQclear(r);
    rows_.clear();
}

namespace detail {
namespace {

class start_stream_machine : public command_machine {
public:
    start_stream_machine(kind k, std::string_view sql, std::span<const param_ref> params, diagnostics* diag_out,
                         const error_with_diagnostics* refused)
        : command_machine(k, sql, params, nullptr, diag_out, refused) {
        stream();
    }
    template <class Self>
    void complete(Self& self, error_code ec) {
        self.complete(ec);
    }
};

// Reads up to `max` rows: returns as soon as some are in and libpq would have to wait, so a
// slow producer's rows are not held back; 0 rows means the stream is over.
class read_rows_machine : public machine_base {
public:
    static constexpr socket_use sockets = socket_use::stable;

    read_rows_machine(row_batch& batch, std::size_t max, diagnostics* diag_out)
        : machine_base(diag_out), batch_(&batch), max_(max == 0 ? 1 : max) {}

    step start(connection_impl& impl) {
        batch_->clear();
        if (!impl.connected()) return fail(impl, client_errc::not_connected, "the connection is not open");
        if (impl.stream_op == 0) return step::finish(); // no stream, or it ended: no rows
        if (impl.active_op != impl.stream_op || impl.hold != connection_impl::hold_kind::rows)
            return fail(impl, client_errc::operation_in_progress, "another operation is in progress on this connection");
        id_ = impl.stream_op;
        keep_ = true;
        return read(impl, false);
    }

    step resume(connection_impl& impl, error_code ec) {
        if (ec) {
            impl.close();
            return fail(impl, ec, ec == asio::error::operation_aborted ? "stream cancelled; connection closed"
                                                                        : "stream timed out; connection closed");
        }
        return read(impl, true);
    }

    template <class Self>
    void complete(Self& self, error_code ec) {
        if (ec) batch_->clear();
        self.complete(ec, ec ? 0 : batch_->size());
    }

private:
    step read(connection_impl& impl, bool consume) {
        if (consume) {
            if (!impl.consume_input()) return lost(impl);
        }
        while (!PQisBusy(impl.pg)) {
            PGresult* res = PQgetResult(impl.pg);
            if (!res) return ended(impl);
            switch (PQresultStatus(res)) {
            case PGRES_SINGLE_TUPLE:
                if (error_) PQclear(res);
                else result_access::append(*batch_, res);
                if (batch_->size() >= max_) return step::finish();
                break;
            case PGRES_FATAL_ERROR:
                capture_error(res);
                PQclear(res);
                break;
            default: // the final TUPLES_OK (no rows), or COMMAND_OK of a non-SELECT
                PQclear(res);
            }
        }
        if (!batch_->empty() && !error_) return step::finish();
        return step::read();
    }

    // The command is complete: the connection is free again.
    step ended(connection_impl& impl) {
        keep_ = false;
        impl.stream_op = 0;
        return command_done(impl);
    }

    row_batch* batch_;
    std::size_t max_;
};

} // namespace
} // namespace detail

void connection::async_start_stream_erased(impl_ptr impl, std::string_view sql, std::span<const param_ref> params,
                                           bool extended, diagnostics* diag, const error_with_diagnostics* refused,
                                           handler<void(error_code)> h) {
    using detail::command_machine;
    detail::run<void(error_code)>(
        std::move(impl),
        detail::start_stream_machine(extended ? command_machine::kind::extended : command_machine::kind::simple, sql,
                                     params, diag, refused),
        std::move(h));
}

void connection::async_read_rows_erased(impl_ptr impl, row_batch& batch, std::size_t max_rows, diagnostics* diag,
                                        handler<void(error_code, std::size_t)> h) {
    detail::run<void(error_code, std::size_t)>(std::move(impl), detail::read_rows_machine(batch, max_rows, diag),
                                               std::move(h));
}

} // namespace asiopg
