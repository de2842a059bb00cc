#ifndef ASIOPG_TRANSACTION_TWO_PHASE_HPP
#define ASIOPG_TRANSACTION_TWO_PHASE_HPP

// Two-phase commit: a transaction is prepared with `transaction::async_prepare(gid)`, then
// committed or rolled back later, from any session, by its global identifier. The server needs
// `max_prepared_transactions` > 0. A prepared transaction holds its locks until it is resolved:
// resolve it, or list the forgotten ones with async_list_prepared.

#include <asiopg/detail/erase_handler.hpp>
#include <asiopg/connection.hpp>
#include <asiopg/detail/initiate.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/deferred.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace asiopg {

/// A transaction waiting in the prepared state (a row of `pg_prepared_xacts`).
struct prepared_transaction {
    std::string gid;
    std::chrono::system_clock::time_point prepared;
    std::string owner;
    std::string database;
};

namespace detail {
enum class prepared_action { commit, rollback };
void async_resolve_prepared_erased(connection& conn, prepared_action action, std::string gid, diagnostics* diag,
                                   boost::asio::any_completion_handler<void(error_code)> h);
void async_list_prepared_erased(connection& conn, diagnostics* diag,
                                boost::asio::any_completion_handler<void(error_code, std::vector<prepared_transaction>)> h);

struct resolve_prepared_initiation {
    connection* conn;
    prepared_action action;
    using executor_type = connection::executor_type;
    executor_type get_executor() const noexcept { return conn->get_executor(); }
    template <class Handler>
    void operator()(Handler&& h, diagnostics* diag, std::string gid) const {
        async_resolve_prepared_erased(*conn, action, std::move(gid), diag,
                                      detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
    }
};
struct list_prepared_initiation {
    connection* conn;
    using executor_type = connection::executor_type;
    executor_type get_executor() const noexcept { return conn->get_executor(); }
    template <class Handler>
    void operator()(Handler&& h, diagnostics* diag) const {
        async_list_prepared_erased(
            *conn, diag,
            detail::erase_handler<void(error_code, std::vector<prepared_transaction>)>(std::forward<Handler>(h)));
    }
};
} // namespace detail

/// COMMIT PREPARED `gid` (outside a transaction block). Signature: `void(error_code)`;
/// `sqlstate::undefined_object` (42704) when no such prepared transaction exists.
template <class Token = boost::asio::deferred_t>
auto async_commit_prepared(connection& conn, std::string_view gid, Token&& token = {}) {
    return detail::initiate<void(error_code)>(
        detail::resolve_prepared_initiation{&conn, detail::prepared_action::commit}, std::forward<Token>(token),
        std::string(gid));
}

/// ROLLBACK PREPARED `gid`. Signature: `void(error_code)`.
template <class Token = boost::asio::deferred_t>
auto async_rollback_prepared(connection& conn, std::string_view gid, Token&& token = {}) {
    return detail::initiate<void(error_code)>(
        detail::resolve_prepared_initiation{&conn, detail::prepared_action::rollback}, std::forward<Token>(token),
        std::string(gid));
}

/// The prepared transactions of the server, oldest first.
/// Signature: `void(error_code, std::vector<prepared_transaction>)`.
template <class Token = boost::asio::deferred_t>
auto async_list_prepared(connection& conn, Token&& token = {}) {
    return detail::initiate<void(error_code, std::vector<prepared_transaction>)>(
        detail::list_prepared_initiation{&conn}, std::forward<Token>(token));
}

} // namespace asiopg

#endif
