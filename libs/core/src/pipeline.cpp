// Explicit pipelines: every statement is queued in libpq's pipeline mode and flushed at once,
// then the results are read in order, one outcome per statement.
#include <asiopg/connection.hpp>
#include <asiopg/pipeline.hpp>

#include "client_error.hpp"
#include "driver.hpp"
#include "machine_base.hpp"
#include "session_state.hpp"
#include "statement_log.hpp"

#include <cstring>
#include <exception>
#include <optional>
#include <memory>
#include <unordered_map>

namespace asiopg {

// ---- building

std::size_t pipeline::store_text(std::string_view text) {
    const std::size_t at = arena_.size();
    arena_.append(text.data(), text.size());
    arena_.push_back('\0');
    return at;
}

pipeline& pipeline::add_encoded(std::string_view sql, std::span<const param_ref> ps) {
    if (std::string why = detail::unsendable_statement(sql, ps.size()); !why.empty())
        detail::throw_invalid_parameter("pipeline: " + why);
    for (std::size_t i = 0; i < ps.size(); ++i)
        if (ps[i].data && ps[i].format == data_format::text &&
            std::memchr(ps[i].data, 0, static_cast<std::size_t>(ps[i].length)))
            detail::throw_invalid_parameter("pipeline: " + detail::nul_in_text_parameter(i));
    const std::size_t arena_mark = arena_.size(), params_mark = params_.size();
    try {
        entry e{kind::query};
        e.text_offset = store_text(sql);
        e.text_length = sql.size();
        e.first_param = params_.size();
        e.params = ps.size();
        for (const param_ref& p : ps) {
            params_.push_back({arena_.size(), p.data ? p.length : -1, p.format, p.type});
            if (p.data) store_text({p.data, static_cast<std::size_t>(p.length)});
        }
        entries_.push_back(e);
        if (!changes_session_) changes_session_ = detail::may_change_session(sql);
    } catch (...) {
        arena_.resize(arena_mark);
        params_.resize(params_mark);
        throw;
    }
    ++statements_;
    return *this;
}

pipeline& pipeline::add_encoded(const statement& st, std::span<const param_ref> ps) {
    const statement::description* d = st.describe();
    if (!d) {
        detail::throw_client_error(client_errc::invalid_statement,
                                   "pipeline: the statement is not prepared (default-constructed)");
    }
    // The statement fixed its parameters' types: a value of another type goes as text, for the
    // server to convert (an int where a bigint is expected …).
    std::vector<param_ref> converted(ps.begin(), ps.end());
    std::vector<std::string> texts(ps.size());
    for (std::size_t i = 0; i < ps.size() && i < d->param_types.size(); ++i) {
        const param_ref& p = ps[i];
        oid wanted = d->param_types[i];
        if (p.data && p.format == data_format::binary && wanted != 0 && wanted != p.type) {
            detail::decode_text({{p.data, static_cast<std::size_t>(p.length)}, data_format::binary, p.type}, texts[i]);
            converted[i] = {texts[i].c_str(), static_cast<int>(texts[i].size()), data_format::text, wanted};
        }
    }
    const bool changed_before = changes_session_;
    add_encoded(std::string_view(d->name), converted); // classified the name: undone below
    changes_session_ = changed_before || detail::may_change_session(st.sql());
    entry& e = entries_.back();
    e.what = kind::prepared;
    e.session = d->session;
    if (d->param_types.size() != ps.size()) e.session = 0; // reported when run: wrong parameter count
    return *this;
}

pipeline& pipeline::sync() {
    entries_.push_back({kind::sync});
    return *this;
}

void pipeline::clear() noexcept {
    arena_.clear();
    entries_.clear();
    params_.clear();
    statements_ = 0;
    changes_session_ = false;
}

namespace detail {

struct pipeline_access {
    class machine : public machine_base {
    public:
        static constexpr socket_use sockets = socket_use::stable;

        // Collects every outcome, or (`sink` given) hands each one over as it is complete.
        machine(const pipeline& p, diagnostics* diag_out, pipeline_sink sink = {})
            : machine_base(diag_out), p_(&p), sink_(std::move(sink)) {}

        step start(connection_impl& impl) {
            step rejected;
            if (!begin(impl, rejected, admission::wait)) return rejected;
            if (!waiter_) return run(impl);
            copy_ = std::make_unique<pipeline>(*p_); // the caller's may be gone by our turn
            p_ = copy_.get();
            return step::turn();
        }

        step on_turn(connection_impl& impl, asio::cancellation_type cancelled) {
            if (waiter_->st != waiter::state::turn) {
                if (cancelled == asio::cancellation_type::none) return step::turn();
                leave_queue(impl);
                return cancelled_unsent(impl, "pipeline");
            }
            if (cancelled != asio::cancellation_type::none)
                return cancelled_unsent(impl, "pipeline");
            return run(impl);
        }

        // The connection is this pipeline's alone.
        step run(connection_impl& impl) {
            if (!impl.connected()) return fail(impl, client_errc::not_connected, "the connection is not open");
            if (impl.transaction_abandoned) return refuse_abandoned_transaction(impl);
            statements_ = p_->statements_;
            if (!sink_) results_.reserve(statements_);
            if (p_->changes_session_) impl.session_changed = true;
            if (p_->entries_.empty()) return step::finish();
            if (impl.log.sink)
                log_.start(impl, "pipeline of " + std::to_string(statements_) + " statements", {}, {});
            if (!impl.enter_pipeline()) return fail(impl, client_errc::send_failed, impl.libpq_message());
            if (!send_all(impl)) {
                if (!impl.connected()) return lost(impl);
                std::string message = impl.libpq_message();
                impl.close(); // half a pipeline is queued: no way back to a known state
                return fail(impl, client_errc::send_failed, std::move(message));
            }
            p_ = nullptr; // everything is in libpq's buffer now
            copy_.reset();
            return flush(impl);
        }

        // Its log record, if the logger wants one (one for the whole pipeline).
        void finished(connection_impl& impl, error_code ec) {
            if (log_.active()) log_.finish(impl, ec);
        }

        step soft_cancel(connection_impl& impl) {
            if (!request_server_cancel(impl)) return abandon(impl, asio::error::operation_aborted, "pipeline");
            return resume(impl, {});
        }

        step resume(connection_impl& impl, error_code ec) {
            if (ec) return abandon(impl, ec, "pipeline");
            if (!impl.consume_input()) return lost_midway(impl);
            if (flushing_) return flush(impl);
            return read(impl);
        }

        template <class Self>
        void complete(Self& self, error_code ec) {
            if constexpr (requires { self.complete(ec); }) {
                self.complete(ec);
            } else {
                // Statements whose outcome never came (the operation failed first) say so.
                while (results_.size() < statements_) {
                    pipeline_result& unknown = results_.emplace_back();
                    unknown.error = ec ? ec : error_code(client_errc::connection_lost);
                    unknown.diag.message = "no outcome: the pipeline ended before this statement's result came";
                }
                self.complete(ec, std::move(results_));
            }
        }

    private:
        enum class item_kind : std::uint8_t { statement, refused, prepare, sync };
        struct item {
            item_kind what;
            std::size_t index = 0;              // refused: its outcome in refused_
            const std::string* key = nullptr;   // prepare: its cache key in pending_
        };
        struct pending_prepare {
            std::string name;
            std::size_t segment; // the sync segment it was sent in
        };

        // Queues every entry (and the statement cache's prepares) in libpq's buffer.
        bool send_all(connection_impl& impl) {
            PGconn* pg = impl.pg;
            const pipeline& p = *p_;
            items_.reserve(p.entries_.size() + 8);
            std::vector<const char*> values;
            std::vector<int> lengths, formats;
            std::vector<Oid> types;
            std::size_t segment = 0;
            auto& cache = impl.statements;
            const int format = static_cast<int>(impl.forced_format.value_or(data_format::text));
            for (const pipeline::entry& e : p.entries_) {
                if (e.what == pipeline::kind::sync) {
                    if (!PQpipelineSync(pg)) return false;
                    items_.push_back({item_kind::sync});
                    ++segment;
                    continue;
                }
                const std::size_t n = e.params;
                values.resize(n);
                lengths.resize(n);
                formats.resize(n);
                types.resize(n);
                for (std::size_t i = 0; i < n; ++i) {
                    const pipeline::stored_param& sp = p.params_[e.first_param + i];
                    values[i] = sp.length < 0 ? nullptr : p.arena_.data() + sp.offset;
                    lengths[i] = sp.length < 0 ? 0 : sp.length;
                    formats[i] = static_cast<int>(sp.format);
                    types[i] = sp.type;
                }
                const char* text = p.arena_.data() + e.text_offset;
                const int count = static_cast<int>(n);
                if (e.what == pipeline::kind::prepared) {
                    if (e.session != impl.session) { // never sent: its outcome is known now
                        pipeline_result& r = refused_.emplace_back();
                        r.error = client_errc::invalid_statement;
                        r.diag = impl.client_diagnostics(
                            "the statement was not prepared on this connection's current session, or takes "
                            "another number of parameters");
                        items_.push_back({item_kind::refused, refused_.size() - 1});
                        continue;
                    }
                    if (!PQsendQueryPrepared(pg, text, count, values.data(), lengths.data(), formats.data(), format))
                        return false;
                    items_.push_back({item_kind::statement});
                    continue;
                }
                std::string_view sql(text, e.text_length);
                const std::string* name = nullptr;
                if (cache.capacity > 0) {
                    auto& entry = cache.touch(sql, types);
                    if (!entry.name.empty()) {
                        name = &entry.name;
                    } else if (auto it = pending_.find(entry.key); it != pending_.end()) {
                        // Prepared by this pipeline, not yet confirmed: only statements of the
                        // same sync segment may use it (an earlier failure in that segment skips
                        // the prepare and them alike); later segments go unnamed.
                        if (it->second.segment == segment) name = &it->second.name;
                    } else if (entry.uses >= cache.prepare_threshold) {
                        // The cache learns the name only once the server confirms the prepare.
                        auto [at, _] = pending_.emplace(entry.key, pending_prepare{impl.next_statement_name(), segment});
                        if (!PQsendPrepare(pg, at->second.name.c_str(), text, count, types.data())) return false;
                        items_.push_back({item_kind::prepare, 0, &at->first});
                        name = &at->second.name;
                    }
                }
                int ok = name ? PQsendQueryPrepared(pg, name->c_str(), count, values.data(), lengths.data(),
                                                    formats.data(), format)
                              : PQsendQueryParams(pg, text, count, types.data(), values.data(), lengths.data(),
                                                  formats.data(), format);
                if (!ok) return false;
                items_.push_back({item_kind::statement});
            }
            if (p.entries_.back().what != pipeline::kind::sync) {
                if (!PQpipelineSync(pg)) return false;
                items_.push_back({item_kind::sync});
            }
            return true;
        }

        step flush(connection_impl& impl) {
            switch (PQflush(impl.pg)) {
            case 0: flushing_ = false; return read(impl);
            case 1: flushing_ = true; return step::read_or_write();
            default: return lost_midway(impl);
            }
        }

        // Hands every complete result to its statement, in order.
        step read(connection_impl& impl) {
            while (cursor_ < items_.size()) {
                item& it = items_[cursor_];
                if (it.what == item_kind::refused) { // no result from the server: known since send_all
                    current_ = std::move(refused_[it.index]);
                    ++cursor_;
                    if (!deliver(impl)) return given_up(impl);
                    continue;
                }
                if (PQisBusy(impl.pg)) break;
                PGresult* res = PQgetResult(impl.pg);
                if (!res) { // the end of one statement's results
                    if (it.what == item_kind::sync) {
                        if (PQstatus(impl.pg) == CONNECTION_BAD) return lost_midway(impl); // no sync will come
                        continue;
                    }
                    ++cursor_;
                    if (it.what == item_kind::statement && !deliver(impl)) return given_up(impl);
                    continue;
                }
                switch (PQresultStatus(res)) {
                case PGRES_PIPELINE_SYNC:
                    PQclear(res);
                    ++cursor_;
                    failed_prepare_.reset();
                    continue;
                case PGRES_TUPLES_OK:
                case PGRES_COMMAND_OK:
                case PGRES_EMPTY_QUERY:
                    if (it.what == item_kind::statement && !current_.error) {
                        result_access::append(current_.value, res);
                        continue;
                    }
                    if (it.what == item_kind::prepare) confirm_prepared(impl, *it.key);
                    break;
                case PGRES_FATAL_ERROR:
                    if (it.what == item_kind::prepare) {
                        failed_prepare_ = diagnostics_from(res); // reported by the statement it was for
                    } else if (it.what == item_kind::statement) {
                        record(current_, diagnostics_from(res));
                    }
                    break;
                case PGRES_PIPELINE_ABORTED:
                    if (it.what == item_kind::statement) {
                        if (failed_prepare_) {
                            record(current_, std::move(*failed_prepare_));
                            failed_prepare_.reset();
                        } else {
                            current_.error = client_errc::pipeline_aborted;
                            current_.diag = impl.client_diagnostics(current_.error.message());
                        }
                    }
                    break;
                default: // COPY: not possible in pipeline mode; anything else cannot be followed
                    PQclear(res);
                    impl.close();
                    return fail(impl, client_errc::unexpected_result, "unexpected result status in a pipeline");
                }
                PQclear(res);
            }
            if (cursor_ < items_.size()) return step::read();
            if (!PQexitPipelineMode(impl.pg)) {
                impl.close();
                return fail(impl, client_errc::unexpected_result, impl.libpq_message());
            }
            if (cancel_sent_ && cancelled_) {
                error_ = cancelled_->first;
                diag_ = std::move(cancelled_->second);
            }
            if (!error_ && sink_error_) {
                error_ = client_errc::result_handler_failed;
                diag_ = impl.client_diagnostics("on_result threw: " + *sink_error_);
            }
            return command_done(impl);
        }

        // The statement being read is complete: to the results, or to the caller's function.
        // False when that function took the connection from the pipeline (closed it …).
        bool deliver(connection_impl& impl) {
            pipeline_result r = std::move(current_);
            current_ = pipeline_result{};
            // What the operation's own outcome may need once the results are gone.
            if (r.error == sqlstate::query_canceled && !cancelled_) cancelled_.emplace(r.error, r.diag);
            if (r.error && is_fatal(r.error) && !r.diag.sqlstate.empty() && !fatal_) fatal_.emplace(r.error, r.diag);
            const std::size_t index = delivered_++;
            if (!sink_) {
                results_.push_back(std::move(r));
                return true;
            }
            if (sink_error_) return true; // it threw before: the rest is discarded
            try {
                sink_(index, std::move(r));
            } catch (const std::exception& e) {
                sink_error_ = e.what();
            } catch (...) {
                sink_error_ = "an exception not derived from std::exception";
            }
            return impl.active_op == id_;
        }

        // on_result closed the connection (or started a new connect) from inside the pipeline.
        step given_up(connection_impl& impl) {
            return fail(impl, asio::error::operation_aborted,
                        "operation aborted: the connection was closed by the pipeline's on_result");
        }

        static void record(pipeline_result& r, diagnostics d) {
            r.error = d.sqlstate.empty() ? error_code(client_errc::connection_lost) : make_sqlstate_error(d.sqlstate);
            r.diag = std::move(d);
            r.value = result{};
        }

        // The server prepared a statement for the cache: its entry uses it from now on — or, if
        // the entry was evicted meanwhile (or named by another route), it is deallocated later.
        void confirm_prepared(connection_impl& impl, const std::string& key) {
            std::string& name = pending_.find(key)->second.name;
            auto& cache = impl.statements;
            auto at = cache.index.find(key);
            if (at != cache.index.end() && at->second->name.empty()) at->second->name = std::move(name);
            else cache.to_deallocate.push_back(std::move(name));
        }

        // The connection broke: a FATAL error one statement received (57P01 when the backend was
        // terminated) says why better than libpq's "connection closed".
        step lost_midway(connection_impl& impl) {
            if (!error_ && current_.error && is_fatal(current_.error) && !current_.diag.sqlstate.empty()) {
                error_ = current_.error;
                diag_ = current_.diag;
            } else if (!error_ && fatal_) {
                error_ = fatal_->first;
                diag_ = std::move(fatal_->second);
            }
            return lost(impl);
        }

        const pipeline* p_; // valid during start() only, or until run() when it is copy_
        std::unique_ptr<pipeline> copy_; // a pipeline that waited for its turn
        pipeline_sink sink_;             // empty: collect into results_
        std::optional<std::string> sink_error_; // what the sink threw
        std::vector<pipeline_result> results_;
        pipeline_result current_;        // the statement being read
        std::size_t statements_ = 0, delivered_ = 0;
        statement_log log_;
        std::vector<pipeline_result> refused_; // outcomes of statements never sent
        // The first query_canceled and the first fatal outcome (once delivered, results may be gone).
        std::optional<std::pair<error_code, diagnostics>> cancelled_, fatal_;
        std::vector<item> items_;
        // Statements the pipeline prepares for the cache, by cache key (node-based: items point at keys).
        std::unordered_map<std::string, pending_prepare> pending_;
        std::size_t cursor_ = 0;
        std::optional<diagnostics> failed_prepare_;
        bool flushing_ = false;
    };
};

} // namespace detail

void connection::async_pipeline_erased(impl_ptr impl, const pipeline& p, diagnostics* diag,
                                       handler<void(error_code, std::vector<pipeline_result>)> h) {
    detail::run<void(error_code, std::vector<pipeline_result>)>(std::move(impl), detail::pipeline_access::machine(p, diag),
                                                                std::move(h));
}

void connection::async_pipeline_each_erased(impl_ptr impl, const pipeline& p, detail::pipeline_sink sink,
                                            diagnostics* diag, handler<void(error_code)> h) {
    detail::run<void(error_code)>(std::move(impl), detail::pipeline_access::machine(p, diag, std::move(sink)),
                                  std::move(h));
}

} // namespace asiopg
