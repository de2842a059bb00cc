// Internal: where a builder statement is written, and the nodes of its expressions.
//
// A statement is written twice at most: once for its shape key and its parameters, and, only
// when no statement of that shape was compiled before, once more for its text. So everything
// that changes the text must change the key, and the key must read one way only: node kinds and
// operators go in as tokens, names as a token and the id of their table or column (never
// reused), lists with their length, and text chosen at run time (labels, function names) with
// its length. Fixed text is written only where the tokens before it decide it.
#ifndef ASIOPG_SQL_SRC_WRITER_HPP
#define ASIOPG_SQL_SRC_WRITER_HPP

#include <asiopg/param_buffer.hpp>
#include <asiopg/sql/expression.hpp>
#include <asiopg/sql/table.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace asiopg::sql::detail {

class writer {
public:
    explicit writer(bool with_text) noexcept : with_text_(with_text) {}

    // A token of the shape: a node kind, an operator, a clause that is there or not.
    void token(std::uint8_t t) { key_.push_back(static_cast<char>(t)); }
    // Text the tokens written before it decide.
    void text(std::string_view s) {
        if (with_text_) text_.append(s);
    }
    // A table's or column's quoted name, keyed by its id.
    void name(std::uint64_t id, const std::string& quoted) {
        token(name_token);
        number(id);
        text(quoted);
    }
    // How many items a list holds (so that no two lists of different shapes share a key).
    void count(std::size_t n) {
        token(count_token);
        number(n);
    }
    // Text chosen at run time: part of the shape itself.
    void shaped_text(std::string_view s) {
        number(s.size());
        key_.append(s);
        text(s);
    }
    // A bound value: `$n`.
    void param(const param_ref& r) {
        params_.add(r);
        if (with_text_) {
            text_ += '$';
            text_ += std::to_string(params_.size());
        }
    }
    // Whether columns are written with their table's name ("t"."c") or alone ("c").
    void qualify(bool q) {
        qualify_ = q;
        token(q ? 1 : 0);
    }
    bool qualified() const noexcept { return qualify_; }

    const std::string& key() const noexcept { return key_; }
    std::string take_text() { return std::move(text_); }
    param_buffer take_params() { return std::move(params_); }

private:
    // Tokens of the key's own structure (node kinds and clauses use values below 0xF0).
    static constexpr std::uint8_t name_token = 0xF0, count_token = 0xF1;
    void number(std::uint64_t n) { key_.append(reinterpret_cast<const char*>(&n), sizeof n); }

    bool with_text_;
    bool qualify_ = true;
    std::string key_;
    std::string text_;
    param_buffer params_;
};

class node {
public:
    virtual ~node() = default;
    virtual void write(writer& w) const = 0;
    // The table of the first column it names, if any: SELECT's default FROM.
    virtual const table* table_hint() const noexcept { return nullptr; }
};

// Writes `items` separated by ", " (their number goes into the shape).
template <class Range>
void write_list(writer& w, const Range& items) {
    w.count(items.size());
    bool first = true;
    for (const auto& n : items) {
        if (!first) w.text(", ");
        first = false;
        n->write(w);
    }
}

// An optional clause: `token`, then `keyword` and `n`, when there is an `n`.
inline void write_clause(writer& w, std::uint8_t token, std::string_view keyword, const node_ptr& n) {
    if (!n) return;
    w.token(token);
    w.text(keyword);
    n->write(w);
}

// An optional list clause (GROUP BY, ORDER BY, RETURNING …): when `items` is not empty.
template <class Range>
void write_list_clause(writer& w, std::uint8_t token, std::string_view keyword, const Range& items) {
    if (items.empty()) return;
    w.token(token);
    w.text(keyword);
    write_list(w, items);
}

} // namespace asiopg::sql::detail

#endif
