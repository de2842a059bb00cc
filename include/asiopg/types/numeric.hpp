#ifndef ASIOPG_TYPES_NUMERIC_HPP
#define ASIOPG_TYPES_NUMERIC_HPP

// numeric ↔ asiopg::numeric: an exact decimal, kept as PostgreSQL's own decimal text, so no
// digit is ever lost on the way (never through double). Reading a numeric as `double` is
// possible too, but only when asked for.

#include <asiopg/error.hpp>
#include <asiopg/params.hpp>
#include <asiopg/result_traits.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace asiopg {

/// An exact decimal number as PostgreSQL writes it: `-12.3400`, `0`, `NaN`, `Infinity`,
/// `-Infinity`. Arithmetic is left to a decimal library of your choice (construct it from
/// `str()`); asiopg only guarantees the value round-trips digit for digit, scale included.
class numeric {
public:
    numeric() : text_("0") {}
    /// From decimal text: an optional sign, digits with an optional fraction and an optional
    /// exponent (`1.5e-3`), or NaN / Infinity / -Infinity.
    /// \throws error_with_diagnostics (`client_errc::invalid_parameter`) for anything else.
    explicit numeric(std::string_view text) : text_(text) { validate(); }
    /// From an integer (exact).
    explicit numeric(std::int64_t v) : text_(std::to_string(v)) {}

    const std::string& str() const noexcept { return text_; }
    bool is_nan() const noexcept { return text_ == "NaN"; }
    bool is_infinite() const noexcept { return text_ == "Infinity" || text_ == "-Infinity"; }

    /// Equal texts (PostgreSQL's `1.0 = 1.00` is true, these compare the digits and scale).
    friend bool operator==(const numeric& a, const numeric& b) noexcept { return a.text_ == b.text_; }

private:
    void validate() const {
        std::string_view s = text_;
        if (s == "NaN" || s == "Infinity" || s == "-Infinity") return;
        std::size_t i = 0;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
        std::size_t digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
        if (i < s.size() && s[i] == '.') {
            ++i;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
        }
        if (digits > 0 && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
            ++i;
            if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
            std::size_t exp = 0;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp;
            if (exp == 0) digits = 0;
        }
        if (digits == 0 || i != s.size()) {
            diagnostics d;
            d.message = "\"" + std::string(s.substr(0, 64)) + "\" is not a decimal number";
            throw error_with_diagnostics(client_errc::invalid_parameter, std::move(d));
        }
    }
    std::string text_;
};

/// Sent as numeric text.
template <> struct param_traits<numeric> {
    static param_ref encode(const numeric& n, param_scratch&) noexcept {
        return {n.str().c_str(), static_cast<int>(n.str().size()), data_format::text, oids::numeric};
    }
};

/// Read from numeric (text or binary, digits and scale as the server has them) or integers.
template <> struct result_traits<numeric> {
    static void decode(const value_view& v, numeric& out) {
        std::string text;
        detail::decode_text(v, text);
        try {
            out = numeric(text);
        } catch (const error_with_diagnostics&) {
            conversion_failed(v, "asiopg::numeric", "\"" + text.substr(0, 64) + "\" is not a decimal number");
        }
    }
    static bool accepts(oid t) noexcept {
        return t == oids::numeric || t == oids::int2 || t == oids::int4 || t == oids::int8 || t == oids::text ||
               t == oids::varchar;
    }
};

} // namespace asiopg

#endif
