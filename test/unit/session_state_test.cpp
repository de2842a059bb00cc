// may_change_session: which SQL lets a pool skip its reset. Conservative by design — every
// doubt counts as a change — so the cases check both the plain statements that must pass and
// the ways session state can change that must not slip through.
#include "../../libs/core/src/session_state.hpp"

#include "test_case.hpp"

#include <string_view>

using asiopg::detail::may_change_session;

BOOST_AUTO_TEST_SUITE(session_state)

ASIOPG_TEST_CASE(plain_data_access_and_transaction_control_do_not_change_it) {
    for (std::string_view sql : {
             "SELECT $1::int", "select 1", "  (SELECT 1) UNION (SELECT 2)", "INSERT INTO t VALUES ($1, $2)",
             "UPDATE t SET v = $1 WHERE id = $2", "DELETE FROM t WHERE id = $1 RETURNING id",
             "WITH x AS (SELECT 1) SELECT * FROM x", "VALUES (1), (2)", "TABLE t", "COPY t FROM STDIN",
             "SHOW search_path", "BEGIN", "START TRANSACTION ISOLATION LEVEL SERIALIZABLE", "COMMIT", "END",
             "ROLLBACK", "ABORT", "SAVEPOINT s1", "RELEASE SAVEPOINT s1", "ROLLBACK TO SAVEPOINT s1",
             "BEGIN; SELECT 1; COMMIT;", "-- a comment\nSELECT 1", "/* note */ SELECT 1", "", "  ;  ",
             "SELECT * FROM t WHERE name LIKE 'a%'", "SELECT intox, into_x FROM t", "/* ; SET x.y = 1 */ SELECT 1",
             "SELECT a_very_long_column_name_that_goes_on_and_on_and_on FROM t", "insert into t values (1)", "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE"}) {
        BOOST_TEST(!may_change_session(sql), sql);
    }
}

ASIOPG_TEST_CASE(statements_with_session_effects_change_it) {
    for (std::string_view sql : {
             "SET search_path = x", "set application_name = 'a'", "RESET ALL", "LISTEN chan", "UNLISTEN *",
             "CREATE TEMP TABLE t (x int)", "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "PREPARE p AS SELECT 1",
             "DEALLOCATE p", "DISCARD ALL", "LOAD 'auto_explain'", "SET ROLE other", "SET SESSION AUTHORIZATION x",
             "SELECT set_config('search_path', $1, false)", "SELECT SET_CONFIG('a.b', 'c', false)",
             "SELECT pg_advisory_lock($1)", "SELECT pg_try_advisory_lock_shared(1)", "SELECT nextval('s')",
             "SELECT currval('s')", "SELECT setval('s', 1)", "SELECT lastval()", "SELECT dblink_connect('x')",
             "SELECT * INTO TEMP t2 FROM t", "WITH x AS (SELECT 1) SELECT * INTO t3 FROM x",
             "SELECT 1; SET x.y = 1", "BEGIN; SET LOCAL a.b = 1; COMMIT", "EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1",
             "DO $$ BEGIN PERFORM 1; END $$", "CALL proc()", "/* unterminated comment SELECT 1",
             "/* ; */ SET x.y = 1", "SELECT 'a'; DISCARD TEMP", "ALTER SYSTEM SET work_mem = '1MB'", "?",
             "SELECT 1 INTO t4", "VALUES (1) INTO", "SELECT PG_ADVISORY_XACT_LOCK(1)",
             "SELECT my_very_long_function_name_wrapping_NEXTVAL_of_a_sequence('s')", "selectx 1", "1; SELECT 1",
             "SELECT 1;\n-- note\nLISTEN c", "SELECT 1; (((DISCARD ALL)))",
             // found by fuzzing (test/fuzz): a line comment ends at \r too; block comments nest
             "-- comment\rSET search_path = evil", "/* /* */ SELECT */ SET search_path = evil",
             "/* a /* b /* c */ */ */ LISTEN x", "/* /* */ unterminated */ /* SELECT 1"}) {
        BOOST_TEST(may_change_session(sql), sql);
    }
}

ASIOPG_TEST_CASE(sharing_a_connection_takes_one_statement_of_plain_data_access) {
    using asiopg::detail::may_share_connection;
    for (std::string_view sql : {"SELECT $1::int", "  select 1;  ", "(SELECT 1) UNION (SELECT 2)",
                                 "/* c */ INSERT INTO t VALUES ($1) RETURNING id", "UPDATE t SET v = 1",
                                 "DELETE FROM t", "WITH x AS (SELECT 1) SELECT * FROM x", "VALUES (1)", "TABLE t",
                                 "SHOW search_path", "-- c\nSELECT pg_sleep(1)", "merge into t using s on true when matched then delete"})
        BOOST_TEST(may_share_connection(sql), sql);
    for (std::string_view sql : {"", "  ", "BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK", "SAVEPOINT s",
                                 "COPY t FROM STDIN", "SET search_path = x", "SELECT 1; SELECT 2", "SELECT ';'",
                                 "SELECT set_config('a.b', '1', false)", "SELECT nextval('s')",
                                 "SELECT 1 INTO t2", "LISTEN ch", "CREATE TABLE t (i int)", "/* open",
                                 "; SELECT 1", "selectx 1"})
        BOOST_TEST(!may_share_connection(sql), sql);
}

BOOST_AUTO_TEST_SUITE_END()
