// Internal: the pool's sizing and waiting logic as a sans-io state machine.
//
// It knows nodes (connection slots) and waiters by id, never a connection, a socket, a timer or
// a lock. Each event takes the current time and appends actions for the shell to carry out
// (open a connection, reset one, check one, close one, hand one to a waiter, fail a waiter); the
// shell reports back with further events. `next_wakeup()` says when `tick()` is due. So the
// shell (pool_impl.cpp) does the I/O and the locking, and unit tests drive this class with a
// fake clock and play the connections themselves.
#ifndef ASIOPG_POOL_SRC_POOL_MACHINE_HPP
#define ASIOPG_POOL_SRC_POOL_MACHINE_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

namespace asiopg::detail {

using pool_clock = std::chrono::steady_clock;
using pool_time = pool_clock::time_point;
using pool_duration = pool_clock::duration;

using node_id = std::uint64_t;
using waiter_id = std::uint64_t;

struct pool_limits {
    std::size_t min_size = 1;
    std::size_t max_size = 10;
    std::size_t max_concurrent_opens = 4;
    pool_duration acquire_timeout = std::chrono::seconds(30); // < 0: wait forever; 0: never wait
    pool_duration retry_interval = std::chrono::milliseconds(500);
    pool_duration max_retry_interval = std::chrono::seconds(10);
    pool_duration max_lifetime = std::chrono::hours(1);        // 0: unlimited
    pool_duration max_idle_time = std::chrono::minutes(10);    // 0: never close idle ones
    pool_duration health_check_interval = std::chrono::seconds(30); // 0: never check
    // Shareable waiters (one statement each, see acquire()) on one connection at once, at most.
    std::size_t max_shared = 1;
};

// How an open ended. A permanent failure (the server is up and refuses us: bad password,
// unknown database) fails the current waiters at once instead of letting them wait it out.
enum class open_outcome { ok, failed, failed_permanently };

// What a returned connection needs, as the shell found it.
enum class release_kind {
    clean,   // idle and nothing to reset: reuse as is
    reset,   // reuse after a reset (rollback and/or the reset query)
    discard, // closed, broken or busy: close it
};

// Why a waiter failed.
enum class acquire_failure {
    exhausted,     // no connection became free within the acquire timeout
    connect_error, // same, while the server could not be reached (the last open failed)
    closed,        // the pool is closed
    cancelled,     // the waiter was cancelled
};

// Why the pool closes a connection (for its log).
enum class close_reason : std::uint8_t {
    returned_broken,     // given back closed, broken or with an operation still running
    reset_failed,        // its reset (ROLLBACK / reset query) failed
    health_check_failed, // an idle one failed its check
    dead,                // found dead when about to be handed out
    expired,             // max_lifetime reached
    idle,                // idle longer than max_idle_time, above min_size
    pool_closed,         // close()
    terminated,          // terminate(): borrowed ones too
    cleared,             // clear(): a new session for the next user
};
const char* to_string(close_reason r) noexcept;

struct waiter_info {
    waiter_id id = 0;
    pool_time deadline = pool_time::max();
    pool_time since{};
    bool shareable = false; // may join a connection other shareable waiters are using
};

struct pool_action {
    enum kind_t {
        open,  // create a connection for `node`, connect, run on_connect; report opened()
        reset, // reset `node`; report reset_done()
        check, // health-check idle `node`; report checked()
        close, // close `node`'s connection and forget it (nothing to report)
        grant, // hand `node` to `waiter`; report lost() if it turns out dead (not when `shared`)
        fail,  // complete `waiter` with `failure`
    };
    kind_t kind;
    node_id node = 0;
    waiter_info waiter{};
    acquire_failure failure = acquire_failure::exhausted;
    close_reason why = close_reason::pool_closed; // close: for the log
    // grant: straight from its last user (released()): it was never idle, so no liveness check.
    bool handed_over = false;
    // grant: joins other users of `node` (shareable waiters): nothing to check, no hook to run.
    bool shared = false;
};

struct pool_counters {
    std::uint64_t acquires = 0;         // connections handed out
    std::uint64_t acquire_timeouts = 0;
    std::uint64_t acquire_cancellations = 0;
    std::uint64_t opened = 0;           // physical connections established
    std::uint64_t open_failures = 0;
    std::uint64_t closed = 0;           // physical connections closed by the pool
    std::uint64_t resets = 0;
    std::uint64_t health_check_failures = 0;
    std::uint64_t dead_on_acquire = 0;  // idle connections found dead when about to be handed out
    std::uint64_t shared_acquires = 0;  // grants joining a connection in use (also in `acquires`)
    pool_duration wait_total{};
    pool_duration wait_max{};
};

class pool_machine {
public:
    enum class node_state { opening, idle, checking, borrowed, resetting };

    explicit pool_machine(const pool_limits& limits);

    // ---- events ----
    void start(pool_time now);
    // A waiter. A `shareable` one (one statement that neither changes the session nor controls a
    // transaction) may also join a connection other shareable waiters are using, up to
    // `max_shared` on it, when none is idle, the pool is at max_size and no one waits before it.
    void acquire(waiter_id w, pool_time now, bool shareable = false);
    void cancel(waiter_id w, pool_time now);
    void opened(node_id n, open_outcome outcome, pool_time now);
    // One user of `n` is done. False while others still use it (the place freed may go to the
    // first waiter, if shareable); true for the last one: nobody joins it any more, and the shell
    // looks at the connection and reports released().
    bool leave(node_id n, pool_time now);
    void released(node_id n, release_kind kind, pool_time now);
    void reset_done(node_id n, bool ok, pool_time now);
    void checked(node_id n, bool ok, pool_time now);
    // A node granted to `w` was found dead before delivery: drop it; `w` waits again, first in line.
    void lost(node_id n, const waiter_info& w, pool_time now);
    // Closes every idle connection now and every other one when it comes back (reopening to
    // min_size): the next acquires get fresh sessions.
    void clear(pool_time now);
    void close(pool_time now);
    void terminate(pool_time now);
    void tick(pool_time now);

    // ---- outputs ----
    // Moves the pending actions into `out` (cleared first).
    void take_actions(std::vector<pool_action>& out);
    pool_time next_wakeup() const;
    // True once close() or terminate() ran.
    bool closing() const noexcept { return closing_; }
    // Closing and every node gone.
    bool finished() const noexcept { return closing_ && nodes_.empty(); }
    // The last open failed and none succeeded since.
    bool server_down() const noexcept { return consecutive_failures_ > 0; }

    // ---- observers ----
    std::size_t size() const noexcept { return nodes_.size(); }
    std::size_t idle() const noexcept { return idle_.size(); }
    std::size_t count(node_state s) const noexcept;
    std::size_t waiting() const noexcept { return waiters_.size(); }
    const pool_counters& counters() const noexcept { return counters_; }
    const pool_limits& limits() const noexcept { return limits_; }
    // The state of a node, or nullptr when the pool has forgotten it.
    const node_state* state_of(node_id n) const noexcept;

private:
    struct node {
        node_state state = node_state::opening;
        pool_time created{};
        pool_time idle_since{};
        pool_time last_checked{};
        bool doomed = false; // close when it comes back (clear())
        std::size_t users = 0;  // borrowed: waiters granted it (several when shared)
        bool shareable = false; // borrowed by shareable waiters: more may join
    };

    node_id new_node();
    void emit(pool_action a) { actions_.push_back(a); }
    void make_available(node_id n, pool_time now, bool handed_over = false);
    void make_available_all(pool_time now);
    // `known_alive`: just opened, reset, checked or handed over (not taken from the idle stack,
    // whose liveness the shell checks after the grant): shareable waiters may join it at once.
    void grant(node_id n, pool_time now, bool handed_over = false, bool known_alive = false);
    void grant_shared(node_id n, pool_time now);
    void fill(node_id n, pool_time now);
    bool join(pool_time now);
    waiter_info take_waiter(pool_time now);
    void discard(node_id n, close_reason why);
    // Why `nd` may not be used any more (closing, doomed or expired), if it may not.
    std::optional<close_reason> unusable(const node& nd, pool_time now) const noexcept;
    void fail_waiter(const waiter_info& w, acquire_failure why);
    void fail_all_waiters(acquire_failure why);
    void start_opens(pool_time now);
    void remove_idle(node_id n);
    bool expired(const node& nd, pool_time now) const noexcept;
    pool_time health_check_due(const node& nd) const noexcept;
    acquire_failure timeout_failure() const noexcept {
        return server_down() ? acquire_failure::connect_error : acquire_failure::exhausted;
    }

    pool_limits limits_;
    std::map<node_id, node> nodes_;
    std::vector<node_id> idle_;        // a stack: the most recently used is reused first
    std::deque<waiter_info> waiters_;  // first come, first served
    std::vector<pool_action> actions_;
    pool_counters counters_;
    node_id last_node_ = 0;
    std::size_t opening_ = 0;
    unsigned consecutive_failures_ = 0;
    bool refused_ = false; // the last open failed for good: acquires fail at once until one succeeds
    pool_time next_open_allowed_{};
    bool closing_ = false;
};

} // namespace asiopg::detail

#endif
