// Internal: arrays as text (for std::string reads of binary arrays).
#ifndef ASIOPG_SRC_ARRAY_CODEC_HPP
#define ASIOPG_SRC_ARRAY_CODEC_HPP

#include <asiopg/result_traits.hpp>

#include <string>

namespace asiopg::detail {
// A binary array in PostgreSQL's text form ("{1,2,NULL}", quoted where needed).
void array_text(const value_view& v, std::string& out);
} // namespace asiopg::detail

#endif
