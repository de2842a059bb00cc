#ifndef ASIOPG_CONNECTION_HPP
#define ASIOPG_CONNECTION_HPP

#include <asiopg/detail/erase_handler.hpp>
#include <asiopg/connect_params.hpp>
#include <asiopg/detail/initiate.hpp>
#include <asiopg/diagnostics.hpp>
#include <asiopg/error.hpp>
#include <asiopg/notification.hpp>
#include <asiopg/param_buffer.hpp>
#include <asiopg/params.hpp>
#include <asiopg/pipeline.hpp>
#include <asiopg/result.hpp>
#include <asiopg/row_batch.hpp>
#include <asiopg/statement.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/execution_context.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

struct pg_conn; // libpq's PGconn

namespace asiopg {

namespace detail { class connection_impl; }

/// Transaction state of the session (libpq's `PQtransactionStatus`).
enum class transaction_status {
    idle,           ///< not in a transaction block
    active,         ///< a command is in progress
    in_transaction, ///< idle, inside a valid transaction block
    in_error,       ///< idle, inside a failed transaction block
    unknown,        ///< no connection, or the connection is bad
};

/// An asynchronous connection to a PostgreSQL server: libpq speaks the protocol, Asio waits on
/// its socket.
///
/// Every `async_*` function takes a completion token: a callback, `asio::use_future`,
/// `asio::use_awaitable`, a `yield_context`, `asio::deferred` (the default) or any adapter of
/// those. With `use_future` and `use_awaitable` (also inside `bind_executor`,
/// `bind_cancellation_slot`, `bind_allocator`) and a `yield_context` without `[ec]`, a failure is
/// thrown as `error_with_diagnostics`, whose `what()` holds the server's message. With other
/// tokens — including `co_await` on the default `deferred` — the handler gets an `error_code`
/// (a plain `system_error` when awaited) and `get_diagnostics()` tells the rest.
/// No operation ever completes inside its initiating function.
///
/// \par Thread safety
/// Like an Asio socket: distinct objects are independent; one object must not be used from two
/// threads at once (use a strand).
///
/// \par Sharing a connection
/// Queries started while others are in flight wait for their turn and run on the server in the
/// order they were started, each caller getting its own result. Those with parameters, of a
/// `statement`, or of one statement without parameters (no `;`, not a COPY) are pipelined:
/// sent at once in libpq's pipeline mode, each with its own sync point (its own implicit
/// transaction outside `BEGIN … COMMIT`, so a failure touches no neighbour). Other queries,
/// `async_prepare`, `async_ping` and explicit pipelines run alone at their turn. A stream or a
/// COPY holds the connection between calls: meanwhile, and for `async_connect`,
/// `async_start_stream` and a COPY's start on a busy connection, an operation completes with
/// `client_errc::operation_in_progress` and leaves the others alone. A connection left idle
/// runs a lone query outside pipeline mode.
///
/// \par Cancellation
/// Every operation honours Asio's per-operation cancellation (`asio::bind_cancellation_slot`,
/// `asio::experimental::awaitable_operators`, `asiopg::cancel_after` for a timeout):
/// - queries (`async_execute` — also of a `pipeline` —, `async_prepare`, `async_ping`,
///   `async_start_stream`, and the reads of a `copy_reader`) on
///   **partial** or **total** cancellation send a cancel request to the server (PQcancel, on a
///   thread of its own), wait for the command to end and complete with
///   `sqlstate::query_canceled` (57014) — or normally, if it had finished — leaving the
///   connection usable; the next command is never hit by a late cancel request. If the request
///   cannot be sent or the command has not ended 5 s later, the connection is closed
///   (`operation_aborted`);
/// - a `copy_writer`'s `async_flush`/`async_finish` on **partial** or **total** cancellation
///   abort the COPY (nothing is inserted) and complete with 57014, the connection usable;
/// - a query still waiting for its turn: not sent yet, it completes with
///   `asio::error::operation_aborted` at once, nothing ran; already sent (pipelined), it is
///   cancelled on the server as above once it is the one running. A cancel request that arrives
///   after its query ended hits the next pipelined one, which is then retried once when outside
///   a transaction block;
/// - on **terminal** cancellation, and for `async_connect`, `async_read_rows` and `async_close`
///   on any cancellation, the operation completes with `asio::error::operation_aborted` and the
///   connection is closed, because the server may still be running the command.
/// Destroying or closing the connection cancels an operation in flight the same way.
class connection {
public:
    using executor_type = boost::asio::any_io_executor;

    /// A closed connection whose operations run on `ex`.
    explicit connection(executor_type ex);

    /// A closed connection whose operations run on `ctx.get_executor()`.
    template <class ExecutionContext,
              class = std::enable_if_t<std::is_convertible_v<ExecutionContext&,
                                                             boost::asio::execution_context&>>>
    explicit connection(ExecutionContext& ctx) : connection(executor_type(ctx.get_executor())) {}

    connection(connection&&) noexcept;
    connection& operator=(connection&&) noexcept;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    /// Closes the connection (see `close()`).
    ~connection();

    executor_type get_executor() const noexcept;

    /// Connects to the server. Closes the current connection first, if any.
    ///
    /// Host names are resolved asynchronously; hosts are tried in order as libpq does
    /// (multi-host lists, `target_session_attrs`); the whole attempt is bounded by
    /// `params.connect_timeout`. Signature: `void(error_code)`. Errors:
    /// `client_errc::invalid_conninfo`, `client_errc::connect_failed` (libpq's message, e.g.
    /// "Connection refused", "password authentication failed" or, for a host name that does not
    /// resolve, "could not translate host name", in `diagnostics()`), `client_errc::timeout`,
    /// `asio::error::operation_aborted` (cancelled).
    /// `params` is read before this function returns; lazy tokens (`deferred`,
    /// `use_awaitable`) keep a copy until the operation starts.
    template <class Token = boost::asio::deferred_t>
    auto async_connect(const connect_params& params, Token&& token = {}) {
        return detail::initiate<void(error_code)>(connect_initiation{state()}, std::forward<Token>(token),
                                                  params);
    }

    /// Connects using a libpq conninfo string (`"host=… dbname=…"`) or URI (`"postgresql://…"`).
    /// The string is copied, so lazy tokens (`deferred`, `use_awaitable`) may outlive it.
    template <class Token = boost::asio::deferred_t>
    auto async_connect(std::string_view conninfo, Token&& token = {}) {
        return detail::initiate<void(error_code)>(connect_initiation{state()}, std::forward<Token>(token),
                                                  std::string(conninfo));
    }

    /// Runs one or more SQL statements with the simple query protocol (no parameters; several
    /// statements separated by `;` are allowed and run in one implicit transaction unless they
    /// manage their own). Signature: `void(error_code, result)`; on error the result is empty.
    /// `sql` is not copied: it must stay valid until the operation starts — with `deferred` and
    /// `use_awaitable` that is when the operation is awaited (`co_await conn.async_execute(str)`
    /// within one expression is always fine).
    template <class Token = boost::asio::deferred_t>
        requires(!detail::is_param_list<std::remove_cvref_t<Token>>::value)
    auto async_execute(std::string_view sql, Token&& token = {}) {
        return detail::initiate<void(error_code, result)>(execute_initiation{state()},
                                                          std::forward<Token>(token), sql);
    }

    /// Runs one statement whose `$1 … $n` placeholders are bound on the server to `ps`
    /// (`asiopg::params(a, b, …)`) — values are never spliced into the SQL text.
    /// Signature: `void(error_code, result)`. A text parameter containing a NUL byte fails with
    /// `client_errc::invalid_parameter` before anything is sent.
    /// `sql` and the values `ps` refers to must stay valid until the operation is initiated.
    template <class... Ts, class Token = boost::asio::deferred_t>
    auto async_execute(std::string_view sql, const param_list<Ts...>& ps, Token&& token = {}) {
        return detail::initiate<void(error_code, result)>(execute_initiation{state()},
                                                          std::forward<Token>(token), sql, ps);
    }

    /// The same with parameters held by a `param_buffer` (built at run time); it must stay
    /// valid until the operation is initiated.
    template <class Token = boost::asio::deferred_t>
    auto async_execute(std::string_view sql, const param_buffer& ps, Token&& token = {}) {
        return detail::initiate<void(error_code, result)>(execute_initiation{state()},
                                                          std::forward<Token>(token), sql, &ps);
    }

    /// Runs the statements of `p` in libpq's pipeline mode: all are sent at once (one write
    /// for many statements), and their results read as they come — one round trip instead of
    /// one per statement. Signature: `void(error_code, std::vector<pipeline_result>)`, one
    /// result per statement, in order: each its rows, or its own error and diagnostics (see
    /// `pipeline` for what a failure skips). The `error_code` of the operation itself is only
    /// for what stops the whole pipeline: `not_connected`, `operation_in_progress` (a stream
    /// or COPY holds the connection), `connection_lost`, cancellation (partial/total: a cancel
    /// request to the server; the statement running ends with 57014, those after it in its
    /// sync segment are skipped, and
    /// the operation completes with `sqlstate::query_canceled` once everything sent is drained —
    /// the connection stays usable), `timeout`. `p` must stay valid until the operation is
    /// initiated: one that waits for its turn runs a copy.
    template <class Token = boost::asio::deferred_t>
    auto async_execute(const pipeline& p, Token&& token = {}) {
        return detail::initiate<void(error_code, std::vector<pipeline_result>)>(pipeline_initiation{state()},
                                                                                std::forward<Token>(token), &p);
    }

    /// Runs `p` like `async_execute(pipeline)`, but hands each statement's outcome to
    /// `on_result(std::size_t index, pipeline_result&& r)` as soon as it is complete, in order,
    /// instead of collecting them: memory stays that of one statement's result however long
    /// the pipeline (collecting 20,000 small results costs ~60 MB and a page fault per 4 kB),
    /// and the caller works on the first results while the server still runs the rest.
    /// Signature: `void(error_code)`, with the same meaning as for `async_execute(pipeline)`;
    /// `on_result` has been called for every statement when it succeeds.
    ///
    /// `on_result` is moved into the operation and called from inside it, on the connection's
    /// executor; it must not block, and may keep `r` (move it). It may start other operations
    /// on this connection (they wait for the pipeline). If it throws, it is not called again,
    /// the rest of the pipeline is drained and discarded, and the operation completes with
    /// `client_errc::result_handler_failed` (the exception's message in the diagnostics).
    template <class OnResult, class Token = boost::asio::deferred_t>
        requires std::invocable<OnResult&, std::size_t, pipeline_result&&>
    auto async_execute_each(const pipeline& p, OnResult on_result, Token&& token = {}) {
        return detail::initiate<void(error_code)>(pipeline_each_initiation{state()}, std::forward<Token>(token), &p,
                                                  detail::pipeline_sink(std::move(on_result)));
    }

    /// Prepares `sql` on the server (Parse, then Describe): the statement's parameter types and
    /// result columns come with it. Signature: `void(error_code, statement)`. `sql` must stay
    /// valid until the operation starts. The statement belongs to this session.
    template <class Token = boost::asio::deferred_t>
    auto async_prepare(std::string_view sql, Token&& token = {}) {
        return detail::initiate<void(error_code, statement)>(prepare_initiation{state()},
                                                             std::forward<Token>(token), sql);
    }

    /// Executes a prepared statement with `ps` bound to its parameters. A value whose type
    /// differs from the parameter's (an `int` for a `bigint` …) is sent as text for the server
    /// to convert. Signature: `void(error_code, result)`. Errors: `client_errc::invalid_statement`
    /// (not prepared on this session, or the wrong number of parameters), server errors.
    template <class... Ts, class Token = boost::asio::deferred_t>
    auto async_execute(const statement& st, const param_list<Ts...>& ps, Token&& token = {}) {
        return detail::initiate<void(error_code, result)>(execute_initiation{state()},
                                                          std::forward<Token>(token), st, ps);
    }
    template <class Token = boost::asio::deferred_t>
        requires(!detail::is_param_list<std::remove_cvref_t<Token>>::value)
    auto async_execute(const statement& st, Token&& token = {}) {
        return async_execute(st, params(), std::forward<Token>(token));
    }

    /// The automatic statement cache: `async_execute(sql, params(...))` prepares a statement
    /// the `prepare_threshold`-th time the same SQL runs with the same parameter types, and
    /// reuses it (one Bind/Execute instead of a Parse each time); at most `capacity` statements
    /// are kept per connection (least recently used are deallocated). `capacity` 0 turns it off:
    /// do that behind PgBouncer in transaction pooling (its prepared-statement tracking in 1.21+
    /// does not see the SQL DEALLOCATE the cache uses to drop statements). Defaults: 100 and 5.
    /// When the server reports that a cached plan's result type changed (0A000) or that the
    /// statement is gone (26000, e.g. after `DISCARD ALL`), it is prepared again once,
    /// transparently, outside a transaction block.
    void set_statement_cache(std::size_t capacity, unsigned prepare_threshold = 5);

    /// Starts a query whose rows are then read in batches by `async_read_rows` (libpq's
    /// single-row mode): a result of any size is read in bounded memory. Completes once the
    /// command is sent. Until `async_read_rows` yields 0 rows (or an error), the connection
    /// belongs to the stream: other operations fail with `operation_in_progress`; `close()`
    /// abandons it. Signature: `void(error_code)`. `sql` must stay valid until the operation starts.
    template <class Token = boost::asio::deferred_t>
        requires(!detail::is_param_list<std::remove_cvref_t<Token>>::value)
    auto async_start_stream(std::string_view sql, Token&& token = {}) {
        return detail::initiate<void(error_code)>(stream_initiation{state()}, std::forward<Token>(token), sql);
    }
    /// The same with `$1 … $n` bound to `ps` (goes through the statement cache).
    template <class... Ts, class Token = boost::asio::deferred_t>
    auto async_start_stream(std::string_view sql, const param_list<Ts...>& ps, Token&& token = {}) {
        return detail::initiate<void(error_code)>(stream_initiation{state()}, std::forward<Token>(token), sql, ps);
    }

    /// Reads the next rows of the stream into `batch` (replacing its previous rows): at most
    /// `max_rows`, fewer when no more have arrived yet. Signature:
    /// `void(error_code, std::size_t rows)`; 0 rows: the stream is over and the connection free
    /// (also when no stream was started). A server error mid-stream ends the stream with that
    /// error. `batch` must stay alive until the operation completes.
    template <class Token = boost::asio::deferred_t>
    auto async_read_rows(row_batch& batch, std::size_t max_rows, Token&& token = {}) {
        return detail::initiate<void(error_code, std::size_t)>(read_rows_initiation{state()},
                                                               std::forward<Token>(token), &batch, max_rows);
    }

    /// Waits for the next notification (NOTIFY on a channel this session LISTENs to) and
    /// completes with it. Signature: `void(error_code, notification)`. Notifications are queued
    /// by every read the connection makes, whatever operation runs (so a query may run meanwhile:
    /// it does not fail with operation_in_progress, nor this); while the connection is idle this
    /// operation reads the socket itself. Queued notifications are delivered first, in order,
    /// even after the connection is lost; then the loss is reported
    /// (`client_errc::connection_lost`, the server's message in the diagnostics) — at once when
    /// the server ended the session, within TCP keepalive limits when the network silently
    /// fails. One receiver at a time (a second gets `operation_in_progress`). The queue keeps
    /// the latest 100,000. Cancellation (any type) completes it with `operation_aborted` and
    /// leaves the connection as it is.
    template <class Token = boost::asio::deferred_t>
    auto async_receive_notification(Token&& token = {}) {
        return detail::initiate<void(error_code, notification)>(receive_initiation{state()},
                                                                std::forward<Token>(token));
    }
    /// Drops the queued notifications; returns how many there were.
    std::size_t discard_notifications() noexcept;

    /// A round trip that does no work on the server (an empty query): checks the connection is
    /// alive and the server answering. Signature: `void(error_code)`.
    template <class Token = boost::asio::deferred_t>
    auto async_ping(Token&& token = {}) {
        return detail::initiate<void(error_code)>(ping_initiation{state()}, std::forward<Token>(token));
    }

    /// Reads, without blocking and without a round trip, what the server sent while the
    /// connection was idle — notifications, notices, or the error and end of stream of a
    /// backend that was terminated or shut down — and returns `is_open()`. A connection found
    /// dead is closed, its diagnostics in `get_diagnostics()`. Costs one `recv` when nothing
    /// is pending. Does nothing (returns true) while an operation is in flight.
    bool poll_input() noexcept;

    /// Closes the connection; an operation in flight completes with `operation_aborted`.
    /// Signature: `void(error_code)`; never fails; idempotent.
    template <class Token = boost::asio::deferred_t>
    auto async_close(Token&& token = {}) {
        return detail::initiate<void(error_code)>(close_initiation{state()}, std::forward<Token>(token));
    }

    /// Where this connection (its session) lives: the pointee follows the connection when it is
    /// moved, and becomes nullptr when it is destroyed. For objects that refer to a connection
    /// and may outlive it (a transaction: its handle may die after the connection).
    std::shared_ptr<connection* const> address() const;

    /// Marks the session as holding a transaction its owner abandoned (a transaction scope
    /// destroyed without commit or rollback does this): from now on every operation fails with
    /// `client_errc::transaction_abandoned` except a statement beginning with `ROLLBACK`, until
    /// the session is back outside a transaction block (or reconnects). A pool rolls such a
    /// connection back when it is returned. Does nothing outside a transaction block.
    void abandon_transaction() noexcept;
    /// True while the session carries an abandoned transaction (see `abandon_transaction()`).
    bool transaction_abandoned() const noexcept;

    /// True once this session may have changed state that outlives a transaction (settings,
    /// `SET ROLE`, `LISTEN`, temporary tables, cursors WITH HOLD, advisory locks, sequence
    /// caches …) — what a pool's reset undoes; false after a connect. Any statement sets it
    /// except those beginning with SELECT, INSERT, UPDATE, DELETE, WITH, VALUES, TABLE, MERGE,
    /// COPY, SHOW or a transaction command (BEGIN, COMMIT, ROLLBACK, SAVEPOINT …) that name
    /// none of the built-in functions with session effects (`set_config`, advisory locks,
    /// sequence functions, dblink) and do not `SELECT … INTO` a new table; a `;`-separated list
    /// is judged statement by statement, conservatively. Functions of your own that change
    /// settings are not seen: call `set_session_changed(true)` after them (or configure the
    /// pool to reset always).
    bool session_changed() const noexcept;
    /// Sets or clears the flag of `session_changed()` (a pool clears it after its reset).
    void set_session_changed(bool changed) noexcept;

    /// Eager pipelining: a parameterised query (or a `statement`) started on an idle connection
    /// is sent in libpq's pipeline mode too, so that queries started while it runs are sent at
    /// once instead of after it (see "Sharing a connection"). Off by default: a lone query then
    /// costs a little more (a waiter record, entering and leaving pipeline mode), which only
    /// pays when queries overlap — a pool that multiplexes statements turns it on for its
    /// connections. Semantics are unchanged: each query keeps its own sync point. Known limit:
    /// the automatic statement cache prepares a statement only when it runs alone, so on a
    /// connection that never runs a query alone its statements stay unnamed (parsed each time).
    void set_eager_pipelining(bool on) noexcept;
    bool eager_pipelining() const noexcept;

    /// The logger this connection reports to: connects, closes, lost sessions, cancels and
    /// timeouts, and statements when the logger asks for them (see `logger`). `async_connect`
    /// takes `connect_params::log` when that has a sink. Takes effect for operations started
    /// afterwards; kept across reconnects. Silent by default.
    void set_logger(logger l);
    const logger& get_logger() const noexcept;

    /// Breaks the connection from ANY thread, even while it is used on another: shuts its socket
    /// down both ways, so that an operation in flight fails with `client_errc::connection_lost`
    /// (or a server error that ends the session) and the next ones fail too; the connection is
    /// then closed by the thread that uses it. The one member that is thread-safe (a pool's
    /// `terminate()` uses it on borrowed connections). No effect while connecting or closed.
    void shutdown() noexcept;

    /// Closes the connection at once (sends libpq's Terminate without waiting). Idempotent.
    /// An operation in flight completes with `asio::error::operation_aborted`.
    void close() noexcept;

    /// The format results of parameterised statements are requested in (simple-protocol
    /// queries always return text); every type asiopg reads works in both. By default
    /// (`nullopt`) asiopg chooses per statement, where it knows the result columns (a prepared
    /// or cached statement after its first run): binary when that is faster — there is a
    /// date/time column, no numeric, and only types asiopg renders from binary — else text
    /// (measured, 1M rows: date/time 0.65x the time of text, numeric 1.16x, integers even).
    /// Forcing binary makes values of types asiopg does not know (composites, ranges, extension
    /// types) readable only as raw bytes or through your result_traits. Takes effect for
    /// operations started afterwards; kept across reconnects.
    void set_result_format(std::optional<data_format> f) noexcept;
    std::optional<data_format> result_format() const noexcept;

    /// True when connected and the connection is usable.
    bool is_open() const noexcept;
    /// Process ID of the server backend, 0 if not connected.
    int backend_pid() const noexcept;
    /// Server version as an integer (150018 for 15.18), 0 if not connected.
    int server_version() const noexcept;
    /// A parameter reported by the server (`server_encoding`, `TimeZone`, `application_name`,
    /// `standard_conforming_strings` …), or `nullopt`.
    std::optional<std::string> parameter_status(std::string_view name) const;
    transaction_status get_transaction_status() const noexcept;
    /// Diagnostics of the last operation that failed on this connection, including one rejected
    /// with `operation_in_progress` (empty if none since the last successful connect). Valid
    /// until the next operation fails.
    const diagnostics& get_diagnostics() const noexcept;
    /// libpq's connection handle (nullptr when closed), for what asiopg does not wrap. Do not
    /// close it or start commands on it while an asiopg operation is in flight.
    pg_conn* native_handle() const noexcept;

private:
    friend class copy_writer; // a COPY works on the connection's session
    friend class copy_reader;
    using impl_ptr = std::shared_ptr<detail::connection_impl>;
    template <class Sig> using handler = boost::asio::any_completion_handler<Sig>;

    static void async_connect_erased(impl_ptr, const connect_params&, diagnostics*,
                                     handler<void(error_code)>);
    // `refused`: the parameters could not be encoded; the operation fails with that error.
    static void async_execute_erased(impl_ptr, std::string_view sql,
                                     std::span<const param_ref> params, bool extended,
                                     diagnostics*, const error_with_diagnostics* refused,
                                     handler<void(error_code, result)>);
    static void async_close_erased(impl_ptr, diagnostics*, handler<void(error_code)>);
    static void async_pipeline_erased(impl_ptr, const pipeline&, diagnostics*,
                                      handler<void(error_code, std::vector<pipeline_result>)>);
    static void async_pipeline_each_erased(impl_ptr, const pipeline&, detail::pipeline_sink, diagnostics*,
                                           handler<void(error_code)>);
    static void async_ping_erased(impl_ptr, diagnostics*, handler<void(error_code)>);
    static void async_receive_notification_erased(impl_ptr, diagnostics*, handler<void(error_code, notification)>);
    static void async_start_stream_erased(impl_ptr, std::string_view sql, std::span<const param_ref> params,
                                          bool extended, diagnostics*, const error_with_diagnostics* refused,
                                          handler<void(error_code)>);
    static void async_read_rows_erased(impl_ptr, row_batch&, std::size_t max_rows, diagnostics*,
                                       handler<void(error_code, std::size_t)>);
    static void async_prepare_erased(impl_ptr, std::string_view sql, diagnostics*,
                                     handler<void(error_code, statement)>);
    static void async_execute_statement_erased(impl_ptr, const statement&, std::span<const param_ref> params,
                                               diagnostics*, const error_with_diagnostics* refused,
                                               handler<void(error_code, result)>);
    static executor_type executor_of(const impl_ptr&) noexcept;
    const impl_ptr& state();

    struct initiation_base {
        impl_ptr impl;
        using executor_type = connection::executor_type;
        executor_type get_executor() const noexcept { return executor_of(impl); }
    };
    struct connect_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, const connect_params& p) const {
            async_connect_erased(impl, p, diag, detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
        }
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, std::string conninfo) const {
            connect_params p;
            p.conninfo = std::move(conninfo);
            (*this)(std::forward<Handler>(h), diag, p);
        }
    };
    struct execute_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, std::string_view sql) const {
            async_execute_erased(impl, sql, {}, false, diag, nullptr,
                                 detail::erase_handler<void(error_code, result)>(std::forward<Handler>(h)));
        }
        template <class Handler, class... Ts>
        void operator()(Handler&& h, diagnostics* diag, std::string_view sql,
                        const param_list<Ts...>& ps) const {
            std::array<param_ref, sizeof...(Ts)> refs;
            std::array<param_scratch, sizeof...(Ts)> scratch;
            try {
                ps.encode(refs, scratch);
            } catch (const error_with_diagnostics& e) { // reported through the handler
                async_execute_erased(impl, sql, {}, true, diag, &e,
                                     detail::erase_handler<void(error_code, result)>(std::forward<Handler>(h)));
                return;
            }
            async_execute_erased(impl, sql, refs, true, diag, nullptr,
                                 detail::erase_handler<void(error_code, result)>(std::forward<Handler>(h)));
        }
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, std::string_view sql, const param_buffer* ps) const {
            std::span<const param_ref> refs = ps->refs(); // before `h` moves: ps may live in it
            async_execute_erased(impl, sql, refs, true, diag, nullptr,
                                 detail::erase_handler<void(error_code, result)>(std::forward<Handler>(h)));
        }
        template <class Handler, class... Ts>
        void operator()(Handler&& h, diagnostics* diag, const statement& st, const param_list<Ts...>& ps) const {
            std::array<param_ref, sizeof...(Ts)> refs;
            std::array<param_scratch, sizeof...(Ts)> scratch;
            try {
                ps.encode(refs, scratch);
            } catch (const error_with_diagnostics& e) {
                async_execute_statement_erased(impl, st, {}, diag, &e,
                                               detail::erase_handler<void(error_code, result)>(std::forward<Handler>(h)));
                return;
            }
            async_execute_statement_erased(impl, st, refs, diag, nullptr,
                                           detail::erase_handler<void(error_code, result)>(std::forward<Handler>(h)));
        }
    };
    struct stream_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, std::string_view sql) const {
            async_start_stream_erased(impl, sql, {}, false, diag, nullptr, detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
        }
        template <class Handler, class... Ts>
        void operator()(Handler&& h, diagnostics* diag, std::string_view sql, const param_list<Ts...>& ps) const {
            std::array<param_ref, sizeof...(Ts)> refs;
            std::array<param_scratch, sizeof...(Ts)> scratch;
            try {
                ps.encode(refs, scratch);
            } catch (const error_with_diagnostics& e) {
                async_start_stream_erased(impl, sql, {}, true, diag, &e, detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
                return;
            }
            async_start_stream_erased(impl, sql, refs, true, diag, nullptr, detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
        }
    };
    struct read_rows_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, row_batch* batch, std::size_t max_rows) const {
            async_read_rows_erased(impl, *batch, max_rows, diag,
                                   detail::erase_handler<void(error_code, std::size_t)>(std::forward<Handler>(h)));
        }
    };
    struct prepare_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, std::string_view sql) const {
            async_prepare_erased(impl, sql, diag, detail::erase_handler<void(error_code, statement)>(std::forward<Handler>(h)));
        }
    };
    struct receive_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag) const {
            async_receive_notification_erased(impl, diag,
                                              detail::erase_handler<void(error_code, notification)>(std::forward<Handler>(h)));
        }
    };
    struct pipeline_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, const pipeline* p) const {
            async_pipeline_erased(impl, *p, diag,
                                  detail::erase_handler<void(error_code, std::vector<pipeline_result>)>(std::forward<Handler>(h)));
        }
    };
    struct pipeline_each_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, const pipeline* p, detail::pipeline_sink&& sink) const {
            async_pipeline_each_erased(impl, *p, std::move(sink), diag,
                                       detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
        }
    };
    struct ping_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag) const {
            async_ping_erased(impl, diag, detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
        }
    };
    struct close_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag) const {
            async_close_erased(impl, diag, detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
        }
    };

    executor_type executor_;
    impl_ptr impl_;
    mutable std::shared_ptr<connection*> address_; // see address()
};

} // namespace asiopg

#endif
