// COPY's data formats: rows encoded by copy_writer (text with its escapes, or binary framing)
// and rows decoded for copy_reader (escapes undone in place, binary fields located).
#include <asiopg/copy.hpp>

#include "client_error.hpp"
#include "copy_format.hpp"

#include <cstring>

namespace asiopg {
namespace detail {
namespace {

constexpr char binary_signature[] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\xff', '\r', '\n', '\0'};

std::uint32_t read_u32(const char* p) noexcept {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(p[0])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(p[1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(p[2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(p[3]));
}
std::int16_t read_i16(const char* p) noexcept {
    return static_cast<std::int16_t>((static_cast<unsigned>(static_cast<unsigned char>(p[0])) << 8) |
                                     static_cast<unsigned char>(p[1]));
}
void append_be32(std::string& out, std::int32_t v) {
    char b[4];
    store_be<std::int32_t>(b, v);
    out.append(b, 4);
}

// COPY text: backslash, tab, newline and carriage return are escaped; everything else is as is.
void append_escaped(std::string& out, std::string_view v) {
    std::size_t from = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        const char* esc = c == '\\' ? "\\\\" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : nullptr;
        if (!esc) continue;
        out.append(v.data() + from, i - from);
        out.append(esc, 2);
        from = i + 1;
    }
    out.append(v.data() + from, v.size() - from);
}

bool text_like(oid t) noexcept {
    return t == 0 || t == oids::text || t == oids::varchar || t == oids::bpchar || t == oids::name ||
           t == oids::json || t == oids::xml || t == oids::unknown;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

} // namespace

void copy_encode_row(std::string& out, std::string& scratch, data_format format, bool& header_sent,
                     std::span<const param_ref> row) {
    const std::size_t mark = out.size();
    try {
        if (format == data_format::text) {
            for (std::size_t i = 0; i < row.size(); ++i) {
                const param_ref& p = row[i];
                if (i) out.push_back('\t');
                if (!p.data) {
                    out.append("\\N", 2);
                    continue;
                }
                std::string_view v(p.data, static_cast<std::size_t>(p.length));
                if (p.format == data_format::binary) {
                    scratch.clear();
                    decode_text({v, data_format::binary, p.type}, scratch); // COPY text is the type's text
                    v = scratch;
                } else if (std::memchr(v.data(), 0, v.size())) {
                    throw_invalid_parameter("COPY row, value " + std::to_string(i + 1) +
                           ": text cannot hold a NUL byte (send binary data as asiopg::bytes)");
                }
                append_escaped(out, v);
            }
            out.push_back('\n');
            return;
        }
        if (!header_sent) {
            out.append(binary_signature, sizeof binary_signature);
            append_be32(out, 0); // flags
            append_be32(out, 0); // header extension length
            header_sent = true;
        }
        char count[2];
        store_be<std::int16_t>(count, static_cast<std::int16_t>(row.size()));
        out.append(count, 2);
        for (std::size_t i = 0; i < row.size(); ++i) {
            const param_ref& p = row[i];
            if (!p.data) {
                append_be32(out, -1);
                continue;
            }
            if (p.format == data_format::text && p.type == oids::jsonb) { // jsonb's binary form: version 1, then the text
                append_be32(out, p.length + 1);
                out.push_back('\1');
            } else if (p.format == data_format::text && !text_like(p.type)) {
                throw_invalid_parameter("COPY row, value " + std::to_string(i + 1) + ": a " + type_name_of(p.type) +
                       " value is encoded as text, which binary COPY cannot carry (use text COPY)");
            } else {
                append_be32(out, p.length);
            }
            out.append(p.data, static_cast<std::size_t>(p.length));
        }
    } catch (...) {
        out.resize(mark); // never half a row in the stream
        throw;
    }
}

void copy_binary_trailer(std::string& out, bool& header_sent) {
    if (!header_sent) {
        out.append(binary_signature, sizeof binary_signature);
        append_be32(out, 0);
        append_be32(out, 0);
        header_sent = true;
    }
    out.append("\xff\xff", 2);
}

// One text row (one CopyData message): fields split at tabs, "\N" alone is NULL, escapes
// undone in place (the unescaped text is never longer).
void copy_decode_text(std::string& data, std::vector<copy_field_ref>& fields, const char* row, std::size_t n) {
    const std::size_t base = data.size();
    data.append(row, n);
    char* const start = data.data() + base;
    char* p = start;
    char* end = start + n;
    if (end > p && end[-1] == '\n') --end;
    if (end > p && end[-1] == '\r') --end;
    char* w = p;
    for (;;) {
        char* field_start = w;
        if (end - p >= 2 && p[0] == '\\' && p[1] == 'N' && (p + 2 == end || p[2] == '\t')) {
            fields.push_back({static_cast<std::size_t>(w - data.data()), -1});
            p += 2;
        } else {
            while (p < end && *p != '\t') {
                char c = *p++;
                if (c == '\\' && p < end) {
                    char e = *p++;
                    switch (e) {
                    case 'b': c = '\b'; break;
                    case 'f': c = '\f'; break;
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'v': c = '\v'; break;
                    case 'x': {
                        int v = 0, k = 0;
                        for (int h; k < 2 && p < end && (h = hex_value(*p)) >= 0; ++k, ++p) v = v * 16 + h;
                        c = k ? static_cast<char>(v) : 'x';
                        break;
                    }
                    default:
                        if (e >= '0' && e <= '7') {
                            int v = e - '0';
                            for (int k = 1; k < 3 && p < end && *p >= '0' && *p <= '7'; ++k, ++p) v = v * 8 + (*p - '0');
                            c = static_cast<char>(v);
                        } else {
                            c = e;
                        }
                    }
                }
                *w++ = c;
            }
            fields.push_back({static_cast<std::size_t>(field_start - data.data()), static_cast<std::int64_t>(w - field_start)});
        }
        if (p >= end) break;
        ++p; // the tab
    }
    data.resize(static_cast<std::size_t>(w - data.data()));
}

// One binary message: [signature + header] tuple | trailer. False when malformed.
bool copy_decode_binary(std::string& data, std::vector<copy_field_ref>& fields, bool& header_seen,
                        bool& trailer_seen, bool& is_row, const char* msg, std::size_t n) {
    is_row = false;
    const char* p = msg;
    const char* end = msg + n;
    if (!header_seen) {
        if (n < 19 || std::memcmp(p, binary_signature, sizeof binary_signature) != 0) return false;
        std::uint32_t ext = read_u32(p + 15);
        if (ext > n - 19) return false;
        p += 19 + ext;
        header_seen = true;
    }
    if (p == end) return true;
    if (end - p < 2) return false;
    std::int16_t count = read_i16(p);
    p += 2;
    if (count == -1) {
        trailer_seen = true;
        return p == end;
    }
    if (count < 0) return false;
    const std::size_t base = data.size();
    data.append(p, static_cast<std::size_t>(end - p));
    const char* q = data.data() + base;
    const char* qend = data.data() + data.size();
    for (int i = 0; i < count; ++i) {
        if (qend - q < 4) return false;
        std::int32_t len = static_cast<std::int32_t>(read_u32(q));
        q += 4;
        if (len == -1) {
            fields.push_back({static_cast<std::size_t>(q - data.data()), -1});
            continue;
        }
        if (len < 0 || qend - q < len) return false;
        fields.push_back({static_cast<std::size_t>(q - data.data()), len});
        q += len;
    }
    is_row = true;
    return q == qend;
}

} // namespace detail

// ---- copy_rows, copy_row_view, copy_field

void copy_rows::clear() noexcept {
    data_.clear();
    fields_.clear();
    row_starts_.clear();
}

std::size_t copy_row_view::size() const noexcept { return rows_->row_starts_[row_ + 1] - rows_->row_starts_[row_]; }

copy_field copy_row_view::operator[](std::size_t i) const noexcept {
    const auto& f = rows_->fields_[rows_->row_starts_[row_] + i];
    const oid type = rows_->types_ && i < rows_->types_->size() ? (*rows_->types_)[i] : 0;
    if (f.length < 0) return {{}, true, rows_->format_, type, i};
    return {std::string_view(rows_->data_.data() + f.offset, static_cast<std::size_t>(f.length)), false,
            rows_->format_, type, i};
}

void copy_row_view::check_size(std::size_t wanted) const {
    if (size() == wanted) return;
    diagnostics d;
    d.message = "COPY row has " + std::to_string(size()) + " fields, " + std::to_string(wanted) + " requested";
    throw error_with_diagnostics(client_errc::conversion_error, std::move(d));
}

void copy_field::null_error(const std::string& cpp_type) const {
    diagnostics d;
    d.message = "COPY field " + std::to_string(column_ + 1) + " (" + type_name_of(type_) + ") to " + cpp_type +
                ": value is NULL (read it as std::optional)";
    throw error_with_diagnostics(client_errc::unexpected_null, std::move(d));
}

void copy_field::rethrow_with_column() const {
    try {
        throw;
    } catch (const error_with_diagnostics& e) {
        diagnostics d = e.get_diagnostics();
        d.message = "COPY field " + std::to_string(column_ + 1) + ": " + d.message;
        throw error_with_diagnostics(e.code(), std::move(d));
    }
}

} // namespace asiopg
