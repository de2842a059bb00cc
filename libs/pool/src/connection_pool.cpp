// connection_pool and pooled_connection: the public members over pool_impl.
#include <asiopg/pool/connection_pool.hpp>

#include "pool_impl.hpp"
#include "../../core/src/session_state.hpp" // may_share_connection: core's, compiled there

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace asiopg {

namespace asio = boost::asio;

connection_pool::connection_pool(executor_type ex, pool_params params)
    : impl_(std::make_shared<detail::pool_impl>(std::move(ex), std::move(params))) {
    impl_->start();
}

connection_pool& connection_pool::operator=(connection_pool&& other) noexcept {
    if (this != &other) {
        if (impl_) impl_->close();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

connection_pool::~connection_pool() {
    if (impl_) impl_->close();
}

connection_pool::executor_type connection_pool::get_executor() const noexcept { return impl_->get_executor(); }
connection_pool::executor_type connection_pool::executor_of(const impl_ptr& impl) noexcept {
    return impl->get_executor();
}

void connection_pool::close() noexcept {
    if (impl_) impl_->close();
}
void connection_pool::terminate() noexcept {
    if (impl_) impl_->terminate();
}
void connection_pool::clear() noexcept {
    if (impl_) impl_->clear();
}
bool connection_pool::is_closed() const noexcept { return !impl_ || impl_->is_closed(); }
pool_stats connection_pool::stats() const { return impl_ ? impl_->stats() : pool_stats{}; }
diagnostics connection_pool::last_connect_error() const { return impl_ ? impl_->last_connect_error() : diagnostics{}; }
const pool_params& connection_pool::params() const noexcept { return impl_->params(); }

void connection_pool::async_acquire_erased(impl_ptr impl, diagnostics* diag,
                                           handler<void(error_code, pooled_connection)> h) {
    impl->acquire(diag, std::move(h));
}

void connection_pool::async_wait_closed_erased(impl_ptr impl, handler<void(error_code)> h) {
    impl->wait_closed(std::move(h));
}

void pooled_connection::give_back(std::shared_ptr<detail::pool_impl> pool, std::uint64_t node, bool reset) noexcept {
    if (pool) pool->give_back(node, reset);
}

namespace {

// acquire → execute → release, as one composed operation: the caller's cancellation slot reaches
// the acquire and then the statement.
struct pool_execute_op {
    // On the heap: the statement is started with a reference to them while this object moves
    // into the statement's handler.
    struct statement_data {
        std::string sql;
        std::optional<param_buffer> ps;
        std::optional<error_with_diagnostics> refused;
        // A shared statement's: its diagnostics (built only then: a large object), and its
        // cancellation, on its connection's strand.
        std::optional<diagnostics> diag;
        std::shared_ptr<asio::cancellation_signal> cancel;
    };
    std::shared_ptr<detail::pool_impl> pool;
    std::unique_ptr<statement_data> data;
    diagnostics* diag;
    pooled_connection conn{};
    bool started = false;
    bool shareable = false; // may join a connection other statements are using

    template <class Self>
    void operator()(Self& self) {
        if (!started) {
            started = true;
            // Every cancellation type reaches the acquire (and then the statement).
            self.reset_cancellation_state(asio::enable_total_cancellation());
            if (data->refused) {
                auto ex = pool->get_executor();
                return asio::post(ex, std::move(self)); // never inline
            }
            shareable = pool->multiplexing() && detail::may_share_connection(data->sql);
            auto pool_copy = pool;
            return pool_copy->acquire(diag, detail::erase_handler<void(error_code, pooled_connection)>(std::move(self)),
                                      shareable);
        }
        // The parameters could not be encoded: nothing was sent.
        if (diag) *diag = data->refused->get_diagnostics();
        self.complete(data->refused->code(), result{});
    }

    template <class Self>
    void operator()(Self& self, error_code ec, pooled_connection c) {
        if (ec) return self.complete(ec, result{});
        conn = std::move(c);
        connection* cn = &*conn;
        statement_data* d = data.get();
        if (!shareable) return start(*cn, *d, std::move(self));
        // Other statements may be using this connection, with other executors (threads): they all
        // run on its strand (its executor) and go back to their own executor to complete (posted
        // from a real strand, so that a caller's handler never holds the connection's strand).
        auto strand = cn->get_executor();
        const bool real_strand = strand.target<asio::strand<asio::any_io_executor>>() != nullptr;
        // The caller's cancellation reaches the statement on the strand, and as partial: terminal
        // cancellation would give the connection up with every statement sharing it. A shared
        // statement is cancelled on the server instead (or, not sent yet, dropped); its
        // neighbours are untouched.
        d->diag.emplace();
        d->cancel = std::make_shared<asio::cancellation_signal>();
        if (auto caller = self.get_cancellation_state().slot(); caller.is_connected()) {
            caller.assign([signal = d->cancel, strand](asio::cancellation_type) {
                asio::dispatch(strand, [signal] { signal->emit(asio::cancellation_type::partial); });
            });
        }
        // (Posted through the pool's executor: asio::post cannot take the handler's own, an
        // any_completion_executor; the handler still runs on its own.)
        auto io = real_strand ? pool->get_executor() : asio::any_io_executor();
        asio::dispatch(strand, [cn, d, strand, io, self = std::move(self)]() mutable {
            auto back = [self = std::move(self), io](error_code ec, result r) mutable {
                if (io) asio::post(io, asio::append(std::move(self), ec, std::move(r)));
                else asio::dispatch(asio::append(std::move(self), ec, std::move(r)));
            };
            auto h = asio::bind_cancellation_slot(d->cancel->slot(), asio::bind_executor(strand, std::move(back)));
            start(*cn, *d, detail::diagnostics_to<decltype(h)>{&*d->diag, std::move(h)});
        });
    }

    template <class Self>
    static void start(connection& cn, statement_data& d, Self&& self) {
        if (d.ps) cn.async_execute(d.sql, *d.ps, std::forward<Self>(self));
        else cn.async_execute(d.sql, std::forward<Self>(self));
    }

    template <class Self>
    void operator()(Self& self, error_code ec, result r) {
        if (ec && diag) *diag = shareable ? std::move(*data->diag) : conn->get_diagnostics();
        conn.release();
        self.complete(ec, std::move(r));
    }
};

} // namespace

void connection_pool::async_execute_erased(impl_ptr impl, std::string sql, std::optional<param_buffer> ps,
                                           std::optional<error_with_diagnostics> refused, diagnostics* diag,
                                           handler<void(error_code, result)> h) {
    auto ex = impl->get_executor();
    auto data = std::make_unique<pool_execute_op::statement_data>();
    data->sql = std::move(sql);
    if (ps) data->ps.emplace(std::move(*ps));
    if (refused) data->refused.emplace(std::move(*refused));
    asio::async_compose<handler<void(error_code, result)>, void(error_code, result)>(
        pool_execute_op{std::move(impl), std::move(data), diag}, h, ex);
}

} // namespace asiopg
