#ifndef ASIOPG_TRANSACTION_TRANSACTION_HPP
#define ASIOPG_TRANSACTION_TRANSACTION_HPP

#include <asiopg/detail/erase_handler.hpp>
#include <asiopg/connection.hpp>
#include <asiopg/detail/initiate.hpp>
#include <asiopg/error.hpp>
#include <asiopg/transaction/transaction_options.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/deferred.hpp>

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace asiopg {

namespace detail { struct transaction_state; }

class savepoint;

/// Where a transaction (or a savepoint) stands.
enum class transaction_state {
    none,        ///< an empty handle
    active,      ///< begun, not yet ended
    committed,   ///< COMMIT succeeded (a savepoint: RELEASE succeeded)
    rolled_back, ///< rolled back: by async_rollback, or by the server after a failed COMMIT
    prepared,    ///< PREPARE TRANSACTION succeeded (two-phase commit)
    in_doubt,    ///< the connection failed while COMMIT was in flight
    abandoned,   ///< destroyed while active: the connection was marked (see `~transaction()`)
};

/// An explicit transaction on a connection: `async_begin`, statements on the connection,
/// then `async_commit` or `async_rollback`; nested savepoints to any depth with
/// `async_savepoint`. For a scope that commits or rolls back by itself (and retries), see
/// `async_transaction` (transaction/async_transaction.hpp).
///
/// Errors beyond the server's: `client_errc::transaction_in_progress` (BEGIN on a connection
/// already inside a transaction block), `client_errc::transaction_ended` (commit, rollback,
/// savepoint or prepare after the transaction ended), `client_errc::commit_in_doubt` (the
/// connection failed, or the operation was cancelled, while COMMIT was in flight: it may or
/// may not have committed; the connection is closed). A COMMIT of a transaction in which a
/// statement failed rolls it back, and `async_commit` reports that as
/// `sqlstate::in_failed_sql_transaction` (25P02) — never as success.
///
/// \par Lifetime
/// Operations need the connection: on an empty handle (default-constructed, moved from) or after
/// the connection was destroyed they throw `error_with_diagnostics`
/// (`client_errc::transaction_ended`) at once. Destroying an active
/// transaction does not roll it back (a destructor cannot wait for the server): it calls
/// `connection::abandon_transaction()`, so the connection refuses everything but ROLLBACK
/// (`client_errc::transaction_abandoned`) and a pool rolls it back on return.
///
/// \par Thread safety
/// As the connection's: one operation at a time, from one thread at a time.
class transaction {
public:
    transaction() noexcept = default;
    transaction(transaction&&) noexcept = default;
    /// Abandons the transaction this one held (as the destructor does), then takes `other`'s.
    transaction& operator=(transaction&& other) noexcept;
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    /// An active transaction is abandoned: see the class description.
    ~transaction();

    /// Sends `begin_statement(options)`. Signature: `void(error_code, transaction)`.
    template <class Token = boost::asio::deferred_t>
    static auto async_begin(connection& conn, const transaction_options& options, Token&& token = {}) {
        return detail::initiate<void(error_code, transaction)>(begin_initiation{&conn}, std::forward<Token>(token),
                                                               options);
    }
    template <class Token = boost::asio::deferred_t>
        requires(!std::is_same_v<std::remove_cvref_t<Token>, transaction_options>)
    static auto async_begin(connection& conn, Token&& token = {}) {
        return async_begin(conn, transaction_options{}, std::forward<Token>(token));
    }

    /// COMMIT. Signature: `void(error_code)`. See the class description for in-doubt commits.
    template <class Token = boost::asio::deferred_t>
    auto async_commit(Token&& token = {}) {
        check_usable(st_);
        return detail::initiate<void(error_code)>(end_initiation{st_, end_kind::commit}, std::forward<Token>(token),
                                                  std::string());
    }
    /// ROLLBACK. Signature: `void(error_code)`. The transaction counts as rolled back even when
    /// this fails because the connection is gone (the server then rolls it back itself).
    template <class Token = boost::asio::deferred_t>
    auto async_rollback(Token&& token = {}) {
        check_usable(st_);
        return detail::initiate<void(error_code)>(end_initiation{st_, end_kind::rollback}, std::forward<Token>(token),
                                                  std::string());
    }
    /// PREPARE TRANSACTION `gid` (two-phase commit): the transaction ends here and survives on
    /// the server until `async_commit_prepared` / `async_rollback_prepared` (any session).
    /// Needs `max_prepared_transactions` > 0 on the server. Signature: `void(error_code)`.
    template <class Token = boost::asio::deferred_t>
    auto async_prepare(std::string_view gid, Token&& token = {}) {
        check_usable(st_);
        return detail::initiate<void(error_code)>(end_initiation{st_, end_kind::prepare}, std::forward<Token>(token),
                                                  std::string(gid));
    }
    /// SAVEPOINT: a nested scope inside this transaction. Signature: `void(error_code, savepoint)`.
    template <class Token = boost::asio::deferred_t>
    auto async_savepoint(Token&& token = {});

    transaction_state state() const noexcept;
    bool active() const noexcept { return state() == transaction_state::active; }
    /// The connection the transaction runs on. Precondition: not an empty handle.
    connection& get_connection() const noexcept;
    connection* operator->() const noexcept { return &get_connection(); }

private:
    friend class savepoint;
    enum class end_kind { commit, rollback, prepare };
    using state_ptr = std::shared_ptr<detail::transaction_state>;
    template <class Sig> using handler = boost::asio::any_completion_handler<Sig>;
    explicit transaction(state_ptr st) noexcept : st_(std::move(st)) {}

    static void async_begin_erased(connection& conn, const transaction_options& o, diagnostics* diag,
                                   handler<void(error_code, transaction)> h);
    static void async_end_erased(state_ptr st, end_kind kind, std::string gid, diagnostics* diag,
                                 handler<void(error_code)> h);
    static void async_savepoint_erased(state_ptr st, std::uint64_t parent, diagnostics* diag,
                                       handler<void(error_code, savepoint)> h);
    static void async_savepoint_end_erased(state_ptr st, std::uint64_t id, bool rollback, diagnostics* diag,
                                           handler<void(error_code)> h);
    static connection::executor_type executor_of(const state_ptr& st, connection* conn) noexcept;
    // Misuse that has no executor to report through: an empty handle, or a destroyed connection.
    // \throws error_with_diagnostics (client_errc::transaction_ended).
    static void check_usable(const state_ptr& st);

    struct begin_initiation {
        connection* conn;
        using executor_type = connection::executor_type;
        executor_type get_executor() const noexcept { return conn->get_executor(); }
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, const transaction_options& o) const {
            async_begin_erased(*conn, o, diag, detail::erase_handler<void(error_code, transaction)>(std::forward<Handler>(h)));
        }
    };
    struct end_initiation {
        state_ptr st;
        end_kind kind;
        using executor_type = connection::executor_type;
        executor_type get_executor() const noexcept { return executor_of(st, nullptr); }
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, std::string gid) const {
            async_end_erased(st, kind, std::move(gid), diag, detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
        }
    };
    struct savepoint_initiation {
        state_ptr st;
        std::uint64_t parent; // 0: the transaction itself
        using executor_type = connection::executor_type;
        executor_type get_executor() const noexcept { return executor_of(st, nullptr); }
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag) const;
    };
    struct savepoint_end_initiation {
        state_ptr st;
        std::uint64_t id;
        bool rollback;
        using executor_type = connection::executor_type;
        executor_type get_executor() const noexcept { return executor_of(st, nullptr); }
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag) const {
            async_savepoint_end_erased(st, id, rollback, diag, detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
        }
    };

    state_ptr st_;
};

/// A savepoint inside a transaction (`transaction::async_savepoint`, or
/// `savepoint::async_savepoint` to nest deeper). `async_release` keeps its work in the
/// transaction; `async_rollback` undoes its work — and makes a failed transaction usable
/// again — leaving the transaction active. Either ends this savepoint and the ones nested in
/// it. Destroying an active savepoint does nothing: its work stays part of the transaction,
/// as if released. Errors: `client_errc::transaction_ended` when the savepoint or its
/// transaction already ended.
class savepoint {
public:
    savepoint() noexcept = default;
    savepoint(savepoint&&) noexcept = default;
    savepoint& operator=(savepoint&&) noexcept = default;

    /// RELEASE SAVEPOINT. Signature: `void(error_code)`.
    template <class Token = boost::asio::deferred_t>
    auto async_release(Token&& token = {}) {
        transaction::check_usable(st_);
        return detail::initiate<void(error_code)>(transaction::savepoint_end_initiation{st_, id_, false},
                                                  std::forward<Token>(token));
    }
    /// ROLLBACK TO SAVEPOINT, then RELEASE it. Signature: `void(error_code)`.
    template <class Token = boost::asio::deferred_t>
    auto async_rollback(Token&& token = {}) {
        transaction::check_usable(st_);
        return detail::initiate<void(error_code)>(transaction::savepoint_end_initiation{st_, id_, true},
                                                  std::forward<Token>(token));
    }
    /// A savepoint nested in this one. Signature: `void(error_code, savepoint)`.
    template <class Token = boost::asio::deferred_t>
    auto async_savepoint(Token&& token = {}) {
        transaction::check_usable(st_);
        return detail::initiate<void(error_code, savepoint)>(transaction::savepoint_initiation{st_, id_},
                                                             std::forward<Token>(token));
    }

    /// True until released or rolled back (or until its transaction ends).
    bool active() const noexcept;
    /// The savepoint's SQL name (`asiopg_sp_<n>`).
    std::string name() const;
    connection& get_connection() const noexcept;

private:
    friend class transaction;
    savepoint(std::shared_ptr<detail::transaction_state> st, std::uint64_t id) noexcept : st_(std::move(st)), id_(id) {}
    std::shared_ptr<detail::transaction_state> st_;
    std::uint64_t id_ = 0;
};

template <class Token>
auto transaction::async_savepoint(Token&& token) {
    check_usable(st_);
    return detail::initiate<void(error_code, savepoint)>(savepoint_initiation{st_, 0}, std::forward<Token>(token));
}

template <class Handler>
void transaction::savepoint_initiation::operator()(Handler&& h, diagnostics* diag) const {
    async_savepoint_erased(st, parent, diag, detail::erase_handler<void(error_code, savepoint)>(std::forward<Handler>(h)));
}

} // namespace asiopg

#endif
