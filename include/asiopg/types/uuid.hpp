#ifndef ASIOPG_TYPES_UUID_HPP
#define ASIOPG_TYPES_UUID_HPP

// uuid ↔ boost::uuids::uuid (header-only).

#include <asiopg/params.hpp>
#include <asiopg/result_traits.hpp>

#include <boost/uuid/string_generator.hpp>
#include <boost/uuid/uuid.hpp>

#include <algorithm>
#include <exception>
#include <string>

namespace asiopg {

/// Sent as a binary uuid.
template <> struct param_traits<boost::uuids::uuid> {
    static param_ref encode(const boost::uuids::uuid& u, param_scratch& s) noexcept {
        std::copy(u.begin(), u.end(), s.bytes);
        return {s.bytes, 16, data_format::binary, oids::uuid};
    }
};

/// Read from a uuid column (text or binary) or from its text form in any text column.
template <> struct result_traits<boost::uuids::uuid> {
    static void decode(const value_view& v, boost::uuids::uuid& out) {
        if (v.format == data_format::binary && v.type == oids::uuid) {
            if (v.bytes.size() != 16) conversion_failed(v, "boost::uuids::uuid", "a uuid has 16 bytes");
            std::copy(v.bytes.begin(), v.bytes.end(), out.begin());
            return;
        }
        // text, or a text column in binary (the same bytes)
        try {
            out = boost::uuids::string_generator()(std::string(v.bytes));
        } catch (const std::exception&) {
            conversion_failed(v, "boost::uuids::uuid", "\"" + std::string(v.bytes.substr(0, 64)) + "\" is not a uuid");
        }
    }
    static bool accepts(oid t) noexcept { return t == oids::uuid || t == oids::text || t == oids::varchar; }
};

} // namespace asiopg

#endif
