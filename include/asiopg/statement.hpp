#ifndef ASIOPG_STATEMENT_HPP
#define ASIOPG_STATEMENT_HPP

#include <asiopg/params.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace asiopg {

/// A statement prepared on the server by `connection::async_prepare`: its name, its parameter
/// types and its result columns (PostgreSQL's Describe).
///
/// \par Object lifetimes
/// A value type: copies share the description. It is valid on the session that prepared it;
/// after a reconnect, executing it fails with `client_errc::invalid_statement` (prepare again).
class statement {
public:
    statement() = default;

    /// False for a default-constructed statement.
    bool valid() const noexcept { return d_ != nullptr; }
    /// The server-side name (`asiopg_s<N>`).
    const std::string& name() const noexcept;
    const std::string& sql() const noexcept;
    /// Number of `$n` parameters and the type the server inferred for each.
    std::size_t param_count() const noexcept;
    oid param_type(std::size_t i) const noexcept;
    /// Result columns (0 for statements that return no rows).
    std::size_t columns() const noexcept;
    std::string_view column_name(std::size_t i) const noexcept;
    oid column_type(std::size_t i) const noexcept;

    struct description {
        std::string name;
        std::string sql;
        std::vector<oid> param_types;
        std::vector<std::string> column_names;
        std::vector<oid> column_types;
        std::uint64_t session = 0; // the connection session it belongs to
    };
    explicit statement(std::shared_ptr<const description> d) noexcept : d_(std::move(d)) {}
    const description* describe() const noexcept { return d_.get(); }

private:
    std::shared_ptr<const description> d_;
};

} // namespace asiopg

#endif
