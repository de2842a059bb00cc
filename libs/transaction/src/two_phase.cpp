// COMMIT PREPARED / ROLLBACK PREPARED / the list of prepared transactions.
#include <asiopg/transaction/two_phase.hpp>

#include "statement_op.hpp"

#include <asiopg/result.hpp>
#include <asiopg/sql_format.hpp>
#include <asiopg/types/chrono.hpp>

namespace asiopg::detail {

void async_resolve_prepared_erased(connection& conn, prepared_action action, std::string gid, diagnostics* diag,
                                   asio::any_completion_handler<void(error_code)> h) {
    std::string sql;
    try {
        sql = (action == prepared_action::commit ? "COMMIT PREPARED " : "ROLLBACK PREPARED ") + escape_literal(conn, gid);
    } catch (const error_with_diagnostics& e) {
        return refuse<>(conn.get_executor(), std::move(h), diag, e.code(), e.get_diagnostics().message);
    }
    run_statement<void(error_code)>(conn, std::move(sql), diag, std::move(h),
                                    [](error_code ec, result&) { return std::make_tuple(ec); });
}

void async_list_prepared_erased(connection& conn, diagnostics* diag,
                                asio::any_completion_handler<void(error_code, std::vector<prepared_transaction>)> h) {
    run_statement<void(error_code, std::vector<prepared_transaction>)>(
        conn, "SELECT gid, prepared, owner::text, database::text FROM pg_prepared_xacts ORDER BY prepared, gid", diag,
        std::move(h), [](error_code ec, result& r) {
            std::vector<prepared_transaction> out;
            if (!ec) {
                try {
                    for (row_view row : r)
                        out.push_back({row[0].as<std::string>(),
                                       row[1].as<std::chrono::system_clock::time_point>(), row[2].as<std::string>(),
                                       row[3].as<std::string>()});
                } catch (const error_with_diagnostics& e) {
                    out.clear();
                    ec = e.code();
                }
            }
            return std::make_tuple(ec, std::move(out));
        });
}

} // namespace asiopg::detail
