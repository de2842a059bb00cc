// The pool's sizing and waiting logic, without a server: the test plays the connections (it
// answers each action) and the clock (every event gets an explicit time).
#include "pool_machine.hpp"

#include "test_case.hpp"

#include <algorithm>
#include <vector>

using namespace asiopg::detail;
using namespace std::chrono_literals;

namespace {

struct fake_pool {
    pool_machine m;
    pool_time now{};
    std::vector<pool_action> acts;

    explicit fake_pool(pool_limits l) : m(l) {}

    std::vector<pool_action> take() {
        m.take_actions(acts);
        return acts;
    }
    static std::vector<node_id> nodes(const std::vector<pool_action>& as, pool_action::kind_t k) {
        std::vector<node_id> out;
        for (const auto& a : as)
            if (a.kind == k) out.push_back(a.node);
        return out;
    }
    static std::vector<waiter_id> waiters(const std::vector<pool_action>& as, pool_action::kind_t k) {
        std::vector<waiter_id> out;
        for (const auto& a : as)
            if (a.kind == k) out.push_back(a.waiter.id);
        return out;
    }
    // Why each close action closes (for the log), in order.
    static std::vector<close_reason> closes(const std::vector<pool_action>& as) {
        std::vector<close_reason> out;
        for (const auto& a : as)
            if (a.kind == pool_action::close) out.push_back(a.why);
        return out;
    }
    // Opens every node the machine asks for, successfully.
    std::vector<node_id> open_all() {
        auto opens = nodes(take(), pool_action::open);
        for (node_id n : opens) m.opened(n, open_outcome::ok, now);
        return opens;
    }
    void advance(pool_duration d) {
        now += d;
        if (m.next_wakeup() <= now) m.tick(now);
    }
};

pool_limits limits(std::size_t min, std::size_t max) {
    pool_limits l;
    l.min_size = min;
    l.max_size = max;
    l.max_lifetime = pool_duration::zero();
    l.max_idle_time = pool_duration::zero();
    l.health_check_interval = pool_duration::zero();
    return l;
}

} // namespace

BOOST_AUTO_TEST_SUITE(pool_machine_tests)

ASIOPG_TEST_CASE(fills_to_min_size_in_the_background_with_bounded_concurrency) {
    auto l = limits(6, 10);
    l.max_concurrent_opens = 4;
    fake_pool p(l);
    p.m.start(p.now);
    auto first = fake_pool::nodes(p.take(), pool_action::open);
    BOOST_TEST(first.size() == 4u); // the concurrency limit
    for (node_id n : first) p.m.opened(n, open_outcome::ok, p.now);
    auto second = fake_pool::nodes(p.take(), pool_action::open);
    BOOST_TEST(second.size() == 2u);
    for (node_id n : second) p.m.opened(n, open_outcome::ok, p.now);
    BOOST_TEST(p.m.size() == 6u);
    BOOST_TEST(p.m.idle() == 6u);
}

ASIOPG_TEST_CASE(grows_on_demand_up_to_max_size_and_serves_waiters_in_order) {
    fake_pool p(limits(0, 2));
    p.m.start(p.now);
    BOOST_TEST(p.take().empty());
    for (waiter_id w = 1; w <= 4; ++w) p.m.acquire(w, p.now);
    auto opens = fake_pool::nodes(p.take(), pool_action::open);
    BOOST_TEST(opens.size() == 2u); // max_size, though 4 wait
    BOOST_TEST(p.m.waiting() == 4u);
    p.m.opened(opens[1], open_outcome::ok, p.now);
    p.m.opened(opens[0], open_outcome::ok, p.now);
    auto grants = fake_pool::waiters(p.take(), pool_action::grant);
    BOOST_TEST((grants == std::vector<waiter_id>{1, 2}));
    // Returning serves the next in line, first come first served.
    p.m.released(opens[0], release_kind::clean, p.now);
    p.m.released(opens[1], release_kind::clean, p.now);
    grants = fake_pool::waiters(p.take(), pool_action::grant);
    BOOST_TEST((grants == std::vector<waiter_id>{3, 4}));
    BOOST_TEST(p.m.size() == 2u);
    BOOST_TEST(p.m.counters().acquires == 4u);
}

ASIOPG_TEST_CASE(idle_connections_are_reused_most_recent_first) {
    fake_pool p(limits(2, 2));
    p.m.start(p.now);
    auto opened = p.open_all();
    BOOST_TEST_REQUIRE(opened.size() == 2u);
    p.m.acquire(1, p.now);
    auto a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    node_id used = a[0].node;
    p.m.released(used, release_kind::clean, p.now);
    p.m.acquire(2, p.now);
    a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    BOOST_TEST(a[0].node == used);
}

ASIOPG_TEST_CASE(exhausted_pool_times_out_waiters_at_their_deadline) {
    auto l = limits(1, 1);
    l.acquire_timeout = 2s;
    fake_pool p(l);
    p.m.start(p.now);
    p.open_all();
    p.m.acquire(1, p.now);
    p.take();
    p.m.acquire(2, p.now);
    BOOST_TEST(p.take().empty());
    BOOST_TEST((p.m.next_wakeup() == p.now + 2s));
    p.advance(1999ms);
    BOOST_TEST(p.take().empty());
    p.advance(1ms);
    auto a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    BOOST_TEST(a[0].kind == pool_action::fail);
    BOOST_TEST(a[0].waiter.id == 2u);
    BOOST_TEST((a[0].failure == acquire_failure::exhausted));
    BOOST_TEST(p.m.counters().acquire_timeouts == 1u);
}

ASIOPG_TEST_CASE(zero_timeout_never_waits) {
    auto l = limits(1, 1);
    l.acquire_timeout = pool_duration::zero();
    fake_pool p(l);
    p.m.start(p.now);
    p.open_all();
    p.m.acquire(1, p.now);
    BOOST_TEST(fake_pool::waiters(p.take(), pool_action::grant).size() == 1u);
    p.m.acquire(2, p.now);
    auto fails = fake_pool::waiters(p.take(), pool_action::fail);
    BOOST_TEST((fails == std::vector<waiter_id>{2}));
    BOOST_TEST(p.m.waiting() == 0u);
}

ASIOPG_TEST_CASE(server_down_backs_off_exponentially_and_reports_the_connect_error) {
    auto l = limits(1, 1);
    l.retry_interval = 100ms;
    l.max_retry_interval = 350ms;
    l.acquire_timeout = 10s;
    fake_pool p(l);
    p.m.start(p.now);
    p.m.acquire(7, p.now);
    std::vector<pool_duration> gaps;
    pool_time last = p.now;
    for (int i = 0; i < 5; ++i) {
        auto opens = fake_pool::nodes(p.take(), pool_action::open);
        BOOST_TEST_REQUIRE(opens.size() == 1u);
        gaps.push_back(p.now - last);
        last = p.now;
        p.m.opened(opens[0], open_outcome::failed, p.now);
        BOOST_TEST(p.take().empty()); // no retry before the back-off
        p.now = p.m.next_wakeup();
        p.m.tick(p.now);
    }
    // 100, 200, 350 (capped), 350 ms between attempts.
    BOOST_TEST((gaps[1] == 100ms));
    BOOST_TEST((gaps[2] == 200ms));
    BOOST_TEST((gaps[3] == 350ms));
    BOOST_TEST((gaps[4] == 350ms));
    BOOST_TEST(p.m.server_down());
    // An attempt is in flight; the waiter times out with the connect error, not "exhausted".
    auto pending = fake_pool::nodes(p.take(), pool_action::open);
    BOOST_TEST_REQUIRE(pending.size() == 1u);
    p.now += 10s;
    p.m.tick(p.now);
    auto a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    BOOST_TEST(a[0].kind == pool_action::fail);
    BOOST_TEST((a[0].failure == acquire_failure::connect_error));
    // A success resets the back-off and serves new waiters.
    p.m.opened(pending[0], open_outcome::ok, p.now);
    BOOST_TEST(!p.m.server_down());
    p.m.acquire(8, p.now);
    BOOST_TEST(fake_pool::waiters(p.take(), pool_action::grant).size() == 1u);
}

ASIOPG_TEST_CASE(permanent_connect_failure_fails_waiters_at_once) {
    fake_pool p(limits(0, 2));
    p.m.acquire(1, p.now);
    p.m.acquire(2, p.now);
    auto opens = fake_pool::nodes(p.take(), pool_action::open);
    BOOST_TEST_REQUIRE(opens.size() == 2u);
    p.m.opened(opens[0], open_outcome::failed_permanently, p.now);
    auto a = p.take();
    auto fails = fake_pool::waiters(a, pool_action::fail);
    BOOST_TEST((fails == std::vector<waiter_id>{1, 2}));
    for (const auto& x : a)
        if (x.kind == pool_action::fail) BOOST_TEST((x.failure == acquire_failure::connect_error));
}

ASIOPG_TEST_CASE(cancelled_waiter_leaves_the_queue) {
    fake_pool p(limits(1, 1));
    p.m.start(p.now);
    p.open_all();
    p.m.acquire(1, p.now);
    auto n = fake_pool::nodes(p.take(), pool_action::grant).at(0);
    p.m.acquire(2, p.now);
    p.m.acquire(3, p.now);
    p.m.cancel(2, p.now);
    auto a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    BOOST_TEST((a[0].failure == acquire_failure::cancelled));
    p.m.cancel(2, p.now); // twice: nothing
    BOOST_TEST(p.take().empty());
    p.m.released(n, release_kind::clean, p.now);
    BOOST_TEST((fake_pool::waiters(p.take(), pool_action::grant) == std::vector<waiter_id>{3}));
    BOOST_TEST(p.m.counters().acquire_cancellations == 1u);
}

ASIOPG_TEST_CASE(returned_connections_are_reset_or_discarded_and_replaced) {
    fake_pool p(limits(1, 1));
    p.m.start(p.now);
    p.open_all();
    p.m.acquire(1, p.now);
    node_id n = fake_pool::nodes(p.take(), pool_action::grant).at(0);
    // Dirty: reset before reuse; a waiter arriving meanwhile waits for the reset.
    p.m.released(n, release_kind::reset, p.now);
    BOOST_TEST((fake_pool::nodes(p.take(), pool_action::reset) == std::vector<node_id>{n}));
    p.m.acquire(2, p.now);
    BOOST_TEST(p.take().empty());
    p.m.reset_done(n, true, p.now);
    BOOST_TEST((fake_pool::nodes(p.take(), pool_action::grant) == std::vector<node_id>{n}));
    // Broken: closed, and a replacement opened (min_size) — the slot is not leaked.
    p.m.released(n, release_kind::discard, p.now);
    auto a = p.take();
    BOOST_TEST((fake_pool::nodes(a, pool_action::close) == std::vector<node_id>{n}));
    BOOST_TEST((fake_pool::closes(a) == std::vector<close_reason>{close_reason::returned_broken}));
    auto opens = fake_pool::nodes(a, pool_action::open);
    BOOST_TEST_REQUIRE(opens.size() == 1u);
    BOOST_TEST(p.m.size() == 1u);
    // A failed reset discards too.
    p.m.opened(opens[0], open_outcome::ok, p.now);
    p.m.acquire(3, p.now);
    node_id n2 = fake_pool::nodes(p.take(), pool_action::grant).at(0);
    p.m.released(n2, release_kind::reset, p.now);
    p.take();
    p.m.reset_done(n2, false, p.now);
    a = p.take();
    BOOST_TEST(fake_pool::nodes(a, pool_action::close).size() == 1u);
    BOOST_TEST((fake_pool::closes(a) == std::vector<close_reason>{close_reason::reset_failed}));
    BOOST_TEST(fake_pool::nodes(a, pool_action::open).size() == 1u);
}

ASIOPG_TEST_CASE(dead_connection_found_at_grant_is_replaced_and_the_waiter_served) {
    fake_pool p(limits(2, 2));
    p.m.start(p.now);
    p.open_all();
    p.m.acquire(1, p.now);
    auto a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    p.m.lost(a[0].node, a[0].waiter, p.now);
    a = p.take();
    // The dead one closed, the other idle one granted to the same waiter, a replacement opened.
    BOOST_TEST(fake_pool::nodes(a, pool_action::close).size() == 1u);
    BOOST_TEST((fake_pool::closes(a) == std::vector<close_reason>{close_reason::dead}));
    BOOST_TEST((fake_pool::waiters(a, pool_action::grant) == std::vector<waiter_id>{1}));
    BOOST_TEST(fake_pool::nodes(a, pool_action::open).size() == 1u);
    BOOST_TEST(p.m.counters().dead_on_acquire == 1u);
    BOOST_TEST(p.m.counters().acquires == 1u);
}

ASIOPG_TEST_CASE(lifetime_idle_time_and_health_checks) {
    auto l = limits(1, 3);
    l.max_lifetime = 60s;
    l.max_idle_time = 10s;
    l.health_check_interval = 4s;
    fake_pool p(l);
    p.m.start(p.now);
    p.open_all();
    // Grow to 3, then return them all.
    for (waiter_id w = 1; w <= 3; ++w) p.m.acquire(w, p.now);
    auto a = p.take();
    for (node_id n : fake_pool::nodes(a, pool_action::open)) p.m.opened(n, open_outcome::ok, p.now);
    auto granted = fake_pool::nodes(p.take(), pool_action::grant);
    for (node_id n : fake_pool::nodes(a, pool_action::grant)) granted.push_back(n);
    BOOST_TEST_REQUIRE(granted.size() == 3u);
    for (node_id n : granted) p.m.released(n, release_kind::clean, p.now);
    p.take();
    // Health checks after 4 s of idleness.
    BOOST_TEST((p.m.next_wakeup() == p.now + 4s));
    p.advance(4s);
    auto checks = fake_pool::nodes(p.take(), pool_action::check);
    BOOST_TEST(checks.size() == 3u);
    p.m.checked(checks[0], false, p.now); // one failed: closed (size 2 >= min 1: no replacement)
    p.m.checked(checks[1], true, p.now);
    p.m.checked(checks[2], true, p.now);
    a = p.take();
    BOOST_TEST(fake_pool::nodes(a, pool_action::close).size() == 1u);
    BOOST_TEST((fake_pool::closes(a) == std::vector<close_reason>{close_reason::health_check_failed}));
    BOOST_TEST(p.m.counters().health_check_failures == 1u);
    // After 10 s idle, shrink to min_size.
    std::vector<close_reason> why;
    for (int i = 0; i < 3; ++i) {
        p.now = p.m.next_wakeup();
        p.m.tick(p.now);
        a = p.take();
        for (close_reason r : fake_pool::closes(a)) why.push_back(r);
        for (node_id n : fake_pool::nodes(a, pool_action::check)) p.m.checked(n, true, p.now);
        for (close_reason r : fake_pool::closes(p.take())) why.push_back(r);
    }
    BOOST_TEST(p.m.size() == 1u);
    BOOST_TEST((why == std::vector<close_reason>{close_reason::idle}));
    why.clear();
    // After 60 s of life, even the last one is replaced.
    while (p.now < pool_time{} + 61s) {
        p.now = p.m.next_wakeup();
        p.m.tick(p.now);
        a = p.take();
        for (close_reason r : fake_pool::closes(a)) why.push_back(r);
        for (node_id n : fake_pool::nodes(a, pool_action::check)) p.m.checked(n, true, p.now);
        for (node_id n : fake_pool::nodes(a, pool_action::open)) p.m.opened(n, open_outcome::ok, p.now);
        p.take();
    }
    BOOST_TEST(p.m.size() == 1u);
    BOOST_TEST((why == std::vector<close_reason>{close_reason::expired}));
    BOOST_TEST(p.m.counters().opened >= 4u);
    // A borrowed connection past its lifetime is closed when it comes back.
    p.m.acquire(9, p.now);
    node_id n = fake_pool::nodes(p.take(), pool_action::grant).at(0);
    p.now += 61s;
    p.m.released(n, release_kind::clean, p.now);
    a = p.take();
    BOOST_TEST((fake_pool::nodes(a, pool_action::close) == std::vector<node_id>{n}));
}

ASIOPG_TEST_CASE(close_and_terminate) {
    fake_pool p(limits(2, 3));
    p.m.start(p.now);
    p.open_all();
    p.m.acquire(1, p.now);
    p.m.acquire(2, p.now);
    auto borrowed = fake_pool::nodes(p.take(), pool_action::grant);
    BOOST_TEST_REQUIRE(borrowed.size() == 2u);
    p.m.acquire(3, p.now); // waits for a third connection
    auto opening = fake_pool::nodes(p.take(), pool_action::open);
    BOOST_TEST_REQUIRE(opening.size() == 1u);
    p.m.close(p.now);
    auto a = p.take();
    // The waiter fails; the connection being opened is closed at once (its connect aborted).
    BOOST_TEST((fake_pool::waiters(a, pool_action::fail) == std::vector<waiter_id>{3}));
    BOOST_TEST((fake_pool::nodes(a, pool_action::close) == opening));
    p.m.acquire(4, p.now);
    a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    BOOST_TEST((a[0].failure == acquire_failure::closed));
    p.m.opened(opening[0], open_outcome::ok, p.now); // a late report: ignored
    BOOST_TEST(p.take().empty());
    p.m.released(borrowed[0], release_kind::clean, p.now); // closed when it comes back
    BOOST_TEST((fake_pool::nodes(p.take(), pool_action::close) == std::vector<node_id>{borrowed[0]}));
    BOOST_TEST(!p.m.finished()); // one is still out
    p.m.terminate(p.now);
    BOOST_TEST((fake_pool::nodes(p.take(), pool_action::close) == std::vector<node_id>{borrowed[1]}));
    BOOST_TEST(p.m.finished());
    p.m.released(borrowed[1], release_kind::clean, p.now); // late return: ignored
    BOOST_TEST(p.take().empty());
}

ASIOPG_TEST_CASE(clear_replaces_every_connection) {
    fake_pool p(limits(2, 2));
    p.m.start(p.now);
    auto first = p.open_all();
    p.m.acquire(1, p.now);
    node_id borrowed = fake_pool::nodes(p.take(), pool_action::grant).at(0);
    p.m.clear(p.now);
    auto a = p.take();
    BOOST_TEST(fake_pool::nodes(a, pool_action::close).size() == 1u); // the idle one
    BOOST_TEST(fake_pool::nodes(a, pool_action::open).size() == 1u);  // back to min_size
    p.m.released(borrowed, release_kind::clean, p.now);
    a = p.take();
    BOOST_TEST((fake_pool::nodes(a, pool_action::close) == std::vector<node_id>{borrowed}));
}

// Regression (found by the HTTP example's author): clear() while connections were opening
// counted each of them out of `opening` twice when it opened (opened(), then its discard as a
// doomed node still marked opening): the counter wrapped, no connection was ever opened again,
// and every acquire timed out on an empty pool.
ASIOPG_TEST_CASE(clear_while_connections_are_opening_keeps_the_pool_alive) {
    fake_pool p(limits(2, 2));
    p.m.start(p.now);
    auto opening = fake_pool::nodes(p.take(), pool_action::open);
    BOOST_TEST_REQUIRE(opening.size() == 2u);
    p.m.clear(p.now); // both doomed while connecting
    p.take();
    p.m.acquire(1, p.now);
    p.take();
    for (node_id n : opening) p.m.opened(n, open_outcome::ok, p.now);
    auto a = p.take();
    BOOST_TEST(fake_pool::closes(a) == std::vector<close_reason>(2, close_reason::cleared));
    auto reopened = fake_pool::nodes(a, pool_action::open);
    BOOST_TEST_REQUIRE(reopened.size() == 2u); // min_size again, and the waiter served
    for (node_id n : reopened) p.m.opened(n, open_outcome::ok, p.now);
    BOOST_TEST((fake_pool::waiters(p.take(), pool_action::grant) == std::vector<waiter_id>{1}));
    BOOST_TEST(p.m.count(pool_machine::node_state::opening) == 0u);
    BOOST_TEST(p.m.size() == 2u);
}

// Found by review:

// Regression (busy loop): after a failed connect, next_open_allowed_ stays set (in the past) until a
// connect succeeds. While the opens the pool wants are held back by max_concurrent_opens (or
// min_size > max_concurrent_opens), next_wakeup() keeps returning that past time, so the shell's
// timer fires immediately, tick() does nothing, and it re-arms at the same past time: 100 % CPU
// (and the pool mutex taken in a loop) for as long as the connects in flight take.
ASIOPG_TEST_CASE(next_wakeup_is_not_in_the_past_while_opens_are_at_the_concurrency_limit) {
    auto l = limits(3, 3);
    l.max_concurrent_opens = 1;
    l.retry_interval = 50ms;
    pool_machine m(l);
    pool_time now{};
    std::vector<pool_action> acts;
    m.start(now);
    m.take_actions(acts);
    auto first = fake_pool::nodes(acts, pool_action::open);
    BOOST_TEST_REQUIRE(first.size() == 1u);
    m.opened(first[0], open_outcome::failed, now); // one failure: back-off 50 ms
    m.take_actions(acts);
    BOOST_TEST_REQUIRE(fake_pool::nodes(acts, pool_action::open).empty());
    now += 50ms;
    BOOST_TEST_REQUIRE((m.next_wakeup() <= now));
    m.tick(now);
    m.take_actions(acts);
    BOOST_TEST_REQUIRE(fake_pool::nodes(acts, pool_action::open).size() == 1u); // the retry, now at the concurrency limit
    // Nothing can happen until that connect reports: the wakeup must not be due already.
    now += 1ms;
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST((m.next_wakeup() > now), "iteration " << i << ": the pool wakes up again at once");
        m.tick(now);
        m.take_actions(acts);
        BOOST_TEST(acts.empty());
    }
}

// Regression (hang): with acquire_timeout == 0 ("fail at once when no connection is idle") a waiter
// gets deadline == max. If the idle connection granted to it turns out dead (lost()), the
// waiter is queued again with that infinite deadline; while the server cannot be reached it is
// never completed.
ASIOPG_TEST_CASE(zero_timeout_waiter_requeued_after_lost_is_not_left_waiting_forever) {
    auto l = limits(1, 1);
    l.acquire_timeout = pool_duration::zero();
    l.retry_interval = 100ms;
    pool_machine m(l);
    pool_time now{};
    std::vector<pool_action> acts;
    m.start(now);
    m.take_actions(acts);
    auto opens = fake_pool::nodes(acts, pool_action::open);
    BOOST_TEST_REQUIRE(opens.size() == 1u);
    m.opened(opens[0], open_outcome::ok, now);
    m.take_actions(acts);
    m.acquire(1, now);
    m.take_actions(acts);
    BOOST_TEST_REQUIRE(acts.size() == 1u);
    BOOST_TEST_REQUIRE(acts[0].kind == pool_action::grant);
    m.lost(acts[0].node, acts[0].waiter, now); // the idle connection was dead
    // The server is down: every reconnect fails. The waiter must be failed at some point.
    bool failed = false;
    for (int i = 0; i < 50 && !failed; ++i) {
        m.take_actions(acts);
        for (const auto& a : acts) {
            if (a.kind == pool_action::fail && a.waiter.id == 1) failed = true;
            if (a.kind == pool_action::open) m.opened(a.node, open_outcome::failed, now);
        }
        m.take_actions(acts);
        for (const auto& a : acts)
            if (a.kind == pool_action::fail && a.waiter.id == 1) failed = true;
        if (failed) break;
        pool_time next = m.next_wakeup();
        if (next == pool_time::max()) break;
        now = next;
        m.tick(now);
    }
    BOOST_TEST(failed, "the acquire_timeout == 0 waiter is still waiting (deadline "
                           << (m.waiting() ? "infinite" : "-") << "), waiting() == " << m.waiting());
}

// ---- sharing (pool_params::max_statements_per_connection) ----

namespace {
// A pool of `size` open connections, sharing up to `shared` statements on each.
fake_pool sharing_pool(std::size_t size, std::size_t shared) {
    auto l = limits(size, size);
    l.max_shared = shared;
    fake_pool p(l);
    p.m.start(p.now);
    p.open_all();
    return p;
}
} // namespace

ASIOPG_TEST_CASE(shareable_waiters_join_the_least_used_connection_only_when_none_is_idle) {
    fake_pool p = sharing_pool(2, 3);
    p.m.acquire(1, p.now, true);
    p.m.acquire(2, p.now, true);
    auto a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 2u);
    BOOST_TEST((!a[0].shared && !a[1].shared)); // idle connections first
    const node_id n1 = a[0].node, n2 = a[1].node;
    BOOST_TEST(n1 != n2);
    p.m.acquire(3, p.now, true);
    a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    BOOST_TEST(a[0].kind == pool_action::grant);
    BOOST_TEST(a[0].shared);
    const node_id busier = a[0].node;
    p.m.acquire(4, p.now, true); // to the other one: it has one user, `busier` two
    a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    BOOST_TEST(a[0].node == (busier == n1 ? n2 : n1));
    p.m.acquire(5, p.now, true);
    p.m.acquire(6, p.now, true);
    BOOST_TEST(p.take().size() == 2u); // three on each now
    p.m.acquire(7, p.now, true);
    BOOST_TEST(p.take().empty()); // full: it waits
    BOOST_TEST(p.m.waiting() == 1u);
    BOOST_TEST(p.m.counters().shared_acquires == 4u);
    BOOST_TEST(p.m.counters().acquires == 6u);
    BOOST_TEST(p.m.count(pool_machine::node_state::borrowed) == 2u);
    // A user leaving makes room for the waiter, which joins at once.
    BOOST_TEST(!p.m.leave(n1, p.now));
    a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    BOOST_TEST(a[0].waiter.id == 7u);
    BOOST_TEST(a[0].shared);
    BOOST_TEST(a[0].node == n1);
}

ASIOPG_TEST_CASE(a_connection_goes_back_when_its_last_user_leaves) {
    fake_pool p = sharing_pool(1, 4);
    p.m.acquire(1, p.now, true);
    p.m.acquire(2, p.now, true);
    auto a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 2u);
    const node_id n = a[0].node;
    BOOST_TEST(!p.m.leave(n, p.now));
    BOOST_TEST(p.m.leave(n, p.now)); // the last: the shell looks at it and reports
    // Nobody joins a connection its last user is giving back.
    p.m.acquire(3, p.now, true);
    BOOST_TEST(p.take().empty());
    p.m.released(n, release_kind::clean, p.now);
    a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    BOOST_TEST(a[0].waiter.id == 3u);
    BOOST_TEST(!a[0].shared);
    BOOST_TEST(a[0].handed_over); // straight from its last user: no liveness check
}

ASIOPG_TEST_CASE(without_sharing_or_for_acquires_nothing_is_shared) {
    fake_pool one = sharing_pool(1, 1); // max_shared 1: shareable means nothing
    one.m.acquire(1, one.now, true);
    one.m.acquire(2, one.now, true);
    BOOST_TEST(one.take().size() == 1u);
    BOOST_TEST(one.m.waiting() == 1u);

    fake_pool p = sharing_pool(1, 4);
    p.m.acquire(1, p.now, false); // async_acquire: exclusive
    p.m.acquire(2, p.now, true);
    BOOST_TEST(p.take().size() == 1u);
    BOOST_TEST(p.m.waiting() == 1u);
    fake_pool q = sharing_pool(1, 4);
    q.m.acquire(1, q.now, true);
    q.m.acquire(2, q.now, false); // an acquire never joins a shared connection
    BOOST_TEST(q.take().size() == 1u);
    BOOST_TEST(q.m.waiting() == 1u);
}

ASIOPG_TEST_CASE(an_exclusive_waiter_is_served_in_turn_and_blocks_sharing_behind_it) {
    fake_pool p = sharing_pool(1, 4);
    p.m.acquire(1, p.now, true);
    node_id n = p.take().at(0).node;
    p.m.acquire(2, p.now, false); // waits for the connection to drain
    p.m.acquire(3, p.now, true);  // does not jump the queue onto the shared connection
    BOOST_TEST(p.take().empty());
    BOOST_TEST(p.m.leave(n, p.now));
    p.m.released(n, release_kind::clean, p.now);
    auto a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    BOOST_TEST(a[0].waiter.id == 2u);
    BOOST_TEST(!a[0].shared);
    BOOST_TEST(p.m.waiting() == 1u);
    p.m.released(n, release_kind::clean, p.now);
    a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    BOOST_TEST(a[0].waiter.id == 3u);
}

ASIOPG_TEST_CASE(a_connection_handed_to_a_shareable_waiter_takes_the_shareable_ones_behind_it) {
    fake_pool p = sharing_pool(1, 3);
    p.m.acquire(1, p.now, false);
    node_id n = p.take().at(0).node;
    for (waiter_id w = 2; w <= 6; ++w) p.m.acquire(w, p.now, true);
    BOOST_TEST(p.take().empty());
    p.m.released(n, release_kind::clean, p.now);
    auto grants = fake_pool::waiters(p.take(), pool_action::grant);
    BOOST_TEST((grants == std::vector<waiter_id>{2, 3, 4})); // up to max_shared at once
    BOOST_TEST(p.m.waiting() == 2u);
}

ASIOPG_TEST_CASE(sharing_waits_for_growth_first) {
    auto l = limits(0, 2);
    l.max_shared = 4;
    fake_pool p(l);
    p.m.start(p.now);
    p.m.acquire(1, p.now, true);
    auto opens = fake_pool::nodes(p.take(), pool_action::open);
    BOOST_TEST_REQUIRE(opens.size() == 1u);
    p.m.opened(opens[0], open_outcome::ok, p.now);
    BOOST_TEST(fake_pool::waiters(p.take(), pool_action::grant).size() == 1u);
    // Below max_size: the next one gets a connection of its own.
    p.m.acquire(2, p.now, true);
    opens = fake_pool::nodes(p.take(), pool_action::open);
    BOOST_TEST(opens.size() == 1u);
    BOOST_TEST(p.m.counters().shared_acquires == 0u);
    // At max_size, but the second waits before it (for the connection being opened): the third
    // waits too, and joins the second on the new connection.
    p.m.acquire(3, p.now, true);
    BOOST_TEST(p.take().empty());
    p.m.opened(opens[0], open_outcome::ok, p.now);
    auto a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 2u);
    BOOST_TEST((a[0].waiter.id == 2u && !a[0].shared));
    BOOST_TEST((a[1].waiter.id == 3u && a[1].shared && a[1].node == opens[0]));
    // The only waiter, at max_size: joins at once.
    p.m.acquire(4, p.now, true);
    a = p.take();
    BOOST_TEST_REQUIRE(a.size() == 1u);
    BOOST_TEST(a[0].shared);
}

ASIOPG_TEST_CASE(cleared_or_terminated_shared_connections_take_no_one_new) {
    fake_pool p = sharing_pool(1, 4);
    p.m.acquire(1, p.now, true);
    node_id n = p.take().at(0).node;
    p.m.clear(p.now); // doomed: closed when it comes back
    p.take();
    p.m.acquire(2, p.now, true);
    auto a = p.take();
    for (const auto& x : a) BOOST_TEST(x.kind != pool_action::grant);
    BOOST_TEST(p.m.waiting() == 1u);
    BOOST_TEST(p.m.leave(n, p.now));
    p.m.released(n, release_kind::clean, p.now);
    a = p.take();
    BOOST_TEST(fake_pool::nodes(a, pool_action::close).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
