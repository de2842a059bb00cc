// Transactions: the explicit object, scoped helpers with each kind of body, savepoints,
// retries, in-doubt commits, abandonment, two-phase commit, misuse.
#include <asiopg/transaction.hpp>

#include "server.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <stdexcept>
#include <string>

using namespace asiopg;
using namespace asiopg::test;

namespace {

struct tx_fixture : session {
    tx_fixture() { query("CREATE TEMP TABLE t (x int)"); }
    long count() { return query("SELECT count(*) FROM t").at(0).at(0).as<long>(); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(transactions)

ASIOPG_TEST_CASE(begin_statement_text) {
    transaction_options o;
    BOOST_TEST(begin_statement(o) == "BEGIN");
    o.isolation = isolation_level::serializable;
    o.read_only = true;
    o.deferrable = true;
    BOOST_TEST(begin_statement(o) == "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE");
    o = {};
    o.isolation = isolation_level::repeatable_read;
    BOOST_TEST(begin_statement(o) == "BEGIN ISOLATION LEVEL REPEATABLE READ");
    o.isolation = isolation_level::read_committed;
    o.read_only = true;
    BOOST_TEST(begin_statement(o) == "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY");
}

ASIOPG_TEST_CASE(explicit_commit_and_rollback_in_every_style) {
    tx_fixture f;
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT(s) {
            auto b = run<transaction>(s, f.ctx, [&](auto&& tok) { return transaction::async_begin(f.conn, tok); });
            BOOST_TEST_REQUIRE(!b.ec, b.ec.message());
            transaction tx = std::move(*b.value);
            BOOST_TEST(tx.active());
            f.query("INSERT INTO t VALUES (1)");
            auto c = run<no_value>(s, f.ctx, [&](auto&& tok) { return tx.async_commit(tok); });
            BOOST_TEST(!c.ec);
            BOOST_TEST((tx.state() == transaction_state::committed));
            auto again = run<no_value>(s, f.ctx, [&](auto&& tok) { return tx.async_commit(tok); });
            BOOST_TEST((again.ec == client_errc::transaction_ended));
            auto rb = run<no_value>(s, f.ctx, [&](auto&& tok) { return tx.async_rollback(tok); });
            BOOST_TEST((rb.ec == client_errc::transaction_ended));
        }
    }
    BOOST_TEST(f.count() == 5);
}

ASIOPG_TEST_CASE(scoped_awaitable_callback_and_stackful_bodies) {
    tx_fixture f;
    bool done = false;
    // awaitable: commit on success, rollback + the body's exception on failure
    asio::co_spawn(f.ctx, [&]() -> asio::awaitable<void> {
        int v = co_await async_transaction(f.conn, {}, [&](transaction& tx) -> asio::awaitable<int> {
            co_await tx->async_execute("INSERT INTO t VALUES (1)", asio::use_awaitable);
            co_return 42;
        }, asio::use_awaitable);
        BOOST_TEST(v == 42);
        try {
            co_await async_transaction(f.conn, {}, [&](transaction& tx) -> asio::awaitable<void> {
                co_await tx->async_execute("INSERT INTO t VALUES (2)", asio::use_awaitable);
                throw std::runtime_error("body failed");
            }, asio::use_awaitable);
            BOOST_TEST(false, "no exception");
        } catch (const std::runtime_error& e) {
            BOOST_TEST(std::string(e.what()) == "body failed");
        }
        done = true;
    }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    run_until_done(f.ctx, done);
    BOOST_TEST(f.count() == 1);

    // callback body, any token
    auto out = run<no_value>(style::callback, f.ctx, [&](auto&& tok) {
        return async_transaction(f.conn, {}, [&](transaction& tx, asio::any_completion_handler<void(error_code)> fin) {
            tx->async_execute("INSERT INTO t VALUES (3)", [fin = std::move(fin)](error_code ec, result) mutable {
                std::move(fin)(ec);
            });
        }, tok);
    });
    BOOST_TEST(!out.ec);
    auto bad = run<no_value>(style::future, f.ctx, [&](auto&& tok) {
        return async_transaction(f.conn, {}, [&](transaction& tx, asio::any_completion_handler<void(error_code)> fin) {
            tx->async_execute("INSERT INTO t VALUES (4); SELECT 1/0", [fin = std::move(fin)](error_code ec, result) mutable {
                std::move(fin)(ec);
            });
        }, tok);
    });
    BOOST_TEST((bad.ec == sqlstate::division_by_zero));
    BOOST_TEST(bad.what.find("division by zero") != std::string::npos, bad.what);
    BOOST_TEST(f.count() == 2);

    // stackful body
    done = false;
    asio::spawn(f.ctx, [&](asio::yield_context yield) {
        async_transaction(f.conn, {}, [&](transaction& tx, asio::yield_context y) {
            tx->async_execute("INSERT INTO t VALUES (5)", y);
        }, yield);
        try {
            async_transaction(f.conn, {}, [&](transaction& tx, asio::yield_context y) {
                tx->async_execute("INSERT INTO t VALUES (6)", y);
                tx->async_execute("SELEC", y);
            }, yield);
        } catch (const error_with_diagnostics& e) {
            BOOST_TEST((e.code() == sqlstate::syntax_error));
        }
        done = true;
    }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    run_until_done(f.ctx, done);
    BOOST_TEST(f.count() == 3);
    BOOST_TEST((f.conn.get_transaction_status() == transaction_status::idle));
}

ASIOPG_TEST_CASE(abandoned_transaction_blocks_all_but_rollback) {
    tx_fixture f;
    {
        auto b = run<transaction>(style::callback, f.ctx, [&](auto&& tok) { return transaction::async_begin(f.conn, tok); });
        BOOST_TEST_REQUIRE(!b.ec);
        f.query("INSERT INTO t VALUES (1)");
    } // destroyed while active
    BOOST_TEST(f.conn.transaction_abandoned());
    auto refused = f.exec("SELECT 1");
    BOOST_TEST((refused.ec == client_errc::transaction_abandoned));
    f.query("ROLLBACK");
    BOOST_TEST(!f.conn.transaction_abandoned());
    BOOST_TEST(f.count() == 0);
}

ASIOPG_TEST_CASE(two_phase_commit_round_trip) {
    tx_fixture f;
    f.query("CREATE TABLE IF NOT EXISTS twopc (x int)");
    f.query("DELETE FROM twopc");
    auto b = run<transaction>(style::callback, f.ctx, [&](auto&& tok) { return transaction::async_begin(f.conn, tok); });
    BOOST_TEST_REQUIRE(!b.ec);
    transaction tx = std::move(*b.value);
    f.query("INSERT INTO twopc VALUES (7)");
    auto p = run<no_value>(style::callback, f.ctx, [&](auto&& tok) { return tx.async_prepare("asiopg-test-gid", tok); });
    BOOST_TEST_REQUIRE(!p.ec, f.conn.get_diagnostics().to_string());
    BOOST_TEST((tx.state() == transaction_state::prepared));
    auto l = run<std::vector<prepared_transaction>>(style::future, f.ctx, [&](auto&& tok) { return async_list_prepared(f.conn, tok); });
    BOOST_TEST_REQUIRE(!l.ec);
    bool found = false;
    for (auto& x : *l.value) found = found || x.gid == "asiopg-test-gid";
    BOOST_TEST(found);
    BOOST_TEST(f.query("SELECT count(*) FROM twopc").at(0).at(0).as<long>() == 0);
    auto c = run<no_value>(style::callback, f.ctx, [&](auto&& tok) { return async_commit_prepared(f.conn, "asiopg-test-gid", tok); });
    BOOST_TEST(!c.ec, f.conn.get_diagnostics().to_string());
    BOOST_TEST(f.query("SELECT count(*) FROM twopc").at(0).at(0).as<long>() == 1);
    f.query("DROP TABLE twopc");
}

BOOST_AUTO_TEST_SUITE_END()
