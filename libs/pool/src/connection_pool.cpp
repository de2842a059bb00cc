// connection_pool and pooled_connection: the public members over pool_impl.
#include <asiopg/pool/connection_pool.hpp>

#include "pool_impl.hpp"

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>

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
    };
    std::shared_ptr<detail::pool_impl> pool;
    std::unique_ptr<statement_data> data;
    diagnostics* diag;
    pooled_connection conn{};
    bool started = false;

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
            auto pool_copy = pool;
            return pool_copy->acquire(diag, detail::erase_handler<void(error_code, pooled_connection)>(std::move(self)));
        }
        // The parameters could not be encoded: nothing was sent.
        if (diag) *diag = data->refused->get_diagnostics();
        self.complete(data->refused->code(), result{});
    }

    template <class Self>
    void operator()(Self& self, error_code ec, pooled_connection c) {
        if (ec) return self.complete(ec, result{});
        conn = std::move(c);
        connection& cn = *conn;
        statement_data& d = *data;
        if (d.ps) cn.async_execute(d.sql, *d.ps, std::move(self));
        else cn.async_execute(d.sql, std::move(self));
    }

    template <class Self>
    void operator()(Self& self, error_code ec, result r) {
        if (ec && diag) *diag = conn->get_diagnostics();
        conn.release();
        self.complete(ec, std::move(r));
    }
};

} // namespace

void connection_pool::async_execute_erased(impl_ptr impl, std::string sql, std::optional<param_buffer> ps,
                                           std::optional<error_with_diagnostics> refused, diagnostics* diag,
                                           handler<void(error_code, result)> h) {
    auto ex = impl->get_executor();
    asio::async_compose<handler<void(error_code, result)>, void(error_code, result)>(
        pool_execute_op{std::move(impl),
                        std::make_unique<pool_execute_op::statement_data>(
                            pool_execute_op::statement_data{std::move(sql), std::move(ps), std::move(refused)}),
                        diag},
        h, ex);
}

} // namespace asiopg
