// Error categories, SQLSTATE lookup, conditions and the diagnostics exception.
#include <asiopg/error.hpp>

#include "client_error.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <string>

namespace asiopg {
namespace {

struct sqlstate_row {
    int value;
    const char* code;
    const char* name;
};

constexpr sqlstate_row sqlstate_table[] = {
#include "sqlstate_table.ipp"
};

const sqlstate_row* find_sqlstate(int value) noexcept {
    auto it = std::lower_bound(std::begin(sqlstate_table), std::end(sqlstate_table), value,
                               [](const sqlstate_row& r, int v) { return r.value < v; });
    return it != std::end(sqlstate_table) && it->value == value ? it : nullptr;
}

int digit36(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return -1;
}

std::string code_text(int value) {
    std::string s(5, '0');
    for (int i = 4; i >= 0 && value > 0; --i, value /= 36) {
        int d = value % 36;
        s[static_cast<std::size_t>(i)] = static_cast<char>(d < 10 ? '0' + d : 'A' + d - 10);
    }
    return s;
}

// The SQLSTATE class: the first two characters, as the base-36 value of "XX000".
int class_of(int value) noexcept { return value - value % (36 * 36 * 36); }
int class_value(const char* two) noexcept {
    return (digit36(two[0]) * 36 + digit36(two[1])) * 36 * 36 * 36;
}

class client_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "asiopg.client"; }
    std::string message(int ev) const override {
        switch (static_cast<client_errc>(ev)) {
        case client_errc::invalid_conninfo: return "invalid connection string";
        case client_errc::connect_failed: return "could not connect to the server";
        case client_errc::timeout: return "operation timed out";
        case client_errc::not_connected: return "not connected";
        case client_errc::connection_lost: return "connection to the server lost";
        case client_errc::operation_in_progress: return "another operation is in progress on this connection";
        case client_errc::invalid_parameter: return "invalid query parameter";
        case client_errc::send_failed: return "could not send the command";
        case client_errc::unexpected_result: return "unexpected result from the server";
        case client_errc::conversion_error: return "cannot convert the field to the requested type";
        case client_errc::unexpected_null: return "unexpected NULL field";
        case client_errc::column_not_found: return "no column with this name";
        case client_errc::index_out_of_range: return "index out of range";
        case client_errc::invalid_statement: return "the statement is not prepared on this session";
        case client_errc::pool_exhausted: return "no connection became available in the pool within the acquire timeout";
        case client_errc::pool_closed: return "the connection pool is closed";
        case client_errc::transaction_abandoned:
            return "a transaction on this connection was abandoned without commit or rollback";
        case client_errc::commit_in_doubt:
            return "the connection failed during COMMIT: whether the transaction committed is unknown";
        case client_errc::transaction_ended: return "the transaction has already ended";
        case client_errc::transaction_in_progress: return "a transaction is already in progress on this connection";
        case client_errc::pipeline_aborted:
            return "not run: an earlier statement of the pipeline failed before the next sync point";
        case client_errc::result_handler_failed:
            return "the function given to receive results threw; the rest of the results were discarded";
        }
        return "unknown asiopg client error";
    }
};

class sqlstate_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "asiopg.sqlstate"; }
    std::string message(int ev) const override {
        if (const sqlstate_row* r = find_sqlstate(ev)) return std::string(r->name) + " (" + r->code + ")";
        return "SQLSTATE " + code_text(ev);
    }
};

bool in_class(const error_code& ec, const char* cls) noexcept {
    return ec.category() == sqlstate_category() && class_of(ec.value()) == class_value(cls);
}

class condition_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "asiopg.condition"; }
    std::string message(int ev) const override {
        switch (static_cast<condition>(ev)) {
        case condition::connection_error: return "connection error";
        case condition::integrity_constraint_violation: return "integrity constraint violation";
        case condition::unique_violation: return "unique violation";
        case condition::foreign_key_violation: return "foreign key violation";
        case condition::not_null_violation: return "not null violation";
        case condition::check_violation: return "check violation";
        case condition::transaction_rollback: return "transaction rollback";
        case condition::serialization_failure: return "serialization failure";
        case condition::deadlock_detected: return "deadlock detected";
        case condition::query_canceled: return "query canceled";
        case condition::admin_shutdown: return "administrator shutdown";
        case condition::data_exception: return "data exception";
        case condition::syntax_error_or_access_rule_violation: return "syntax error or access rule violation";
        case condition::invalid_transaction_state: return "invalid transaction state";
        case condition::insufficient_resources: return "insufficient resources";
        case condition::operator_intervention: return "operator intervention";
        }
        return "unknown asiopg condition";
    }
    bool equivalent(const error_code& ec, int cond) const noexcept override {
        auto is = [&](sqlstate s) { return ec == make_error_code(s); };
        switch (static_cast<condition>(cond)) {
        case condition::connection_error:
            return in_class(ec, "08") || is(sqlstate::admin_shutdown) || is(sqlstate::crash_shutdown) ||
                   is(sqlstate::cannot_connect_now) ||
                   ec == client_errc::connect_failed || ec == client_errc::not_connected ||
                   ec == client_errc::connection_lost ||
                   (ec == client_errc::timeout); // a connect timeout; query timeouts come later
        case condition::integrity_constraint_violation: return in_class(ec, "23");
        case condition::unique_violation: return is(sqlstate::unique_violation);
        case condition::foreign_key_violation: return is(sqlstate::foreign_key_violation);
        case condition::not_null_violation: return is(sqlstate::not_null_violation);
        case condition::check_violation: return is(sqlstate::check_violation);
        case condition::transaction_rollback: return in_class(ec, "40");
        case condition::serialization_failure: return is(sqlstate::serialization_failure);
        case condition::deadlock_detected: return is(sqlstate::deadlock_detected);
        case condition::query_canceled: return is(sqlstate::query_canceled);
        case condition::admin_shutdown: return is(sqlstate::admin_shutdown);
        case condition::data_exception: return in_class(ec, "22");
        case condition::syntax_error_or_access_rule_violation: return in_class(ec, "42");
        case condition::invalid_transaction_state: return in_class(ec, "25");
        case condition::insufficient_resources: return in_class(ec, "53");
        case condition::operator_intervention: return in_class(ec, "57");
        }
        return false;
    }
};

} // namespace

const boost::system::error_category& client_category() noexcept {
    static const client_category_impl c;
    return c;
}
const boost::system::error_category& sqlstate_category() noexcept {
    static const sqlstate_category_impl c;
    return c;
}
const boost::system::error_category& condition_category() noexcept {
    static const condition_category_impl c;
    return c;
}

error_code make_sqlstate_error(std::string_view code) noexcept {
    if (code.size() != 5) return make_error_code(sqlstate::internal_error);
    int v = 0;
    for (char c : code) {
        int d = digit36(c);
        if (d < 0) return make_error_code(sqlstate::internal_error);
        v = v * 36 + d;
    }
    return {v, sqlstate_category()};
}

std::string sqlstate_text(const error_code& ec) {
    if (ec.category() != sqlstate_category()) return {};
    return code_text(ec.value());
}

bool is_fatal(const error_code& ec) noexcept {
    if (ec.category() == client_category()) {
        switch (static_cast<client_errc>(ec.value())) {
        case client_errc::invalid_conninfo:
        case client_errc::connect_failed:
        case client_errc::timeout:
        case client_errc::not_connected:
        case client_errc::connection_lost: return true;
        default: return false;
        }
    }
    if (ec.category() == sqlstate_category()) {
        return in_class(ec, "08") || ec == sqlstate::admin_shutdown || ec == sqlstate::crash_shutdown ||
               ec == sqlstate::cannot_connect_now || ec == sqlstate::idle_in_transaction_session_timeout ||
               ec == sqlstate::idle_session_timeout;
    }
    // Aborted operations close the connection (see connection's cancellation notes).
    return ec == boost::system::errc::operation_canceled;
}

std::string diagnostics::to_string() const {
    std::string s;
    if (!severity.empty()) s += severity;
    if (!sqlstate.empty()) {
        if (!s.empty()) s += ' ';
        s += sqlstate;
    }
    if (!s.empty()) s += ": ";
    s += message;
    if (position > 0) s += " (position " + std::to_string(position) + ")";
    if (!detail.empty()) s += "; DETAIL: " + detail;
    if (!hint.empty()) s += "; HINT: " + hint;
    return s;
}

error_with_diagnostics::error_with_diagnostics(const error_code& ec, diagnostics diag)
    : boost::system::system_error(ec, diag.to_string()), diag_(std::move(diag)) {}

void detail::throw_client_error(client_errc code, std::string message) {
    diagnostics d;
    d.message = std::move(message);
    throw error_with_diagnostics(code, std::move(d));
}

} // namespace asiopg
