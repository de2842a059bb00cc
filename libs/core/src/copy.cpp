// COPY … FROM STDIN and COPY … TO STDOUT: a command machine starts the COPY and stops once the
// server is in COPY mode (the connection then belongs to the COPY); the send machine hands the
// writer's buffer to libpq and ends the COPY; the read machine hands rows out in batches.
#include <asiopg/copy.hpp>

#include "client_error.hpp"
#include "command_machine.hpp"
#include "copy_format.hpp"

#include <cstdlib>
#include <memory>

namespace asiopg {
namespace detail {

struct copy_access {
    using hold_kind = connection_impl::hold_kind;

    // Claims an owner's "one operation at a time" flag for the life of a machine.
    class owner_claim {
    public:
        explicit owner_claim(bool& busy) noexcept : busy_(&busy) {}
        bool take() noexcept {
            if (*busy_) return false;
            *busy_ = claimed_ = true;
            return true;
        }
        void give_back() noexcept {
            if (claimed_) *busy_ = false;
            claimed_ = false;
        }

    private:
        bool* busy_;
        bool claimed_ = false;
    };

    // The COPY has ended (or never was) on this session.
    static bool copy_live(const connection_impl& impl, std::uint64_t op) noexcept {
        return op != 0 && impl.stream_op == op && impl.connected();
    }

    // ---- starting: COPY … FROM STDIN for a writer, COPY … TO STDOUT for a reader
    template <class Owner>
    class start_machine : public command_machine {
    public:
        start_machine(Owner* owner, hold_kind k, std::string_view sql, diagnostics* diag_out)
            : command_machine(kind::simple, sql, {}, nullptr, diag_out, nullptr), owner_(owner) {
            expect_copy(k);
        }
        template <class Self>
        void complete(Self& self, error_code ec) {
            if (!ec) {
                owner_->op_ = id_;
                owner_->format_ = copy_format_;
                owner_->columns_ = copy_columns_;
                if constexpr (std::is_same_v<Owner, copy_writer>) {
                    owner_->buffer_.clear();
                    owner_->header_sent_ = owner_->raw_written_ = false;
                } else {
                    owner_->header_seen_ = owner_->trailer_seen_ = false;
                }
            }
            self.complete(ec);
        }

    private:
        Owner* owner_;
    };

    // ---- sending: the writer's buffer, then (finish, abort) the end of the COPY and its verdict
    enum class send_mode { flush, finish, abort };
    class send_machine : public machine_base {
    public:
        static constexpr socket_use sockets = socket_use::stable;

        send_machine(copy_writer* w, send_mode mode, std::string reason, diagnostics* diag_out)
            : machine_base(diag_out), w_(w), mode_(mode), reason_(std::move(reason)), claim_(w->busy_) {}

        step start(connection_impl& impl) {
            if (!claim_.take()) return fail(impl, client_errc::operation_in_progress, "another operation of this copy_writer is in flight");
            if (!impl.connected()) return fail(impl, client_errc::not_connected, "the connection is not open");
            if (!copy_live(impl, w_->op_)) {
                w_->op_ = 0;
                return fail(impl, client_errc::unexpected_result, "no COPY FROM STDIN is in progress on this writer");
            }
            id_ = w_->op_;
            keep_ = true;
            if (mode_ == send_mode::abort) w_->buffer_.clear();
            if (mode_ == send_mode::finish && w_->format_ == data_format::binary && !w_->raw_written_)
                copy_binary_trailer(w_->buffer_, w_->header_sent_);
            // An error the server already sent (a bad row) is seen by the next PQputCopyData.
            if (!impl.consume_input()) return lost(impl);
            return put(impl);
        }

        // Partial or total cancellation: abort the COPY on the server (CopyFail) and, since the
        // server may be busy with rows already sent (and read the CopyFail only later), send it a
        // cancel request too; either ends the COPY with 57014 and keeps the connection. If the
        // end was already sent, the cancel request alone stops what is left of the work.
        step soft_cancel(connection_impl& impl) {
            request_server_cancel(impl); // if none can be sent, the CopyFail alone still ends the COPY
            if (!cancelled_ && phase_ != phase::reading && phase_ != phase::end_flush) {
                cancelled_ = true;
                w_->buffer_.clear();
                return end(impl);
            }
            return resume(impl, {});
        }

        step resume(connection_impl& impl, error_code ec) {
            if (ec) return abandon(impl, ec, "COPY");
            switch (phase_) {
            case phase::put: return put(impl);
            case phase::flushing:
            case phase::end_flush:
                if (!impl.consume_input()) return lost(impl);
                return flush(impl);
            case phase::ending: return end(impl);
            case phase::reading: return read(impl, true);
            }
            return read(impl, true);
        }

        template <class Self>
        void complete(Self& self, error_code ec) {
            claim_.give_back();
            if constexpr (requires { self.complete(ec, std::uint64_t{}); }) self.complete(ec, ec ? 0 : rows_);
            else self.complete(ec);
        }

    private:
        enum class phase { put, flushing, ending, end_flush, reading };

        step put(connection_impl& impl) {
            phase_ = phase::put;
            if (mode_ != send_mode::abort && !cancelled_) {
                std::string& buf = w_->buffer_;
                // Also with nothing to send: a zero-byte put tells whether the COPY still runs.
                int r = PQputCopyData(impl.pg, buf.data(), static_cast<int>(buf.size()));
                if (r == 0) return step::write();
                if (r < 0) return copy_ended(impl);
                buf.clear();
            }
            return flush(impl);
        }

        step flush(connection_impl& impl) {
            switch (PQflush(impl.pg)) {
            case 0:
                if (phase_ == phase::end_flush) return read(impl, false);
                if (mode_ == send_mode::flush && !cancelled_) return step::finish();
                return end(impl);
            case 1:
                if (phase_ != phase::end_flush) phase_ = phase::flushing;
                return step::read_or_write();
            default: return lost(impl);
            }
        }

        step end(connection_impl& impl) {
            phase_ = phase::ending;
            const char* fail_with = cancelled_ ? "canceled by the client"
                                  : mode_ == send_mode::abort ? (reason_.empty() ? "aborted by the client" : reason_.c_str())
                                                              : nullptr;
            int r = PQputCopyEnd(impl.pg, fail_with);
            if (r == 0) return step::write();
            if (r < 0) return copy_ended(impl);
            phase_ = phase::end_flush;
            return flush(impl);
        }

        // libpq refused the data: the server ended the COPY (its error is among the results), or
        // the connection failed.
        step copy_ended(connection_impl& impl) {
            if (!impl.connected()) return lost(impl);
            return read(impl, false);
        }

        step read(connection_impl& impl, bool consume) {
            phase_ = phase::reading;
            if (consume && !impl.consume_input()) return lost(impl);
            while (!PQisBusy(impl.pg)) {
                PGresult* res = PQgetResult(impl.pg);
                if (!res) return done(impl);
                switch (PQresultStatus(res)) {
                case PGRES_COMMAND_OK: rows_ = std::strtoull(PQcmdTuples(res), nullptr, 10); break;
                case PGRES_FATAL_ERROR: capture_error(res); break;
                case PGRES_COPY_IN: // still in COPY mode (cannot happen after the end): end it
                    PQclear(res);
                    if (PQputCopyEnd(impl.pg, "unexpected state") < 0) return lost(impl);
                    phase_ = phase::end_flush;
                    return flush(impl);
                default: break;
                }
                PQclear(res);
            }
            return step::read();
        }

        // The COPY is over: the connection is free again.
        step done(connection_impl& impl) {
            keep_ = false;
            impl.stream_op = 0;
            impl.hold = hold_kind::rows;
            w_->op_ = 0;
            w_->buffer_.clear();
            if (mode_ == send_mode::abort && !cancelled_ && error_ && !is_fatal(error_)) {
                error_ = {}; // the abort's own error (57014), or the server's earlier one: aborted either way
                diag_ = {};
            }
            if (!error_ && mode_ == send_mode::flush)
                return fail(impl, client_errc::unexpected_result, "the server ended the COPY");
            return command_done(impl);
        }

        copy_writer* w_;
        send_mode mode_;
        std::string reason_;
        owner_claim claim_;
        phase phase_ = phase::put;
        bool cancelled_ = false;   // the COPY is being ended with CopyFail
        std::uint64_t rows_ = 0;
    };

    // ---- reading: rows (typed) or bytes (raw) until the COPY's end
    class read_machine : public machine_base {
    public:
        static constexpr socket_use sockets = socket_use::stable;

        read_machine(copy_reader* r, copy_rows* rows, std::string* out, std::size_t max, diagnostics* diag_out)
            : machine_base(diag_out), r_(r), rows_(rows), out_(out), max_(max == 0 ? 1 : max), claim_(r->busy_) {}

        step start(connection_impl& impl) {
            if (!claim_.take()) return fail(impl, client_errc::operation_in_progress, "another read of this copy_reader is in flight");
            discard();
            if (rows_) {
                rows_->types_ = r_->types_;
                rows_->format_ = r_->format_;
            }
            if (r_->op_ == 0) return step::finish(); // not started, or over: no rows
            if (!impl.connected()) return fail(impl, client_errc::not_connected, "the connection is not open");
            if (!copy_live(impl, r_->op_)) {
                r_->op_ = 0;
                return fail(impl, client_errc::connection_lost, "the COPY ended with its session (the connection was closed)");
            }
            id_ = r_->op_;
            keep_ = true;
            return read(impl, false);
        }

        // Partial or total cancellation: a cancel request to the server, then the rest of the
        // data is drained (and dropped); the COPY ends with 57014 and the connection is usable.
        step soft_cancel(connection_impl& impl) {
            discard();
            if (!request_server_cancel(impl)) return abandon(impl, asio::error::operation_aborted, "COPY");
            return resume(impl, {});
        }

        step resume(connection_impl& impl, error_code ec) {
            if (ec) return abandon(impl, ec, "COPY");
            return read(impl, true);
        }

        template <class Self>
        void complete(Self& self, error_code ec) {
            claim_.give_back();
            if (ec) discard();
            self.complete(ec, ec ? 0 : count());
        }

    private:
        std::size_t count() const noexcept { return rows_ ? rows_->size() : out_->size(); }
        bool full() const noexcept { return count() >= max_; }
        void discard() noexcept {
            if (rows_) rows_->clear();
            if (out_) out_->clear();
        }

        step read(connection_impl& impl, bool consume) {
            if (consume && !impl.consume_input()) return lost(impl);
            while (!data_done_) {
                char* buf = nullptr;
                int n = PQgetCopyData(impl.pg, &buf, 1);
                if (n > 0) {
                    std::unique_ptr<char, void (*)(void*)> owned(buf, PQfreemem);
                    if (cancel_sent_ || error_) continue; // draining
                    take(impl, buf, static_cast<std::size_t>(n));
                    if (full() && !error_) return step::finish();
                    continue;
                }
                if (n == 0) {
                    if (count() > 0 && !cancel_sent_ && !error_) return step::finish();
                    return step::read();
                }
                if (n == -1) {
                    data_done_ = true;
                    break;
                }
                return lost(impl);
            }
            while (!PQisBusy(impl.pg)) {
                PGresult* res = PQgetResult(impl.pg);
                if (!res) return ended(impl);
                if (PQresultStatus(res) == PGRES_FATAL_ERROR) capture_error(res);
                PQclear(res);
            }
            return step::read();
        }

        void take(connection_impl& impl, const char* msg, std::size_t n) {
            if (out_) {
                out_->append(msg, n);
                return;
            }
            copy_rows& rows = *rows_;
            if (rows.row_starts_.empty()) rows.row_starts_.push_back(0);
            if (r_->format_ == data_format::text) {
                copy_decode_text(rows.data_, rows.fields_, msg, n);
                rows.row_starts_.push_back(rows.fields_.size());
                return;
            }
            bool is_row = false;
            if (!copy_decode_binary(rows.data_, rows.fields_, r_->header_seen_, r_->trailer_seen_, is_row, msg, n)) {
                error_ = client_errc::unexpected_result;
                diag_ = impl.client_diagnostics("malformed binary COPY data from the server");
                discard();
                return;
            }
            if (is_row) rows.row_starts_.push_back(rows.fields_.size());
        }

        // The COPY is complete: the connection is free again. Rows already in the batch are
        // handed out; the next read yields 0.
        step ended(connection_impl& impl) {
            keep_ = false;
            impl.stream_op = 0;
            impl.hold = hold_kind::rows;
            r_->op_ = 0;
            if (cancel_sent_ && !error_) { // it finished before the cancel request arrived
                error_ = asio::error::operation_aborted;
                diag_ = impl.client_diagnostics("COPY cancelled; the rest of its data was discarded");
            }
            return command_done(impl);
        }

        copy_reader* r_;
        copy_rows* rows_;
        std::string* out_;
        std::size_t max_;
        owner_claim claim_;
        bool data_done_ = false;
    };
};

} // namespace detail

// ---- copy_writer

copy_writer::copy_writer(connection& conn) : impl_(conn.state()) {}

copy_writer::~copy_writer() {
    // The server waits for the rest of the data: only closing frees the session.
    if (active()) impl_->close();
}

bool copy_writer::active() const noexcept { return impl_ && detail::copy_access::copy_live(*impl_, op_); }

// Data can be buffered only while the COPY runs.
static void require_active(const copy_writer& w) {
    if (!w.active()) detail::throw_invalid_parameter("copy_writer: no COPY FROM STDIN is in progress (async_start first)");
}

void copy_writer::append_row(std::span<const param_ref> row) {
    require_active(*this);
    if (row.size() != columns_)
        detail::throw_invalid_parameter("copy_writer: a row of " + std::to_string(row.size()) +
                                        " values for a COPY of " + std::to_string(columns_) + " columns");
    detail::copy_encode_row(buffer_, scratch_, format_, header_sent_, row);
}

void copy_writer::write_raw(std::string_view data) {
    require_active(*this);
    buffer_.append(data.data(), data.size());
    raw_written_ = true;
}

connection::executor_type copy_writer::executor_of(const copy_writer* w) noexcept { return w->impl_->executor; }

void copy_writer::async_start_erased(copy_writer* w, std::string_view sql, diagnostics* diag,
                                     handler<void(error_code)> h) {
    using access = detail::copy_access;
    detail::run<void(error_code)>(w->impl_,
                                  access::start_machine<copy_writer>(w, access::hold_kind::copy_in, sql, diag),
                                  std::move(h));
}

void copy_writer::async_send_erased(copy_writer* w, end_kind kind, std::string reason, diagnostics* diag,
                                    handler<void(error_code)> h) {
    using access = detail::copy_access;
    access::send_mode mode = kind == end_kind::flush ? access::send_mode::flush : access::send_mode::abort;
    detail::run<void(error_code)>(w->impl_, access::send_machine(w, mode, std::move(reason), diag), std::move(h));
}

void copy_writer::async_finish_erased(copy_writer* w, diagnostics* diag, handler<void(error_code, std::uint64_t)> h) {
    using access = detail::copy_access;
    detail::run<void(error_code, std::uint64_t)>(w->impl_, access::send_machine(w, access::send_mode::finish, {}, diag),
                                                 std::move(h));
}

// ---- copy_reader

copy_reader::copy_reader(connection& conn) : impl_(conn.state()) {}

copy_reader::~copy_reader() {
    // The rest of the data stands between the session and its next command.
    if (active()) impl_->close();
}

bool copy_reader::active() const noexcept { return impl_ && detail::copy_access::copy_live(*impl_, op_); }

void copy_reader::set_column_types(std::vector<oid> types) {
    types_ = std::make_shared<const std::vector<oid>>(std::move(types));
}

connection::executor_type copy_reader::executor_of(const copy_reader* r) noexcept { return r->impl_->executor; }

void copy_reader::async_start_erased(copy_reader* r, std::string_view sql, diagnostics* diag,
                                     handler<void(error_code)> h) {
    using access = detail::copy_access;
    detail::run<void(error_code)>(r->impl_,
                                  access::start_machine<copy_reader>(r, access::hold_kind::copy_out, sql, diag),
                                  std::move(h));
}

void copy_reader::async_read_erased(copy_reader* r, copy_rows* rows, std::string* out, std::size_t max,
                                    diagnostics* diag, handler<void(error_code, std::size_t)> h) {
    detail::run<void(error_code, std::size_t)>(r->impl_, detail::copy_access::read_machine(r, rows, out, max, diag),
                                               std::move(h));
}

} // namespace asiopg
