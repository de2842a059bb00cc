// Date/time codecs shared inside the library (the public side is asiopg/types/chrono.hpp).
#ifndef ASIOPG_SRC_DATETIME_HPP
#define ASIOPG_SRC_DATETIME_HPP

#include <asiopg/result_traits.hpp>

#include <string>

namespace asiopg::detail {

/// When `v` is a binary date, time, timestamp, timestamptz or interval: writes PostgreSQL's
/// text for it into `out` (ISO DateStyle, 'postgres' IntervalStyle; timestamptz in UTC with
/// "+00"; "infinity"/"-infinity"; " BC" years; fractional seconds without trailing zeros) and
/// returns true. Otherwise (other types, text format) returns false and leaves `out` alone.
/// \throws error_with_diagnostics (conversion_error) for a binary value of the wrong size.
bool datetime_text(const value_view& v, std::string& out);

} // namespace asiopg::detail

#endif
