// Internal: one statement on a connection as a small composed operation, and a refusal that
// completes without running anything. Shared by transactions, savepoints and two-phase commit.
#ifndef ASIOPG_TRANSACTION_SRC_STATEMENT_OP_HPP
#define ASIOPG_TRANSACTION_SRC_STATEMENT_OP_HPP

#include <asiopg/connection.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <string>
#include <tuple>
#include <utility>

namespace asiopg::detail {

namespace asio = boost::asio;

// Runs one statement on `conn` — and then, if given, a second one whose outcome is ignored —
// and completes with what `finish(ec, result&)` makes of the first (a tuple of the completion's
// arguments). The SQL lives on the heap: a statement is started with a view of it while this
// object moves into the statement's handler.
template <class Finish>
struct statement_op {
    connection* conn;
    std::unique_ptr<std::string> sql;
    Finish finish;
    diagnostics* diag;
    std::unique_ptr<std::string> then{};
    error_code first_ec{};
    result first{};
    bool second = false;

    template <class Self>
    void operator()(Self& self) {
        // Partial and total cancellation reach the statement too (async_compose passes on
        // terminal only): a cancel request, after which the statement ends with 57014 — a
        // COMMIT then rolled back — or normally, and the connection stays usable.
        self.reset_cancellation_state(asio::enable_total_cancellation());
        std::string_view q = *sql;
        conn->async_execute(q, std::move(self));
    }
    template <class Self>
    void operator()(Self& self, error_code ec, result r) {
        if (then && !second) {
            second = true;
            first_ec = ec;
            first = std::move(r);
            if (ec && diag && diag->empty()) *diag = conn->get_diagnostics();
            std::string_view q = *then;
            return conn->async_execute(q, std::move(self));
        }
        if (second) {
            ec = first_ec;
            r = std::move(first);
        }
        auto args = finish(ec, r);
        if (std::get<0>(args) && diag && diag->empty()) *diag = conn->get_diagnostics();
        std::apply([&](auto&&... a) { self.complete(std::move(a)...); }, std::move(args));
    }
};

template <class Sig, class Handler, class Finish>
void run_statement(connection& conn, std::string sql, diagnostics* diag, Handler h, Finish finish,
                   std::string then = {}) {
    auto ex = conn.get_executor();
    statement_op<Finish> op{&conn, std::make_unique<std::string>(std::move(sql)), std::move(finish), diag};
    if (!then.empty()) op.then = std::make_unique<std::string>(std::move(then));
    asio::async_compose<Handler, Sig>(std::move(op), h, ex);
}

// Completes `h` with `ec` (and default values) without running anything — later, never inline.
template <class... Ts, class Handler>
void refuse(const connection::executor_type& ex, Handler h, diagnostics* diag, error_code ec, std::string message) {
    if (diag) {
        diag->clear();
        diag->message = std::move(message);
    }
    asio::post(ex, asio::append(std::move(h), ec, Ts{}...));
}

} // namespace asiopg::detail

#endif
