// SQLSTATE mapping, conditions, is_fatal and the diagnostics exception — no server needed.
#include <asiopg/error.hpp>

#include "test_case.hpp"

#include <fstream>
#include <sstream>
#include <string>

using namespace asiopg;

BOOST_AUTO_TEST_SUITE(errors)

// The enum and the name table are generated from PostgreSQL's list: check every line of it.
ASIOPG_TEST_CASE(every_postgresql_sqlstate_maps_both_ways) {
    std::ifstream in("/usr/share/postgresql/15/errcodes.txt");
    BOOST_TEST_REQUIRE(in.good(), "errcodes.txt missing: apt-get install postgresql-15");
    std::string line;
    int checked = 0;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string code, kind, macro, spec;
        if (!(fields >> code >> kind >> macro) || code.size() != 5 || macro.rfind("ERRCODE_", 0) != 0) continue;
        fields >> spec;
        error_code ec = make_sqlstate_error(code);
        BOOST_TEST((ec.category() == sqlstate_category()));
        BOOST_TEST(sqlstate_text(ec) == code);
        std::string msg = ec.message();
        BOOST_TEST(msg.find("(" + code + ")") != std::string::npos, code << " -> " << msg);
        BOOST_TEST(msg.find("SQLSTATE") == std::string::npos, code << " has no name: " << msg);
        ++checked;
    }
    BOOST_TEST(checked == 266);
}

ASIOPG_TEST_CASE(enumerators_match_codes) {
    BOOST_TEST(sqlstate_text(sqlstate::unique_violation) == "23505");
    BOOST_TEST(sqlstate_text(sqlstate::serialization_failure) == "40001");
    BOOST_TEST(sqlstate_text(sqlstate::deadlock_detected) == "40P01");
    BOOST_TEST(sqlstate_text(sqlstate::syntax_error) == "42601");
    BOOST_TEST(sqlstate_text(sqlstate::undefined_table) == "42P01");
    BOOST_TEST(sqlstate_text(sqlstate::character_not_in_repertoire) == "22021");
    BOOST_TEST(sqlstate_text(sqlstate::admin_shutdown) == "57P01");
    BOOST_TEST(sqlstate_text(sqlstate::internal_error) == "XX000");
    BOOST_TEST(sqlstate_text(sqlstate::successful_completion) == "00000");
    BOOST_TEST((make_sqlstate_error("23505") == sqlstate::unique_violation));
}

ASIOPG_TEST_CASE(unknown_and_malformed_codes) {
    error_code future_code = make_sqlstate_error("ZZ999"); // well-formed, unknown to PostgreSQL 15
    BOOST_TEST(sqlstate_text(future_code) == "ZZ999");
    BOOST_TEST(future_code.message() == "SQLSTATE ZZ999");
    BOOST_TEST((make_sqlstate_error("abc") == sqlstate::internal_error));
    BOOST_TEST((make_sqlstate_error("2350") == sqlstate::internal_error));
    BOOST_TEST((make_sqlstate_error("23-05") == sqlstate::internal_error));
    BOOST_TEST(sqlstate_text(make_error_code(client_errc::timeout)).empty());
}

ASIOPG_TEST_CASE(conditions_match_classes) {
    BOOST_TEST((make_error_code(sqlstate::unique_violation) == condition::unique_violation));
    BOOST_TEST((make_error_code(sqlstate::unique_violation) == condition::integrity_constraint_violation));
    BOOST_TEST((make_error_code(sqlstate::foreign_key_violation) != condition::unique_violation));
    BOOST_TEST((make_error_code(sqlstate::serialization_failure) == condition::serialization_failure));
    BOOST_TEST((make_error_code(sqlstate::serialization_failure) == condition::transaction_rollback));
    BOOST_TEST((make_error_code(sqlstate::deadlock_detected) == condition::deadlock_detected));
    BOOST_TEST((make_error_code(sqlstate::query_canceled) == condition::query_canceled));
    BOOST_TEST((make_error_code(sqlstate::query_canceled) == condition::operator_intervention));
    BOOST_TEST((make_error_code(sqlstate::admin_shutdown) == condition::connection_error));
    BOOST_TEST((make_sqlstate_error("08006") == condition::connection_error));
    BOOST_TEST((make_error_code(client_errc::connection_lost) == condition::connection_error));
    BOOST_TEST((make_error_code(client_errc::connect_failed) == condition::connection_error));
    BOOST_TEST((make_error_code(sqlstate::syntax_error) == condition::syntax_error_or_access_rule_violation));
    BOOST_TEST((make_error_code(sqlstate::syntax_error) != condition::connection_error));
    BOOST_TEST((make_error_code(sqlstate::character_not_in_repertoire) == condition::data_exception));
    BOOST_TEST((make_error_code(client_errc::conversion_error) != condition::data_exception));
}

ASIOPG_TEST_CASE(fatal_errors) {
    BOOST_TEST(is_fatal(make_error_code(sqlstate::admin_shutdown)));
    BOOST_TEST(is_fatal(make_error_code(sqlstate::idle_in_transaction_session_timeout)));
    BOOST_TEST(is_fatal(make_sqlstate_error("08006")));
    BOOST_TEST(is_fatal(make_error_code(client_errc::connection_lost)));
    BOOST_TEST(is_fatal(make_error_code(client_errc::not_connected)));
    BOOST_TEST(!is_fatal(make_error_code(sqlstate::syntax_error)));
    BOOST_TEST(!is_fatal(make_error_code(sqlstate::unique_violation)));
    BOOST_TEST(!is_fatal(make_error_code(client_errc::operation_in_progress)));
    BOOST_TEST(!is_fatal(make_error_code(client_errc::invalid_parameter)));
    BOOST_TEST(!is_fatal(error_code()));
}

ASIOPG_TEST_CASE(every_client_error_has_a_message) {
    for (int e = static_cast<int>(client_errc::invalid_conninfo);
         e <= static_cast<int>(client_errc::invalid_statement); ++e) {
        std::string m = make_error_code(static_cast<client_errc>(e)).message();
        BOOST_TEST(m.find("unknown") == std::string::npos, e << ": " << m);
    }
    BOOST_TEST(make_error_code(client_errc::timeout).category().name() == std::string("asiopg.client"));
}

ASIOPG_TEST_CASE(exception_what_has_the_server_message) {
    diagnostics d;
    d.severity = "ERROR";
    d.sqlstate = "42601";
    d.message = "syntax error at or near \"selec\"";
    d.position = 1;
    d.hint = "check the spelling";
    error_with_diagnostics e(make_sqlstate_error(d.sqlstate), d);
    std::string what = e.what();
    BOOST_TEST(what.find("syntax error at or near \"selec\"") != std::string::npos, what);
    BOOST_TEST(what.find("42601") != std::string::npos, what);
    BOOST_TEST(what.find("position 1") != std::string::npos, what);
    BOOST_TEST(what.find("check the spelling") != std::string::npos, what);
    BOOST_TEST(e.get_diagnostics().position == 1);
    BOOST_TEST((e.code() == sqlstate::syntax_error));
    BOOST_TEST(d.from_server());
    BOOST_TEST(!diagnostics{}.from_server());
    BOOST_TEST(diagnostics{}.empty());
}

BOOST_AUTO_TEST_SUITE_END()
