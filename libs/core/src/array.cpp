// PostgreSQL arrays: parsing (text and binary), text rendering, parameter encoding.
#include <asiopg/types/array.hpp>

#include "array_codec.hpp"
#include "client_error.hpp"

#include <cstring>
#include <strings.h>

namespace asiopg::detail {
namespace {

std::int32_t read_i32(const value_view& v, std::size_t& at) {
    if (at + 4 > v.bytes.size()) conversion_failed(v, "std::vector", "truncated binary array");
    std::uint32_t u = 0;
    for (int i = 0; i < 4; ++i) u = (u << 8) | static_cast<unsigned char>(v.bytes[at++]);
    return static_cast<std::int32_t>(u);
}

void parse_binary(const value_view& v, array_contents& out) {
    std::size_t at = 0;
    std::int32_t ndim = read_i32(v, at);
    read_i32(v, at); // has-null flag
    oid elem = static_cast<oid>(read_i32(v, at));
    if (ndim < 0 || ndim > 6) conversion_failed(v, "std::vector", "bad number of dimensions");
    std::size_t count = ndim ? 1 : 0;
    for (int d = 0; d < ndim; ++d) {
        std::int32_t n = read_i32(v, at);
        read_i32(v, at); // lower bound
        if (n < 0) conversion_failed(v, "std::vector", "bad dimension");
        out.dims.push_back(n);
        // Each element takes 4 bytes at least: a product past the size is a lie (and could wrap).
        if (n != 0 && count > v.bytes.size() / static_cast<std::size_t>(n))
            conversion_failed(v, "std::vector", "truncated binary array");
        count *= static_cast<std::size_t>(n);
    }
    if (count > v.bytes.size()) conversion_failed(v, "std::vector", "truncated binary array");
    out.elements.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        std::int32_t len = read_i32(v, at);
        if (len < 0) {
            out.elements.emplace_back();
            continue;
        }
        if (at + static_cast<std::size_t>(len) > v.bytes.size())
            conversion_failed(v, "std::vector", "truncated binary array");
        out.elements.emplace_back(value_view{v.bytes.substr(at, static_cast<std::size_t>(len)), data_format::binary, elem});
        at += static_cast<std::size_t>(len);
    }
    if (count == 0) out.dims.clear();
}

// Text form: [dims]={...} with nested braces, quoted elements with backslash escapes, NULL.
class text_parser {
public:
    text_parser(const value_view& v, array_contents& out) : v_(v), s_(v.bytes), out_(out) {
        elem_ = element_oid_of(v.type);
    }

    void parse() {
        if (!s_.empty() && s_[0] == '[') { // explicit bounds: "[0:2]={...}"
            std::size_t eq = s_.find('=');
            if (eq == std::string_view::npos) fail("bad array bounds");
            pos_ = eq + 1;
        }
        skip_space();
        list(0);
        skip_space();
        if (pos_ != s_.size()) fail("junk after the array");
        if (out_.elements.empty()) out_.dims.clear();
    }

private:
    [[noreturn]] void fail(const char* why) { conversion_failed(v_, "std::vector", why); }
    void skip_space() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
    }
    bool at(char c) { return pos_ < s_.size() && s_[pos_] == c; }

    void list(std::size_t depth) {
        if (depth >= 6) fail("more than 6 dimensions"); // PostgreSQL's MAXDIM; and a bounded recursion
        if (!at('{')) fail("expected '{'");
        ++pos_;
        int count = 0;
        skip_space();
        if (at('}')) {
            ++pos_;
            note_dim(depth, 0);
            return;
        }
        for (;;) {
            skip_space();
            if (at('{')) list(depth + 1);
            else element(depth);
            ++count;
            skip_space();
            if (at(',')) { ++pos_; continue; }
            if (at('}')) { ++pos_; break; }
            fail("expected ',' or '}'");
        }
        note_dim(depth, count);
    }

    void note_dim(std::size_t depth, int count) {
        if (out_.dims.size() <= depth) out_.dims.resize(depth + 1, -1);
        if (out_.dims[depth] == -1) out_.dims[depth] = count;
        else if (out_.dims[depth] != count) fail("sub-arrays have different lengths");
    }

    void element(std::size_t depth) {
        if (leaf_depth_ == -1) leaf_depth_ = static_cast<int>(depth);
        else if (leaf_depth_ != static_cast<int>(depth)) fail("elements at different depths");
        std::string value;
        if (at('"')) {
            ++pos_;
            for (;;) {
                if (pos_ >= s_.size()) fail("unterminated quoted element");
                char c = s_[pos_++];
                if (c == '"') break;
                if (c == '\\') {
                    if (pos_ >= s_.size()) fail("unterminated quoted element");
                    c = s_[pos_++];
                }
                value += c;
            }
            push(std::move(value));
            return;
        }
        std::size_t start = pos_;
        while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}') {
            if (s_[pos_] == '\\') ++pos_;
            ++pos_;
        }
        std::string_view raw = s_.substr(start, pos_ - start);
        while (!raw.empty() && raw.back() == ' ') raw.remove_suffix(1);
        if (raw.size() == 4 && strncasecmp(raw.data(), "NULL", 4) == 0) {
            out_.elements.emplace_back();
            return;
        }
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
            value += raw[i];
        }
        push(std::move(value));
    }

    void push(std::string value) {
        const std::string& kept = out_.storage.emplace_back(std::move(value));
        out_.elements.emplace_back(value_view{kept, data_format::text, elem_});
    }

    const value_view& v_;
    std::string_view s_;
    array_contents& out_;
    std::size_t pos_ = 0;
    int leaf_depth_ = -1;
    oid elem_ = 0;
};

void quote_into(std::string& out, std::string_view text) {
    bool needs = text.empty() || (text.size() == 4 && strncasecmp(text.data(), "NULL", 4) == 0);
    for (char c : text)
        if (c == '{' || c == '}' || c == ',' || c == '"' || c == '\\' || c == ' ' || c == '\t' || c == '\n')
            needs = true;
    if (!needs) {
        out += text;
        return;
    }
    out += '"';
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
}

void render(std::string& out, const array_contents& a, std::size_t dim, std::size_t& pos,
            const std::vector<std::string>& texts) {
    out += '{';
    for (int i = 0; i < a.dims[dim]; ++i) {
        if (i) out += ',';
        if (dim + 1 < a.dims.size()) render(out, a, dim + 1, pos, texts);
        else if (!a.elements[pos++]) out += "NULL";
        else quote_into(out, texts[pos - 1]);
    }
    out += '}';
}

void put_i32(std::string& out, std::int32_t v) {
    auto u = static_cast<std::uint32_t>(v);
    for (int i = 3; i >= 0; --i) out += static_cast<char>((u >> (8 * i)) & 0xff);
}

} // namespace

void parse_array(const value_view& v, array_contents& out) {
    if (v.format == data_format::binary) parse_binary(v, out);
    else text_parser(v, out).parse();
}

void array_text(const value_view& v, std::string& out) {
    array_contents a;
    parse_array(v, a);
    std::vector<std::string> texts(a.elements.size());
    for (std::size_t i = 0; i < a.elements.size(); ++i)
        if (a.elements[i]) result_traits<std::string>::decode(*a.elements[i], texts[i]);
    out.clear();
    if (a.dims.empty()) {
        out = "{}";
        return;
    }
    std::size_t pos = 0;
    render(out, a, 0, pos, texts);
}

param_ref encode_array(const std::vector<param_ref>& elements, const std::vector<int>& dims,
                       oid empty_element_type, param_scratch& out) {
    // The element type: one for all; strings (type 0, "infer") travel as text.
    oid elem = 0;
    bool first = true;
    for (const param_ref& e : elements) {
        oid t = e.type == 0 ? oids::text : e.type;
        if (first) elem = t, first = false;
        else if (t != elem) throw_invalid_parameter("array parameter mixes element types");
    }
    if (first) elem = empty_element_type == 0 ? oids::text : empty_element_type;
    oid array_type = array_oid_of(elem);
    bool binary = array_type != 0;
    for (const param_ref& e : elements)
        if (e.data && e.format == data_format::text && elem != oids::text) binary = false;

    std::string& buf = out.heap;
    buf.clear();
    const bool empty = elements.empty();
    if (binary) {
        put_i32(buf, empty ? 0 : static_cast<std::int32_t>(dims.size()));
        bool has_null = false;
        for (const param_ref& e : elements) has_null = has_null || !e.data;
        put_i32(buf, has_null ? 1 : 0);
        put_i32(buf, static_cast<std::int32_t>(elem));
        if (!empty)
            for (int d : dims) {
                put_i32(buf, d);
                put_i32(buf, 1);
            }
        for (const param_ref& e : elements) {
            if (!e.data) {
                put_i32(buf, -1);
                continue;
            }
            put_i32(buf, e.length);
            buf.append(e.data, static_cast<std::size_t>(e.length));
        }
        return {buf.data(), static_cast<int>(buf.size()), data_format::binary, array_type};
    }
    // Text form, for element types asiopg has no binary array for (numeric text …).
    array_contents a;
    a.dims = empty ? std::vector<int>{} : dims;
    std::vector<std::string> texts(elements.size());
    for (std::size_t i = 0; i < elements.size(); ++i) {
        const param_ref& e = elements[i];
        if (!e.data) {
            a.elements.emplace_back();
            continue;
        }
        value_view ev{{e.data, static_cast<std::size_t>(e.length)}, e.format, e.type};
        result_traits<std::string>::decode(ev, texts[i]);
        a.elements.emplace_back(ev);
    }
    if (empty) buf = "{}";
    else {
        std::size_t pos = 0;
        render(buf, a, 0, pos, texts);
    }
    return {buf.c_str(), static_cast<int>(buf.size()), data_format::text, array_type};
}

} // namespace asiopg::detail
