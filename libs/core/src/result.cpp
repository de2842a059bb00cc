// result, row_view, field_view: views over libpq's PGresult (conversions are in decode.cpp).
#include <asiopg/error.hpp>
#include <asiopg/result.hpp>

#include <libpq-fe.h>

#include <charconv>
#include <cstring>
#include <string>

namespace asiopg {

bool field_view::is_null() const noexcept { return PQgetisnull(res_, row_, col_) != 0; }
std::string_view field_view::raw() const noexcept {
    return {PQgetvalue(res_, row_, col_), static_cast<std::size_t>(PQgetlength(res_, row_, col_))};
}
data_format field_view::format() const noexcept { return static_cast<data_format>(PQfformat(res_, col_)); }
oid field_view::type() const noexcept { return PQftype(res_, col_); }
std::string_view field_view::column_name() const noexcept {
    const char* n = PQfname(res_, col_);
    return n ? n : "";
}

void field_view::null_error(const std::string& cpp_type) const {
    diagnostics d;
    d.message = "column \"" + std::string(column_name()) + "\" (" + type_name_of(type()) + ") to " + cpp_type +
                ": value is NULL (read it as std::optional)";
    d.column = std::string(column_name());
    throw error_with_diagnostics(client_errc::unexpected_null, std::move(d));
}

void field_view::rethrow_with_column() const {
    try {
        throw;
    } catch (const error_with_diagnostics& e) {
        diagnostics d = e.get_diagnostics();
        d.message = "column \"" + std::string(column_name()) + "\": " + d.message; // d names the types
        if (d.column.empty()) d.column = std::string(column_name());
        throw error_with_diagnostics(e.code(), std::move(d));
    }
}

std::size_t detail::result_columns(const result_view& r) noexcept { return r.columns(); }
std::size_t detail::result_rows(const result_view& r) noexcept { return r.size(); }
oid detail::result_column_type(const result_view& r, std::size_t c) noexcept { return r.column_type(c); }
long detail::result_find_column(const result_view& r, std::string_view name) noexcept {
    auto i = r.column_index(name);
    return i ? static_cast<long>(*i) : -1;
}
long detail::result_first_null(const result_view& r, std::size_t column, std::size_t first_row,
                               std::size_t end_row) noexcept {
    const pg_result* res = r.native_handle();
    for (std::size_t row = first_row; row < end_row; ++row)
        if (PQgetisnull(res, static_cast<int>(row), static_cast<int>(column))) return static_cast<long>(row);
    return -1;
}
void detail::mapping_error(client_errc code, std::string message) {
    diagnostics d;
    d.message = std::move(message);
    throw error_with_diagnostics(code, std::move(d));
}

std::size_t row_view::size() const noexcept { return res_ ? static_cast<std::size_t>(PQnfields(res_)) : 0; }

field_view row_view::at(std::size_t column) const {
    if (column >= size()) {
        diagnostics d;
        d.message = "column " + std::to_string(column) + " out of range (" + std::to_string(size()) +
                    " columns)";
        throw error_with_diagnostics(client_errc::index_out_of_range, std::move(d));
    }
    return (*this)[column];
}

field_view row_view::operator[](std::string_view name) const {
    if (res_) {
        int n = PQnfields(res_);
        for (int i = 0; i < n; ++i)
            if (name == PQfname(res_, i)) return {res_, row_, i};
    }
    diagnostics d;
    d.message = "no column named \"" + std::string(name) + "\" in the result";
    d.column = std::string(name);
    throw error_with_diagnostics(client_errc::column_not_found, std::move(d));
}

std::size_t result_view::size() const noexcept { return res_ ? static_cast<std::size_t>(PQntuples(res_)) : 0; }

row_view result_view::at(std::size_t row) const {
    if (row >= size()) {
        diagnostics d;
        d.message = "row " + std::to_string(row) + " out of range (" + std::to_string(size()) + " rows)";
        throw error_with_diagnostics(client_errc::index_out_of_range, std::move(d));
    }
    return (*this)[row];
}

std::size_t result_view::columns() const noexcept {
    return res_ ? static_cast<std::size_t>(PQnfields(res_)) : 0;
}
// Column accessors check the range themselves: libpq reports an out-of-range index through the
// connection's notice hook stored in the PGresult, and the connection may be gone by now.
std::string_view result_view::column_name(std::size_t column) const noexcept {
    const char* n = column < columns() ? PQfname(res_, static_cast<int>(column)) : nullptr;
    return n ? n : "";
}
std::optional<std::size_t> result_view::column_index(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < columns(); ++i)
        if (column_name(i) == name) return i;
    return std::nullopt;
}
oid result_view::column_type(std::size_t column) const noexcept {
    return column < columns() ? PQftype(res_, static_cast<int>(column)) : 0;
}
data_format result_view::column_format(std::size_t column) const noexcept {
    return static_cast<data_format>(column < columns() ? PQfformat(res_, static_cast<int>(column)) : 0);
}
std::uint64_t result_view::affected_rows() const noexcept {
    if (!res_) return 0;
    const char* s = PQcmdTuples(const_cast<PGresult*>(res_));
    std::uint64_t v = 0;
    if (s) std::from_chars(s, s + std::strlen(s), v);
    return v;
}
std::string_view result_view::command_tag() const noexcept {
    const char* s = res_ ? PQcmdStatus(const_cast<PGresult*>(res_)) : nullptr;
    return s ? s : "";
}

result::result(result&& other) noexcept
    : result_view(other.res_), first_(other.first_), more_(std::move(other.more_)) {
    other.res_ = nullptr;
    other.first_ = nullptr;
    other.more_.clear();
}
result& result::operator=(result&& other) noexcept {
    if (this != &other) {
        release_all();
        res_ = other.res_;
        first_ = other.first_;
        more_ = std::move(other.more_);
        other.res_ = nullptr;
        other.first_ = nullptr;
        other.more_.clear();
    }
    return *this;
}
result::~result() { release_all(); }

void detail::result_access::append(result& r, pg_result* res) {
    if (!r.first_) {
        r.first_ = res;
    } else {
        try {
            r.more_.push_back(res);
        } catch (...) {
            PQclear(res);
            throw;
        }
    }
    r.res_ = res;
}

void result::release_all() noexcept {
    if (first_) PQclear(first_);
    for (pg_result* r : more_) PQclear(r);
    first_ = nullptr;
    more_.clear();
    res_ = nullptr;
}

} // namespace asiopg
