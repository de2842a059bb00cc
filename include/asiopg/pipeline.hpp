#ifndef ASIOPG_PIPELINE_HPP
#define ASIOPG_PIPELINE_HPP

#include <asiopg/diagnostics.hpp>
#include <asiopg/error.hpp>
#include <asiopg/param_buffer.hpp>
#include <asiopg/params.hpp>
#include <asiopg/result.hpp>
#include <asiopg/statement.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace asiopg {

namespace detail { struct pipeline_access; }

/// Statements to run back to back in one round trip (libpq's pipeline mode), built up front
/// and run by `connection::async_execute(pipeline, token)`.
///
/// \code
///   asiopg::pipeline p;
///   for (int i = 0; i < 1000; ++i) p.add("INSERT INTO t VALUES ($1)", asiopg::params(i));
///   p.add("SELECT count(*) FROM t");
///   std::vector<asiopg::pipeline_result> out = co_await conn.async_execute(p, asio::use_awaitable);
/// \endcode
///
/// Each statement runs with the extended protocol (one statement per entry: no `;`-separated
/// lists) and gets one `pipeline_result`, in order. Values are copied by `add`, so they need
/// not outlive it. Sync points (`sync()`, and one at the end) delimit error isolation: when a
/// statement fails, the server skips the statements after it up to the next sync point (each
/// reported as `client_errc::pipeline_aborted`) and goes on after it. Outside an explicit
/// transaction, each segment between sync points runs as one implicit transaction, so a
/// failure rolls back the segment's earlier statements too; inside `BEGIN … COMMIT`, the
/// transaction is what matters. Repeated SQL goes through the connection's statement cache
/// (prepared on its `prepare_threshold`-th use, inside the pipeline).
///
/// A value type; not thread-safe. It may be reused after the operation started (the
/// statements are handed to libpq when it starts).
class pipeline {
public:
    /// Queues `sql` with `$1 … $n` bound to `ps`.
    /// \throws error_with_diagnostics (`client_errc::invalid_parameter`) for a value that
    /// cannot be sent (a NUL byte in a text value …) or SQL containing a NUL byte.
    template <class... Ts>
    pipeline& add(std::string_view sql, const param_list<Ts...>& ps) {
        std::array<param_ref, sizeof...(Ts)> refs;
        std::array<param_scratch, sizeof...(Ts)> scratch;
        ps.encode(refs, scratch);
        return add_encoded(sql, refs);
    }
    /// Queues `sql` without parameters.
    pipeline& add(std::string_view sql) { return add_encoded(sql, {}); }
    /// Queues `sql` with the parameters of a `param_buffer`.
    pipeline& add(std::string_view sql, const param_buffer& ps) { return add_encoded(sql, ps.refs()); }
    /// Queues a statement prepared by `connection::async_prepare` on the session the pipeline
    /// will run on (else that entry fails with `client_errc::invalid_statement`). A value whose
    /// type differs from the parameter's is sent as text for the server to convert.
    template <class... Ts>
    pipeline& add(const statement& st, const param_list<Ts...>& ps) {
        std::array<param_ref, sizeof...(Ts)> refs;
        std::array<param_scratch, sizeof...(Ts)> scratch;
        ps.encode(refs, scratch);
        return add_encoded(st, refs);
    }
    pipeline& add(const statement& st) { return add_encoded(st, {}); }
    /// Queues already encoded parameters.
    pipeline& add_encoded(std::string_view sql, std::span<const param_ref> ps);
    pipeline& add_encoded(const statement& st, std::span<const param_ref> ps);

    /// A sync point: a failure before it does not skip the statements after it.
    pipeline& sync();

    /// Number of statements (sync points not counted).
    std::size_t size() const noexcept { return statements_; }
    bool empty() const noexcept { return statements_ == 0; }
    void clear() noexcept;

private:
    friend struct detail::pipeline_access;
    enum class kind : std::uint8_t { query, prepared, sync };
    struct entry {
        kind what;
        std::size_t text_offset = 0; // SQL (query) or statement name (prepared), NUL-terminated
        std::size_t text_length = 0;
        std::size_t first_param = 0;
        std::size_t params = 0;
        std::uint64_t session = 0;   // prepared: the statement's session
    };
    struct stored_param {
        std::size_t offset; // in arena_
        int length;         // -1: NULL
        data_format format;
        oid type;
    };
    std::size_t store_text(std::string_view text);
    std::string arena_;
    std::vector<entry> entries_;
    std::vector<stored_param> params_;
    std::size_t statements_ = 0;
    bool changes_session_ = false; // a statement may change session state (see connection::session_changed)
};

/// The outcome of one statement of a pipeline.
struct pipeline_result {
    /// Success, the statement's error (a `sqlstate`), or `client_errc::pipeline_aborted` when
    /// an earlier statement of the same sync segment failed and the server skipped this one.
    error_code error;
    /// The rows (or command status) when it succeeded.
    result value;
    /// The server's diagnostics when it failed.
    diagnostics diag;

    bool ok() const noexcept { return !error; }
    /// True when the server skipped the statement after an earlier failure.
    bool aborted() const noexcept { return error == client_errc::pipeline_aborted; }
};

namespace detail {

// The `on_result` function of connection::async_execute_each, type-erased for the compiled
// core. Move-only, like the functions it holds.
class pipeline_sink {
public:
    pipeline_sink() = default;
    template <class F>
    explicit pipeline_sink(F f) : f_(std::make_unique<holder<F>>(std::move(f))) {}
    void operator()(std::size_t index, pipeline_result&& r) { f_->call(index, std::move(r)); }
    explicit operator bool() const noexcept { return f_ != nullptr; }

private:
    struct base {
        virtual ~base() = default;
        virtual void call(std::size_t, pipeline_result&&) = 0;
    };
    template <class F>
    struct holder final : base {
        explicit holder(F&& f) : f(std::move(f)) {}
        void call(std::size_t index, pipeline_result&& r) override { f(index, std::move(r)); }
        F f;
    };
    std::unique_ptr<base> f_;
};

} // namespace detail

} // namespace asiopg

#endif
