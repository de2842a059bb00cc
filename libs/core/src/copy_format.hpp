// Internal: COPY's data formats (copy_format.cpp), used by the COPY machines (copy.cpp).
#ifndef ASIOPG_SRC_COPY_FORMAT_HPP
#define ASIOPG_SRC_COPY_FORMAT_HPP

#include <asiopg/copy.hpp>

#include <span>
#include <string>
#include <vector>

namespace asiopg::detail {

// Appends one row in `format` (binary: the signature first, once). Throws
// error_with_diagnostics (invalid_parameter) and leaves `out` as it was for a value that the
// format cannot carry.
void copy_encode_row(std::string& out, std::string& scratch, data_format format, bool& header_sent,
                     std::span<const param_ref> row);
// Binary COPY's end: the trailer (and the signature if no row was written).
void copy_binary_trailer(std::string& out, bool& header_sent);
// Decodes one text row (a CopyData message) into `data` and `fields`.
void copy_decode_text(std::string& data, std::vector<copy_field_ref>& fields, const char* row, std::size_t n);
// Decodes one binary CopyData message; `is_row` tells whether it held a row (not only the
// header or the trailer). False when the message is malformed.
bool copy_decode_binary(std::string& data, std::vector<copy_field_ref>& fields, bool& header_seen,
                        bool& trailer_seen, bool& is_row, const char* msg, std::size_t n);

} // namespace asiopg::detail

#endif
