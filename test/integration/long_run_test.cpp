// The long-run check, CI-sized: 200 tasks share a pool of 20 connections for 60 s
// (ASIOPG_LONG_RUN_SECONDS) on two threads, mixing transactional writes and reads, with random
// cancellations (partial and terminal, at random moments of a statement or a COMMIT). Then the
// table must hold every write whose COMMIT succeeded exactly once, intact, and none of those
// that never reached COMMIT; a write whose COMMIT failed may be either (it is in doubt). Under
// ASan (tools/test) the same run checks for leaks.
#include <asiopg.hpp>
#include <asiopg/pool.hpp>

#include "pool.hpp"
#include "session.hpp"
#include "test_case.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

struct ledger {
    std::mutex mtx;
    std::set<std::int64_t> committed, never_committed, in_doubt;
    std::vector<std::int64_t> committed_list; // to pick one at random
    std::atomic<long> reads{0}, read_mismatches{0}, cancellations{0}, failures{0};
    std::atomic<int> running{0};
    // What each task is doing: when tasks fail to finish, the report names where they hang.
    enum stage : int { idle, reading, acquiring, beginning, inserting, inserting_cancelled, rolling_back,
                       committing, committing_cancelled };
    std::array<std::atomic<int>, 256> stages{};
    std::atomic<bool> stop{false};
    std::string unexpected; // the first failure that is not a cancellation's or a timeout's

    void note(std::set<std::int64_t> ledger::*which, std::int64_t id) {
        std::lock_guard<std::mutex> lk(mtx);
        (this->*which).insert(id);
        if (which == &ledger::committed) committed_list.push_back(id);
    }
    void odd(const std::string& what) {
        std::lock_guard<std::mutex> lk(mtx);
        if (unexpected.empty()) unexpected = what;
    }
};

// A failure a cancellation explains: the timeout, the server's cancel, or the connection given
// up by terminal cancellation (its next users see it closed or lost).
bool explained(const error_code& ec) {
    return ec == client_errc::timeout || ec == sqlstate::query_canceled || ec == asio::error::operation_aborted ||
           ec == client_errc::connection_lost || ec == client_errc::not_connected ||
           ec == sqlstate::in_failed_sql_transaction || ec == client_errc::transaction_abandoned;
}

asio::awaitable<void> worker(connection_pool& pool, ledger& l, int task, unsigned seed) {
    std::mt19937 rng(seed);
    auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
    auto deadline = [&] { return std::chrono::milliseconds(1 + rng() % 25); };
    auto how = [&] { return chance(20) ? asio::cancellation_type::terminal : asio::cancellation_type::partial; };
    ++l.running;
    struct leaving {
        std::atomic<int>& running;
        std::atomic<int>& stage;
        ~leaving() { stage = ledger::idle; --running; } // whatever ends the task
    } guard{l.running, l.stages[task]};
    std::int64_t seq = 0;
    while (!l.stop) {
        if (chance(40)) { // a read: a committed write reads back intact
            std::int64_t probe = 0;
            {
                std::lock_guard<std::mutex> lk(l.mtx);
                if (!l.committed_list.empty()) probe = l.committed_list[rng() % l.committed_list.size()];
            }
            if (probe == 0) continue;
            try {
                l.stages[task] = ledger::reading;
                result r = co_await pool.async_execute("SELECT payload = md5(id::text) FROM long_run WHERE id = $1",
                                                       params(probe), asio::use_awaitable);
                ++l.reads;
                if (r.size() != 1 || !r[0][0].as<bool>()) ++l.read_mismatches;
            } catch (const error_with_diagnostics& e) {
                ++l.failures;
                if (!explained(e.code())) l.odd(std::string("read: ") + e.what());
            }
            continue;
        }
        // A write in a transaction, maybe cancelled at some point.
        const std::int64_t id = static_cast<std::int64_t>(task) * 1'000'000'000 + ++seq;
        const bool cancel_insert = chance(15), cancel_commit = chance(10);
        bool commit_sent = false;
        try {
            l.stages[task] = ledger::acquiring;
            pooled_connection c = co_await pool.async_acquire(asio::use_awaitable);
            l.stages[task] = ledger::beginning;
            co_await c->async_execute("BEGIN", asio::use_awaitable);
            const char* insert = "INSERT INTO long_run (id, task, payload) VALUES ($1, $2, md5($1::text))";
            if (cancel_insert) {
                // A statement that takes 0–20 ms, cancelled after 1–25 ms: about half are cut.
                ++l.cancellations;
                l.stages[task] = ledger::inserting_cancelled;
                const char* slow = "INSERT INTO long_run (id, task, payload) "
                                   "SELECT $1, $2, md5($1::text) FROM pg_sleep($3::float8 / 1000)";
                co_await c->async_execute(slow, params(id, task, static_cast<double>(rng() % 21)),
                                          cancel_after(deadline(), asio::use_awaitable, how()));
            } else {
                l.stages[task] = ledger::inserting;
                co_await c->async_execute(insert, params(id, task), asio::use_awaitable);
            }
            if (chance(10)) { // changed its mind: rolled back
                l.stages[task] = ledger::rolling_back;
                co_await c->async_execute("ROLLBACK", asio::use_awaitable);
                l.note(&ledger::never_committed, id);
                continue;
            }
            commit_sent = true;
            if (cancel_commit) {
                // Around a COMMIT's round trip (0.05–0.6 ms): some are cut, in doubt.
                ++l.cancellations;
                l.stages[task] = ledger::committing_cancelled;
                co_await c->async_execute("COMMIT", cancel_after(std::chrono::microseconds(50 + rng() % 550),
                                                                 asio::use_awaitable, how()));
            } else {
                l.stages[task] = ledger::committing;
                co_await c->async_execute("COMMIT", asio::use_awaitable);
            }
            l.note(&ledger::committed, id);
        } catch (const error_with_diagnostics& e) {
            ++l.failures;
            l.note(commit_sent ? &ledger::in_doubt : &ledger::never_committed, id);
            if (!explained(e.code())) l.odd(std::string(commit_sent ? "commit: " : "write: ") + e.what());
        }
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(long_run)

ASIOPG_TEST_CASE(two_hundred_tasks_twenty_connections_random_cancellations, *boost::unit_test::timeout(400)) {
    const char* env = std::getenv("ASIOPG_LONG_RUN_SECONDS");
    const auto duration = std::chrono::seconds(env ? std::atoi(env) : 60);
    {
        session s;
        s.query("DROP TABLE IF EXISTS long_run");
        s.query("CREATE TABLE long_run (id bigint PRIMARY KEY, task int NOT NULL, payload text NOT NULL)");
    }
    ledger l;
    asio::io_context ctx;
    pool_params p = pool_params_for(20, 20);
    p.acquire_timeout = 30s;
    connection_pool pool(ctx, p);
    for (int t = 0; t < 200; ++t)
        // Each task on a strand of its own (doc/thread-safety.md): its timers and cancellations
        // never race with its operations, while the pool's connections run on theirs.
        asio::co_spawn(asio::make_strand(ctx), worker(pool, l, t + 1, static_cast<unsigned>(t * 7919 + 1)), [&](std::exception_ptr e) {
            if (!e) return;
            try { std::rethrow_exception(e); }
            catch (const std::exception& ex) { l.odd(std::string("task died: ") + ex.what()); }
        });
    // Two threads run the context: the pool and its connections are shared between them.
    auto stop_at = std::chrono::steady_clock::now() + duration;
    asio::steady_timer stopper(ctx, stop_at);
    stopper.async_wait([&](error_code) { l.stop = true; });
    // (The pool keeps a timer: the context never runs out of work; run until the tasks are done.)
    // A task that does not finish within 30 s of the stop is a hang: reported, and the test fails.
    const auto give_up_at = stop_at + 30s;
    auto drive = [&] {
        while (!(l.stop && l.running == 0) && std::chrono::steady_clock::now() < give_up_at) ctx.run_for(50ms);
    };
    std::thread second(drive);
    drive();
    second.join();
    if (l.running != 0) {
        std::string stuck;
        for (int t = 1; t <= 200; ++t)
            if (int st = l.stages[t]; st != ledger::idle) stuck += " task " + std::to_string(t) + ": stage " + std::to_string(st) + ";";
        BOOST_FAIL(std::to_string(l.running) + " tasks never finished:" + stuck);
    }
    BOOST_TEST(l.unexpected.empty(), l.unexpected);
    BOOST_TEST(l.read_mismatches == 0);
    BOOST_TEST_MESSAGE("long run: " << l.committed.size() << " committed, " << l.never_committed.size()
                                    << " never committed, " << l.in_doubt.size() << " in doubt, " << l.reads
                                    << " reads, " << l.cancellations << " cancellations, " << l.failures << " failures");
    BOOST_TEST(l.committed.size() > 1000u); // it did run
    BOOST_TEST(l.cancellations > 100);

    pool_stats st = pool.stats();
    BOOST_TEST(st.borrowed == 0u);
    BOOST_TEST(st.waiting == 0u);
    BOOST_TEST(st.size <= 20u);
    BOOST_TEST(!run<no_value>(style::callback, ctx, [&](auto&& tok) { return pool.async_close(tok); }).ec);

    // The table against the ledger.
    session s;
    result rows = s.query("SELECT id FROM long_run");
    std::set<std::int64_t> present;
    for (row_view r : rows) present.insert(r[0].as<std::int64_t>());
    BOOST_TEST(present.size() == rows.size()); // (the primary key already says: at most once)
    std::size_t missing = 0, phantom = 0, unknown = 0;
    for (std::int64_t id : l.committed) missing += present.count(id) == 0;
    for (std::int64_t id : l.never_committed) phantom += present.count(id);
    for (std::int64_t id : present)
        unknown += l.committed.count(id) == 0 && l.in_doubt.count(id) == 0 && l.never_committed.count(id) == 0;
    BOOST_TEST(missing == 0u);  // every committed write is there
    BOOST_TEST(phantom == 0u);  // no write that never reached COMMIT is
    BOOST_TEST(unknown == 0u);  // and nothing else
    BOOST_TEST(s.query("SELECT count(*) FROM long_run WHERE payload <> md5(id::text)")[0][0].as<std::int64_t>() == 0);
    s.query("DROP TABLE long_run");
}

BOOST_AUTO_TEST_SUITE_END()
