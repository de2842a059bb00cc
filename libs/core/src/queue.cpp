// The operations waiting for a busy connection, and automatic pipelining: parameterised queries
// that wait are sent at once in libpq's pipeline mode, each with its own sync, and read their
// results in turn.
#include "connection_impl.hpp"

#include <algorithm>

namespace asiopg::detail {

waiter::waiter(connection_impl& o, std::uint64_t i, bool pipeline)
    : owner(o), signal(o.executor, std::chrono::steady_clock::time_point::max()), id(i), may_pipeline(pipeline) {}

waiter::~waiter() {
    if (st != state::queued && st != state::sent) return;
    std::erase(owner.waiters, this);
    // Destroyed unfinished (its executor shut down): results of a query already sent would be
    // read by the next operation as its own.
    if (st == state::sent) owner.close();
}

bool connection_impl::send_pipelined(waiter& w) {
    if (transaction_abandoned) return false; // it runs alone at its turn, which refuses it
    encoded_query& q = w.query;
    if (!w.fixed_name) {
        w.name.clear();
        w.format = static_cast<int>(forced_format.value_or(data_format::text));
        if (statements.capacity > 0) {
            // Only a name the server confirmed, looked up now: one evicted meanwhile could be
            // deallocated by an operation that runs before this one.
            auto& entry = statements.touch(std::string_view(q.text.c_str()), q.types);
            if (!entry.name.empty()) w.name = entry.name;
            if (!forced_format && entry.described)
                w.format = static_cast<int>(prefers_binary(entry.columns) ? data_format::binary : data_format::text);
        }
    }
    const int ok = w.name.empty()
                       ? PQsendQueryParams(pg, q.text.c_str(), q.count(), q.types.data(), q.values.data(),
                                           q.lengths.data(), q.formats.data(), w.format)
                       : PQsendQueryPrepared(pg, w.name.c_str(), q.count(), q.values.data(), q.lengths.data(),
                                             q.formats.data(), w.format);
    if (!ok || !PQpipelineSync(pg)) return false; // the connection broke: its reader finds out
    w.st = waiter::state::sent;
    w.pipelined = true;
    return true;
}

void connection_impl::leave_pipeline() noexcept {
    if (!auto_pipeline) return;
    auto_pipeline = false;
    stray_cancel = false;
    if (pg && PQpipelineStatus(pg) != PQ_PIPELINE_OFF && !PQexitPipelineMode(pg)) close(); // results unread: lost track
}

bool connection_impl::enter_pipeline() noexcept {
    if (single_row_armed) {
        // A send outside pipeline mode disarms single-row mode before anything else; one with
        // no command text then fails without sending anything (libpq 15 offers no other way).
        PQsendQueryParams(pg, nullptr, 0, nullptr, nullptr, nullptr, nullptr, 0);
        single_row_armed = false;
    }
    return PQenterPipelineMode(pg) == 1;
}

void connection_impl::admit_next() noexcept {
    if (waiters.empty()) return leave_pipeline();
    if (waiters.front()->st == waiter::state::queued) {
        // Everything sent before it is read: back to ordinary mode, unless it can pipeline.
        leave_pipeline();
        if (waiters.empty()) return;
        if (waiters.front()->may_pipeline && connected() && enter_pipeline()) {
            auto_pipeline = true;
            for (waiter* w : waiters)
                if (!w->may_pipeline || !send_pipelined(*w)) break;
        }
    }
    waiter* next = waiters.front();
    waiters.pop_front();
    active_op = next->id;
    next->st = waiter::state::turn;
    next->signal.cancel();
}

void connection_impl::drop_waiters() noexcept {
    std::deque<waiter*> dropped;
    dropped.swap(waiters);
    for (waiter* w : dropped) {
        w->st = waiter::state::dropped;
        w->signal.cancel();
    }
    auto_pipeline = false;
    stray_cancel = false;
}

void connection_impl::requeue(waiter& w) noexcept {
    const bool may_send = may_join_pipeline();
    w.st = waiter::state::queued;
    w.pipelined = false;
    waiters.push_back(&w);
    if (may_send) send_pipelined(w);
    active_op = 0;
    admit_next();
}

} // namespace asiopg::detail
