// Internal: the command machine — one command on the connection, in stages.
#ifndef ASIOPG_SRC_COMMAND_MACHINE_HPP
#define ASIOPG_SRC_COMMAND_MACHINE_HPP

#include <asiopg/connection.hpp>

#include "client_error.hpp"
#include "driver.hpp"
#include "machine_base.hpp"
#include "session_state.hpp"
#include "statement_log.hpp"

#include <cctype>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace asiopg::detail {

// One command on the connection: a simple query, an unnamed extended query, or a prepared
// statement — prepared on the fly for the automatic cache, or by async_prepare. A command runs
// in stages, each a round trip whose results end with PQgetResult returning NULL:
//   deallocate (statements evicted from the cache) → prepare → execute, or prepare → describe.
class command_machine : public machine_base {
public:
    static constexpr socket_use sockets = socket_use::stable;

    enum class kind { simple, extended, statement, prepare };

    command_machine(kind k, std::string_view sql, std::span<const param_ref> params, const statement* st,
                    diagnostics* diag_out, const error_with_diagnostics* refused)
        : machine_base(diag_out), kind_(k), sql_(sql), params_(params), statement_(st), refused_(refused) {}

    // Stream the rows (libpq's single-row mode): done once the command is sent; the rows are
    // read by async_read_rows, and the connection stays this stream's until the last one.
    void stream() noexcept { stream_ = true; }
    // Start a COPY: done once the server is in COPY IN (or OUT) mode; the connection then
    // belongs to the COPY (copy.cpp reads and writes its data).
    void expect_copy(connection_impl::hold_kind k) noexcept { copy_ = k; }

    step start(connection_impl& impl) {
        if (refused_) return fail(impl, refused_->code(), refused_->get_diagnostics());
        step rejected;
        if (!begin(impl, rejected, how_to_wait(impl))) return rejected;
        rollback_ = is_rollback(sql_);
        if (kind_ != kind::prepare && !impl.session_changed) impl.session_changed = may_change_session(sql_);
        if (std::optional<step> bad = store(impl)) return *bad;
        if (impl.log.sink && !sql_.empty()) log_.start(impl, kind_ == kind::prepare ? "prepare" : "statement", sql_, params_);
        if (!waiter_) return run_alone(impl);
        if (waiter_->may_pipeline) {
            waiter_->name = name_; // a statement's (fixed); else the cache decides when it is sent
            waiter_->fixed_name = kind_ == kind::statement;
            if (waiter_->fixed_name) waiter_->format = static_cast<int>(result_format(impl));
            // Sent now if the pipeline runs and nothing unsent waits before it; else when the
            // connection is handed to the first of a run of queued parameterised queries.
            if (impl.may_join_pipeline()) impl.send_pipelined(*waiter_);
        }
        // Queued on an idle connection (eager pipelining): admitted now, which enters pipeline
        // mode and sends it, so that queries started while it runs are sent at once too.
        if (impl.active_op == 0) impl.admit_next();
        return step::turn();
    }

    // The command is over (the driver calls this once): its log record, if the logger wants one.
    void finished(connection_impl& impl, error_code ec) {
        if (log_.active()) log_.finish(impl, ec);
    }

    // The turn came (or a cancellation while waiting; or nothing yet: wait on).
    step on_turn(connection_impl& impl, asio::cancellation_type cancelled) {
        waiter& w = *waiter_;
        const bool cancel = cancelled != asio::cancellation_type::none;
        if (w.st != waiter::state::turn) {
            if (!cancel) return step::turn();
            if (w.st == waiter::state::queued) { // nothing of it reached the server
                leave_queue(impl);
                return cancelled_unsent(impl, "command");
            }
            w.cancel_wanted = true; // sent: the server runs it, so cancel it there once it is the one running
            return step::turn();
        }
        if (!w.pipelined) {
            if (cancel) return cancelled_unsent(impl, "command");
            return run_alone(impl);
        }
        // Its results are next in libpq's buffer (maybe already there).
        state_ = state::pipelined;
        name_ = w.name;
        if ((cancel || w.cancel_wanted) && !request_server_cancel(impl))
            return abandon(impl, asio::error::operation_aborted, "command");
        return pump(impl, false);
    }
    // Partial or total cancellation: ask the server to cancel the command (once), then go on
    // reading — the command ends with query_canceled (57014), or normally if it was done, and
    // the connection stays usable. If no cancel request can be sent, or the command has not
    // ended `cancel_bound` later, the connection is given up as for terminal cancellation.
    step soft_cancel(connection_impl& impl) {
        if (!request_server_cancel(impl)) return abandon(impl, asio::error::operation_aborted, "command");
        return resume(impl, {});
    }

    step resume(connection_impl& impl, error_code ec) {
        if (ec) return abandon(impl, ec, "command");
        switch (state_) {
        case state::pipelined: return pump(impl, true);
        case state::flushing:
            if (!impl.consume_input()) return lost(impl);
            return flush(impl);
        case state::copy_out: return read_copy_out(impl);
        default: return read(impl, true);
        }
    }

protected:
    // What an abandoned transaction still accepts: a ROLLBACK of the whole transaction (any
    // case, after blanks; "ROLLBACK", "ROLLBACK;…", "ROLLBACK WORK|TRANSACTION") — not
    // "ROLLBACK TO SAVEPOINT", which would keep it going.
    static bool is_rollback(std::string_view sql) noexcept {
        auto word_at = [&](std::size_t i, std::string_view w) {
            if (sql.size() - i < w.size()) return false;
            for (std::size_t k = 0; k < w.size(); ++k)
                if ((sql[i + k] & ~0x20) != w[k]) return false;
            return sql.size() - i == w.size() || !std::isalnum(static_cast<unsigned char>(sql[i + w.size()]));
        };
        std::size_t i = sql.find_first_not_of(" \t\r\n");
        if (i == std::string_view::npos || !word_at(i, "ROLLBACK")) return false;
        std::size_t next = sql.find_first_not_of(" \t\r\n", i + 8);
        return next == std::string_view::npos || !word_at(next, "TO");
    }

    enum class state { flushing, reading, copy_out, pipelined };

    // Streams and COPY hold the connection between calls: they never wait for it.
    // A query without parameters is pipelined too (with the extended protocol, as one statement
    // gives the same results) unless its text may hold several statements or a COPY; those wait.
    admission how_to_wait(const connection_impl& impl) const noexcept {
        if (stream_ || copy_) return admission::refuse;
        switch (kind_) {
        case kind::extended:
        case kind::statement: return impl.eager_pipelining ? admission::eager : admission::pipeline;
        case kind::simple: return single_statement(sql_) ? admission::pipeline : admission::wait;
        case kind::prepare: break;
        }
        return admission::wait;
    }
    static bool single_statement(std::string_view sql) noexcept {
        if (sql.find(';') != std::string_view::npos) return false;
        std::size_t i = sql.find_first_not_of(" \t\r\n(");
        if (i == std::string_view::npos || sql.size() - i < 4) return true;
        return (sql[i] & ~0x20) != 'C' || (sql[i + 1] & ~0x20) != 'O' || (sql[i + 2] & ~0x20) != 'P' ||
               (sql[i + 3] & ~0x20) != 'Y';
    }

    // The query of this operation: its own when it waited, else the connection's reused one.
    encoded_query& q(connection_impl& impl) noexcept { return waiter_ ? waiter_->query : impl.query; }
    std::string_view sql_text(connection_impl& impl) noexcept { return {q(impl).text.data(), sql_size_}; }

    // The connection is this operation's alone (not in pipeline mode).
    step run_alone(connection_impl& impl) {
        if (!impl.connected()) return fail(impl, client_errc::not_connected, "the connection is not open");
        if (impl.transaction_abandoned && !rollback_) return refuse_abandoned_transaction(impl);
        return plan(impl);
    }

    // A query sent in pipeline mode, now at the head: flushes what libpq still holds (this
    // query's or later ones'), then reads its results up to its sync.
    step pump(connection_impl& impl, bool consume) {
        if (consume && !impl.consume_input()) return lost(impl);
        const int flushed = PQflush(impl.pg);
        if (flushed < 0) return lost(impl);
        while (!PQisBusy(impl.pg)) {
            PGresult* res = PQgetResult(impl.pg);
            if (!res) { // the end of this query's results; its sync follows
                if (PQstatus(impl.pg) == CONNECTION_BAD) return lost(impl);
                continue;
            }
            if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
                PQclear(res);
                return pipelined_done(impl);
            }
            if (std::optional<step> s = on_result(impl, res)) return *s;
        }
        return flushed == 1 ? step::read_or_write() : step::read();
    }

    // A cancel request is a signal to the backend: if the query it was meant for ended first, it
    // lands on whatever runs next — in a pipeline, the next query, already sent. Such a query
    // fails with 57014 it never asked for; outside a transaction block that failure rolled it
    // back, so it is run again, once (after the queries sent meanwhile).
    step pipelined_done(connection_impl& impl) {
        waiter& w = *waiter_;
        const bool canceled = error_ == sqlstate::query_canceled;
        if (canceled && !cancel_sent_ && impl.stray_cancel && !retried_ && impl.connected() &&
            PQtransactionStatus(impl.pg) == PQTRANS_IDLE) {
            impl.stray_cancel = false;
            retried_ = true;
            error_ = {};
            diag_ = {};
            result_ = result{};
            impl.requeue(w);
            return step::turn();
        }
        if (canceled) impl.stray_cancel = false;
        else if (cancel_sent_) impl.stray_cancel = true;
        const bool stale = error_ == sqlstate::feature_not_supported || error_ == sqlstate::invalid_sql_statement_name;
        if (stale && !w.fixed_name && !name_.empty()) { // prepare afresh next time
            for (auto& entry : impl.statements.lru)
                if (entry.name == name_) entry.forget();
        }
        return command_done(impl);
    }
    enum class stage { deallocate, prepare, describe, execute };

    // Copies the SQL and every parameter into the connection's reused buffers: libpq needs
    // C strings, and a prepare round trip may come before the values are sent.
    std::optional<step> store(connection_impl& impl) {
        const std::size_t n = params_.size();
        if (std::string why = unsendable_statement(sql_, n); !why.empty())
            return fail(impl, client_errc::invalid_parameter, std::move(why));
        encoded_query& query = q(impl);
        std::string& text = query.text;
        text.assign(sql_.data(), sql_.size());
        sql_size_ = sql_.size();
        text.push_back('\0');
        if (kind_ == kind::statement) {
            const statement::description* d = statement_->describe();
            if (!d || d->session != impl.session)
                return fail(impl, client_errc::invalid_statement,
                            "the statement was not prepared on this connection's current session");
            if (d->param_types.size() != n)
                return fail(impl, client_errc::invalid_statement,
                            "the statement takes " + std::to_string(d->param_types.size()) + " parameters, " +
                                std::to_string(n) + " given");
            name_ = d->name;
            statement_columns_ = d->column_types;
        }
        query.lengths.assign(n, 0);
        query.formats.assign(n, 0);
        query.types.assign(n, 0);
        offsets_.assign(n, -1);
        std::string converted;
        for (std::size_t i = 0; i < n; ++i) {
            param_ref p = params_[i];
            if (kind_ == kind::statement && p.data && p.format == data_format::binary) {
                // The statement fixed this parameter's type: a value of another type goes as
                // text, for the server to convert (an int where a bigint is expected …).
                oid wanted = statement_->describe()->param_types[i];
                if (wanted != 0 && wanted != p.type) {
                    detail::decode_text({{p.data, static_cast<std::size_t>(p.length)}, data_format::binary, p.type},
                                        converted);
                    p = {converted.c_str(), static_cast<int>(converted.size()), data_format::text, wanted};
                }
            }
            query.formats[i] = static_cast<int>(p.format);
            query.types[i] = p.type;
            query.lengths[i] = p.length;
            if (!p.data) continue;
            if (p.format == data_format::text && std::memchr(p.data, 0, static_cast<std::size_t>(p.length)))
                return fail(impl, client_errc::invalid_parameter, nul_in_text_parameter(i));
            offsets_[i] = static_cast<long>(text.size());
            text.append(p.data, static_cast<std::size_t>(p.length));
            text.push_back('\0');
        }
        query.values.assign(n, nullptr);
        for (std::size_t i = 0; i < n; ++i)
            if (offsets_[i] >= 0) query.values[i] = text.data() + offsets_[i];
        return std::nullopt;
    }

    // Chooses the stages: the automatic cache decides between unnamed and prepared.
    step plan(connection_impl& impl) {
        switch (kind_) {
        case kind::simple:
            if (!PQsendQuery(impl.pg, q(impl).text.c_str())) return send_failed(impl);
            stage_ = stage::execute;
            if (stream_) impl.single_row_armed = PQsetSingleRowMode(impl.pg) == 1;
            return flush(impl);
        case kind::statement: return start_stage(impl, stage::execute);
        case kind::prepare:
            name_ = impl.next_statement_name();
            return start_stage(impl, deallocate_now(impl) ? stage::deallocate : stage::prepare);
        case kind::extended: break;
        }
        auto& cache = impl.statements;
        if (cache.capacity == 0) return start_stage(impl, stage::execute);
        cached_ = &cache.touch(sql_text(impl), q(impl).types);
        if (!cached_->name.empty()) {
            name_ = cached_->name;
            return start_stage(impl, stage::execute);
        }
        if (cached_->uses < cache.prepare_threshold) {
            cached_ = nullptr; // not yet worth a statement: unnamed this time
            return start_stage(impl, stage::execute);
        }
        name_ = impl.next_statement_name();
        return start_stage(impl, deallocate_now(impl) ? stage::deallocate : stage::prepare);
    }

    // Evicted statements are dropped before a prepare, but only outside a transaction block: a
    // DEALLOCATE that fails (the statement already gone) would abort the user's transaction.
    static bool deallocate_now(connection_impl& impl) {
        return !impl.statements.to_deallocate.empty() && PQtransactionStatus(impl.pg) == PQTRANS_IDLE;
    }

    step start_stage(connection_impl& impl, stage st) {
        stage_ = st;
        PGconn* pg = impl.pg;
        const encoded_query& query = q(impl);
        const int n = static_cast<int>(query.types.size());
        int ok = 0;
        switch (st) {
        case stage::deallocate: {
            std::string sql;
            for (const std::string& name : impl.statements.to_deallocate) sql += "DEALLOCATE " + name + ";";
            impl.statements.to_deallocate.clear();
            ok = PQsendQuery(pg, sql.c_str());
            break;
        }
        case stage::prepare:
            ok = PQsendPrepare(pg, name_.c_str(), query.text.c_str(), kind_ == kind::prepare ? 0 : n,
                               kind_ == kind::prepare ? nullptr : query.types.data());
            break;
        case stage::describe: ok = PQsendDescribePrepared(pg, name_.c_str()); break;
        case stage::execute: {
            const int format = static_cast<int>(result_format(impl));
            if (name_.empty())
                ok = PQsendQueryParams(pg, query.text.c_str(), n, query.types.data(),
                                       query.values.data(), query.lengths.data(),
                                       query.formats.data(), format);
            else
                ok = PQsendQueryPrepared(pg, name_.c_str(), n, query.values.data(), query.lengths.data(),
                                         query.formats.data(), format);
            break;
        }
        }
        if (!ok) return send_failed(impl);
        if (stream_ && st == stage::execute) impl.single_row_armed = PQsetSingleRowMode(pg) == 1;
        return flush(impl);
    }

    // Forced by the user, else binary where the result columns are known and it is faster.
    data_format result_format(const connection_impl& impl) const {
        if (impl.forced_format) return *impl.forced_format;
        if (kind_ == kind::statement) return prefers_binary(statement_columns_) ? data_format::binary : data_format::text;
        if (cached_ && cached_->described)
            return prefers_binary(cached_->columns) ? data_format::binary : data_format::text;
        return data_format::text;
    }

    // A stage's results are all in.
    step stage_done(connection_impl& impl) {
        switch (stage_) {
        case stage::deallocate:
            error_ = {}; // a statement already gone (DISCARD ALL) is fine
            diag_ = {};
            return start_stage(impl, stage::prepare);
        case stage::prepare:
            if (error_) return command_done(impl);
            if (kind_ == kind::prepare) return start_stage(impl, stage::describe);
            if (cached_) cached_->name = name_;
            return start_stage(impl, stage::execute);
        case stage::describe:
        case stage::execute: break;
        }
        // A cached plan whose result type changed (0A000) or a statement that vanished (26000):
        // prepare it again once — unless a transaction block is now aborted by the error.
        bool stale = error_ == sqlstate::feature_not_supported || error_ == sqlstate::invalid_sql_statement_name;
        if (stale && cached_ && !retried_ && PQtransactionStatus(impl.pg) == PQTRANS_IDLE) {
            retried_ = true;
            error_ = {};
            diag_ = {};
            result_ = result{};
            cached_->forget(); // the result type changed: learn it again
            name_ = impl.next_statement_name();
            return start_stage(impl, stage::prepare);
        }
        if (stale && cached_) cached_->forget(); // prepare afresh next time
        if (cached_ && !error_ && !cached_->described && result_.native_handle()) {
            const pg_result* last = result_.native_handle();
            for (int i = 0; i < PQnfields(last); ++i) cached_->columns.push_back(PQftype(last, i));
            cached_->described = true;
        }
        if (copy_) set_error(impl, *copy_ == connection_impl::hold_kind::copy_in ? "the statement is not a COPY … FROM STDIN"
                                                                               : "the statement is not a COPY … TO STDOUT");
        return command_done(impl);
    }

    step send_failed(connection_impl& impl) {
        if (!impl.connected()) return lost(impl);
        return fail(impl, client_errc::send_failed, impl.libpq_message());
    }

    // While libpq cannot write everything, also read: the server may be waiting for us to read.
    step flush(connection_impl& impl) {
        switch (PQflush(impl.pg)) {
        case 0:
            state_ = state::reading;
            if (stream_ && stage_ == stage::execute) {
                keep_ = true;
                impl.stream_op = id_;
                impl.hold = connection_impl::hold_kind::rows;
                return step::finish();
            }
            return read(impl, false);
        case 1: state_ = state::flushing; return step::read_or_write();
        default: return lost(impl);
        }
    }

    // Hands out every complete result before waiting again. `consume`: the socket was readable.
    step read(connection_impl& impl, bool consume) {
        if (consume) {
            if (!impl.consume_input()) return lost(impl);
        }
        while (!PQisBusy(impl.pg)) {
            PGresult* res = PQgetResult(impl.pg);
            if (!res) return stage_done(impl);
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
            if (stage_ == stage::describe && !error_) describe(impl, res);
            if (stage_ == stage::execute && !error_) result_access::append(result_, res);
            else PQclear(res);
            return std::nullopt;
        case PGRES_FATAL_ERROR:
            capture_error(res);
            PQclear(res);
            return std::nullopt;
        case PGRES_COPY_IN:
        case PGRES_COPY_OUT:
            if (copy_ && !error_ &&
                *copy_ == (PQresultStatus(res) == PGRES_COPY_IN ? connection_impl::hold_kind::copy_in
                                                                 : connection_impl::hold_kind::copy_out))
                return copy_started(impl, res);
            if (PQresultStatus(res) == PGRES_COPY_OUT) {
                PQclear(res);
                set_error(impl, "COPY … TO STDOUT runs through asiopg::copy_reader, not this operation; its rows were discarded");
                return read_copy_out(impl);
            }
            PQclear(res);
            set_error(impl, "COPY … FROM STDIN runs through asiopg::copy_writer, not this operation");
            if (PQputCopyEnd(impl.pg, "COPY FROM STDIN is not supported by this operation") < 0)
                return lost(impl);
            return flush(impl);
        default: // COPY BOTH (replication), pipeline states: nothing this operation can follow
            PQclear(res);
            set_error(impl, "unexpected result status from the server");
            impl.close();
            return command_done(impl);
        }
    }

    // The server waits for COPY data (or sends it): the connection is the COPY's until it ends.
    step copy_started(connection_impl& impl, PGresult* res) {
        copy_format_ = PQbinaryTuples(res) ? data_format::binary : data_format::text;
        copy_columns_ = static_cast<std::size_t>(PQnfields(res));
        PQclear(res);
        keep_ = true;
        impl.stream_op = id_;
        impl.hold = *copy_;
        return step::finish();
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
            if (!impl.consume_input()) return lost(impl);
        }
        if (std::optional<step> s = read_copy_out_rows(impl)) return *s;
        state_ = state::reading;
        return read(impl, false);
    }

    // The Describe of a statement this machine prepared.
    void describe(connection_impl& impl, const PGresult* res) {
        auto d = std::make_shared<statement::description>();
        d->name = name_;
        d->sql.assign(sql_text(impl));
        for (int i = 0; i < PQnparams(res); ++i) d->param_types.push_back(PQparamtype(res, i));
        for (int i = 0; i < PQnfields(res); ++i) {
            d->column_names.emplace_back(PQfname(res, i));
            d->column_types.push_back(PQftype(res, i));
        }
        described_ = std::move(d);
    }

    kind kind_;
    std::string_view sql_;               // valid during start() only (copied by store())
    std::size_t sql_size_ = 0;           // the SQL's length at the start of q().text
    bool rollback_ = false;              // the SQL is a ROLLBACK (see is_rollback)
    std::span<const param_ref> params_;  // valid during start() only
    const statement* statement_;         // valid during start() only
    const error_with_diagnostics* refused_; // valid during start() only
    std::vector<long> offsets_;
    std::string name_;                   // the prepared statement used, empty: unnamed
    connection_impl::cached_statement* cached_ = nullptr; // the cache entry, if any
    bool retried_ = false;
    std::vector<Oid> statement_columns_; // result columns of an explicit statement
    bool stream_ = false;
    std::optional<connection_impl::hold_kind> copy_;
    data_format copy_format_ = data_format::text;
    std::size_t copy_columns_ = 0;
    state state_ = state::reading;
    stage stage_ = stage::execute;
    result result_;
    std::shared_ptr<statement::description> described_;
    statement_log log_;
};


} // namespace asiopg::detail

#endif
