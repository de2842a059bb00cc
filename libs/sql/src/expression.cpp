// The nodes of expressions and how each is written.
#include <asiopg/sql/expression.hpp>
#include <asiopg/sql/quote.hpp>
#include <asiopg/sql/table.hpp>

#include "writer.hpp"

#include <utility>

namespace asiopg::sql::detail {
namespace {

// Node kinds, as shape tokens.
enum kind : std::uint8_t { k_column = 1, k_param, k_binary, k_unary, k_function, k_star, k_label, k_default };

class column_node final : public node {
public:
    explicit column_node(const column_base& c) : c_(c) {}
    void write(writer& w) const override {
        w.token(k_column);
        if (w.qualified()) {
            w.name(c_.owner().id(), c_.owner().quoted_name());
            w.text(".");
        }
        w.name(c_.id(), c_.quoted_name());
    }
    const table* table_hint() const noexcept override { return &c_.owner(); }

private:
    const column_base& c_;
};

// A bound value, its bytes copied: the expression may outlive the C++ value.
class param_node final : public node {
public:
    explicit param_node(const param_ref& r)
        : bytes_(r.data ? std::string(r.data, static_cast<std::size_t>(r.length)) : std::string()), null_(!r.data),
          format_(r.format), type_(r.type) {}
    void write(writer& w) const override {
        w.token(k_param);
        w.param({null_ ? nullptr : bytes_.data(), static_cast<int>(bytes_.size()), format_, type_});
    }

private:
    std::string bytes_;
    bool null_;
    data_format format_;
    oid type_;
};

const char* infix(op o) noexcept {
    switch (o) {
    case op::eq: return " = ";
    case op::ne: return " <> ";
    case op::lt: return " < ";
    case op::le: return " <= ";
    case op::gt: return " > ";
    case op::ge: return " >= ";
    case op::and_: return " AND ";
    case op::or_: return " OR ";
    case op::like: return " LIKE ";
    case op::not_like: return " NOT LIKE ";
    case op::ilike: return " ILIKE ";
    case op::not_ilike: return " NOT ILIKE ";
    case op::add: return " + ";
    case op::sub: return " - ";
    case op::mul: return " * ";
    case op::div: return " / ";
    case op::any: return " = ANY(";
    case op::not_all: return " <> ALL(";
    default: return " ? ";
    }
}

class binary_node final : public node {
public:
    binary_node(op o, node_ptr l, node_ptr r) : op_(o), l_(std::move(l)), r_(std::move(r)) {}
    void write(writer& w) const override {
        w.token(k_binary);
        w.token(static_cast<std::uint8_t>(op_));
        w.text("(");
        l_->write(w);
        w.text(infix(op_));
        r_->write(w);
        w.text(op_ == op::any || op_ == op::not_all ? "))" : ")");
    }
    const table* table_hint() const noexcept override {
        const table* t = l_->table_hint();
        return t ? t : r_->table_hint();
    }

private:
    op op_;
    node_ptr l_, r_;
};

class unary_node final : public node {
public:
    unary_node(op o, node_ptr x) : op_(o), x_(std::move(x)) {}
    void write(writer& w) const override {
        w.token(k_unary);
        w.token(static_cast<std::uint8_t>(op_));
        switch (op_) {
        case op::not_: w.text("(NOT "); x_->write(w); w.text(")"); break;
        case op::neg: w.text("(- "); x_->write(w); w.text(")"); break;
        case op::is_null: w.text("("); x_->write(w); w.text(" IS NULL)"); break;
        case op::is_not_null: w.text("("); x_->write(w); w.text(" IS NOT NULL)"); break;
        case op::desc: x_->write(w); w.text(" DESC"); break;
        default: x_->write(w); w.text(" ASC"); break; // op::asc
        }
    }
    const table* table_hint() const noexcept override { return x_->table_hint(); }

private:
    op op_;
    node_ptr x_;
};

class function_node final : public node {
public:
    function_node(std::string name, std::vector<node_ptr> args) : name_(std::move(name)), args_(std::move(args)) {}
    void write(writer& w) const override {
        w.token(k_function);
        w.shaped_text(name_);
        w.text("(");
        write_list(w, args_);
        w.text(")");
    }
    const table* table_hint() const noexcept override {
        for (const node_ptr& a : args_)
            if (const table* t = a->table_hint()) return t;
        return nullptr;
    }

private:
    std::string name_; // as written: a built-in's name, or a user's, quoted
    std::vector<node_ptr> args_;
};

class fixed_node final : public node {
public:
    fixed_node(kind k, const char* text) : kind_(k), text_(text) {}
    void write(writer& w) const override {
        w.token(kind_);
        w.text(text_);
    }

private:
    kind kind_;
    const char* text_;
};

class label_node final : public node {
public:
    label_node(node_ptr x, std::string name) : x_(std::move(x)), quoted_(quote_identifier(name)) {}
    void write(writer& w) const override {
        w.token(k_label);
        x_->write(w);
        w.text(" AS ");
        w.shaped_text(quoted_);
    }
    const table* table_hint() const noexcept override { return x_->table_hint(); }

private:
    node_ptr x_;
    std::string quoted_;
};

} // namespace

node_ptr make_column(const column_base& c) { return std::make_shared<column_node>(c); }
node_ptr make_param(const param_ref& value) { return std::make_shared<param_node>(value); }
node_ptr make_binary(op o, node_ptr lhs, node_ptr rhs) {
    return std::make_shared<binary_node>(o, std::move(lhs), std::move(rhs));
}
node_ptr make_unary(op o, node_ptr arg) { return std::make_shared<unary_node>(o, std::move(arg)); }
node_ptr make_function(std::string name, bool builtin, std::vector<node_ptr> args) {
    return std::make_shared<function_node>(builtin ? std::move(name) : quote_identifier(name), std::move(args));
}
node_ptr make_star() {
    static const node_ptr star = std::make_shared<fixed_node>(k_star, "*");
    return star;
}
std::vector<node_ptr> columns_of(const table& t) {
    std::vector<node_ptr> out;
    out.reserve(t.columns().size());
    for (const column_base* c : t.columns()) out.push_back(make_column(*c));
    return out;
}
node_ptr make_label(node_ptr e, std::string name) { return std::make_shared<label_node>(std::move(e), std::move(name)); }
node_ptr make_default() {
    static const node_ptr d = std::make_shared<fixed_node>(k_default, "DEFAULT");
    return d;
}

} // namespace asiopg::sql::detail
