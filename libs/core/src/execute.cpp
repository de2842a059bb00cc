// async_execute: send (simple or extended protocol), flush, read every result.
#include <asiopg/connection.hpp>

#include "driver.hpp"
#include "machine_base.hpp"

#include <cstring>

namespace asiopg {
namespace detail {
namespace {

class execute_machine : public machine_base {
public:
    static constexpr socket_use sockets = socket_use::stable;

    execute_machine(std::string_view sql, std::span<const param_ref> params, bool extended,
                    diagnostics* diag_out, const error_with_diagnostics* refused)
        : machine_base(diag_out), sql_(sql), params_(params), extended_(extended), refused_(refused) {}

    step start(connection_impl& impl) {
        if (refused_) return fail(impl, refused_->code(), refused_->get_diagnostics());
        step rejected;
        if (!begin(impl, rejected)) return rejected;
        if (!impl.connected()) return fail(impl, client_errc::not_connected, "the connection is not open");
        if (std::optional<step> bad = send(impl)) return *bad;
        return flush(impl);
    }

    step resume(connection_impl& impl, error_code ec) {
        if (ec) return abandon(impl, ec);
        switch (state_) {
        case state::flushing:
            if (!PQconsumeInput(impl.pg)) return lost(impl);
            impl.drain_notifications();
            return flush(impl);
        case state::copy_out: return read_copy_out(impl);
        default: return read(impl, true);
        }
    }

    template <class Self>
    void complete(Self& self, error_code ec) {
        if (ec) self.complete(ec, result{});
        else self.complete(ec, std::move(result_));
    }

private:
    enum class state { flushing, reading, copy_out };

    // Queues the command in libpq; a finished step if it cannot be sent.
    std::optional<step> send(connection_impl& impl) {
        // libpq takes C strings: copy into reused buffers, refusing NUL bytes it would truncate at.
        std::string& text = impl.param_text;
        text.assign(sql_.data(), sql_.size());
        if (text.find('\0') != std::string::npos)
            return fail(impl, client_errc::invalid_parameter, "the SQL text contains a NUL byte");
        text.push_back('\0');
        if (!extended_) {
            if (!PQsendQuery(impl.pg, text.c_str())) return send_failed(impl);
            return std::nullopt;
        }
        const std::size_t n = params_.size();
        impl.param_values.assign(n, nullptr);
        impl.param_lengths.assign(n, 0);
        impl.param_formats.assign(n, 0);
        impl.param_types.assign(n, 0);
        // First pass: append text values to the buffer (it may reallocate), remember offsets.
        for (std::size_t i = 0; i < n; ++i) {
            const param_ref& p = params_[i];
            impl.param_formats[i] = static_cast<int>(p.format);
            impl.param_types[i] = p.type;
            impl.param_lengths[i] = p.length;
            if (p.data && p.format == data_format::text) {
                if (std::memchr(p.data, 0, static_cast<std::size_t>(p.length)))
                    return fail(impl, client_errc::invalid_parameter,
                                "parameter $" + std::to_string(i + 1) +
                                    " contains a NUL byte, which a text parameter cannot carry "
                                    "(send binary data as asiopg::bytes)");
                impl.param_lengths[i] = static_cast<int>(text.size()); // offset for now
                text.append(p.data, static_cast<std::size_t>(p.length));
                text.push_back('\0');
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            const param_ref& p = params_[i];
            if (!p.data) continue;
            if (p.format == data_format::text) {
                impl.param_values[i] = text.data() + impl.param_lengths[i];
                impl.param_lengths[i] = p.length;
            } else {
                impl.param_values[i] = p.data;
            }
        }
        if (!PQsendQueryParams(impl.pg, text.c_str(), static_cast<int>(n), impl.param_types.data(),
                               impl.param_values.data(), impl.param_lengths.data(),
                               impl.param_formats.data(), static_cast<int>(impl.result_format)))
            return send_failed(impl);
        return std::nullopt;
    }

    step send_failed(connection_impl& impl) {
        if (!impl.connected()) return lost(impl);
        return fail(impl, client_errc::send_failed, impl.libpq_message());
    }

    // While libpq cannot write everything, also read: the server may be waiting for us to read.
    step flush(connection_impl& impl) {
        switch (PQflush(impl.pg)) {
        case 0: state_ = state::reading; return read(impl, false);
        case 1: state_ = state::flushing; return step::read_or_write();
        default: return lost(impl);
        }
    }

    // Hands out every complete result before waiting again. `consume`: the socket was readable.
    step read(connection_impl& impl, bool consume) {
        if (consume) {
            if (!PQconsumeInput(impl.pg)) return lost(impl);
            impl.drain_notifications();
        }
        while (!PQisBusy(impl.pg)) {
            PGresult* res = PQgetResult(impl.pg);
            if (!res) return finished(impl);
            if (std::optional<step> s = on_result(impl, res)) return *s;
        }
        return step::read();
    }

    // A step when the result needs I/O of its own (COPY), else nullopt.
    std::optional<step> on_result(connection_impl& impl, PGresult* res) {
        switch (PQresultStatus(res)) {
        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK:
        case PGRES_EMPTY_QUERY:
            if (!error_) result_access::append(result_, res);
            else PQclear(res);
            return std::nullopt;
        case PGRES_FATAL_ERROR:
            capture_error(res);
            PQclear(res);
            return std::nullopt;
        case PGRES_COPY_IN:
            PQclear(res);
            set_error(impl, "COPY FROM STDIN is not supported by async_execute");
            if (PQputCopyEnd(impl.pg, "COPY FROM STDIN is not supported by async_execute") < 0)
                return lost(impl);
            return flush(impl);
        case PGRES_COPY_OUT:
            PQclear(res);
            set_error(impl, "COPY TO STDOUT is not supported by async_execute; its rows were discarded");
            return read_copy_out(impl);
        default: // COPY BOTH (replication), pipeline states: nothing this operation can follow
            PQclear(res);
            set_error(impl, "unexpected result status from the server");
            impl.close();
            return finished(impl);
        }
    }

    // The first error of the command is the one reported.
    void capture_error(const PGresult* res) {
        if (error_) return;
        diag_ = diagnostics_from(res);
        error_ = diag_.sqlstate.empty() ? error_code(client_errc::connection_lost)
                                        : make_sqlstate_error(diag_.sqlstate);
    }

    void set_error(connection_impl& impl, std::string message) {
        if (error_) return;
        error_ = client_errc::unexpected_result;
        diag_ = impl.client_diagnostics(std::move(message));
    }

    // Discards COPY OUT data so the connection stays usable.
    std::optional<step> read_copy_out_rows(connection_impl& impl) {
        for (;;) {
            char* buf = nullptr;
            int n = PQgetCopyData(impl.pg, &buf, 1);
            if (buf) PQfreemem(buf);
            if (n > 0) continue;
            if (n == 0) {
                state_ = state::copy_out;
                return step::read();
            }
            if (n == -1) return std::nullopt; // done: results follow
            return lost(impl);
        }
    }
    step read_copy_out(connection_impl& impl) {
        if (state_ == state::copy_out) {
            if (!PQconsumeInput(impl.pg)) return lost(impl);
            impl.drain_notifications();
        }
        if (std::optional<step> s = read_copy_out_rows(impl)) return *s;
        state_ = state::reading;
        return read(impl, false);
    }

    step finished(connection_impl& impl) {
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
        // As in finished(): keep a SQLSTATE that says the session ended, else report the loss.
        error_code ec = error_ && is_fatal(error_) ? error_ : error_code(client_errc::connection_lost);
        impl.close();
        return fail(impl, ec, std::move(d));
    }

    // Cancelled, timed out or the socket failed: the server may still be running the command,
    // so the connection cannot be reused.
    step abandon(connection_impl& impl, error_code ec) {
        impl.close();
        if (ec == asio::error::operation_aborted)
            return fail(impl, ec, "operation cancelled; connection closed");
        if (ec == client_errc::timeout) return fail(impl, ec, "operation timed out; connection closed");
        return fail(impl, client_errc::connection_lost, "socket error: " + ec.message());
    }

    std::string_view sql_;               // valid during start() only
    std::span<const param_ref> params_;  // valid during start() only
    bool extended_;
    const error_with_diagnostics* refused_; // valid during start() only
    state state_ = state::reading;
    result result_;
    error_code error_;
    diagnostics diag_;
};

} // namespace
} // namespace detail

void connection::async_execute_erased(impl_ptr impl, std::string_view sql,
                                      std::span<const param_ref> params, bool extended,
                                      diagnostics* diag, const error_with_diagnostics* refused,
                                      handler<void(error_code, result)> h) {
    detail::run<void(error_code, result)>(std::move(impl),
                                          detail::execute_machine(sql, params, extended, diag, refused),
                                          std::move(h));
}

} // namespace asiopg
