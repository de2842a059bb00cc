// Internal: the state behind an asiopg::connection, shared by the operations in flight.
#ifndef ASIOPG_SRC_CONNECTION_IMPL_HPP
#define ASIOPG_SRC_CONNECTION_IMPL_HPP

#include <asiopg/diagnostics.hpp>
#include <asiopg/error.hpp>
#include <asiopg/logger.hpp>
#include <asiopg/notification.hpp>
#include <asiopg/params.hpp>

#include "redact.hpp"

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <unordered_map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace asiopg::detail {

namespace asio = boost::asio;

class connection_impl;
struct cancel_return;

// A query as libpq takes it: the SQL and each parameter as C strings in one buffer.
struct encoded_query {
    std::string text; // the SQL, NUL, then each non-null parameter's bytes and a NUL
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    std::vector<Oid> types;
    int count() const noexcept { return static_cast<int>(types.size()); }
};

// An operation that found the connection busy and waits for its turn, in arrival order. Only
// such an operation allocates one. A parameterised query may be sent before its turn (automatic
// pipelining): its results then wait in libpq's buffer until the operations before it read theirs.
struct waiter {
    enum class state : std::uint8_t {
        queued,  // nothing sent yet
        sent,    // in the pipeline, waiting to read its results
        turn,    // the connection is this operation's (active_op)
        dropped, // the connection was closed: the operation completes with operation_aborted
    };
    waiter(connection_impl& owner, std::uint64_t id, bool may_pipeline);
    ~waiter(); // leaves the queue if still in it
    waiter(const waiter&) = delete;
    waiter& operator=(const waiter&) = delete;

    connection_impl& owner;
    asio::steady_timer signal; // cancelled when the state changes to turn or dropped
    std::uint64_t id;
    bool may_pipeline;         // a parameterised query: may share libpq's pipeline mode
    state st = state::queued;
    bool pipelined = false;    // it was sent in pipeline mode (one query, one sync)
    bool cancel_wanted = false; // cancelled before its turn: sends the cancel request when head
    encoded_query query;
    std::string name;          // the prepared statement run, empty: unnamed
    bool fixed_name = false;   // an asiopg::statement's; else the statement cache decides when sent
    int format = 0;            // result format
};


class connection_impl : public std::enable_shared_from_this<connection_impl> {
public:
    explicit connection_impl(asio::any_io_executor ex);
    ~connection_impl();
    connection_impl(const connection_impl&) = delete;
    connection_impl& operator=(const connection_impl&) = delete;

    asio::any_io_executor executor;
    // Where the internal handlers an operation arms (its deadline, the answer of its cancel
    // request, a resolver's answer) run: the executor of that operation's handler, on which
    // its own steps run too (Asio's rule for composed operations). So a pooled connection —
    // whose executor is a strand of the pool's — used by a task on a strand of its own never
    // sees two threads at once. Set (untracked) by the driver before it arms one.
    asio::any_completion_executor op_executor;
    // Wraps libpq's socket; libpq owns the fd, so it is release()d, never closed. While
    // connecting it is assigned for one wait at a time (libpq may replace the socket under the
    // same fd number); once connected it stays assigned.
    asio::posix::stream_descriptor socket;
    asio::steady_timer deadline_timer;
    asio::ip::tcp::resolver resolver;
    // An operation resolving a name waits on this timer, not on the resolver: the deadline,
    // cancellation and close() end the wait at once even though getaddrinfo cannot be
    // interrupted. The resolver's handler stores its answer here and cancels the timer.
    asio::steady_timer resolve_signal;
    // A cancel request (PQcancel, which blocks) runs on a thread of its own; the operation it
    // cancels does not complete before it returned — else the server could apply it to the next
    // command. cancel_signal is cancelled when it has returned.
    asio::steady_timer cancel_signal;
    bool cancel_in_flight = false;
    // The way back of this connection's cancel requests (cancel_request.hpp), opened on first use.
    std::shared_ptr<cancel_return> cancel_back;
    std::uint64_t cancel_generation = 0; // a late answer of an abandoned request is not this one's
    bool resolve_ready = false;
    error_code resolve_ec;
    asio::ip::tcp::resolver::results_type resolve_results;

    PGconn* pg = nullptr;
    // The socket of the established session, for shutdown() from any thread: set once
    // connected, cleared before PQfinish closes it — both under the mutex, so a shutdown never
    // reaches a closed (or reused) descriptor.
    std::mutex socket_mutex;
    int live_fd = -1;
    // The operation using the connection (0: none) — with automatic pipelining, the one reading
    // results now. Ids are never reused, so a late completion or deadline of an operation that
    // close() already abandoned cannot touch the next one.
    std::uint64_t active_op = 0;
    // Operations waiting for their turn, in arrival order; those sent in the pipeline come first.
    std::deque<waiter*> waiters;
    // libpq is in pipeline mode for queued queries (left when the queue drains).
    bool auto_pipeline = false;
    // A stream armed libpq's single-row mode; libpq 15 leaves it armed after the stream and
    // applies it to the first query of the next pipeline (enter_pipeline() disarms it).
    bool single_row_armed = false;
    // PQenterPipelineMode, after disarming a single-row mode left by a stream. False if refused.
    bool enter_pipeline() noexcept;
    // connection::set_eager_pipelining: parameterised queries go in pipeline mode even alone.
    bool eager_pipelining = false;
    // A cancel request may have missed its query and hit the next one in the pipeline (see
    // command_machine): that query's unrequested 57014 is retried once, outside a transaction.
    bool stray_cancel = false;
    std::uint64_t last_op_id = 0;
    std::uint64_t expired_op = 0;   // the operation whose deadline passed
    std::uint64_t stream_op = 0;    // a stream or COPY between two calls holds the connection with this id
    enum class hold_kind { rows, copy_in, copy_out };
    hold_kind hold = hold_kind::rows; // what stream_op is
    diagnostics last_diagnostics;
    // Results of parameterised statements: forced by set_result_format, else chosen per
    // statement from its column types (see prefers_binary).
    std::optional<data_format> forced_format;
    // A transaction scope was destroyed without commit or rollback: until the session is back
    // outside a transaction block, only ROLLBACK runs (a forgotten transaction must not
    // silently swallow what comes next).
    bool transaction_abandoned = false;
    // Set when an operation ran SQL that may change session state (may_change_session); a pool
    // resets only such sessions. Cleared by connect and by connection::set_session_changed.
    bool session_changed = false;
    // Set per successful connect, unique in the process: a statement belongs to one session, and
    // one prepared on another connection (whose names may coincide) must never run here.
    std::uint64_t session = 0;

    // Automatic prepared statements, keyed by SQL text and parameter types. A statement is
    // prepared on its `prepare_threshold`-th use (one-off statements stay unnamed: preparing
    // costs a round trip) and the least recently used are deallocated beyond `capacity`.
    struct cached_statement {
        std::string key;
        std::string name;     // empty until prepared
        unsigned uses = 0;
        std::vector<Oid> columns; // result column types, once seen
        bool described = false;
        // The server no longer has it, or its result type changed: prepared and described afresh.
        void forget() noexcept {
            name.clear();
            columns.clear();
            described = false;
        }
    };
    struct statement_cache {
        std::size_t capacity = 100;
        unsigned prepare_threshold = 5;
        std::list<cached_statement> lru; // most recent first
        std::unordered_map<std::string_view, std::list<cached_statement>::iterator> index;
        std::vector<std::string> to_deallocate; // evicted names, dropped before the next prepare
        std::string lookup_key;                 // touch()'s scratch buffer
        void clear() { lru.clear(); index.clear(); to_deallocate.clear(); }
        // The entry for `sql` with these parameter types, made most recent, its use counted;
        // beyond `capacity` the least recent are evicted (their names to deallocate). Precondition:
        // capacity > 0.
        cached_statement& touch(std::string_view sql, std::span<const Oid> param_types);
        void evict_beyond(std::size_t n);
    } statements;
    std::uint64_t next_statement = 0;
    std::string next_statement_name() { return "asiopg_s" + std::to_string(++next_statement); }
    std::string password;           // redacted from every message this connection produces
    logger log;                     // connect_params::log or set_logger(); silent by default

    // Reports to `log` when it takes records of level `l` (build costly messages only then).
    bool logs(log_level l) const noexcept { return log.enabled(l); }
    // The message goes out with the password redacted; a sink that throws is ignored.
    void note(log_level l, std::string_view category, std::string message) const noexcept;

    // Drained after every read so libpq's queue never grows unseen; consumers come with LISTEN.
    std::deque<notification> notifications;
    // Bounded: past it the oldest are dropped (a receiver that never reads must not exhaust memory).
    static constexpr std::size_t max_notifications = 100000;
    // async_receive_notification waits on this (cancelled when notifications arrive, when the
    // connection closes, and when an operation ends: an idle connection is watched by the receiver).
    asio::steady_timer notify_signal;
    bool receiver_waiting = false;
    bool lost_while_idle = false; // poll_idle() found the session ended (until the next connect)
    std::deque<std::string> notices; // last server notices, bounded

    // Reused by the operation running alone: no allocation per query once warm.
    encoded_query query;

    bool connected() const noexcept { return pg != nullptr && PQstatus(pg) == CONNECTION_OK; }

    // Ends everything: the operation in flight and every waiter lose the connection (their waits
    // are cancelled and they complete with operation_aborted), then drop_session().
    void close() noexcept;
    // Releases the fd (cancelling waits on it) and PQfinish — the operation keeps the connection
    // (a connect moving on to the next host).
    void drop_session() noexcept;
    // Releases the fd from the reactor without closing it (cancels pending waits).
    void release_socket() noexcept;
    // Assigns libpq's current socket (after releasing any previous one).
    error_code assign_socket() noexcept;

    // Makes a new operation the active one; 0 when another is in flight.
    std::uint64_t begin_op() noexcept;
    // Ends operation `id` if it is still the active one, and gives the connection to the next
    // waiter (admit_next).
    void end_op(std::uint64_t id) noexcept;
    // Whether an operation arriving now must wait: another one uses the connection or waits.
    bool busy() const noexcept { return active_op != 0 || !waiters.empty(); }
    // A new parameterised query may be sent at once: the pipeline runs and nothing unsent waits.
    bool may_join_pipeline() const noexcept {
        return auto_pipeline && (waiters.empty() || waiters.back()->st == waiter::state::sent);
    }
    // Queues `w`'s query in libpq's pipeline, followed by a sync (its own implicit transaction);
    // the flush is left to the operation reading. False when libpq refused it.
    bool send_pipelined(waiter& w);
    // The connection is free: the first waiter gets its turn. Before a waiter whose query was not
    // sent, pipeline mode is left (everything before it is read); if that waiter is a
    // parameterised query, pipeline mode is entered again and it is sent with the queued
    // parameterised queries that follow it.
    void admit_next() noexcept;
    // close(): every waiter is dropped (and woken to complete with operation_aborted).
    void drop_waiters() noexcept;
    // Leaves libpq's pipeline mode once everything sent is read.
    void leave_pipeline() noexcept;
    // The active operation `w`, sent in the pipeline, runs again: re-sent (now, or when the
    // queued operations before it are) and queued at the back; the next waiter gets the turn.
    void requeue(waiter& w) noexcept;

    // Starts operation `id`'s deadline: on expiry its waits are cancelled and `expired_op == id`.
    void start_deadline(std::uint64_t id, std::chrono::steady_clock::time_point at);
    // Resolves `host` for operation `id`; the operation waits on `resolve_signal`.
    void start_resolve(std::uint64_t id, const std::string& host);

    // The socket was readable: reads what is there and moves notifications out of libpq.
    // False when the connection broke.
    bool consume_input();
    // Sends a cancel request for the command in progress, off this thread. False if it could not
    // be started (then only closing the connection stops the command).
    bool request_cancel();
    // op_executor, or the connection's own when none was set.
    asio::any_completion_executor reply_executor() const;
    // Moves notifications out of libpq.
    void drain_notifications();
    // Wakes a receiver waiting on notify_signal.
    void wake_receiver() noexcept {
        if (receiver_waiting) notify_signal.cancel();
    }
    // The connection is idle: reads without blocking what the server sent (notifications,
    // notices, or a FATAL and the end of the stream). False, with the connection closed and
    // its diagnostics recorded, when it turned out dead.
    bool poll_idle() noexcept;

    // Records a failure for the operation and for the connection.
    void fail(diagnostics* out, diagnostics d);
    // Client-side message (libpq's text or ours), password redacted.
    diagnostics client_diagnostics(std::string message) const;
    // libpq's PQerrorMessage, trimmed and redacted.
    std::string libpq_message() const;
};

// A session id never given before in this process (never 0).
std::uint64_t new_session_id() noexcept;

// Whether binary results are faster for these result columns (measured, 1M rows: date/time
// columns 0.65x the time of text; integers and floats even; numeric 1.16x): some date/time
// column, no numeric, and only types asiopg decodes in binary.
bool prefers_binary(std::span<const Oid> columns) noexcept;

// Keeps server notices on the connection instead of libpq's default of printing them.
void install_notice_receiver(connection_impl& impl);
// Server diagnostics from a PGRES_FATAL_ERROR result.
diagnostics diagnostics_from(const PGresult* res);

} // namespace asiopg::detail

#endif
