// asiopg::statement accessors.
#include <asiopg/statement.hpp>

namespace asiopg {
namespace {
const std::string empty_string;
}

const std::string& statement::name() const noexcept { return d_ ? d_->name : empty_string; }
const std::string& statement::sql() const noexcept { return d_ ? d_->sql : empty_string; }
std::size_t statement::param_count() const noexcept { return d_ ? d_->param_types.size() : 0; }
oid statement::param_type(std::size_t i) const noexcept {
    return d_ && i < d_->param_types.size() ? d_->param_types[i] : 0;
}
std::size_t statement::columns() const noexcept { return d_ ? d_->column_types.size() : 0; }
std::string_view statement::column_name(std::size_t i) const noexcept {
    return d_ && i < d_->column_names.size() ? std::string_view(d_->column_names[i]) : std::string_view();
}
oid statement::column_type(std::size_t i) const noexcept {
    return d_ && i < d_->column_types.size() ? d_->column_types[i] : 0;
}

} // namespace asiopg
