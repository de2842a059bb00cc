#ifndef ASIOPG_COPY_HPP
#define ASIOPG_COPY_HPP

// COPY … FROM STDIN and COPY … TO STDOUT, streamed: a writer that sends rows (typed or raw) as
// the application produces them, and a reader that hands out rows (typed or raw) as they
// arrive — neither ever holds the whole data.

#include <asiopg/detail/erase_handler.hpp>
#include <asiopg/connection.hpp>
#include <asiopg/params.hpp>
#include <asiopg/result_traits.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/core/demangle.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

namespace asiopg {

namespace detail {
struct copy_access;
struct copy_field_ref {
    std::size_t offset;  // in the batch's data
    std::int64_t length; // -1: NULL
};
} // namespace detail

/// One field of a row read by `copy_reader`: a view into the `copy_rows` that holds it.
class copy_field {
public:
    copy_field() = default;
    copy_field(std::string_view bytes, bool null, data_format f, oid type, std::size_t column) noexcept
        : bytes_(bytes), null_(null), format_(f), type_(type), column_(column) {}

    bool is_null() const noexcept { return null_; }
    /// The bytes: COPY's text with its escapes undone, or the binary value.
    std::string_view raw() const noexcept { return bytes_; }
    data_format format() const noexcept { return format_; }
    /// The column's type as given to `copy_reader::set_column_types` (0 if not given).
    oid type() const noexcept { return type_; }
    std::size_t column() const noexcept { return column_; }
    value_view value() const noexcept { return {bytes_, format_, type_}; }

    /// The value converted by `result_traits<T>` (as `field_view::as`). Binary COPY needs the
    /// column types (`copy_reader::set_column_types`); text COPY needs them only for types
    /// whose text is ambiguous (timestamp vs timestamptz).
    /// \throws error_with_diagnostics (`client_errc::unexpected_null`, `conversion_error`).
    template <class T>
    T as() const {
        if constexpr (detail::is_optional<T>::value) {
            if (null_) return std::nullopt;
            return as<typename T::value_type>();
        } else {
            if (null_) null_error(boost::core::demangle(typeid(T).name()));
            T out{};
            try {
                result_traits<T>::decode(value(), out);
            } catch (const std::exception&) {
                rethrow_with_column();
            }
            return out;
        }
    }

private:
    [[noreturn]] void null_error(const std::string& cpp_type) const;
    [[noreturn]] void rethrow_with_column() const;

    std::string_view bytes_;
    bool null_ = true;
    data_format format_ = data_format::text;
    oid type_ = 0;
    std::size_t column_ = 0;
};

class copy_rows;

/// One row read by `copy_reader`: its fields by index. Valid while its `copy_rows` is alive and
/// not refilled.
class copy_row_view {
public:
    using iterator = detail::index_iterator<copy_row_view, copy_field>;

    copy_row_view() = default;
    copy_row_view(const copy_rows* rows, std::size_t row) noexcept : rows_(rows), row_(row) {}

    std::size_t size() const noexcept;
    /// Field `i` (precondition `i < size()`).
    copy_field operator[](std::size_t i) const noexcept;
    iterator begin() const noexcept { return {*this, 0}; }
    iterator end() const noexcept { return {*this, size()}; }
    /// The whole row as a tuple of C++ values, one per column.
    /// \throws error_with_diagnostics (`client_errc::conversion_error` when the row does not
    /// have exactly as many fields, or a field cannot be converted).
    template <class... Ts>
    std::tuple<Ts...> as() const {
        check_size(sizeof...(Ts));
        return as_tuple<Ts...>(std::index_sequence_for<Ts...>{});
    }

private:
    template <class... Ts, std::size_t... I>
    std::tuple<Ts...> as_tuple(std::index_sequence<I...>) const {
        return std::tuple<Ts...>((*this)[I].template as<Ts>()...);
    }
    void check_size(std::size_t wanted) const;

    const copy_rows* rows_ = nullptr;
    std::size_t row_ = 0;
};

/// Rows read by `copy_reader::async_read_rows`, a batch at a time. Each read replaces the
/// previous batch (views into it die then). Move-only.
class copy_rows {
public:
    using iterator = detail::index_iterator<const copy_rows*, copy_row_view>;

    copy_rows() = default;
    copy_rows(copy_rows&&) noexcept = default;
    copy_rows& operator=(copy_rows&&) noexcept = default;
    copy_rows(const copy_rows&) = delete;
    copy_rows& operator=(const copy_rows&) = delete;

    std::size_t size() const noexcept { return row_starts_.empty() ? 0 : row_starts_.size() - 1; }
    bool empty() const noexcept { return size() == 0; }
    copy_row_view operator[](std::size_t i) const noexcept { return {this, i}; }
    iterator begin() const noexcept { return {this, 0}; }
    iterator end() const noexcept { return {this, size()}; }
    /// Frees the rows (each read does it first).
    void clear() noexcept;

private:
    friend class copy_row_view;
    friend struct detail::copy_access;
    std::string data_;                   // every row's bytes, escapes undone in place
    std::vector<detail::copy_field_ref> fields_;
    std::vector<std::size_t> row_starts_; // row i's fields: [row_starts_[i], row_starts_[i+1])
    std::shared_ptr<const std::vector<oid>> types_;
    data_format format_ = data_format::text;
};

/// Sends `COPY … FROM STDIN` data, streamed: rows are encoded into a buffer of the writer and
/// sent by `async_flush` (when `should_flush()` says the buffer is full) and `async_finish`.
///
/// \code
///   asiopg::copy_writer w(conn);
///   co_await w.async_start("COPY items (id, name) FROM STDIN");
///   for (auto& it : items) {
///       w.write_row(it.id, it.name);
///       if (w.should_flush()) co_await w.async_flush();
///   }
///   std::uint64_t n = co_await w.async_finish();
/// \endcode
///
/// The format (text, or binary for `WITH (FORMAT binary)`) and the number of columns are what
/// the server announces at `async_start`; `write_row` encodes to that format. From
/// `async_start` to the end of `async_finish`/`async_abort` (or an error) the connection
/// belongs to the COPY: other operations fail with `client_errc::operation_in_progress`.
///
/// \par Errors in the data
/// The server checks rows as they arrive; when one is bad it ends the COPY: the next
/// `async_flush` or `async_finish` completes with its SQLSTATE (22P02 …) and diagnostics (the
/// message names the line), and the connection is usable again.
///
/// \par Cancellation
/// Partial and total cancellation of `async_flush`/`async_finish` abort the COPY on the server
/// (a CopyFail, and a cancel request for a server busy with rows already sent): nothing is
/// inserted, the operation completes with `sqlstate::query_canceled` (57014) and the connection
/// stays usable. Terminal cancellation closes the connection.
///
/// \par Lifetime and thread safety
/// The writer must outlive its operations and refers to the connection's session (it follows
/// the connection when that is moved). Destroying a writer whose COPY is not finished closes
/// the connection: the server would otherwise wait for the rest of the data. Not thread-safe.
class copy_writer {
public:
    /// A writer for a COPY on `conn` (nothing is sent yet).
    explicit copy_writer(connection& conn);
    ~copy_writer();
    copy_writer(const copy_writer&) = delete;
    copy_writer& operator=(const copy_writer&) = delete;

    /// Runs `sql`, which must be a `COPY … FROM STDIN`, and waits for the server to accept
    /// data. Signature: `void(error_code)`. A statement that is not a COPY FROM STDIN fails
    /// with `client_errc::unexpected_result` (a COPY TO STDOUT's rows are discarded). `sql`
    /// must stay valid until the operation starts.
    template <class Token = boost::asio::deferred_t>
    auto async_start(std::string_view sql, Token&& token = {}) {
        return detail::initiate<void(error_code)>(start_initiation{this}, std::forward<Token>(token), sql);
    }

    /// The data format the server expects (known after `async_start`).
    data_format format() const noexcept { return format_; }
    /// The number of columns the server expects per row (known after `async_start`).
    std::size_t columns() const noexcept { return columns_; }
    /// True from a successful `async_start` until the COPY ends.
    bool active() const noexcept;

    /// Encodes one row into the buffer (no I/O), with the same C++ types as query parameters
    /// (`param_traits`); `std::nullopt` or an empty optional is NULL. In binary COPY every
    /// value must have the column's exact type (an `int` for an integer column …).
    /// \throws error_with_diagnostics (`client_errc::invalid_parameter`) for a row whose size
    /// is not `columns()`, a value that cannot be encoded, or a writer that is not started.
    template <class... Ts>
    void write_row(const Ts&... values) {
        std::array<param_ref, sizeof...(Ts)> refs{};
        [[maybe_unused]] std::array<param_scratch, sizeof...(Ts)> scratch; // unused for an empty row
        [[maybe_unused]] std::size_t i = 0;
        ((refs[i] = param_traits<std::remove_cvref_t<Ts>>::encode(values, scratch[i]), ++i), ...);
        append_row(refs);
    }
    /// Encodes one row of already encoded values (a `param_buffer`'s `refs()` …).
    void append_row(std::span<const param_ref> row);
    /// Appends data already in COPY's format (whole rows or not: the server parses the stream).
    void write_raw(std::string_view data);

    /// Bytes waiting in the buffer.
    std::size_t buffered() const noexcept { return buffer_.size(); }
    /// True once the buffer holds `flush_threshold()` bytes or more: time to `async_flush`.
    bool should_flush() const noexcept { return buffer_.size() >= threshold_; }
    std::size_t flush_threshold() const noexcept { return threshold_; }
    /// Default 64 KiB: big enough that each flush is one large write, small enough for memory.
    void set_flush_threshold(std::size_t bytes) noexcept { threshold_ = bytes == 0 ? 1 : bytes; }

    /// Hands the buffer to the server, waiting for the socket as needed; completes when all of
    /// it is written (or the server ended the COPY with an error). Signature: `void(error_code)`.
    template <class Token = boost::asio::deferred_t>
    auto async_flush(Token&& token = {}) {
        return detail::initiate<void(error_code)>(flush_initiation{this}, std::forward<Token>(token));
    }

    /// Sends what is buffered, ends the COPY and waits for the server's verdict. Signature:
    /// `void(error_code, std::uint64_t rows)`: the number of rows the server inserted.
    template <class Token = boost::asio::deferred_t>
    auto async_finish(Token&& token = {}) {
        return detail::initiate<void(error_code, std::uint64_t)>(finish_initiation{this},
                                                                std::forward<Token>(token));
    }

    /// Drops the buffer and aborts the COPY (CopyFail with `reason`): nothing is inserted; the
    /// connection stays usable. Signature: `void(error_code)` — success once the server has
    /// confirmed. `reason` is copied.
    template <class Token = boost::asio::deferred_t>
    auto async_abort(std::string_view reason, Token&& token = {}) {
        return detail::initiate<void(error_code)>(abort_initiation{this}, std::forward<Token>(token),
                                                  std::string(reason));
    }

private:
    using impl_ptr = std::shared_ptr<detail::connection_impl>;
    template <class Sig> using handler = boost::asio::any_completion_handler<Sig>;
    enum class end_kind { flush, abort };

    static void async_start_erased(copy_writer*, std::string_view sql, diagnostics*, handler<void(error_code)>);
    static void async_send_erased(copy_writer*, end_kind, std::string reason, diagnostics*, handler<void(error_code)>);
    static void async_finish_erased(copy_writer*, diagnostics*, handler<void(error_code, std::uint64_t)>);
    static connection::executor_type executor_of(const copy_writer*) noexcept;

    struct initiation_base {
        copy_writer* self;
        using executor_type = connection::executor_type;
        executor_type get_executor() const noexcept { return executor_of(self); }
    };
    struct start_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, std::string_view sql) const {
            async_start_erased(self, sql, diag, detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
        }
    };
    struct flush_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag) const {
            async_send_erased(self, end_kind::flush, {}, diag, detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
        }
    };
    struct finish_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag) const {
            async_finish_erased(self, diag, detail::erase_handler<void(error_code, std::uint64_t)>(std::forward<Handler>(h)));
        }
    };
    struct abort_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, std::string reason) const {
            async_send_erased(self, end_kind::abort, std::move(reason), diag,
                              detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
        }
    };
    friend struct detail::copy_access;
    impl_ptr impl_;
    std::string buffer_;
    std::size_t threshold_ = 64 * 1024;
    data_format format_ = data_format::text;
    std::size_t columns_ = 0;
    std::uint64_t op_ = 0;   // the connection's id for this COPY (0: not started or ended)
    bool header_sent_ = false; // binary: the signature is in the data (written by append_row)
    bool raw_written_ = false; // write_raw was used: the caller frames binary data itself
    bool busy_ = false;        // a flush, finish or abort is in flight
    std::string scratch_;      // reused by append_row
};

/// Reads `COPY … TO STDOUT` data, streamed: rows a batch at a time, typed (`async_read_rows`)
/// or as the raw COPY bytes (`async_read`).
///
/// \code
///   asiopg::copy_reader r(conn);
///   co_await r.async_start("COPY items (id, name) TO STDOUT");
///   asiopg::copy_rows rows;
///   while (co_await r.async_read_rows(rows, 1000))
///       for (auto row : rows) use(row[0].as<int>(), row[1].as<std::string>());
/// \endcode
///
/// From `async_start` until a read yields 0 (or an error) the connection belongs to the COPY:
/// other operations fail with `client_errc::operation_in_progress`.
///
/// \par Cancellation
/// Partial and total cancellation of a read send a cancel request to the server, drain the
/// rest of the data and complete with `sqlstate::query_canceled` (57014), leaving the
/// connection usable (closed if the server does not end the COPY within 5 s). Terminal
/// cancellation closes the connection.
///
/// \par Lifetime and thread safety
/// The reader must outlive its operations, as must the `copy_rows`/string being filled.
/// Destroying a reader before the end of its COPY closes the connection (the rest of the data
/// would otherwise stand between the connection and its next command). Not thread-safe.
class copy_reader {
public:
    explicit copy_reader(connection& conn);
    ~copy_reader();
    copy_reader(const copy_reader&) = delete;
    copy_reader& operator=(const copy_reader&) = delete;

    /// Runs `sql`, which must be a `COPY … TO STDOUT`. Signature: `void(error_code)`. Another
    /// statement fails with `client_errc::unexpected_result` (a COPY FROM STDIN is aborted).
    /// `sql` must stay valid until the operation starts.
    template <class Token = boost::asio::deferred_t>
    auto async_start(std::string_view sql, Token&& token = {}) {
        return detail::initiate<void(error_code)>(start_initiation{this}, std::forward<Token>(token), sql);
    }

    data_format format() const noexcept { return format_; }
    std::size_t columns() const noexcept { return columns_; }
    /// True from a successful `async_start` until the COPY ends.
    bool active() const noexcept;
    /// The columns' types, for `copy_field::as` (and `type()`): required to decode binary COPY.
    void set_column_types(std::vector<oid> types);

    /// Reads the next rows into `rows` (replacing its previous ones): at most `max_rows`, fewer
    /// when no more have arrived yet. Signature: `void(error_code, std::size_t rows)`; 0: the
    /// COPY is over and the connection free.
    template <class Token = boost::asio::deferred_t>
    auto async_read_rows(copy_rows& rows, std::size_t max_rows, Token&& token = {}) {
        return detail::initiate<void(error_code, std::size_t)>(read_initiation{this}, std::forward<Token>(token),
                                                               &rows, static_cast<std::string*>(nullptr), max_rows);
    }
    /// Reads the next raw COPY data into `out` (replacing its contents): whole rows, about
    /// `max_bytes` or less (at least one row). Signature: `void(error_code, std::size_t bytes)`;
    /// 0: the COPY is over and the connection free.
    template <class Token = boost::asio::deferred_t>
    auto async_read(std::string& out, std::size_t max_bytes, Token&& token = {}) {
        return detail::initiate<void(error_code, std::size_t)>(read_initiation{this}, std::forward<Token>(token),
                                                               static_cast<copy_rows*>(nullptr), &out, max_bytes);
    }

private:
    using impl_ptr = std::shared_ptr<detail::connection_impl>;
    template <class Sig> using handler = boost::asio::any_completion_handler<Sig>;

    static void async_start_erased(copy_reader*, std::string_view sql, diagnostics*, handler<void(error_code)>);
    static void async_read_erased(copy_reader*, copy_rows*, std::string*, std::size_t max, diagnostics*,
                                  handler<void(error_code, std::size_t)>);
    static connection::executor_type executor_of(const copy_reader*) noexcept;

    struct initiation_base {
        copy_reader* self;
        using executor_type = connection::executor_type;
        executor_type get_executor() const noexcept { return executor_of(self); }
    };
    struct start_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, std::string_view sql) const {
            async_start_erased(self, sql, diag, detail::erase_handler<void(error_code)>(std::forward<Handler>(h)));
        }
    };
    struct read_initiation : initiation_base {
        template <class Handler>
        void operator()(Handler&& h, diagnostics* diag, copy_rows* rows, std::string* out, std::size_t max) const {
            async_read_erased(self, rows, out, max, diag, detail::erase_handler<void(error_code, std::size_t)>(std::forward<Handler>(h)));
        }
    };

    friend struct detail::copy_access;
    impl_ptr impl_;
    data_format format_ = data_format::text;
    std::size_t columns_ = 0;
    std::uint64_t op_ = 0;
    bool header_seen_ = false; // binary: the signature that starts the data
    bool trailer_seen_ = false;
    bool busy_ = false; // a read is in flight
    std::shared_ptr<const std::vector<oid>> types_;
};

} // namespace asiopg

#endif
