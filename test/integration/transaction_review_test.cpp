// Review of the transaction sub-library: each test demonstrates a defect (see its comment).
#include <asiopg/transaction.hpp>

#include "server.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <csignal>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

struct rv_fixture : session {
    rv_fixture() {
        query("SET lock_timeout = '5s'");
        query("CREATE TEMP TABLE IF NOT EXISTS rv_items (x int)");
    }
    long count() { return query("SELECT count(*) FROM rv_items").at(0).at(0).as<long>(); }
    void insert(int x) { query("INSERT INTO rv_items VALUES (" + std::to_string(x) + ")"); }
    transaction_status status() const { return conn.get_transaction_status(); }
    transaction begin(transaction_options o = {}) {
        auto b = run<transaction>(style::callback, ctx, [&](auto&& tok) { return transaction::async_begin(conn, o, tok); });
        BOOST_TEST_REQUIRE(!b.ec, "BEGIN: " << b.ec.message());
        return std::move(*b.value);
    }
    error_code commit(transaction& tx) {
        return run<no_value>(style::callback, ctx, [&](auto&& tok) { return tx.async_commit(tok); }).ec;
    }
    savepoint save(transaction& tx) {
        auto sp = run<savepoint>(style::callback, ctx, [&](auto&& tok) { return tx.async_savepoint(tok); });
        BOOST_TEST_REQUIRE(!sp.ec, "SAVEPOINT: " << sp.ec.message());
        return std::move(*sp.value);
    }
    error_code release(savepoint& sp) {
        return run<no_value>(style::callback, ctx, [&](auto&& tok) { return sp.async_release(tok); }).ec;
    }
    // A stream started and not read: the connection refuses other operations until it ends.
    void hold_with_stream() {
        auto started = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_start_stream("SELECT 1", tok); });
        BOOST_TEST_REQUIRE(!started.ec, started.ec.message());
    }
    void end_stream() {
        row_batch b;
        for (int i = 0; i < 10; ++i) {
            auto n = run<std::size_t>(style::callback, ctx, [&](auto&& tok) { return conn.async_read_rows(b, 100, tok); });
            BOOST_TEST_REQUIRE(!n.ec, n.ec.message());
            if (*n.value == 0) return;
        }
        BOOST_TEST_REQUIRE(false, "the stream did not end");
    }
    void sleep(std::chrono::milliseconds d) {
        asio::steady_timer t(ctx, d);
        bool done = false;
        t.async_wait([&](error_code) { done = true; });
        run_until_done(ctx, done, 10s);
    }
};

/// Runs `child` in a forked process (own io_context, own connections) with default signal
/// dispositions and a 20 s alarm; returns a description of how it ended ("exit 0" is success).
template <class Fn>
std::string rv_in_child(Fn child) {
    pid_t pid = ::fork();
    if (pid == 0) {
        for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGALRM}) std::signal(sig, SIG_DFL);
        ::alarm(20);
        int code = 100;
        try {
            code = child();
        } catch (...) {
            code = 101;
        }
        ::_exit(code);
    }
    int status = 0;
    for (int i = 0; i < 300; ++i) {
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
            return "exit " + std::to_string(WEXITSTATUS(status));
        }
        std::this_thread::sleep_for(100ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return "hung";
}

} // namespace

BOOST_AUTO_TEST_SUITE(transaction_review)

// BUG: async_rollback refused with operation_in_progress (here: a stream holds the connection) (the ROLLBACK never ran) still marks
// the transaction rolled_back (transaction.cpp, the end_kind::rollback branch of the finish
// lambda ignores `ec`). The transaction is still open on the server; destroying the handle then
// does not abandon it, so the connection silently runs the next statements inside it.
ASIOPG_TEST_CASE(rollback_refused_in_progress_is_not_rolled_back) {
    rv_fixture f;
    {
        transaction tx = f.begin();
        f.insert(1);
        bool rolled = false;
        error_code rollback_ec;
        f.hold_with_stream(); // queries wait for a busy connection; a stream between reads refuses them
        tx.async_rollback([&](error_code ec) { rollback_ec = ec; rolled = true; });
        BOOST_TEST_REQUIRE(run_until_done(f.ctx, rolled, 10s));
        f.end_stream();
        BOOST_TEST((rollback_ec == client_errc::operation_in_progress), rollback_ec.message());
        BOOST_TEST((f.status() == transaction_status::in_transaction));
        BOOST_TEST((tx.state() == transaction_state::active), "state after a ROLLBACK that never ran");
    }
    // the handle is gone while the server transaction is still open: it must be abandoned
    BOOST_TEST((f.status() == transaction_status::in_transaction));
    BOOST_TEST(f.conn.transaction_abandoned(), "open transaction left behind without the abandoned guard");
    f.exec("ROLLBACK");
}

// BUG: a COMMIT refused with operation_in_progress leaves the transaction active (correct) but
// forgets every savepoint (`st->savepoints.clear()` runs before the ec is looked at): a live
// savepoint then reports inactive and refuses RELEASE / ROLLBACK TO with transaction_ended.
ASIOPG_TEST_CASE(commit_refused_in_progress_forgets_savepoints) {
    rv_fixture f;
    transaction tx = f.begin();
    savepoint sp = f.save(tx);
    bool committed = false;
    error_code commit_ec;
    f.hold_with_stream();
    tx.async_commit([&](error_code ec) { commit_ec = ec; committed = true; });
    BOOST_TEST_REQUIRE(run_until_done(f.ctx, committed, 10s));
    f.end_stream();
    BOOST_TEST((commit_ec == client_errc::operation_in_progress), commit_ec.message());
    BOOST_TEST(tx.active());
    BOOST_TEST(sp.active(), "the savepoint still exists on the server");
    error_code rel = f.release(sp);
    BOOST_TEST(!rel, rel.message());
    BOOST_TEST(!f.commit(tx));
}

// BUG: COMMIT of a transaction in which a statement failed is sent as a probe SELECT (then
// ROLLBACK). When the connection is lost during that probe, outcome_unknown() classifies it
// as commit_in_doubt / in_doubt — yet no COMMIT was ever sent and a failed transaction can
// never commit: the outcome is certain (rolled back).
ASIOPG_TEST_CASE(failed_transaction_commit_on_lost_connection_is_not_in_doubt) {
    rv_fixture f;
    transaction tx = f.begin();
    f.insert(1);
    BOOST_TEST((f.exec("SELECT 1 / 0").ec == sqlstate::division_by_zero));
    f.conn.shutdown();
    error_code ec = f.commit(tx);
    BOOST_TEST(ec);
    BOOST_TEST((ec != client_errc::commit_in_doubt), "reported in doubt: " << ec.message());
    BOOST_TEST((tx.state() == transaction_state::rolled_back));
}

// BUG: the server ended the session with FATAL 25P03 (idle_in_transaction_session_timeout):
// it says itself that it terminated the transaction, which therefore rolled back. A COMMIT
// issued afterwards is reported commit_in_doubt / in_doubt because is_fatal(25P03) is true.
ASIOPG_TEST_CASE(commit_after_idle_in_transaction_timeout_is_not_in_doubt) {
    rv_fixture f;
    f.query("SET idle_in_transaction_session_timeout = 100");
    transaction tx = f.begin();
    f.insert(1);
    f.sleep(600ms);
    error_code ec = f.commit(tx);
    BOOST_TEST(ec);
    BOOST_TEST((ec != client_errc::commit_in_doubt),
               "reported in doubt: " << ec.message() << " / " << f.conn.get_diagnostics().to_string());
    BOOST_TEST((tx.state() != transaction_state::in_doubt));
}

// A slow COMMIT (a deferred constraint trigger sleeps) bounded by cancel_after with its default,
// partial cancellation: the server cancels the COMMIT, which rolls the transaction back — a
// certain outcome, not in doubt — and the connection stays usable.
ASIOPG_TEST_CASE(cancel_after_bounds_a_slow_commit_which_rolls_back) {
    rv_fixture f;
    f.query("CREATE OR REPLACE FUNCTION pg_temp.rv_slow() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN PERFORM pg_sleep(10); RETURN NULL; END$$");
    f.query("CREATE CONSTRAINT TRIGGER rv_slow AFTER INSERT ON rv_items DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.rv_slow()");
    const long before = f.count();
    for (style s : {style::callback, style::awaitable}) {
        transaction tx = f.begin();
        f.insert(7);
        const auto t0 = std::chrono::steady_clock::now();
        auto c = run<no_value>(s, f.ctx, [&](auto&& tok) { return tx.async_commit(cancel_after(300ms, tok)); });
        const auto took = std::chrono::steady_clock::now() - t0;
        BOOST_TEST((c.ec == client_errc::timeout), s << ": " << c.ec.message());
        BOOST_TEST((tx.state() == transaction_state::rolled_back));
        BOOST_TEST(took < 5s); // not the trigger's 10 s
        BOOST_TEST(f.conn.is_open());
        BOOST_TEST((f.status() == transaction_status::idle));
        BOOST_TEST(f.count() == before); // the row went with the transaction
    }
    f.query("DROP TRIGGER rv_slow ON rv_items");
}

// BUG: PREPARE TRANSACTION lost in flight (the connection breaks after the statement was
// sent) is reported connection_lost with state rolled_back, although the server may have —
// and here did — prepare it: a prepared transaction is left holding its locks while the
// client believes it rolled back. Its outcome is unknown, exactly like an in-flight COMMIT.
ASIOPG_TEST_CASE(prepare_lost_in_flight_is_not_rolled_back) {
    rv_fixture f;
    session other;
    const std::string gid = "rv-lost-prepare";
    other.exec("ROLLBACK PREPARED '" + gid + "'"); // a leftover of an earlier run, if any
    other.query("CREATE TABLE IF NOT EXISTS rv_slow_prepare (x int)");
    other.query("CREATE OR REPLACE FUNCTION rv_sleep_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$BEGIN PERFORM pg_sleep(1); RETURN NULL; END$$");
    other.query("DROP TRIGGER IF EXISTS rv_sleep_at_commit ON rv_slow_prepare");
    other.query("CREATE CONSTRAINT TRIGGER rv_sleep_at_commit AFTER INSERT ON rv_slow_prepare "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rv_sleep_at_commit()");

    transaction tx = f.begin();
    f.query("INSERT INTO rv_slow_prepare VALUES (1)");
    bool done = false;
    error_code prepare_ec;
    tx.async_prepare(gid, [&](error_code ec) { prepare_ec = ec; done = true; });
    asio::steady_timer t(f.ctx, 300ms);
    t.async_wait([&](error_code) { f.conn.shutdown(); }); // PREPARE is running its 1 s trigger
    BOOST_TEST_REQUIRE(run_until_done(f.ctx, done, 10s));
    BOOST_TEST(prepare_ec, "PREPARE completed before the connection broke");

    bool prepared = false;
    for (int i = 0; i < 30 && !prepared; ++i) {
        std::this_thread::sleep_for(100ms);
        prepared = other.query("SELECT count(*) FROM pg_prepared_xacts WHERE gid = '" + gid + "'")
                       .at(0).at(0).as<long>() == 1;
    }
    BOOST_TEST(prepared, "the server did not prepare it (test premise)");
    BOOST_TEST(!(prepared && tx.state() == transaction_state::rolled_back),
               "state rolled_back, error " << prepare_ec.message() << ", but the transaction is prepared");
    other.exec("ROLLBACK PREPARED '" + gid + "'");
    other.query("DROP TABLE rv_slow_prepare; DROP FUNCTION rv_sleep_at_commit()");
}

// Regression (docs/header: "RELEASE on success or ROLLBACK TO on failure — the outer transaction stays
// usable either way"): a savepoint body that catches a failed statement and completes normally
// makes run_savepoint RELEASE, which fails with 25P02; nothing rolls back to the savepoint, so
// the outer transaction stays poisoned (in_error) and every later statement in it fails.
ASIOPG_TEST_CASE(savepoint_scope_leaves_outer_transaction_failed) {
    rv_fixture f;
    transaction tx = f.begin();
    f.insert(1);
    bool done = false;
    std::string scope_error;
    asio::co_spawn(f.ctx, [&]() -> asio::awaitable<void> {
        try {
            co_await async_savepoint(tx, [&](savepoint&) -> asio::awaitable<void> {
                auto [ec, r] = co_await f.conn.async_execute("SELECT 1 / 0", asio::as_tuple(asio::use_awaitable));
                (void)ec; // handled: e.g. "already exists, skip"
            }, asio::use_awaitable);
        } catch (const std::exception& e) {
            scope_error = e.what();
        }
        done = true;
    }, asio::detached);
    BOOST_TEST_REQUIRE(run_until_done(f.ctx, done, 10s));
    BOOST_TEST_MESSAGE("savepoint scope: " << scope_error);
    BOOST_TEST((f.status() == transaction_status::in_transaction), "the outer transaction is left failed");
    BOOST_TEST(!f.exec("INSERT INTO rv_items VALUES (2)").ec);
    BOOST_TEST(!f.commit(tx));
}

// Regression (misuse crash): every operation on an empty (default-constructed or moved-from)
// transaction dereferences a null state: the initiation's get_executor() calls
// executor_of(nullptr, nullptr) → segfault, instead of an exception or transaction_ended.
ASIOPG_TEST_CASE(operations_on_moved_from_transaction_do_not_crash) {
    for (int which = 0; which < 3; ++which) {
        std::string how = rv_in_child([which]() -> int {
            asio::io_context ctx;
            transaction tx;
            bool done = false;
            error_code got;
            auto cb = [&](error_code ec, auto&&...) { got = ec; done = true; };
            try {
                if (which == 0) tx.async_commit(cb);
                else if (which == 1) tx.async_rollback(cb);
                else tx.async_savepoint(cb);
            } catch (const std::exception&) {
                return 0; // refused with an exception: fine
            }
            ctx.run_for(1s);
            return done && got ? 0 : 2;
        });
        BOOST_TEST(how == "exit 0", "operation " << which << " on an empty transaction: " << how);
    }
}

// Regression (misuse crash): the same for a default-constructed / moved-from savepoint
// (async_release, async_rollback, async_savepoint).
ASIOPG_TEST_CASE(operations_on_moved_from_savepoint_do_not_crash) {
    for (int which = 0; which < 3; ++which) {
        std::string how = rv_in_child([which]() -> int {
            asio::io_context ctx;
            savepoint sp;
            bool done = false;
            error_code got;
            auto cb = [&](error_code ec, auto&&...) { got = ec; done = true; };
            try {
                if (which == 0) sp.async_release(cb);
                else if (which == 1) sp.async_rollback(cb);
                else sp.async_savepoint(cb);
            } catch (const std::exception&) {
                return 0;
            }
            ctx.run_for(1s);
            return done && got ? 0 : 2;
        });
        BOOST_TEST(how == "exit 0", "operation " << which << " on an empty savepoint: " << how);
    }
}

// BUG: run_transaction retries on a retryable error without checking that the attempt's
// transaction was still open. A body that committed (run_transaction explicitly supports
// "the body ended it itself") and then failed with 40001 — e.g. a follow-up statement — is
// run again: its committed work is committed once per attempt.
ASIOPG_TEST_CASE(scope_does_not_retry_after_the_body_committed) {
    rv_fixture f;
    transaction_options o;
    o.max_attempts = 3;
    o.retry_delay = 1ms;
    int runs = 0;
    bool done = false;
    error_code got;
    asio::co_spawn(f.ctx, [&]() -> asio::awaitable<void> {
        try {
            co_await async_transaction(f.conn, o, [&](transaction& tx) -> asio::awaitable<void> {
                ++runs;
                co_await tx->async_execute("INSERT INTO rv_items VALUES (1)", asio::use_awaitable);
                co_await tx.async_commit(asio::use_awaitable);
                throw boost::system::system_error(error_code(sqlstate::serialization_failure));
            }, asio::use_awaitable);
        } catch (const boost::system::system_error& e) {
            got = e.code();
        }
        done = true;
    }, asio::detached);
    BOOST_TEST_REQUIRE(run_until_done(f.ctx, done, 10s));
    BOOST_TEST((got == sqlstate::serialization_failure), got.message());
    BOOST_TEST(runs == 1, "body run " << runs << " times");
    BOOST_TEST(f.count() == 1, "rows committed: " << f.count());
}

// Regression (lifetime): the usual layout `io_context ctx; connection conn(ctx);` destroys the
// connection first. A scope still pending at that point lives in a coroutine frame that only
// ctx's destructor destroys — and ~transaction then calls st_->conn->abandon_transaction() on
// the destroyed connection (use after free; ASan reports heap-use-after-free). Plain
// co_await conn.async_execute(...) frames do not touch the connection when destroyed. Here the
// freed connection's bytes are overwritten to make the use deterministic.
ASIOPG_TEST_CASE(io_context_destroyed_after_connection_with_scope_pending) {
    std::string how = rv_in_child([]() -> int {
        auto ctx = std::make_unique<asio::io_context>();
        alignas(connection) unsigned char storage[sizeof(connection)];
        connection* conn = new (storage) connection(*ctx);
        bool connected = false;
        error_code cec;
        conn->async_connect(tcp_conninfo(), [&](error_code ec) { cec = ec; connected = true; });
        if (!run_until_done(*ctx, connected, 10s) || cec) return 3;
        bool started = false;
        asio::co_spawn(*ctx, async_transaction(*conn, {}, [&](transaction& tx) -> asio::awaitable<void> {
            started = true;
            co_await tx->async_execute("SELECT pg_sleep(5)", asio::use_awaitable);
        }, asio::use_awaitable), asio::detached);
        if (!run_until_done(*ctx, started, 10s)) return 4;
        ctx->run_for(100ms);
        conn->~connection();                          // end of the connection's scope
        std::memset(storage, 0xA5, sizeof storage);   // its memory reused
        ctx.reset();                                  // end of the io_context's scope
        return 0;
    });
    BOOST_TEST(how == "exit 0", "destroying the io_context after the connection: " << how);
}

// Regression (documented since): a callback body that throws boost::system::system_error (or
// error_with_diagnostics) reports it as the completion's error code, after the rollback.
ASIOPG_TEST_CASE(callback_body_system_error_is_the_completion_error) {
    rv_fixture f;
    bool completed = false, escaped = false;
    error_code got;
    async_transaction(f.conn, {}, [&](transaction&, asio::any_completion_handler<void(error_code)>) {
        throw boost::system::system_error(make_error_code(boost::system::errc::invalid_argument));
    }, [&](error_code ec) { got = ec; completed = true; });
    auto until = std::chrono::steady_clock::now() + 10s;
    f.ctx.restart();
    while (!completed && !escaped && std::chrono::steady_clock::now() < until) {
        try {
            f.ctx.run_one_until(until);
        } catch (const boost::system::system_error&) {
            escaped = true;
        }
    }
    BOOST_TEST(completed);
    BOOST_TEST(!escaped);
    BOOST_TEST((got == boost::system::errc::invalid_argument), got.message());
    BOOST_TEST((f.status() == transaction_status::idle));
}

// Regression (weak, guard): the abandoned-transaction guard accepts anything starting with the word
// ROLLBACK, including "ROLLBACK TO SAVEPOINT …", which does not end the forgotten
// transaction: the statements after it run inside that transaction and see its work — what
// the guard exists to prevent ("instead of silently running your next statements inside a
// forgotten transaction").
ASIOPG_TEST_CASE(abandoned_guard_lets_rollback_to_savepoint_through) {
    rv_fixture f;
    {
        transaction tx = f.begin();
        f.insert(42);
        savepoint sp = f.save(tx);
    }
    BOOST_TEST_REQUIRE(f.conn.transaction_abandoned());
    auto r = f.exec("ROLLBACK TO SAVEPOINT asiopg_sp_1; SELECT count(*) FROM rv_items");
    BOOST_TEST((r.ec == client_errc::transaction_abandoned),
               "ROLLBACK TO SAVEPOINT ran inside the abandoned transaction: " << r.ec.message());
    f.exec("ROLLBACK");
}

BOOST_AUTO_TEST_SUITE_END()
