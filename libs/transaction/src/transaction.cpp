// transaction and savepoint: each operation is one statement on the connection, run as a
// small composed operation that updates the shared state when the statement completes.
#include <asiopg/transaction/transaction.hpp>

#include "statement_op.hpp"

#include <asiopg/sql_format.hpp>

#include <algorithm>
#include <vector>

namespace asiopg {

namespace asio = boost::asio;

namespace detail {

struct transaction_state {
    // Follows the connection when it moves; nullptr once it is destroyed (see connection::address()).
    std::shared_ptr<connection* const> where;
    connection* conn() const noexcept { return where ? *where : nullptr; }
    asiopg::transaction_state status = asiopg::transaction_state::active;
    bool ending = false;                // COMMIT / ROLLBACK / PREPARE in flight
    std::uint64_t last_savepoint = 0;
    std::vector<std::uint64_t> savepoints; // active ones, outermost first
};

} // namespace detail

namespace {

using detail::refuse;
using detail::run_statement;
using state_ptr = std::shared_ptr<detail::transaction_state>;

std::string savepoint_name(std::uint64_t id) { return "asiopg_sp_" + std::to_string(id); }

bool savepoint_active(const detail::transaction_state& st, std::uint64_t id) {
    return st.status == transaction_state::active &&
           std::find(st.savepoints.begin(), st.savepoints.end(), id) != st.savepoints.end();
}

// Drops savepoint `id` and those nested in it.
void end_savepoint(detail::transaction_state& st, std::uint64_t id) {
    auto it = std::find(st.savepoints.begin(), st.savepoints.end(), id);
    st.savepoints.erase(it, st.savepoints.end());
}

// COMMIT (or PREPARE TRANSACTION) of a transaction in which a statement failed rolls it back,
// and the server says so only through the command tag.
bool rolled_back_instead(const result& r) { return r.statement_count() > 0 && r.command_tag() == "ROLLBACK"; }

// Whether the server may have committed: the COMMIT was sent and no answer came back.
bool outcome_unknown(const error_code& ec) {
    // The server ended the session for idling before the statement: it rolled back, for sure.
    if (ec == sqlstate::idle_in_transaction_session_timeout || ec == sqlstate::idle_session_timeout) return false;
    return ec == client_errc::connection_lost || ec == asio::error::operation_aborted || ec == client_errc::timeout ||
           (ec.category() == sqlstate_category() && is_fatal(ec));
}

} // namespace

// ---- transaction ----

transaction& transaction::operator=(transaction&& other) noexcept {
    if (this != &other) {
        transaction dying(std::move(*this));
        st_ = std::move(other.st_);
    }
    return *this;
}

transaction::~transaction() {
    if (st_ && st_->status == transaction_state::active && !st_->ending) {
        st_->status = transaction_state::abandoned;
        if (connection* c = st_->conn()) c->abandon_transaction(); // else gone: nothing to mark
    }
}

transaction_state transaction::state() const noexcept { return st_ ? st_->status : transaction_state::none; }
connection& transaction::get_connection() const noexcept { return *st_->conn(); }

connection::executor_type transaction::executor_of(const state_ptr& st, connection* conn) noexcept {
    return (st ? st->conn() : conn)->get_executor();
}

void transaction::async_begin_erased(connection& conn, const transaction_options& o, diagnostics* diag,
                                     handler<void(error_code, transaction)> h) {
    transaction_status ts = conn.get_transaction_status();
    if (ts == transaction_status::in_transaction || ts == transaction_status::in_error)
        return refuse<transaction>(conn.get_executor(), std::move(h), diag, client_errc::transaction_in_progress,
                                   "BEGIN inside a transaction block: this connection is already in a transaction");
    run_statement<void(error_code, transaction)>(
        conn, begin_statement(o), diag, std::move(h), [&conn](error_code ec, result&) {
            if (ec) return std::make_tuple(ec, transaction());
            auto st = std::make_shared<detail::transaction_state>();
            st->where = conn.address();
            return std::make_tuple(ec, transaction(std::move(st)));
        });
}

void transaction::async_end_erased(state_ptr st, end_kind kind, std::string gid, diagnostics* diag,
                                   handler<void(error_code)> h) {
    connection& conn = *st->conn();
    if (st->status != transaction_state::active || st->ending) {
        const char* what = kind == end_kind::commit ? "COMMIT" : kind == end_kind::rollback ? "ROLLBACK" : "PREPARE";
        return refuse<>(conn.get_executor(), std::move(h), diag, client_errc::transaction_ended,
                        std::string(what) + (st->ending ? " while the transaction is already ending"
                                                        : " of a transaction that has already ended"));
    }
    std::string sql;
    if (kind == end_kind::commit) {
        sql = "COMMIT";
    } else if (kind == end_kind::rollback) {
        sql = "ROLLBACK";
    } else {
        try {
            sql = "PREPARE TRANSACTION " + escape_literal(conn, gid);
        } catch (const error_with_diagnostics& e) {
            return refuse<>(conn.get_executor(), std::move(h), diag, e.code(), e.get_diagnostics().message);
        }
    }
    // A statement failed in this transaction: COMMIT (PREPARE) would only roll it back, with
    // no error. Let the server say so instead — any other statement is refused with 25P02 and
    // its diagnostics, for the connection as for the caller — then roll back.
    std::string then;
    if (kind != end_kind::rollback && conn.get_transaction_status() == transaction_status::in_error) {
        sql = "SELECT 'asiopg: " + std::string(kind == end_kind::commit ? "COMMIT" : "PREPARE TRANSACTION") +
              " of a failed transaction'";
        then = "ROLLBACK";
    }
    st->ending = true;
    const bool failed_before = !then.empty();
    run_statement<void(error_code)>(conn, std::move(sql), diag, std::move(h),
                                    [st, kind, diag, failed_before](error_code ec, result& r) {
        st->ending = false;
        if (ec == client_errc::operation_in_progress) return std::make_tuple(ec); // not sent: still active
        auto ended = [&](transaction_state s) {
            st->status = s;
            st->savepoints.clear();
        };
        if (kind == end_kind::rollback || failed_before) {
            // Over whatever happened: rolled back, or gone with the session (which rolls back).
            ended(transaction_state::rolled_back);
            return std::make_tuple(ec);
        }
        if (!ec && rolled_back_instead(r)) {
            ended(transaction_state::rolled_back);
            if (diag) {
                diag->clear();
                diag->sqlstate = "25P02";
                diag->message = std::string(kind == end_kind::commit ? "COMMIT" : "PREPARE TRANSACTION") +
                                " rolled the transaction back: a statement in it had failed";
            }
            return std::make_tuple(error_code(sqlstate::in_failed_sql_transaction));
        }
        if (!ec) {
            ended(kind == end_kind::commit ? transaction_state::committed : transaction_state::prepared);
            return std::make_tuple(ec);
        }
        if (outcome_unknown(ec)) {
            // COMMIT or PREPARE TRANSACTION was sent and no answer came back.
            ended(transaction_state::in_doubt);
            if (diag) {
                *diag = st->conn()->get_diagnostics();
                diag->message = std::string(kind == end_kind::commit ? "COMMIT" : "PREPARE TRANSACTION") +
                                " outcome unknown (" + ec.message() + ")" +
                                (kind == end_kind::prepare ? " — check async_list_prepared" : "") +
                                (diag->message.empty() ? std::string() : ": " + diag->message);
            }
            return std::make_tuple(error_code(client_errc::commit_in_doubt));
        }
        // The server refused: the transaction is rolled back (a failed PREPARE TRANSACTION too).
        ended(transaction_state::rolled_back);
        return std::make_tuple(ec);
    }, std::move(then));
}

void transaction::async_savepoint_erased(state_ptr st, std::uint64_t parent, diagnostics* diag,
                                         handler<void(error_code, savepoint)> h) {
    connection& conn = *st->conn();
    if (st->status != transaction_state::active || st->ending || (parent != 0 && !savepoint_active(*st, parent)))
        return refuse<savepoint>(conn.get_executor(), std::move(h), diag, client_errc::transaction_ended,
                                 "SAVEPOINT in a transaction or savepoint that has already ended");
    std::uint64_t id = ++st->last_savepoint;
    run_statement<void(error_code, savepoint)>(
        conn, "SAVEPOINT " + savepoint_name(id), diag, std::move(h), [st, id](error_code ec, result&) {
            if (ec) return std::make_tuple(ec, savepoint());
            st->savepoints.push_back(id);
            return std::make_tuple(ec, savepoint(st, id));
        });
}

void transaction::async_savepoint_end_erased(state_ptr st, std::uint64_t id, bool rollback, diagnostics* diag,
                                             handler<void(error_code)> h) {
    connection& conn = *st->conn();
    if (st->ending || !savepoint_active(*st, id))
        return refuse<>(conn.get_executor(), std::move(h), diag, client_errc::transaction_ended,
                        std::string(rollback ? "ROLLBACK TO SAVEPOINT" : "RELEASE SAVEPOINT") +
                            " of a savepoint that has already ended");
    std::string name = savepoint_name(id);
    std::string sql = rollback ? "ROLLBACK TO SAVEPOINT " + name + "; RELEASE SAVEPOINT " + name
                               : "RELEASE SAVEPOINT " + name;
    run_statement<void(error_code)>(conn, std::move(sql), diag, std::move(h), [st, id](error_code ec, result&) {
        if (!ec) end_savepoint(*st, id);
        return std::make_tuple(ec);
    });
}

// ---- savepoint ----

bool savepoint::active() const noexcept { return st_ && savepoint_active(*st_, id_); }
std::string savepoint::name() const { return savepoint_name(id_); }
connection& savepoint::get_connection() const noexcept { return *st_->conn(); }

void transaction::check_usable(const state_ptr& st) {
    auto misuse = [](const char* message) {
        diagnostics d;
        d.message = message;
        throw error_with_diagnostics(client_errc::transaction_ended, std::move(d));
    };
    if (!st) misuse("an empty transaction or savepoint handle (default-constructed or moved from)");
    if (!st->conn()) misuse("the transaction's connection no longer exists");
}

// ---- options ----

std::string begin_statement(const transaction_options& o) {
    std::string sql = "BEGIN";
    switch (o.isolation) {
    case isolation_level::server_default: break;
    case isolation_level::read_committed: sql += " ISOLATION LEVEL READ COMMITTED"; break;
    case isolation_level::repeatable_read: sql += " ISOLATION LEVEL REPEATABLE READ"; break;
    case isolation_level::serializable: sql += " ISOLATION LEVEL SERIALIZABLE"; break;
    }
    if (o.read_only) sql += " READ ONLY";
    if (o.deferrable) sql += " DEFERRABLE";
    return sql;
}

bool is_retryable(const error_code& ec) noexcept {
    return ec == sqlstate::serialization_failure || ec == sqlstate::deadlock_detected;
}

} // namespace asiopg
