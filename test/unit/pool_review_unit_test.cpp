// Review findings in the pool's state machine (libs/pool/src/pool_machine.cpp). Each test names
// the defect it demonstrates; they fail until it is fixed.
#include "pool_machine.hpp"

#include "test_case.hpp"

#include <vector>

using namespace asiopg::detail;
using namespace std::chrono_literals;

namespace {

pool_limits review_limits(std::size_t min, std::size_t max) {
    pool_limits l;
    l.min_size = min;
    l.max_size = max;
    l.max_lifetime = pool_duration::zero();
    l.max_idle_time = pool_duration::zero();
    l.health_check_interval = pool_duration::zero();
    return l;
}

std::vector<node_id> opens_in(const std::vector<pool_action>& as) {
    std::vector<node_id> out;
    for (const auto& a : as)
        if (a.kind == pool_action::open) out.push_back(a.node);
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(pool_review)

// Regression (busy loop): after a failed connect, next_open_allowed_ stays set (in the past) until a
// connect succeeds. While the opens the pool wants are held back by max_concurrent_opens (or
// min_size > max_concurrent_opens), next_wakeup() keeps returning that past time, so the shell's
// timer fires immediately, tick() does nothing, and it re-arms at the same past time: 100 % CPU
// (and the pool mutex taken in a loop) for as long as the connects in flight take.
ASIOPG_TEST_CASE(next_wakeup_is_not_in_the_past_while_opens_are_at_the_concurrency_limit) {
    auto l = review_limits(3, 3);
    l.max_concurrent_opens = 1;
    l.retry_interval = 50ms;
    pool_machine m(l);
    pool_time now{};
    std::vector<pool_action> acts;
    m.start(now);
    m.take_actions(acts);
    auto first = opens_in(acts);
    BOOST_TEST_REQUIRE(first.size() == 1u);
    m.opened(first[0], open_outcome::failed, now); // one failure: back-off 50 ms
    m.take_actions(acts);
    BOOST_TEST_REQUIRE(opens_in(acts).empty());
    now += 50ms;
    BOOST_TEST_REQUIRE((m.next_wakeup() <= now));
    m.tick(now);
    m.take_actions(acts);
    BOOST_TEST_REQUIRE(opens_in(acts).size() == 1u); // the retry, now at the concurrency limit
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
    auto l = review_limits(1, 1);
    l.acquire_timeout = pool_duration::zero();
    l.retry_interval = 100ms;
    pool_machine m(l);
    pool_time now{};
    std::vector<pool_action> acts;
    m.start(now);
    m.take_actions(acts);
    auto opens = opens_in(acts);
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

BOOST_AUTO_TEST_SUITE_END()
