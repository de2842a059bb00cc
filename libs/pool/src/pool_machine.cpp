#include "pool_machine.hpp"

#include <algorithm>

namespace asiopg::detail {

const char* to_string(close_reason r) noexcept {
    switch (r) {
    case close_reason::returned_broken: return "returned closed or broken";
    case close_reason::reset_failed: return "its reset failed";
    case close_reason::health_check_failed: return "health check failed";
    case close_reason::dead: return "found dead when about to be handed out";
    case close_reason::expired: return "max_lifetime reached";
    case close_reason::idle: return "idle longer than max_idle_time";
    case close_reason::pool_closed: return "pool closed";
    case close_reason::terminated: return "pool terminated";
    case close_reason::cleared: return "pool cleared";
    }
    return "closed";
}

pool_machine::pool_machine(const pool_limits& limits) : limits_(limits) {
    if (limits_.max_size == 0) limits_.max_size = 1;
    limits_.min_size = std::min(limits_.min_size, limits_.max_size);
    if (limits_.max_concurrent_opens == 0) limits_.max_concurrent_opens = 1;
}

std::size_t pool_machine::count(node_state s) const noexcept {
    return static_cast<std::size_t>(
        std::count_if(nodes_.begin(), nodes_.end(), [s](const auto& kv) { return kv.second.state == s; }));
}

const pool_machine::node_state* pool_machine::state_of(node_id n) const noexcept {
    auto it = nodes_.find(n);
    return it == nodes_.end() ? nullptr : &it->second.state;
}

void pool_machine::take_actions(std::vector<pool_action>& out) {
    out.clear();
    out.swap(actions_);
}

// ---- events ----

void pool_machine::start(pool_time now) { start_opens(now); }

void pool_machine::acquire(waiter_id w, pool_time now, bool shareable) {
    waiter_info info{w, pool_time::max(), now, shareable && limits_.max_shared > 1};
    if (closing_) return fail_waiter(info, acquire_failure::closed);
    if (limits_.acquire_timeout > pool_duration::zero()) info.deadline = now + limits_.acquire_timeout;
    waiters_.push_back(info);
    make_available_all(now);
    const bool waiting = !waiters_.empty() && waiters_.back().id == w;
    if (waiting && info.shareable && join(now)) return;
    if (waiting && (refused_ || limits_.acquire_timeout == pool_duration::zero())) {
        // The server refused us for good (until a connect succeeds), or asked not to wait: no
        // idle connection now is a failure now. Still try a connect for the next one.
        waiters_.pop_back();
        if (refused_) {
            fail_waiter(info, acquire_failure::connect_error);
        } else {
            ++counters_.acquire_timeouts;
            fail_waiter(info, timeout_failure());
        }
        if (opening_ == 0 && nodes_.size() < limits_.max_size && now >= next_open_allowed_)
            emit({pool_action::open, new_node()});
        return;
    }
    start_opens(now);
}

void pool_machine::make_available_all(pool_time now) {
    while (!waiters_.empty() && !idle_.empty()) {
        node_id n = idle_.back();
        idle_.pop_back();
        node& nd = nodes_.at(n);
        if (expired(nd, now)) {
            discard(n, close_reason::expired);
            continue;
        }
        grant(n, now);
    }
}

void pool_machine::cancel(waiter_id w, pool_time) {
    auto it = std::find_if(waiters_.begin(), waiters_.end(), [w](const waiter_info& x) { return x.id == w; });
    if (it == waiters_.end()) return; // already served or failed
    waiter_info info = *it;
    waiters_.erase(it);
    ++counters_.acquire_cancellations;
    fail_waiter(info, acquire_failure::cancelled);
}

void pool_machine::opened(node_id n, open_outcome outcome, pool_time now) {
    auto it = nodes_.find(n);
    if (it == nodes_.end() || it->second.state != node_state::opening) return;
    --opening_;
    if (outcome == open_outcome::ok) {
        // Out of `opening` now (counted above): a doomed one discarded next must not count again.
        it->second.state = node_state::idle;
        ++counters_.opened;
        consecutive_failures_ = 0;
        refused_ = false;
        next_open_allowed_ = pool_time{};
        it->second.created = now;
        it->second.last_checked = now;
        make_available(n, now);
    } else {
        ++counters_.open_failures;
        nodes_.erase(it);
        ++consecutive_failures_;
        // Exponential back-off while the server cannot be reached.
        pool_duration wait = limits_.retry_interval;
        for (unsigned i = 1; i < consecutive_failures_ && wait < limits_.max_retry_interval; ++i) wait *= 2;
        next_open_allowed_ = now + std::min(wait, limits_.max_retry_interval);
        refused_ = outcome == open_outcome::failed_permanently;
        if (refused_) fail_all_waiters(acquire_failure::connect_error);
    }
    start_opens(now);
}

bool pool_machine::leave(node_id n, pool_time now) {
    auto it = nodes_.find(n);
    if (it == nodes_.end() || it->second.state != node_state::borrowed) return true; // terminated
    node& nd = it->second;
    if (nd.users > 1) {
        --nd.users;
        if (!closing_ && !nd.doomed) fill(n, now);
        return false;
    }
    nd.shareable = false;
    return true;
}

void pool_machine::released(node_id n, release_kind kind, pool_time now) {
    auto it = nodes_.find(n);
    if (it == nodes_.end() || it->second.state != node_state::borrowed) return; // terminated
    it->second.users = 0;
    it->second.shareable = false;
    if (kind == release_kind::discard) {
        discard(n, close_reason::returned_broken);
    } else if (auto why = unusable(it->second, now)) {
        discard(n, *why);
    } else if (kind == release_kind::reset) {
        it->second.state = node_state::resetting;
        ++counters_.resets;
        emit({pool_action::reset, n});
        return;
    } else {
        make_available(n, now, true);
    }
    start_opens(now);
}

void pool_machine::reset_done(node_id n, bool ok, pool_time now) {
    auto it = nodes_.find(n);
    if (it == nodes_.end() || it->second.state != node_state::resetting) return;
    if (ok) make_available(n, now);
    else discard(n, close_reason::reset_failed);
    start_opens(now);
}

void pool_machine::checked(node_id n, bool ok, pool_time now) {
    auto it = nodes_.find(n);
    if (it == nodes_.end() || it->second.state != node_state::checking) return;
    if (!ok) {
        ++counters_.health_check_failures;
        discard(n, close_reason::health_check_failed);
        return start_opens(now);
    }
    node& nd = it->second;
    nd.last_checked = now;
    if (auto why = unusable(nd, now)) {
        discard(n, *why);
        return start_opens(now);
    }
    if (!waiters_.empty()) return grant(n, now, false, true); // just checked
    // Back where it was: at the cold end of the stack, keeping its idle time.
    nd.state = node_state::idle;
    idle_.insert(idle_.begin(), n);
}

void pool_machine::lost(node_id n, const waiter_info& w, pool_time now) {
    auto it = nodes_.find(n);
    if (it != nodes_.end() && it->second.state == node_state::borrowed) {
        ++counters_.dead_on_acquire;
        --counters_.acquires;
        discard(n, close_reason::dead);
    }
    if (closing_) {
        fail_waiter(w, acquire_failure::closed);
        return;
    }
    waiters_.push_front(w);
    make_available_all(now);
    if (!waiters_.empty() && waiters_.front().id == w.id &&
        (refused_ || limits_.acquire_timeout == pool_duration::zero())) {
        // It may not wait (see acquire()): nothing else idle means failing now.
        waiters_.pop_front();
        if (!refused_) ++counters_.acquire_timeouts;
        fail_waiter(w, refused_ ? acquire_failure::connect_error : timeout_failure());
    }
    start_opens(now);
}

void pool_machine::clear(pool_time now) {
    while (!idle_.empty()) discard(idle_.back(), close_reason::cleared);
    for (auto& kv : nodes_) kv.second.doomed = true;
    start_opens(now);
}

void pool_machine::close(pool_time) {
    if (closing_) return;
    closing_ = true;
    fail_all_waiters(acquire_failure::closed);
    // Everything but the borrowed connections goes now: closing a connection that is still
    // connecting, resetting or being checked ends that operation (its report is then ignored).
    std::vector<node_id> gone;
    for (auto& kv : nodes_)
        if (kv.second.state != node_state::borrowed) gone.push_back(kv.first);
    for (node_id n : gone) discard(n, close_reason::pool_closed);
}

void pool_machine::terminate(pool_time now) {
    close(now);
    std::vector<node_id> borrowed;
    for (auto& kv : nodes_)
        if (kv.second.state == node_state::borrowed) borrowed.push_back(kv.first);
    for (node_id n : borrowed) discard(n, close_reason::terminated);
}

void pool_machine::tick(pool_time now) {
    // Waiters whose time is up.
    for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (it->deadline <= now) {
            waiter_info info = *it;
            it = waiters_.erase(it);
            ++counters_.acquire_timeouts;
            fail_waiter(info, timeout_failure());
        } else {
            ++it;
        }
    }
    if (closing_) return;
    // Idle connections: too old, idle too long (above min_size), or due for a health check.
    std::vector<node_id> snapshot = idle_;
    for (node_id n : snapshot) {
        node& nd = nodes_.at(n);
        if (expired(nd, now)) {
            remove_idle(n);
            discard(n, close_reason::expired);
        } else if (limits_.max_idle_time > pool_duration::zero() && nodes_.size() > limits_.min_size &&
                   nd.idle_since + limits_.max_idle_time <= now) {
            remove_idle(n);
            discard(n, close_reason::idle);
        } else if (health_check_due(nd) <= now) {
            remove_idle(n);
            nd.state = node_state::checking;
            emit({pool_action::check, n});
        }
    }
    start_opens(now);
}

pool_time pool_machine::next_wakeup() const {
    pool_time at = pool_time::max();
    // Waiters queue in arrival order with the same timeout, and one put back at the front (its
    // connection was dead) came before all others: the first one's deadline is the earliest.
    if (!waiters_.empty()) at = waiters_.front().deadline;
    if (closing_) return at;
    for (node_id n : idle_) {
        const node& nd = nodes_.at(n);
        if (limits_.max_lifetime > pool_duration::zero()) at = std::min(at, nd.created + limits_.max_lifetime);
        if (limits_.max_idle_time > pool_duration::zero() && nodes_.size() > limits_.min_size)
            at = std::min(at, nd.idle_since + limits_.max_idle_time);
        at = std::min(at, health_check_due(nd));
    }
    // Opens held back by the back-off (not those held back by the concurrency limit: the next
    // opened() drives those). start_opens() clears a back-off that has passed.
    bool want_open = nodes_.size() < limits_.min_size ||
                     (waiters_.size() > opening_ && nodes_.size() < limits_.max_size);
    if (want_open && next_open_allowed_ != pool_time{} && opening_ < limits_.max_concurrent_opens)
        at = std::min(at, next_open_allowed_);
    return at;
}

// ---- helpers ----

node_id pool_machine::new_node() {
    node_id n = ++last_node_;
    nodes_.emplace(n, node{});
    ++opening_;
    return n;
}

// A node that is ready for use: to the first waiter, else onto the idle stack.
void pool_machine::make_available(node_id n, pool_time now, bool handed_over) {
    node& nd = nodes_.at(n);
    if (auto why = unusable(nd, now)) return discard(n, *why);
    if (!waiters_.empty()) return grant(n, now, handed_over, true);
    nd.state = node_state::idle;
    nd.idle_since = now;
    idle_.push_back(n);
}

void pool_machine::grant(node_id n, pool_time now, bool handed_over, bool known_alive) {
    waiter_info w = take_waiter(now);
    node& nd = nodes_.at(n);
    nd.state = node_state::borrowed;
    nd.users = 1;
    nd.shareable = w.shareable;
    pool_action a{pool_action::grant, n, w};
    a.handed_over = handed_over;
    emit(a);
    // Not onto a connection taken from the idle stack before its liveness check.
    if (nd.shareable && known_alive) fill(n, now);
}

// The first waiter joins the users of `n`.
void pool_machine::grant_shared(node_id n, pool_time now) {
    waiter_info w = take_waiter(now);
    ++nodes_.at(n).users;
    ++counters_.shared_acquires;
    pool_action a{pool_action::grant, n, w};
    a.shared = true;
    emit(a);
}

// Shareable waiters at the head of the queue join `n` (shared by shareable waiters) while it has
// room, if the pool cannot grow for them. The first waiter that may not share stops it: the
// connection then drains and goes to that one, first come, first served.
void pool_machine::fill(node_id n, pool_time now) {
    if (nodes_.size() < limits_.max_size) return;
    node& nd = nodes_.at(n);
    if (expired(nd, now)) return; // let it drain and go
    while (!waiters_.empty() && waiters_.front().shareable && nd.users < limits_.max_shared) grant_shared(n, now);
}

// The only waiter, shareable, joins the least used of the connections shareable waiters are
// using that has room, when the pool cannot grow. True when it did.
bool pool_machine::join(pool_time now) {
    if (waiters_.size() != 1 || nodes_.size() < limits_.max_size) return false;
    node_id best = 0;
    std::size_t fewest = limits_.max_shared;
    for (const auto& [id, nd] : nodes_) {
        if (nd.state == node_state::borrowed && nd.shareable && !nd.doomed && nd.users < fewest && !expired(nd, now)) {
            best = id;
            fewest = nd.users;
        }
    }
    if (best == 0) return false;
    grant_shared(best, now);
    return true;
}

// Takes the first waiter off the queue, counting its acquire and its wait.
waiter_info pool_machine::take_waiter(pool_time now) {
    waiter_info w = waiters_.front();
    waiters_.pop_front();
    ++counters_.acquires;
    pool_duration waited = now - w.since;
    counters_.wait_total += waited;
    counters_.wait_max = std::max(counters_.wait_max, waited);
    return w;
}

std::optional<close_reason> pool_machine::unusable(const node& nd, pool_time now) const noexcept {
    if (closing_) return close_reason::pool_closed;
    if (nd.doomed) return close_reason::cleared;
    if (expired(nd, now)) return close_reason::expired;
    return std::nullopt;
}

void pool_machine::discard(node_id n, close_reason why) {
    auto it = nodes_.find(n);
    if (it == nodes_.end()) return;
    if (it->second.state == node_state::idle) remove_idle(n);
    if (it->second.state == node_state::opening) --opening_;
    nodes_.erase(it);
    ++counters_.closed;
    pool_action a{pool_action::close, n};
    a.why = why;
    emit(a);
}

void pool_machine::remove_idle(node_id n) {
    auto it = std::find(idle_.begin(), idle_.end(), n);
    if (it != idle_.end()) idle_.erase(it);
}

void pool_machine::fail_waiter(const waiter_info& w, acquire_failure why) {
    pool_action a{pool_action::fail, 0, w};
    a.failure = why;
    emit(a);
}

void pool_machine::fail_all_waiters(acquire_failure why) {
    while (!waiters_.empty()) {
        waiter_info w = waiters_.front();
        waiters_.pop_front();
        fail_waiter(w, why);
    }
}

// Opens what min_size and the uncovered waiters need, within max_size, the concurrency limit
// and the back-off.
void pool_machine::start_opens(pool_time now) {
    if (closing_ || now < next_open_allowed_) return;
    next_open_allowed_ = pool_time{}; // the back-off, if any, is over
    std::size_t size = nodes_.size();
    std::size_t want = std::max(limits_.min_size > size ? limits_.min_size - size : 0,
                                waiters_.size() > opening_ ? waiters_.size() - opening_ : 0);
    want = std::min(want, limits_.max_size - size);
    want = std::min(want, limits_.max_concurrent_opens > opening_ ? limits_.max_concurrent_opens - opening_ : 0);
    for (std::size_t i = 0; i < want; ++i) emit({pool_action::open, new_node()});
}

bool pool_machine::expired(const node& nd, pool_time now) const noexcept {
    return limits_.max_lifetime > pool_duration::zero() && nd.created + limits_.max_lifetime <= now;
}

pool_time pool_machine::health_check_due(const node& nd) const noexcept {
    if (limits_.health_check_interval <= pool_duration::zero()) return pool_time::max();
    return std::max(nd.idle_since, nd.last_checked) + limits_.health_check_interval;
}

} // namespace asiopg::detail
