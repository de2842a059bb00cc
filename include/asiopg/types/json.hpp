#ifndef ASIOPG_TYPES_JSON_HPP
#define ASIOPG_TYPES_JSON_HPP

// json / jsonb ↔ boost::json::value. Programs using this header link Boost.JSON
// (b2: /asiopg//boost_json; otherwise -lboost_json). For the raw text, read std::string.

#include <asiopg/error.hpp>
#include <asiopg/params.hpp>
#include <asiopg/result_traits.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <string>

namespace asiopg {

/// Sent as jsonb text (assignable to json columns too).
template <> struct param_traits<boost::json::value> {
    static param_ref encode(const boost::json::value& v, param_scratch& s) {
        s.heap = boost::json::serialize(v);
        return {s.heap.c_str(), static_cast<int>(s.heap.size()), data_format::text, oids::jsonb};
    }
};

/// Parsed from json or jsonb (text or binary), or any text column holding JSON.
template <> struct result_traits<boost::json::value> {
    static void decode(const value_view& v, boost::json::value& out) {
        std::string_view text = v.bytes;
        if (v.format == data_format::binary && v.type == oids::jsonb) {
            if (text.empty() || text[0] != 1) conversion_failed(v, "boost::json::value", "unknown jsonb version");
            text.remove_prefix(1);
        }
        boost::system::error_code ec;
        out = boost::json::parse(text, ec);
        if (ec) conversion_failed(v, "boost::json::value", "invalid JSON: " + ec.message());
    }
    static bool accepts(oid t) noexcept {
        return t == oids::json || t == oids::jsonb || t == oids::text || t == oids::varchar;
    }
};

} // namespace asiopg

#endif
