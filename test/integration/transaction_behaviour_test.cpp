// Transactions against a real server, behaviour by behaviour: isolation options as the server
// sees them, read-only refusals, savepoints (aiopg's test, deep nesting, scoped helpers with each
// kind of body), exceptions leaving scoped bodies, serialization conflicts with and without
// retry, in-doubt commits, abandoned transactions (alone and in a pool), cancellation inside a
// scope, misuse, two-phase commit, and every explicit operation in every completion style.
#include <asiopg/pool.hpp>
#include <asiopg/transaction.hpp>

#include "server.hpp"
#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

using tb_ints = std::vector<int>;
using tb_prepared_list = std::vector<prepared_transaction>;
using tb_done_handler = asio::any_completion_handler<void(error_code)>;

/// A body's own exception type: it must come out of a scope unchanged.
struct tb_body_error : std::runtime_error {
    int tag;
    tb_body_error(const std::string& what, int t) : std::runtime_error(what), tag(t) {}
};

std::string tb_describe(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& x) {
        return "system_error " + x.code().to_string() + ": " + x.what();
    } catch (const std::exception& x) {
        return std::string("exception: ") + x.what();
    } catch (...) {
        return "unknown exception";
    }
}

/// co_spawns every coroutine (`make()` gives each) on `ctx` and runs until all are done (20 s at
/// most); whatever escapes from one is a failure.
template <class... Make>
void tb_co_run(asio::io_context& ctx, Make... make) {
    int remaining = sizeof...(make);
    bool done = false;
    std::string escaped;
    auto finished = [&](std::exception_ptr e) {
        if (e) escaped += tb_describe(e) + "; ";
        done = --remaining == 0;
    };
    (asio::co_spawn(ctx, make(), finished), ...);
    BOOST_TEST_REQUIRE(run_until_done(ctx, done), "coroutine(s) still running after the deadline");
    BOOST_TEST(escaped.empty(), "escaped from a coroutine: " << escaped);
}

/// The same for one stackful coroutine.
template <class Fn>
void tb_spawn_run(asio::io_context& ctx, Fn fn) {
    bool done = false;
    std::string escaped;
    asio::spawn(ctx, [&](asio::yield_context y) { fn(y); }, [&](std::exception_ptr e) {
        if (e) escaped = tb_describe(e);
        done = true;
    });
    BOOST_TEST_REQUIRE(run_until_done(ctx, done), "stackful coroutine still running after the deadline");
    BOOST_TEST(escaped.empty(), "escaped from the coroutine: " << escaped);
}

/// A session with a temporary table `tb_items` (x in insertion order) and one-line helpers for
/// the explicit API (callback style unless told, each bounded by run's deadline).
struct tb_fixture : session {
    tb_fixture() { prepare(); }

    void prepare() {
        query("SET lock_timeout = '5s'");
        query("CREATE TEMP TABLE IF NOT EXISTS tb_items (id serial PRIMARY KEY, x int)");
    }
    tb_ints items() {
        tb_ints out;
        for (row_view r : query("SELECT x FROM tb_items ORDER BY id")) out.push_back(r[0].as<int>());
        return out;
    }
    long item_count() { return query("SELECT count(*) FROM tb_items").at(0).at(0).as<long>(); }
    std::string show(const std::string& setting) { return query("SHOW " + setting).at(0).at(0).as<std::string>(); }
    void insert(int x) { query("INSERT INTO tb_items (x) VALUES (" + std::to_string(x) + ")"); }
    transaction_status status() const { return conn.get_transaction_status(); }

    outcome<transaction> try_begin(transaction_options o = {}, style s = style::callback) {
        return run<transaction>(s, ctx, [&](auto&& tok) { return transaction::async_begin(conn, o, tok); });
    }
    transaction begin(transaction_options o = {}) {
        auto b = try_begin(o);
        BOOST_TEST_REQUIRE(!b.ec, "BEGIN: " << b.ec.message() << " " << conn.get_diagnostics().to_string());
        return std::move(*b.value);
    }
    error_code commit(transaction& tx) {
        return run<no_value>(style::callback, ctx, [&](auto&& tok) { return tx.async_commit(tok); }).ec;
    }
    error_code rollback(transaction& tx) {
        return run<no_value>(style::callback, ctx, [&](auto&& tok) { return tx.async_rollback(tok); }).ec;
    }
    template <class Parent>
    outcome<savepoint> try_save(Parent& p) {
        return run<savepoint>(style::callback, ctx, [&](auto&& tok) { return p.async_savepoint(tok); });
    }
    template <class Parent>
    savepoint save(Parent& p) {
        auto sp = try_save(p);
        BOOST_TEST_REQUIRE(!sp.ec, "SAVEPOINT: " << sp.ec.message());
        return std::move(*sp.value);
    }
    error_code release(savepoint& sp) {
        return run<no_value>(style::callback, ctx, [&](auto&& tok) { return sp.async_release(tok); }).ec;
    }
    error_code rollback_to(savepoint& sp) {
        return run<no_value>(style::callback, ctx, [&](auto&& tok) { return sp.async_rollback(tok); }).ec;
    }
};

/// Rolls back, when the test ends whatever its checks said, the prepared transactions it
/// created (a forgotten one keeps its locks), from a session of its own.
struct tb_prepared_guard {
    session s;
    std::vector<std::string> gids;

    std::string add(std::string gid) {
        gids.push_back(gid);
        return gid;
    }
    bool listed(const std::string& gid) {
        auto l = run<tb_prepared_list>(style::callback, s.ctx, [&](auto&& tok) { return async_list_prepared(s.conn, tok); });
        BOOST_TEST_REQUIRE(!l.ec, "list prepared: " << l.ec.message());
        return std::any_of(l.value->begin(), l.value->end(), [&](const prepared_transaction& p) { return p.gid == gid; });
    }
    /// Rolls back the leftovers of an earlier run whose gid starts with "tb-".
    void purge_leftovers() {
        auto l = run<tb_prepared_list>(style::callback, s.ctx, [&](auto&& tok) { return async_list_prepared(s.conn, tok); });
        BOOST_TEST_REQUIRE(!l.ec, "list prepared: " << l.ec.message());
        for (auto& p : *l.value)
            if (p.gid.rfind("tb-", 0) == 0) gids.push_back(p.gid);
        cleanup();
    }
    void cleanup() {
        for (auto& g : gids) {
            if (!s.conn.is_open()) s.reconnect();
            run<no_value>(style::callback, s.ctx, [&](auto&& tok) { return async_rollback_prepared(s.conn, g, tok); }, 5s);
        }
        gids.clear();
    }
    ~tb_prepared_guard() { cleanup(); }
};

/// Makes every party wait, once, until all have arrived (5 s at most: then `timed_out`).
/// Later arrivals (a retried body) go straight through.
struct tb_rendezvous {
    tb_rendezvous(asio::io_context& ctx, int n) : timer(ctx), parties(n) { timer.expires_after(5s); }
    asio::awaitable<void> arrive() {
        if (++arrived >= parties) {
            timer.cancel();
            co_return;
        }
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (!ec) timed_out = true;
    }
    asio::steady_timer timer;
    int parties;
    int arrived = 0;
    bool timed_out = false;
};

/// A read-modify-write of tb_counter's row 1 in a scoped transaction: read, wait for the other
/// party to have read too, write the incremented value. Records attempts and the outcome.
asio::awaitable<void> tb_increment(connection& conn, transaction_options o, tb_rendezvous& rv, int& attempts,
                                   error_code& outcome) {
    try {
        co_await async_transaction(conn, o, [&](transaction& tx) -> asio::awaitable<void> {
            ++attempts;
            auto r = co_await tx->async_execute("SELECT n FROM tb_counter WHERE id = 1", asio::use_awaitable);
            int n = r.at(0).at(0).as<int>();
            co_await rv.arrive();
            co_await tx->async_execute("UPDATE tb_counter SET n = $1 WHERE id = 1", params(n + 1), asio::use_awaitable);
        }, asio::use_awaitable);
    } catch (const boost::system::system_error& e) {
        outcome = e.code();
    }
}

struct tb_counter_setup {
    explicit tb_counter_setup(tb_fixture& f) : other(f.ctx) {
        f.query("CREATE TABLE IF NOT EXISTS tb_counter (id int PRIMARY KEY, n int NOT NULL)");
        f.query("DELETE FROM tb_counter");
        f.query("INSERT INTO tb_counter VALUES (1, 0), (2, 0)");
        auto c = run<no_value>(style::callback, f.ctx, [&](auto&& tok) { return other.async_connect(tcp_conninfo(), tok); });
        BOOST_TEST_REQUIRE(!c.ec, "second connection: " << c.ec.message());
    }
    connection other;
};

int tb_counter_value(tb_fixture& f, int id = 1) {
    return f.query("SELECT n FROM tb_counter WHERE id = " + std::to_string(id)).at(0).at(0).as<int>();
}

/// A table whose INSERTs make COMMIT take 2 s: a deferred constraint trigger sleeps.
void tb_make_slow_commit_table(session& s) {
    s.query("CREATE TABLE IF NOT EXISTS tb_slow_commit (x int)");
    s.query("DELETE FROM tb_slow_commit");
    s.query("CREATE OR REPLACE FUNCTION tb_sleep_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN PERFORM pg_sleep(2); RETURN NULL; END$$");
    s.query("DROP TRIGGER IF EXISTS tb_sleep_at_commit ON tb_slow_commit");
    s.query("CREATE CONSTRAINT TRIGGER tb_sleep_at_commit AFTER INSERT ON tb_slow_commit "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tb_sleep_at_commit()");
}

/// Polls pg_stat_activity from `killer` until backend `pid` runs COMMIT, then terminates it
/// (2 s at most).
asio::awaitable<void> tb_terminate_during_commit(connection& killer, int pid, bool& terminated) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (int i = 0; i < 200; ++i) {
        auto r = co_await killer.async_execute(
            "SELECT coalesce(bool_or(state = 'active' AND query = 'COMMIT'), false) FROM pg_stat_activity WHERE pid = $1",
            params(pid), asio::use_awaitable);
        if (r.at(0).at(0).as<bool>()) {
            co_await killer.async_execute("SELECT pg_terminate_backend($1)", params(pid), asio::use_awaitable);
            terminated = true;
            co_return;
        }
        t.expires_after(10ms);
        co_await t.async_wait(asio::use_awaitable);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(transaction_behaviour)

// 1. Every isolation level x read_only x deferrable: the BEGIN text, and what the server says.
ASIOPG_TEST_CASE(isolation_read_only_deferrable_as_the_server_sees_them) {
    tb_fixture f;
    const std::string server_default = f.show("default_transaction_isolation");
    struct level {
        isolation_level lvl;
        const char* sql;
        const char* shown; // nullptr: the session default
    };
    const level levels[] = {
        {isolation_level::server_default, "", nullptr},
        {isolation_level::read_committed, " ISOLATION LEVEL READ COMMITTED", "read committed"},
        {isolation_level::repeatable_read, " ISOLATION LEVEL REPEATABLE READ", "repeatable read"},
        {isolation_level::serializable, " ISOLATION LEVEL SERIALIZABLE", "serializable"},
    };
    int i = 0, writes = 0;
    for (const level& l : levels) {
        for (bool ro : {false, true}) {
            for (bool def : {false, true}) {
                transaction_options o;
                o.isolation = l.lvl;
                o.read_only = ro;
                o.deferrable = def;
                const std::string expected = std::string("BEGIN") + l.sql + (ro ? " READ ONLY" : "") + (def ? " DEFERRABLE" : "");
                const style s = all_styles[i++ % std::size(all_styles)];
                BOOST_TEST_CONTEXT(expected << " / " << s) {
                    BOOST_TEST(begin_statement(o) == expected);
                    auto b = f.try_begin(o, s);
                    BOOST_TEST_REQUIRE(!b.ec, b.ec.message() << " " << f.conn.get_diagnostics().to_string());
                    transaction tx = std::move(*b.value);
                    BOOST_TEST(tx.active());
                    BOOST_TEST((f.status() == transaction_status::in_transaction));
                    BOOST_TEST(f.show("transaction_isolation") == (l.shown ? std::string(l.shown) : server_default));
                    BOOST_TEST(f.show("transaction_read_only") == (ro ? "on" : "off"));
                    BOOST_TEST(f.show("transaction_deferrable") == (def ? "on" : "off"));
                    BOOST_TEST(f.query("SELECT 40 + 2").at(0).at(0).as<int>() == 42);
                    if (!ro) {
                        f.insert(i);
                        ++writes;
                    }
                    auto c = run<no_value>(s, f.ctx, [&](auto&& tok) { return tx.async_commit(tok); });
                    BOOST_TEST(!c.ec, c.ec.message());
                    BOOST_TEST((tx.state() == transaction_state::committed));
                    BOOST_TEST((f.status() == transaction_status::idle));
                }
            }
        }
    }
    BOOST_TEST(f.item_count() == writes);

    // server_default really says nothing: the session's default applies; an explicit level wins.
    f.query("SET default_transaction_isolation = 'repeatable read'");
    {
        transaction tx = f.begin();
        BOOST_TEST(f.show("transaction_isolation") == "repeatable read");
        BOOST_TEST(!f.rollback(tx));
    }
    {
        transaction_options o;
        o.isolation = isolation_level::read_committed;
        transaction tx = f.begin(o);
        BOOST_TEST(f.show("transaction_isolation") == "read committed");
        BOOST_TEST(!f.rollback(tx));
    }
}

// 2. A read-only transaction refuses writes with 25006 (on a regular table: PostgreSQL lets
// read-only transactions write temporary tables).
ASIOPG_TEST_CASE(read_only_transaction_rejects_insert) {
    tb_fixture f;
    f.query("CREATE TABLE IF NOT EXISTS tb_read_only (x int)");
    f.query("DELETE FROM tb_read_only");
    for (isolation_level lvl : {isolation_level::server_default, isolation_level::serializable}) {
        BOOST_TEST_CONTEXT("isolation " << static_cast<int>(lvl)) {
            transaction_options o;
            o.isolation = lvl;
            o.read_only = true;
            transaction tx = f.begin(o);
            auto ins = f.exec("INSERT INTO tb_read_only VALUES (1)");
            BOOST_TEST((ins.ec == sqlstate::read_only_sql_transaction), ins.ec.message());
            BOOST_TEST(f.conn.get_diagnostics().sqlstate == "25006");
            BOOST_TEST((f.status() == transaction_status::in_error));
            BOOST_TEST((f.commit(tx) == sqlstate::in_failed_sql_transaction));
            BOOST_TEST((tx.state() == transaction_state::rolled_back));
            BOOST_TEST((f.status() == transaction_status::idle));
        }
    }
    // the scoped helper reports the same error, and rolls back
    transaction_options o;
    o.read_only = true;
    error_code got;
    tb_co_run(f.ctx, [&]() -> asio::awaitable<void> {
        try {
            co_await async_transaction(f.conn, o, [&](transaction& tx) -> asio::awaitable<void> {
                co_await tx->async_execute("INSERT INTO tb_read_only VALUES (2)", asio::use_awaitable);
            }, asio::use_awaitable);
        } catch (const error_with_diagnostics& e) {
            got = e.code();
            BOOST_TEST(e.get_diagnostics().sqlstate == "25006");
        }
    });
    BOOST_TEST((got == sqlstate::read_only_sql_transaction), got.message());
    BOOST_TEST((f.status() == transaction_status::idle));
    BOOST_TEST(f.query("SELECT count(*) FROM tb_read_only").at(0).at(0).as<long>() == 0);
    f.query("DROP TABLE tb_read_only");
}

// 3a. aiopg's savepoint test with the explicit API.
ASIOPG_TEST_CASE(savepoints_keep_released_work_and_undo_failed_work) {
    tb_fixture f;
    transaction tx = f.begin();
    f.insert(22);
    savepoint outer = f.save(tx);
    savepoint inner = f.save(outer);
    f.insert(1);
    f.insert(2);
    f.insert(3);
    BOOST_TEST(!f.release(inner));
    BOOST_TEST(!inner.active());
    BOOST_TEST(outer.active());

    savepoint failing = f.save(outer);
    f.insert(99);
    auto bad = f.exec("SELECT 1 / 0");
    BOOST_TEST((bad.ec == sqlstate::division_by_zero));
    BOOST_TEST((f.status() == transaction_status::in_error));
    BOOST_TEST((f.exec("SELECT 1").ec == sqlstate::in_failed_sql_transaction));
    BOOST_TEST(!f.rollback_to(failing));
    BOOST_TEST(!failing.active());
    BOOST_TEST(outer.active());
    BOOST_TEST(tx.active());
    BOOST_TEST((f.status() == transaction_status::in_transaction));
    BOOST_TEST(f.items() == (tb_ints{22, 1, 2, 3}), boost::test_tools::per_element());

    BOOST_TEST(!f.release(outer));
    BOOST_TEST(!f.commit(tx));
    BOOST_TEST(f.items() == (tb_ints{22, 1, 2, 3}), boost::test_tools::per_element());
}

// 3b. Three nested savepoints: rolling back the middle one ends the innermost too.
ASIOPG_TEST_CASE(nested_savepoints_three_deep) {
    tb_fixture f;
    transaction tx = f.begin();
    savepoint a = f.save(tx);
    f.insert(10);
    savepoint b = f.save(a);
    f.insert(20);
    savepoint c = f.save(b);
    f.insert(30);
    BOOST_TEST(a.name() != b.name());
    BOOST_TEST(b.name() != c.name());
    BOOST_TEST(a.name().rfind("asiopg_sp_", 0) == 0);
    BOOST_TEST((a.active() && b.active() && c.active()));

    BOOST_TEST(!f.rollback_to(b));
    BOOST_TEST(a.active());
    BOOST_TEST(!b.active());
    BOOST_TEST(!c.active());
    BOOST_TEST(f.items() == (tb_ints{10}), boost::test_tools::per_element());
    BOOST_TEST((f.release(c) == client_errc::transaction_ended));
    BOOST_TEST((f.rollback_to(c) == client_errc::transaction_ended));
    BOOST_TEST((f.try_save(c).ec == client_errc::transaction_ended));
    BOOST_TEST((f.release(b) == client_errc::transaction_ended));
    BOOST_TEST((f.rollback_to(b) == client_errc::transaction_ended));
    BOOST_TEST(tx.active());

    // the server agrees that c is gone; rolling back to a makes the failed transaction usable
    auto gone = f.exec("RELEASE SAVEPOINT " + c.name());
    BOOST_TEST((gone.ec == sqlstate::invalid_savepoint_specification), gone.ec.message());
    BOOST_TEST((f.status() == transaction_status::in_error));
    BOOST_TEST(!f.rollback_to(a));
    BOOST_TEST((f.status() == transaction_status::in_transaction));
    BOOST_TEST(f.item_count() == 0);

    f.insert(11);
    savepoint d = f.save(tx); // left active: the commit keeps its work and ends it
    f.insert(12);
    BOOST_TEST(!f.commit(tx));
    BOOST_TEST(!d.active());
    BOOST_TEST((f.release(d) == client_errc::transaction_ended));
    BOOST_TEST((f.try_save(tx).ec == client_errc::transaction_ended));
    BOOST_TEST(f.items() == (tb_ints{11, 12}), boost::test_tools::per_element());
}

// 3c. The scoped savepoint helpers with awaitable bodies: aiopg's test again.
ASIOPG_TEST_CASE(scoped_savepoints_awaitable_bodies) {
    tb_fixture f;
    error_code inner_failure;
    int seen_in_outer = -1;
    tb_co_run(f.ctx, [&]() -> asio::awaitable<void> {
        transaction tx = co_await transaction::async_begin(f.conn, asio::use_awaitable);
        co_await f.conn.async_execute("INSERT INTO tb_items (x) VALUES (22)", asio::use_awaitable);
        seen_in_outer = co_await async_savepoint(tx, [&](savepoint& outer) -> asio::awaitable<int> {
            co_await async_savepoint(outer, [&](savepoint& sp) -> asio::awaitable<void> {
                BOOST_TEST(sp.active());
                for (int x : {1, 2, 3})
                    co_await f.conn.async_execute("INSERT INTO tb_items (x) VALUES ($1)", params(x), asio::use_awaitable);
            }, asio::use_awaitable);
            try {
                co_await async_savepoint(outer, [&](savepoint&) -> asio::awaitable<void> {
                    co_await f.conn.async_execute("INSERT INTO tb_items (x) VALUES (99)", asio::use_awaitable);
                    co_await f.conn.async_execute("SELECT 1 / 0", asio::use_awaitable);
                }, asio::use_awaitable);
                BOOST_TEST(false, "the failing savepoint body did not throw");
            } catch (const error_with_diagnostics& e) {
                inner_failure = e.code();
            }
            BOOST_TEST(outer.active());
            BOOST_TEST(tx.active());
            auto r = co_await f.conn.async_execute("SELECT count(*)::int FROM tb_items", asio::use_awaitable);
            co_return r.at(0).at(0).as<int>();
        }, asio::use_awaitable);
        BOOST_TEST(tx.active());
        co_await tx.async_commit(asio::use_awaitable);
    });
    BOOST_TEST((inner_failure == sqlstate::division_by_zero), inner_failure.message());
    BOOST_TEST(seen_in_outer == 4);
    BOOST_TEST((f.status() == transaction_status::idle));
    if (f.status() != transaction_status::idle) f.exec("ROLLBACK"); // cleanup after a failure above
    BOOST_TEST(f.items() == (tb_ints{22, 1, 2, 3}), boost::test_tools::per_element());
}

// 3d. The scoped savepoint helpers with callback bodies, in every style: success releases,
// done(ec) rolls back to the savepoint and the transaction goes on.
ASIOPG_TEST_CASE(scoped_savepoints_callback_bodies) {
    tb_fixture f;
    {
        transaction tx = f.begin();
        for (style s : all_styles) {
            BOOST_TEST_CONTEXT(s) {
                auto ok = run<no_value>(s, f.ctx, [&](auto&& tok) {
                    return async_savepoint(tx, [&](savepoint& sp, tb_done_handler done) {
                        BOOST_TEST(sp.active());
                        f.conn.async_execute("INSERT INTO tb_items (x) VALUES (5)",
                                             [done = std::move(done)](error_code ec, result) mutable { std::move(done)(ec); });
                    }, tok);
                });
                BOOST_TEST(!ok.ec, ok.ec.message());
                auto bad = run<no_value>(s, f.ctx, [&](auto&& tok) {
                    return async_savepoint(tx, [&](savepoint&, tb_done_handler done) {
                        f.conn.async_execute("INSERT INTO tb_items (x) VALUES (6); SELECT 1 / 0",
                                             [done = std::move(done)](error_code ec, result) mutable { std::move(done)(ec); });
                    }, tok);
                });
                BOOST_TEST((bad.ec == sqlstate::division_by_zero), bad.ec.message());
                if (throws(s)) {
                    BOOST_TEST(bad.threw, bad.what);
                    BOOST_TEST(bad.what.find("division by zero") != std::string::npos, bad.what);
                }
                BOOST_TEST((f.status() == transaction_status::in_transaction));
                BOOST_TEST(tx.active());
            }
        }
        BOOST_TEST(!f.commit(tx));
    }
    if (f.status() != transaction_status::idle) f.exec("ROLLBACK"); // cleanup after a failure above
    BOOST_TEST(f.items() == (tb_ints{5, 5, 5, 5, 5}), boost::test_tools::per_element());
}

// 3e. The scoped savepoint helpers with stackful bodies, nested, one throwing its own exception.
ASIOPG_TEST_CASE(scoped_savepoints_stackful_bodies) {
    tb_fixture f;
    int returned = 0;
    bool custom_caught = false;
    error_code statement_failure;
    tb_spawn_run(f.ctx, [&](asio::yield_context yield) {
        transaction tx = transaction::async_begin(f.conn, yield);
        returned = async_savepoint(tx, [&](savepoint& sp, asio::yield_context y) -> int {
            f.conn.async_execute("INSERT INTO tb_items (x) VALUES (7)", y);
            async_savepoint(sp, [&](savepoint&, asio::yield_context y2) {
                f.conn.async_execute("INSERT INTO tb_items (x) VALUES (8)", y2);
            }, y);
            try {
                async_savepoint(sp, [&](savepoint&, asio::yield_context y2) {
                    f.conn.async_execute("INSERT INTO tb_items (x) VALUES (9)", y2);
                    throw tb_body_error("stackful savepoint body", 3);
                }, y);
            } catch (const tb_body_error& e) {
                custom_caught = std::string(e.what()) == "stackful savepoint body" && e.tag == 3;
            }
            return 2;
        }, yield);
        try {
            error_code ec;
            async_savepoint(tx, [&](savepoint&, asio::yield_context y) {
                f.conn.async_execute("INSERT INTO tb_items (x) VALUES (10)", y);
                f.conn.async_execute("SELECT 1 / 0", y);
            }, yield[ec]);
            BOOST_TEST(false, "the body's failure did not propagate");
        } catch (const error_with_diagnostics& e) {
            statement_failure = e.code();
        }
        tx.async_commit(yield);
    });
    BOOST_TEST(returned == 2);
    BOOST_TEST(custom_caught);
    BOOST_TEST((statement_failure == sqlstate::division_by_zero), statement_failure.message());
    BOOST_TEST(f.items() == (tb_ints{7, 8}), boost::test_tools::per_element());
}

// 4. A scoped transaction body's exception rolls back and comes out unchanged.
ASIOPG_TEST_CASE(scoped_body_exceptions_roll_back_and_propagate_unchanged) {
    tb_fixture f;
    bool caught = false;
    error_code statement_failure;
    std::string statement_sqlstate, statement_what;
    tb_co_run(f.ctx, [&]() -> asio::awaitable<void> {
        try {
            co_await async_transaction(f.conn, {}, [&](transaction& tx) -> asio::awaitable<int> {
                co_await tx->async_execute("INSERT INTO tb_items (x) VALUES (1)", asio::use_awaitable);
                throw tb_body_error("awaitable body failed", 1);
            }, asio::use_awaitable);
            BOOST_TEST(false, "no exception");
        } catch (const tb_body_error& e) {
            caught = std::string(e.what()) == "awaitable body failed" && e.tag == 1;
        }
        try {
            co_await async_transaction(f.conn, {}, [&](transaction& tx) -> asio::awaitable<void> {
                co_await tx->async_execute("INSERT INTO tb_items (x) VALUES (2)", asio::use_awaitable);
                co_await tx->async_execute("SELECT 1 / 0", asio::use_awaitable);
            }, asio::use_awaitable);
            BOOST_TEST(false, "no exception");
        } catch (const error_with_diagnostics& e) {
            statement_failure = e.code();
            statement_sqlstate = e.get_diagnostics().sqlstate;
            statement_what = e.what();
        }
    });
    BOOST_TEST(caught);
    BOOST_TEST((statement_failure == sqlstate::division_by_zero), statement_failure.message());
    BOOST_TEST(statement_sqlstate == "22012");
    BOOST_TEST(statement_what.find("division by zero") != std::string::npos, statement_what);
    BOOST_TEST((f.status() == transaction_status::idle));
    BOOST_TEST(!f.conn.transaction_abandoned());
    BOOST_TEST(f.item_count() == 0);

    // stackful: the same, with and without yield[ec] (the body's exceptions always propagate)
    bool caught_plain = false, caught_ec = false;
    error_code stackful_failure;
    tb_spawn_run(f.ctx, [&](asio::yield_context yield) {
        try {
            async_transaction(f.conn, {}, [&](transaction& tx, asio::yield_context y) {
                tx->async_execute("INSERT INTO tb_items (x) VALUES (3)", y);
                throw tb_body_error("stackful body failed", 2);
            }, yield);
        } catch (const tb_body_error& e) {
            caught_plain = std::string(e.what()) == "stackful body failed" && e.tag == 2;
        }
        try {
            error_code ec;
            async_transaction(f.conn, {}, [&](transaction& tx, asio::yield_context y) -> int {
                tx->async_execute("INSERT INTO tb_items (x) VALUES (4)", y);
                throw tb_body_error("stackful body failed again", 4);
            }, yield[ec]);
        } catch (const tb_body_error& e) {
            caught_ec = e.tag == 4;
        }
        try {
            async_transaction(f.conn, {}, [&](transaction& tx, asio::yield_context y) {
                tx->async_execute("INSERT INTO tb_items (x) VALUES (5)", y);
                tx->async_execute("SELECT 1 / 0", y);
            }, yield);
        } catch (const error_with_diagnostics& e) {
            stackful_failure = e.code();
        }
    });
    BOOST_TEST(caught_plain);
    BOOST_TEST(caught_ec);
    BOOST_TEST((stackful_failure == sqlstate::division_by_zero), stackful_failure.message());
    BOOST_TEST((f.status() == transaction_status::idle));
    BOOST_TEST(f.item_count() == 0);

    // callback body: done(ec) reports the statement's error; a thrown exception leaves run()
    auto out = run<no_value>(style::callback, f.ctx, [&](auto&& tok) {
        return async_transaction(f.conn, {}, [&](transaction& tx, tb_done_handler done) {
            tx->async_execute("INSERT INTO tb_items (x) VALUES (6); SELECT 1 / 0",
                              [done = std::move(done)](error_code ec, result) mutable { std::move(done)(ec); });
        }, tok);
    });
    BOOST_TEST((out.ec == sqlstate::division_by_zero), out.ec.message());
    BOOST_TEST((f.status() == transaction_status::idle));

    bool completed = false, thrown_out = false;
    async_transaction(f.conn, {}, [&](transaction&, tb_done_handler) { throw tb_body_error("callback body threw", 5); },
                      [&](error_code) { completed = true; });
    try {
        run_until_done(f.ctx, completed, 5s);
    } catch (const tb_body_error& e) {
        thrown_out = std::string(e.what()) == "callback body threw" && e.tag == 5;
    }
    BOOST_TEST(thrown_out);
    BOOST_TEST(!completed);
    // documented: rethrown *after* the rollback
    BOOST_TEST((f.status() == transaction_status::idle), "not rolled back when the exception left run()");
    f.ctx.restart();
    f.ctx.run_for(300ms); // whatever is still pending settles
    BOOST_TEST(!f.conn.transaction_abandoned());
    if (f.status() != transaction_status::idle) f.exec("ROLLBACK"); // cleanup after a failure above
    BOOST_TEST(f.item_count() == 0);
}

// 5a. Serializable write skew, step by step: the second COMMIT fails with 40001.
ASIOPG_TEST_CASE(serializable_write_skew_fails_the_second_commit) {
    tb_fixture f;
    tb_counter_setup setup(f);
    connection& other = setup.other;
    transaction_options o;
    o.isolation = isolation_level::serializable;
    transaction t1 = f.begin(o);
    auto b2 = run<transaction>(style::callback, f.ctx, [&](auto&& tok) { return transaction::async_begin(other, o, tok); });
    BOOST_TEST_REQUIRE(!b2.ec);
    transaction t2 = std::move(*b2.value);
    auto on_other = [&](std::string_view sql) {
        return run<result>(style::callback, f.ctx, [&](auto&& tok) { return other.async_execute(sql, tok); });
    };
    BOOST_TEST(f.query("SELECT sum(n)::int FROM tb_counter").at(0).at(0).as<int>() == 0);
    auto r2 = on_other("SELECT sum(n)::int FROM tb_counter");
    BOOST_TEST_REQUIRE(!r2.ec);
    f.query("UPDATE tb_counter SET n = 1 WHERE id = 1");
    BOOST_TEST(!on_other("UPDATE tb_counter SET n = 1 WHERE id = 2").ec);
    BOOST_TEST(!f.commit(t1));
    auto c2 = run<no_value>(style::callback, f.ctx, [&](auto&& tok) { return t2.async_commit(tok); });
    BOOST_TEST((c2.ec == sqlstate::serialization_failure), c2.ec.message());
    BOOST_TEST((t2.state() == transaction_state::rolled_back));
    BOOST_TEST((other.get_transaction_status() == transaction_status::idle));
    BOOST_TEST(tb_counter_value(f, 1) == 1);
    BOOST_TEST(tb_counter_value(f, 2) == 0);
}

namespace {
// Two concurrent read-modify-write scopes on one counter row (serializable), each attempt
// meeting the other at a rendezvous so that they always conflict.
struct tb_conflict {
    bool timed_out = false;
    int attempts1 = 0, attempts2 = 0;
    error_code e1, e2;
};
tb_conflict tb_run_conflict(tb_fixture& f, tb_counter_setup& setup, unsigned max_attempts) {
    transaction_options o;
    o.isolation = isolation_level::serializable;
    o.max_attempts = max_attempts;
    tb_rendezvous rv(f.ctx, 2);
    tb_conflict c;
    tb_co_run(f.ctx, [&] { return tb_increment(f.conn, o, rv, c.attempts1, c.e1); },
              [&] { return tb_increment(setup.other, o, rv, c.attempts2, c.e2); });
    c.timed_out = rv.timed_out;
    return c;
}
} // namespace

// 5b. No retry: exactly one fails with 40001.
ASIOPG_TEST_CASE(serialization_conflict_without_retry) {
    tb_fixture f;
    tb_counter_setup setup(f);
    tb_conflict c = tb_run_conflict(f, setup, 1);
    BOOST_TEST(!c.timed_out);
    BOOST_TEST(c.attempts1 == 1);
    BOOST_TEST(c.attempts2 == 1);
    BOOST_TEST(((c.e1 == sqlstate::serialization_failure) != (c.e2 == sqlstate::serialization_failure)),
               c.e1.message() << " / " << c.e2.message());
    BOOST_TEST((!c.e1 || !c.e2), c.e1.message() << " / " << c.e2.message());
    BOOST_TEST((f.status() == transaction_status::idle));
    BOOST_TEST((setup.other.get_transaction_status() == transaction_status::idle));
    BOOST_TEST(tb_counter_value(f) == 1);
}

// 5c. max_attempts = 5: the loser is retried and both increments land.
ASIOPG_TEST_CASE(serialization_conflict_retried_until_both_commit) {
    tb_fixture f;
    tb_counter_setup setup(f);
    tb_conflict c = tb_run_conflict(f, setup, 5);
    BOOST_TEST(!c.timed_out);
    BOOST_TEST(!c.e1, c.e1.message());
    BOOST_TEST(!c.e2, c.e2.message());
    BOOST_TEST(c.attempts1 + c.attempts2 == 3);
    BOOST_TEST(tb_counter_value(f) == 2);
}

// 6a. The backend dies while COMMIT runs: commit_in_doubt, state in_doubt.
ASIOPG_TEST_CASE(commit_in_flight_when_backend_dies_is_in_doubt) {
    tb_fixture f;
    session killer;
    tb_make_slow_commit_table(killer);
    connection killer_conn(f.ctx);
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, f.ctx, [&](auto&& tok) {
        return killer_conn.async_connect(tcp_conninfo(), tok);
    }).ec);

    transaction tx = f.begin();
    f.query("INSERT INTO tb_slow_commit VALUES (1)");
    const int pid = f.conn.backend_pid();
    bool terminated = false, committed = false;
    error_code commit_ec;
    auto start = std::chrono::steady_clock::now();
    tb_co_run(f.ctx,
              [&]() -> asio::awaitable<void> {
                  auto [ec] = co_await tx.async_commit(asio::as_tuple(asio::use_awaitable));
                  commit_ec = ec;
                  committed = true;
              },
              [&] { return tb_terminate_during_commit(killer_conn, pid, terminated); });
    auto elapsed = std::chrono::steady_clock::now() - start;
    BOOST_TEST(terminated);
    BOOST_TEST(committed);
    BOOST_TEST((commit_ec == client_errc::commit_in_doubt), commit_ec.message());
    BOOST_TEST((tx.state() == transaction_state::in_doubt));
    BOOST_TEST(!f.conn.is_open());
    BOOST_TEST((elapsed < 1900ms), "COMMIT was not interrupted");
    // killed inside the deferred trigger: the server never committed
    BOOST_TEST(killer.query("SELECT count(*) FROM tb_slow_commit").at(0).at(0).as<long>() == 0);
    // later operations on the transaction: ended
    BOOST_TEST((f.commit(tx) == client_errc::transaction_ended));
}

// 6b. The same through the scoped helpers (awaitable: exception; stackful yield[ec]: ec).
ASIOPG_TEST_CASE(scoped_commit_in_doubt) {
    tb_fixture f;
    session killer;
    tb_make_slow_commit_table(killer);
    connection killer_conn(f.ctx);
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, f.ctx, [&](auto&& tok) {
        return killer_conn.async_connect(tcp_conninfo(), tok);
    }).ec);

    int pid = f.conn.backend_pid();
    bool terminated = false;
    error_code got;
    std::string what;
    tb_co_run(f.ctx,
              [&]() -> asio::awaitable<void> {
                  try {
                      co_await async_transaction(f.conn, {}, [&](transaction& tx) -> asio::awaitable<void> {
                          co_await tx->async_execute("INSERT INTO tb_slow_commit VALUES (1)", asio::use_awaitable);
                      }, asio::use_awaitable);
                  } catch (const boost::system::system_error& e) {
                      got = e.code();
                      what = e.what();
                  }
              },
              [&] { return tb_terminate_during_commit(killer_conn, pid, terminated); });
    BOOST_TEST(terminated);
    BOOST_TEST((got == client_errc::commit_in_doubt), got.message());
    BOOST_TEST(what.find("COMMIT outcome unknown") != std::string::npos, what);

    BOOST_TEST_REQUIRE(!f.reconnect());
    pid = f.conn.backend_pid();
    terminated = false;
    got = {};
    bool stackful_done = false;
    asio::spawn(f.ctx, [&](asio::yield_context yield) {
        error_code ec;
        async_transaction(f.conn, {}, [&](transaction& tx, asio::yield_context y) {
            tx->async_execute("INSERT INTO tb_slow_commit VALUES (2)", y);
        }, yield[ec]);
        got = ec;
    }, [&](std::exception_ptr e) {
        if (e) BOOST_TEST(false, "escaped: " << tb_describe(e));
        stackful_done = true;
    });
    tb_co_run(f.ctx, [&] { return tb_terminate_during_commit(killer_conn, pid, terminated); });
    BOOST_TEST_REQUIRE(run_until_done(f.ctx, stackful_done, 10s));
    BOOST_TEST(terminated);
    BOOST_TEST((got == client_errc::commit_in_doubt), got.message());
    BOOST_TEST(killer.query("SELECT count(*) FROM tb_slow_commit").at(0).at(0).as<long>() == 0);
    killer.query("DROP TABLE tb_slow_commit; DROP FUNCTION tb_sleep_at_commit()");
}

// 7a. Destroying an active transaction marks the connection: only ROLLBACK gets through.
ASIOPG_TEST_CASE(abandoned_transaction_refuses_all_but_rollback) {
    tb_fixture f;
    {
        transaction tx = f.begin();
        f.insert(1);
        transaction moved = std::move(tx); // a moved-from handle abandons nothing
    }
    BOOST_TEST(f.conn.transaction_abandoned());
    BOOST_TEST((f.status() == transaction_status::in_transaction));
    BOOST_TEST((f.exec("SELECT 1").ec == client_errc::transaction_abandoned));
    BOOST_TEST((f.exec("COMMIT").ec == client_errc::transaction_abandoned));
    BOOST_TEST((f.exec("SELECT $1::int", params(1)).ec == client_errc::transaction_abandoned));
    BOOST_TEST((f.exec("INSERT INTO tb_items (x) VALUES ($1)", params(2), style::awaitable).ec ==
                client_errc::transaction_abandoned));
    auto prep = run<statement>(style::callback, f.ctx, [&](auto&& tok) { return f.conn.async_prepare("SELECT 1", tok); });
    BOOST_TEST((prep.ec == client_errc::transaction_abandoned), prep.ec.message());
    auto again = f.try_begin();
    BOOST_TEST(again.ec); // refused, either as abandoned or as already in a transaction
    BOOST_TEST(((again.ec == client_errc::transaction_abandoned) || (again.ec == client_errc::transaction_in_progress)),
               again.ec.message());
    BOOST_TEST(f.conn.transaction_abandoned());
    f.query("ROLLBACK");
    BOOST_TEST(!f.conn.transaction_abandoned());
    BOOST_TEST((f.status() == transaction_status::idle));
    BOOST_TEST(f.item_count() == 0);

    // move-assigning over an active transaction abandons it too
    transaction tx = f.begin();
    f.insert(3);
    tx = transaction();
    BOOST_TEST(f.conn.transaction_abandoned());
    BOOST_TEST((f.exec("SELECT 1").ec == client_errc::transaction_abandoned));
    f.query("ROLLBACK");
    BOOST_TEST(!f.conn.transaction_abandoned());
    BOOST_TEST(f.item_count() == 0);
}

// 7b. An abandoned transaction on a pooled connection is rolled back before the next user.
ASIOPG_TEST_CASE(abandoned_transaction_in_pool_is_rolled_back) {
    tb_fixture f;
    f.query("CREATE TABLE IF NOT EXISTS tb_pool_abandon (x int)");
    f.query("DELETE FROM tb_pool_abandon");
    pool_params p;
    p.connect.conninfo = tcp_conninfo();
    p.min_size = 1;
    p.max_size = 1;
    p.acquire_timeout = 10s;
    connection_pool pool(f.ctx, p);
    int pid = 0;
    {
        auto a = run<pooled_connection>(style::callback, f.ctx, [&](auto&& tok) { return pool.async_acquire(tok); });
        BOOST_TEST_REQUIRE(!a.ec, a.ec.message());
        pooled_connection pc = std::move(*a.value);
        pid = pc->backend_pid();
        {
            auto b = run<transaction>(style::callback, f.ctx, [&](auto&& tok) { return transaction::async_begin(pc.get(), tok); });
            BOOST_TEST_REQUIRE(!b.ec, b.ec.message());
            transaction tx = std::move(*b.value);
            auto ins = run<result>(style::callback, f.ctx, [&](auto&& tok) {
                return pc->async_execute("INSERT INTO tb_pool_abandon VALUES (1)", tok);
            });
            BOOST_TEST_REQUIRE(!ins.ec, ins.ec.message());
        }
        BOOST_TEST(pc->transaction_abandoned());
    } // the handle goes back to the pool
    auto a = run<pooled_connection>(style::callback, f.ctx, [&](auto&& tok) { return pool.async_acquire(tok); });
    BOOST_TEST_REQUIRE(!a.ec, a.ec.message());
    pooled_connection pc = std::move(*a.value);
    BOOST_TEST(pc->backend_pid() == pid); // the same connection, reused
    BOOST_TEST(!pc->transaction_abandoned());
    BOOST_TEST((pc->get_transaction_status() == transaction_status::idle));
    auto cnt = run<result>(style::callback, f.ctx, [&](auto&& tok) {
        return pc->async_execute("SELECT count(*) FROM tb_pool_abandon", tok);
    });
    BOOST_TEST_REQUIRE(!cnt.ec, cnt.ec.message());
    BOOST_TEST(cnt.value->at(0).at(0).as<long>() == 0);
    BOOST_TEST(f.query("SELECT count(*) FROM tb_pool_abandon").at(0).at(0).as<long>() == 0);
    pc.release();
    pool.close();
    f.query("DROP TABLE tb_pool_abandon");
}

// 8. Cancellation and statement timeouts inside a scope come out as such (aiopg #777).
ASIOPG_TEST_CASE(cancellation_inside_scope_propagates) {
    tb_fixture f;
    asio::cancellation_signal sig;
    asio::steady_timer t(f.ctx);
    auto cancel_soon = [&] {
        t.expires_after(100ms);
        t.async_wait([&](error_code ec) {
            if (!ec) sig.emit(asio::cancellation_type::terminal);
        });
    };

    // transaction scope, awaitable body
    error_code got;
    auto start = std::chrono::steady_clock::now();
    tb_co_run(f.ctx, [&]() -> asio::awaitable<void> {
        try {
            co_await async_transaction(f.conn, {}, [&](transaction& tx) -> asio::awaitable<void> {
                co_await tx->async_execute("INSERT INTO tb_items (x) VALUES (1)", asio::use_awaitable);
                cancel_soon();
                co_await tx->async_execute("SELECT pg_sleep(5)", asio::bind_cancellation_slot(sig.slot(), asio::use_awaitable));
            }, asio::use_awaitable);
            BOOST_TEST(false, "no exception");
        } catch (const boost::system::system_error& e) {
            got = e.code();
        }
    });
    BOOST_TEST((got == asio::error::operation_aborted), got.message());
    BOOST_TEST((std::chrono::steady_clock::now() - start < 3s));

    // savepoint scope, awaitable body
    BOOST_TEST_REQUIRE(!f.reconnect());
    f.prepare();
    got = {};
    tb_co_run(f.ctx, [&]() -> asio::awaitable<void> {
        transaction tx = co_await transaction::async_begin(f.conn, asio::use_awaitable);
        try {
            co_await async_savepoint(tx, [&](savepoint&) -> asio::awaitable<void> {
                cancel_soon();
                co_await f.conn.async_execute("SELECT pg_sleep(5)", asio::bind_cancellation_slot(sig.slot(), asio::use_awaitable));
            }, asio::use_awaitable);
            BOOST_TEST(false, "no exception");
        } catch (const boost::system::system_error& e) {
            got = e.code();
        }
        co_await tx.async_rollback(asio::as_tuple(asio::use_awaitable)); // on a closed connection: whatever
    });
    BOOST_TEST((got == asio::error::operation_aborted), got.message());

    // transaction scope, callback body, callback token
    BOOST_TEST_REQUIRE(!f.reconnect());
    f.prepare();
    auto out = run<no_value>(style::callback, f.ctx, [&](auto&& tok) {
        return async_transaction(f.conn, {}, [&](transaction& tx, tb_done_handler done) {
            cancel_soon();
            tx->async_execute("SELECT pg_sleep(5)", asio::bind_cancellation_slot(sig.slot(), [done = std::move(done)](
                                                                                     error_code ec, result) mutable {
                                  std::move(done)(ec);
                              }));
        }, tok);
    }, 10s);
    BOOST_TEST(out.completed);
    BOOST_TEST((out.ec == asio::error::operation_aborted), out.ec.message());

    // statement_timeout inside the body: 57014 comes out, not the ROLLBACK's outcome
    BOOST_TEST_REQUIRE(!f.reconnect());
    f.prepare();
    got = {};
    tb_co_run(f.ctx, [&]() -> asio::awaitable<void> {
        try {
            co_await async_transaction(f.conn, {}, [&](transaction& tx) -> asio::awaitable<void> {
                co_await tx->async_execute("SET LOCAL statement_timeout = 100", asio::use_awaitable);
                co_await tx->async_execute("INSERT INTO tb_items (x) VALUES (2)", asio::use_awaitable);
                co_await tx->async_execute("SELECT pg_sleep(5)", asio::use_awaitable);
            }, asio::use_awaitable);
            BOOST_TEST(false, "no exception");
        } catch (const boost::system::system_error& e) {
            got = e.code();
        }
    });
    BOOST_TEST((got == sqlstate::query_canceled), got.message());
    BOOST_TEST(f.conn.is_open());
    BOOST_TEST((f.status() == transaction_status::idle));
    BOOST_TEST(f.item_count() == 0);
}

// 9. Misuse of the explicit API.
ASIOPG_TEST_CASE(misuse_is_refused) {
    tb_fixture f;
    tb_prepared_guard guard;
    {
        transaction tx = f.begin();
        savepoint sp = f.save(tx);
        BOOST_TEST(!f.release(sp));
        BOOST_TEST((f.release(sp) == client_errc::transaction_ended));
        BOOST_TEST((f.rollback_to(sp) == client_errc::transaction_ended));
        BOOST_TEST(!f.commit(tx));
        BOOST_TEST((f.commit(tx) == client_errc::transaction_ended));
        BOOST_TEST((f.rollback(tx) == client_errc::transaction_ended));
        BOOST_TEST((f.try_save(tx).ec == client_errc::transaction_ended));
        auto p = run<no_value>(style::callback, f.ctx, [&](auto&& tok) { return tx.async_prepare("tb-misuse-late", tok); });
        BOOST_TEST((p.ec == client_errc::transaction_ended));
        BOOST_TEST((tx.state() == transaction_state::committed));
    }
    {
        transaction tx = f.begin();
        BOOST_TEST(!f.rollback(tx));
        BOOST_TEST((f.commit(tx) == client_errc::transaction_ended));
        BOOST_TEST((tx.state() == transaction_state::rolled_back));
    }
    // BEGIN inside a transaction block: with an object, and after a manual BEGIN, and in error
    {
        transaction tx = f.begin();
        auto again = f.try_begin();
        BOOST_TEST((again.ec == client_errc::transaction_in_progress), again.ec.message());
        BOOST_TEST(tx.active());
        f.insert(1);
        BOOST_TEST(!f.commit(tx));
    }
    f.query("BEGIN");
    BOOST_TEST((f.try_begin().ec == client_errc::transaction_in_progress));
    BOOST_TEST((f.exec("SELECT 1 / 0").ec == sqlstate::division_by_zero));
    BOOST_TEST((f.try_begin({}, style::future).ec == client_errc::transaction_in_progress));
    f.query("ROLLBACK");
    // a second end while the first is in flight
    {
        transaction tx = f.begin();
        bool d1 = false, d2 = false;
        error_code e1, e2;
        tx.async_commit([&](error_code ec) { e1 = ec; d1 = true; });
        tx.async_rollback([&](error_code ec) { e2 = ec; d2 = true; });
        BOOST_TEST_REQUIRE(run_until_done(f.ctx, d1, 10s));
        BOOST_TEST_REQUIRE(run_until_done(f.ctx, d2, 10s));
        BOOST_TEST(!e1, e1.message());
        BOOST_TEST((e2 == client_errc::transaction_ended), e2.message());
        BOOST_TEST((tx.state() == transaction_state::committed));
    }
    // COMMIT (and PREPARE) of a transaction in which a statement failed: 25P02, rolled back
    {
        transaction tx = f.begin();
        f.insert(2);
        BOOST_TEST((f.exec("SELECT 1 / 0").ec == sqlstate::division_by_zero));
        error_code ec = f.commit(tx);
        BOOST_TEST((ec == sqlstate::in_failed_sql_transaction), ec.message());
        // with a callback token the connection's diagnostics tell the rest (not the stale 22012)
        BOOST_TEST(f.conn.get_diagnostics().sqlstate == "25P02");
        BOOST_TEST((tx.state() == transaction_state::rolled_back));
        BOOST_TEST((f.status() == transaction_status::idle));
    }
    {
        transaction tx = f.begin();
        f.insert(2);
        BOOST_TEST((f.exec("SELECT 1 / 0").ec == sqlstate::division_by_zero));
        auto c = run<no_value>(style::future, f.ctx, [&](auto&& tok) { return tx.async_commit(tok); });
        BOOST_TEST((c.ec == sqlstate::in_failed_sql_transaction), c.ec.message());
        BOOST_TEST(c.threw);
        BOOST_TEST(c.diag.sqlstate == "25P02");
        BOOST_TEST((tx.state() == transaction_state::rolled_back));
    }
    {
        transaction tx = f.begin();
        f.insert(3);
        BOOST_TEST((f.exec("SELECT 1 / 0").ec == sqlstate::division_by_zero));
        auto p = run<no_value>(style::future, f.ctx, [&](auto&& tok) {
            return tx.async_prepare(guard.add("tb-misuse-failed"), tok);
        });
        BOOST_TEST((p.ec == sqlstate::in_failed_sql_transaction), p.ec.message());
        BOOST_TEST((tx.state() == transaction_state::rolled_back));
        BOOST_TEST((f.status() == transaction_status::idle));
        BOOST_TEST(!guard.listed("tb-misuse-failed"));
    }
    BOOST_TEST(f.items() == (tb_ints{1}), boost::test_tools::per_element());
}

// 10. Two-phase commit: rollback prepared, a gid with a quote, an unknown gid.
ASIOPG_TEST_CASE(two_phase_commit_behaviour) {
    tb_fixture f;
    tb_prepared_guard guard;
    guard.purge_leftovers();
    f.query("CREATE TABLE IF NOT EXISTS tb_twophase (x int)");
    f.query("DELETE FROM tb_twophase");
    auto count = [&] { return f.query("SELECT count(*) FROM tb_twophase").at(0).at(0).as<long>(); };

    // prepare, listed, rolled back: gone, nothing written
    {
        const std::string gid = guard.add("tb-2pc-rollback");
        transaction tx = f.begin();
        f.query("INSERT INTO tb_twophase VALUES (1)");
        auto p = run<no_value>(style::callback, f.ctx, [&](auto&& tok) { return tx.async_prepare(gid, tok); });
        BOOST_TEST_REQUIRE(!p.ec, p.ec.message() << " " << f.conn.get_diagnostics().to_string());
        BOOST_TEST((tx.state() == transaction_state::prepared));
        BOOST_TEST((f.status() == transaction_status::idle));
        BOOST_TEST((f.commit(tx) == client_errc::transaction_ended));
        auto l = run<tb_prepared_list>(style::callback, f.ctx, [&](auto&& tok) { return async_list_prepared(f.conn, tok); });
        BOOST_TEST_REQUIRE(!l.ec, l.ec.message());
        auto it = std::find_if(l.value->begin(), l.value->end(), [&](auto& x) { return x.gid == gid; });
        BOOST_TEST_REQUIRE((it != l.value->end()), "not listed");
        BOOST_TEST(it->database == server_db());
        BOOST_TEST(it->owner == server_user());
        auto age = std::chrono::system_clock::now() - it->prepared;
        BOOST_TEST((age > -1min && age < 1min), "prepared at an odd time");
        BOOST_TEST(count() == 0);
        auto rb = run<no_value>(style::callback, f.ctx, [&](auto&& tok) { return async_rollback_prepared(f.conn, gid, tok); });
        BOOST_TEST(!rb.ec, rb.ec.message());
        BOOST_TEST(!guard.listed(gid));
        BOOST_TEST(count() == 0);
    }
    // a gid with a quote in it is escaped
    {
        const std::string gid = guard.add("tb-it's");
        transaction tx = f.begin();
        f.query("INSERT INTO tb_twophase VALUES (2)");
        auto p = run<no_value>(style::callback, f.ctx, [&](auto&& tok) { return tx.async_prepare(gid, tok); });
        BOOST_TEST_REQUIRE(!p.ec, p.ec.message() << " " << f.conn.get_diagnostics().to_string());
        BOOST_TEST(guard.listed(gid));
        BOOST_TEST(f.query("SELECT count(*) FROM pg_prepared_xacts WHERE gid = 'tb-it''s'").at(0).at(0).as<long>() == 1);
        auto c = run<no_value>(style::callback, f.ctx, [&](auto&& tok) { return async_commit_prepared(f.conn, gid, tok); });
        BOOST_TEST(!c.ec, c.ec.message());
        BOOST_TEST(!guard.listed(gid));
        BOOST_TEST(count() == 1);
    }
    // unknown gids
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT(s) {
            auto c = run<no_value>(s, f.ctx, [&](auto&& tok) { return async_commit_prepared(f.conn, "tb-no-such-gid", tok); });
            BOOST_TEST((c.ec == sqlstate::undefined_object), c.ec.message());
            auto r = run<no_value>(s, f.ctx, [&](auto&& tok) { return async_rollback_prepared(f.conn, "tb-no-such-gid", tok); });
            BOOST_TEST((r.ec == sqlstate::undefined_object), r.ec.message());
        }
    }
    guard.cleanup();
    f.query("DROP TABLE tb_twophase");
}

// 11. Every operation of the explicit API, in every completion style.
ASIOPG_TEST_CASE(explicit_api_in_every_style) {
    tb_fixture f;
    tb_prepared_guard guard;
    f.query("CREATE TABLE IF NOT EXISTS tb_styles (x int)");
    f.query("DELETE FROM tb_styles");
    int n = 0;
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT(s) {
            ++n;
            transaction_options o;
            o.isolation = isolation_level::repeatable_read;
            auto b = run<transaction>(s, f.ctx, [&](auto&& tok) { return transaction::async_begin(f.conn, o, tok); });
            BOOST_TEST_REQUIRE(!b.ec, b.ec.message());
            transaction tx = std::move(*b.value);
            auto sp = run<savepoint>(s, f.ctx, [&](auto&& tok) { return tx.async_savepoint(tok); });
            BOOST_TEST_REQUIRE(!sp.ec, sp.ec.message());
            f.insert(n);
            auto inner = run<savepoint>(s, f.ctx, [&](auto&& tok) { return sp.value->async_savepoint(tok); });
            BOOST_TEST_REQUIRE(!inner.ec, inner.ec.message());
            f.insert(-n);
            auto rb = run<no_value>(s, f.ctx, [&](auto&& tok) { return inner.value->async_rollback(tok); });
            BOOST_TEST(!rb.ec, rb.ec.message());
            BOOST_TEST(!inner.value->active());
            auto rel = run<no_value>(s, f.ctx, [&](auto&& tok) { return sp.value->async_release(tok); });
            BOOST_TEST(!rel.ec, rel.ec.message());
            BOOST_TEST(!sp.value->active());
            auto c = run<no_value>(s, f.ctx, [&](auto&& tok) { return tx.async_commit(tok); });
            BOOST_TEST(!c.ec, c.ec.message());
            // a refusal, in the style's own way
            auto late = run<no_value>(s, f.ctx, [&](auto&& tok) { return sp.value->async_release(tok); });
            BOOST_TEST((late.ec == client_errc::transaction_ended));
            if (throws(s)) BOOST_TEST(late.threw, late.what);

            auto b2 = run<transaction>(s, f.ctx, [&](auto&& tok) { return transaction::async_begin(f.conn, tok); });
            BOOST_TEST_REQUIRE(!b2.ec, b2.ec.message());
            f.insert(100 + n);
            auto r2 = run<no_value>(s, f.ctx, [&](auto&& tok) { return b2.value->async_rollback(tok); });
            BOOST_TEST(!r2.ec, r2.ec.message());
            BOOST_TEST((b2.value->state() == transaction_state::rolled_back));

            // two-phase: prepare + commit prepared, prepare + rollback prepared, the list
            for (bool commit : {true, false}) {
                const std::string gid = guard.add("tb-style-" + std::to_string(n) + (commit ? "-c" : "-r"));
                auto b3 = run<transaction>(s, f.ctx, [&](auto&& tok) { return transaction::async_begin(f.conn, tok); });
                BOOST_TEST_REQUIRE(!b3.ec, b3.ec.message());
                f.query("INSERT INTO tb_styles VALUES (" + std::to_string(commit ? n : -n) + ")");
                auto p = run<no_value>(s, f.ctx, [&](auto&& tok) { return b3.value->async_prepare(gid, tok); });
                BOOST_TEST_REQUIRE(!p.ec, p.ec.message() << " " << f.conn.get_diagnostics().to_string());
                BOOST_TEST((b3.value->state() == transaction_state::prepared));
                auto l = run<tb_prepared_list>(s, f.ctx, [&](auto&& tok) { return async_list_prepared(f.conn, tok); });
                BOOST_TEST_REQUIRE(!l.ec, l.ec.message());
                BOOST_TEST(std::any_of(l.value->begin(), l.value->end(), [&](auto& x) { return x.gid == gid; }));
                auto end = run<no_value>(s, f.ctx, [&](auto&& tok) {
                    return commit ? async_commit_prepared(f.conn, gid, tok) : async_rollback_prepared(f.conn, gid, tok);
                });
                BOOST_TEST(!end.ec, end.ec.message());
            }
        }
    }
    BOOST_TEST(f.items() == (tb_ints{1, 2, 3, 4, 5}), boost::test_tools::per_element());
    tb_ints styles_rows;
    for (row_view r : f.query("SELECT x FROM tb_styles ORDER BY x")) styles_rows.push_back(r[0].as<int>());
    BOOST_TEST(styles_rows == (tb_ints{1, 2, 3, 4, 5}), boost::test_tools::per_element());
    guard.cleanup();
    f.query("DROP TABLE tb_styles");
}

BOOST_AUTO_TEST_SUITE_END()
