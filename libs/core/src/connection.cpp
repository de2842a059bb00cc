// asiopg::connection: construction, session facts, close; the connection_impl helpers.
#include <asiopg/connection.hpp>

#include "cancel_request.hpp"
#include "driver.hpp"
#include "machine_base.hpp"

#include <asiopg/result_traits.hpp>

#include <atomic>
#include <cstring>

#include <boost/asio/bind_executor.hpp>


#include <sys/socket.h>

namespace asiopg {
namespace detail {

namespace {
// Keeps the last server notices instead of libpq's default of printing them to stderr:
// the library is silent unless asked.
void on_notice(void* arg, const PGresult* res) {
    auto* impl = static_cast<connection_impl*>(arg);
    const char* msg = PQresultErrorMessage(res);
    if (impl->notices.size() >= 50) impl->notices.pop_front();
    impl->notices.emplace_back(msg ? msg : "");
}

std::string field(const PGresult* res, int code) {
    const char* v = PQresultErrorField(res, code);
    return v ? std::string(v) : std::string();
}

int int_field(const PGresult* res, int code) {
    const char* v = PQresultErrorField(res, code);
    return v ? std::atoi(v) : 0;
}

void trim_right(std::string& s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
}
} // namespace

connection_impl::connection_impl(asio::any_io_executor ex)
    : executor(ex), socket(ex), deadline_timer(ex), resolver(ex), resolve_signal(ex), cancel_signal(ex),
      notify_signal(ex) {}

connection_impl::~connection_impl() {
    if (cancel_back) close_cancel_return(*cancel_back); // a request still out reports to no one
    close();
}

void connection_impl::release_socket() noexcept {
    if (socket.is_open()) socket.release(); // cancels pending waits; never closes libpq's fd
}

error_code connection_impl::assign_socket() noexcept {
    release_socket();
    int fd = pg ? PQsocket(pg) : -1;
    if (fd < 0) return client_errc::connection_lost;
    error_code ec;
    socket.assign(fd, ec);
    return ec;
}

void connection_impl::close() noexcept {
    if (connected() && logs(log_level::debug))
        note(log_level::debug, "connection", "closing the session of backend pid " + std::to_string(PQbackendPID(pg)));
    wake_receiver();
    // A cancel request still on its way targets this session's backend: the next session has
    // nothing to fear from it, so nothing waits for it any more.
    if (cancel_in_flight) {
        cancel_in_flight = false;
        cancel_signal.cancel();
    }
    active_op = 0;
    stream_op = 0;
    drop_waiters();
    statements.clear();
    deadline_timer.cancel();
    resolver.cancel();
    resolve_signal.cancel();
    drop_session();
}

void connection_impl::drop_session() noexcept {
    release_socket();
    {
        std::lock_guard<std::mutex> lk(socket_mutex);
        live_fd = -1;
    }
    if (pg) {
        PQfinish(pg);
        pg = nullptr;
    }
}

std::uint64_t connection_impl::begin_op() noexcept {
    if (active_op != 0) return 0;
    active_op = ++last_op_id;
    return active_op;
}

void connection_impl::end_op(std::uint64_t id) noexcept {
    if (active_op != id) return;
    active_op = 0;
    if (expired_op != id) deadline_timer.cancel();
    admit_next();
    if (active_op == 0) wake_receiver(); // the connection is idle: the receiver watches the socket now
}

void connection_impl::start_deadline(std::uint64_t id, std::chrono::steady_clock::time_point at) {
    expired_op = 0;
    deadline_timer.expires_at(at);
    deadline_timer.async_wait(asio::bind_executor(reply_executor(), [weak = weak_from_this(), id](error_code ec) {
        auto self = weak.lock();
        if (ec || !self || self->active_op != id) return;
        self->expired_op = id;
        error_code ignored; // the socket is not assigned while resolving
        self->socket.cancel(ignored);
        self->resolve_signal.cancel();
        self->cancel_signal.cancel();
    }));
}

void connection_impl::start_resolve(std::uint64_t id, const std::string& host) {
    resolve_ready = false;
    resolve_ec = {};
    resolve_results = {};
    resolve_signal.expires_at(std::chrono::steady_clock::time_point::max());
    resolver.async_resolve(host, "0", asio::ip::resolver_base::flags(),
                           asio::bind_executor(reply_executor(), [weak = weak_from_this(), id](
                                                                     error_code ec, asio::ip::tcp::resolver::results_type rs) {
                               auto self = weak.lock();
                               if (!self || self->active_op != id) return; // a late answer: dropped
                               self->resolve_ready = true;
                               self->resolve_ec = ec;
                               self->resolve_results = std::move(rs);
                               self->resolve_signal.cancel();
                           }));
}

asio::any_completion_executor connection_impl::reply_executor() const {
    if (op_executor) return op_executor;
    return asio::any_completion_executor(executor); // (no operation armed it: a test's direct call)
}

bool connection_impl::request_cancel() {
    if (cancel_in_flight) return true; // one is on its way
    if (!pg) return false;
    PGcancel* request = PQgetCancel(pg);
    if (!request) return false;
    // The thread holds neither the connection (never destroyed there) nor the executor itself:
    // only the way back, which the connection's destructor and the context's shutdown close.
    if (!cancel_back) cancel_back = open_cancel_return(executor);
    auto done = [weak = weak_from_this(), generation = ++cancel_generation] {
        if (auto self = weak.lock(); self && self->cancel_generation == generation) {
            self->cancel_in_flight = false;
            self->cancel_signal.cancel();
        }
    };
    if (!send_cancel_request(request, cancel_back, reply_executor(), std::move(done))) return false;
    cancel_in_flight = true;
    cancel_signal.expires_at(std::chrono::steady_clock::time_point::max());
    return true;
}

bool connection_impl::consume_input() {
    bool ok = PQconsumeInput(pg) != 0;
    drain_notifications(); // also when the stream just ended: what arrived before is kept
    return ok;
}

void connection_impl::drain_notifications() {
    while (PGnotify* n = PQnotifies(pg)) {
        // Bounded until LISTEN consumers exist: the oldest are dropped first.
        if (notifications.size() >= max_notifications) notifications.pop_front();
        notifications.push_back({n->relname ? n->relname : "", n->extra ? n->extra : "", n->be_pid});
        PQfreemem(n);
        wake_receiver();
    }
}

void connection_impl::fail(diagnostics* out, diagnostics d) {
    for (std::string* f : {&d.message, &d.detail, &d.hint, &d.context, &d.internal_query})
        *f = redact(std::move(*f), password);
    if (out) *out = d;
    last_diagnostics = std::move(d);
}

diagnostics connection_impl::client_diagnostics(std::string message) const {
    diagnostics d;
    d.message = redact(std::move(message), password);
    return d;
}

std::string connection_impl::libpq_message() const {
    std::string m = pg ? PQerrorMessage(pg) : "";
    trim_right(m);
    return redact(std::move(m), password);
}

diagnostics diagnostics_from(const PGresult* res) {
    diagnostics d;
    d.severity = field(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (d.severity.empty()) d.severity = field(res, PG_DIAG_SEVERITY);
    d.sqlstate = field(res, PG_DIAG_SQLSTATE);
    d.message = field(res, PG_DIAG_MESSAGE_PRIMARY);
    if (d.message.empty()) { // errors made by libpq itself carry only the full message
        d.message = PQresultErrorMessage(res);
        trim_right(d.message);
    }
    d.detail = field(res, PG_DIAG_MESSAGE_DETAIL);
    d.hint = field(res, PG_DIAG_MESSAGE_HINT);
    d.position = int_field(res, PG_DIAG_STATEMENT_POSITION);
    d.context = field(res, PG_DIAG_CONTEXT);
    d.internal_query = field(res, PG_DIAG_INTERNAL_QUERY);
    d.internal_position = int_field(res, PG_DIAG_INTERNAL_POSITION);
    d.schema = field(res, PG_DIAG_SCHEMA_NAME);
    d.table = field(res, PG_DIAG_TABLE_NAME);
    d.column = field(res, PG_DIAG_COLUMN_NAME);
    d.datatype = field(res, PG_DIAG_DATATYPE_NAME);
    d.constraint = field(res, PG_DIAG_CONSTRAINT_NAME);
    return d;
}

std::uint64_t new_session_id() noexcept {
    static std::atomic<std::uint64_t> last{0};
    return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

namespace {
enum class binary_gain { none, some, loss };
binary_gain binary_gain_of(Oid t) noexcept {
    switch (t) {
    case oids::date: case oids::time: case oids::timestamp: case oids::timestamptz: case oids::interval:
        return binary_gain::some;
    case oids::bool_: case oids::bytea: case oids::int2: case oids::int4: case oids::int8: case oids::oid_:
    case oids::float4: case oids::float8: case oids::text: case oids::varchar: case oids::bpchar:
    case oids::name: case oids::uuid: case oids::json: case oids::jsonb: case oids::inet: case oids::cidr:
        return binary_gain::none;
    default:
        return binary_gain::loss; // numeric (slower in binary), or a type asiopg cannot render from binary
    }
}
} // namespace

bool prefers_binary(std::span<const Oid> columns) noexcept {
    bool time_column = false;
    for (Oid t : columns) {
        binary_gain g = binary_gain_of(t);
        if (g == binary_gain::loss) { // an array of a known element type gains as its element does
            Oid element = element_oid_of(t); // a table scan: only for what the switch does not know
            g = element ? binary_gain_of(element) : binary_gain::loss;
        }
        if (g == binary_gain::loss) return false;
        if (g == binary_gain::some) time_column = true;
    }
    return time_column;
}

void install_notice_receiver(connection_impl& impl) {
    PQsetNoticeReceiver(impl.pg, on_notice, &impl);
}

namespace {
// async_close: closes at once; completes through the driver so it is never inline.
class close_machine : public machine_base {
public:
    static constexpr socket_use sockets = socket_use::stable;
    using machine_base::machine_base;
    step start(connection_impl& impl) {
        impl.close();
        return step::finish();
    }
    step resume(connection_impl&, error_code ec) { return step::finish(ec); }
    template <class Self>
    void complete(Self& self, error_code ec) { self.complete(ec); }
};
} // namespace

} // namespace detail

connection::connection(executor_type ex)
    : executor_(ex), impl_(std::make_shared<detail::connection_impl>(std::move(ex))) {}
// The executor is copied, not moved: a moved-from connection still knows where it runs.
connection::connection(connection&& other) noexcept
    : executor_(other.executor_), impl_(std::move(other.impl_)), address_(std::move(other.address_)) {
    if (address_) *address_ = this; // those who follow the session follow it here
}
connection& connection::operator=(connection&& other) noexcept {
    if (this != &other) {
        close();
        if (address_) *address_ = nullptr; // this session is over
        executor_ = other.executor_;
        impl_ = std::move(other.impl_);
        address_ = std::move(other.address_);
        if (address_) *address_ = this;
    }
    return *this;
}
connection::~connection() {
    close();
    if (address_) *address_ = nullptr;
}

std::shared_ptr<connection* const> connection::address() const {
    if (!address_) address_ = std::make_shared<connection*>(const_cast<connection*>(this));
    return address_;
}

connection::executor_type connection::get_executor() const noexcept { return executor_; }
connection::executor_type connection::executor_of(const impl_ptr& impl) noexcept { return impl->executor; }

// A moved-from connection gets a fresh, closed state on its next use, like a moved-from socket.
const connection::impl_ptr& connection::state() {
    if (!impl_) impl_ = std::make_shared<detail::connection_impl>(executor_);
    return impl_;
}

void connection::close() noexcept {
    if (impl_) impl_->close();
}

void connection::set_result_format(std::optional<data_format> f) noexcept { state()->forced_format = f; }
std::optional<data_format> connection::result_format() const noexcept {
    return impl_ ? impl_->forced_format : std::nullopt;
}

bool connection::is_open() const noexcept { return impl_ && impl_->connected(); }

void connection::shutdown() noexcept {
    if (!impl_) return;
    std::lock_guard<std::mutex> lk(impl_->socket_mutex);
    if (impl_->live_fd >= 0) ::shutdown(impl_->live_fd, SHUT_RDWR);
}

void connection::abandon_transaction() noexcept {
    if (!is_open()) return;
    PGTransactionStatusType ts = PQtransactionStatus(impl_->pg);
    // ACTIVE: a command is running; whether it leaves a transaction open is known only later,
    // so mark it too (a ROLLBACK outside a transaction block is harmless).
    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR || ts == PQTRANS_ACTIVE) impl_->transaction_abandoned = true;
}

bool connection::transaction_abandoned() const noexcept { return impl_ && impl_->transaction_abandoned; }

bool connection::session_changed() const noexcept { return impl_ && impl_->session_changed; }
void connection::set_session_changed(bool changed) noexcept {
    if (impl_) impl_->session_changed = changed;
}
void connection::set_eager_pipelining(bool on) noexcept {
    if (impl_) impl_->eager_pipelining = on;
}
bool connection::eager_pipelining() const noexcept { return impl_ && impl_->eager_pipelining; }

void connection::set_logger(logger l) { state()->log = std::move(l); }
const logger& connection::get_logger() const noexcept {
    static const logger silent;
    return impl_ ? impl_->log : silent;
}

namespace {
// What a non-blocking peek at libpq's socket finds.
enum class peeked { nothing, data, end_of_stream };
peeked peek(int fd) noexcept {
    char byte;
    ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return peeked::data;
    if (n == 0) return peeked::end_of_stream;
    return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? peeked::nothing : peeked::end_of_stream;
}
} // namespace

bool detail::connection_impl::poll_idle() noexcept {
    connection_impl& impl = *this;
    if (!connected()) return false;
    // Peek first: a healthy idle connection costs one recv and nothing of libpq's.
    peeked p = peek(PQsocket(impl.pg));
    if (p == peeked::nothing) return true;
    bool alive = true;
    const std::size_t notices_before = impl.notices.size();
    const char* last_before = notices_before ? impl.notices.back().c_str() : nullptr;
    auto new_notice = [&] {
        return impl.notices.size() != notices_before ||
               (!impl.notices.empty() && impl.notices.back().c_str() != last_before);
    };
    // Parse what arrived — notifications, notices, a FATAL the server sent while idle (libpq
    // hands that to the notice receiver) — then look again: behind a FATAL come the end of
    // the stream, or over TLS a close_notify record first (libpq reads it as the end).
    for (int i = 0; i < 4 && alive && p == peeked::data; ++i) {
        alive = impl.consume_input() && !PQisBusy(impl.pg) && impl.connected();
        if (alive && new_notice() && impl.notices.back().rfind("FATAL", 0) == 0) alive = false;
        if (alive) p = peek(PQsocket(impl.pg));
    }
    if (p == peeked::end_of_stream) alive = false;
    if (alive) return true;
    try {
        // The server's own words (FATAL 57P01 …) if it sent any before leaving.
        std::string message = new_notice() ? impl.notices.back() : impl.libpq_message();
        while (!message.empty() && message.back() == '\n') message.pop_back();
        if (message.empty()) message = "server closed the connection";
        impl.last_diagnostics = impl.client_diagnostics(std::move(message));
    } catch (...) {
    }
    impl.close();
    impl.lost_while_idle = true;
    return false;
}

bool connection::poll_input() noexcept {
    if (!is_open()) return false;
    if (impl_->active_op != 0 || impl_->stream_op != 0) return true; // the operation owns the input
    return impl_->poll_idle();
}
int connection::backend_pid() const noexcept { return is_open() ? PQbackendPID(impl_->pg) : 0; }
int connection::server_version() const noexcept { return is_open() ? PQserverVersion(impl_->pg) : 0; }

std::optional<std::string> connection::parameter_status(std::string_view name) const {
    if (!is_open()) return std::nullopt;
    std::string key(name);
    const char* v = PQparameterStatus(impl_->pg, key.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
}

transaction_status connection::get_transaction_status() const noexcept {
    if (!impl_ || !impl_->pg) return transaction_status::unknown;
    switch (PQtransactionStatus(impl_->pg)) {
    case PQTRANS_IDLE: return transaction_status::idle;
    case PQTRANS_ACTIVE: return transaction_status::active;
    case PQTRANS_INTRANS: return transaction_status::in_transaction;
    case PQTRANS_INERROR: return transaction_status::in_error;
    default: return transaction_status::unknown;
    }
}

const diagnostics& connection::get_diagnostics() const noexcept {
    static const diagnostics none;
    return impl_ ? impl_->last_diagnostics : none;
}

pg_conn* connection::native_handle() const noexcept { return impl_ ? impl_->pg : nullptr; }

void connection::async_close_erased(impl_ptr impl, diagnostics* diag, handler<void(error_code)> h) {
    detail::run<void(error_code)>(std::move(impl), detail::close_machine(diag), std::move(h));
}

} // namespace asiopg
