// asiopg-bench: the workloads of workloads.hpp written as an asiopg user would, with C++20
// coroutines: the same SQL and sizes as rawpq-bench, so the two RESULT lines compare the clients.
//
// Usage: asiopg-bench W1|W2|W3|W4|W5   (connects with libpq's PGHOST, PGPORT, PGUSER,
// PGPASSWORD, PGDATABASE). Prints one RESULT line; exit status 1 on any error.
// ASIOPG_BENCH_MULTIPLEX=n runs W3 with pool_params::max_statements_per_connection = n.

#include "workloads.hpp"

#include <asiopg.hpp>
#include <asiopg/pool.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
using asio::use_awaitable;

namespace {

constexpr std::string_view client = "asiopg";

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(what);
}

asio::awaitable<asiopg::connection> connect() {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect("", use_awaitable);
    co_return conn;
}

asio::awaitable<void> w1() {
    asiopg::connection conn = co_await connect();
    bench::stopwatch sw;
    for (std::int32_t i = 0; i < bench::w1_queries; ++i) {
        asiopg::result r = co_await conn.async_execute(bench::select_int_sql, asiopg::params(i), use_awaitable);
        check(r.size() == 1 && r[0][0].as<std::int32_t>() == i, "wrong result");
    }
    sw.report(client, "W1", bench::w1_queries);
}

asio::awaitable<void> w2() {
    asiopg::connection conn = co_await connect();
    bench::stopwatch sw;
    asiopg::pipeline p;
    for (std::int32_t i = 0; i < bench::w2_queries; ++i) p.add(bench::select_int_sql, asiopg::params(i));
    // Each result is checked as it arrives and then freed, as rawpq-bench does (collecting
    // 20,000 results with async_execute(p) costs ~60 MB: a page fault every few results).
    std::int32_t next = 0;
    bool right = true;
    co_await conn.async_execute_each(p, [&](std::size_t i, asiopg::pipeline_result&& r) {
        right = right && r.ok() && i == static_cast<std::size_t>(next) && r.value[0][0].as<std::int32_t>() == next;
        ++next;
    }, use_awaitable);
    check(right, "wrong result");
    check(next == bench::w2_queries, "missing results");
    sw.report(client, "W2", bench::w2_queries);
}

// One of W3's tasks: queries [first, last) one after another, each on a connection borrowed
// from the pool for that query.
asio::awaitable<void> w3_task(asiopg::connection_pool& pool, std::int32_t first, std::int32_t last) {
    for (std::int32_t i = first; i < last; ++i) {
        asiopg::result r = co_await pool.async_execute(bench::select_int_sql, asiopg::params(i), use_awaitable);
        check(r.size() == 1 && r[0][0].as<std::int32_t>() == i, "wrong result");
    }
}

asio::awaitable<void> w3() {
    auto ex = co_await asio::this_coro::executor;
    asiopg::pool_params params;
    params.min_size = bench::w3_connections;
    params.max_size = bench::w3_connections;
    // ASIOPG_BENCH_MULTIPLEX=n: statements share connections, n at most on each (not the
    // default, nor what rawpq-bench does: tools/bench/run does not set it).
    if (const char* m = std::getenv("ASIOPG_BENCH_MULTIPLEX"))
        params.max_statements_per_connection = std::strtoul(m, nullptr, 10);
    asiopg::connection_pool pool(ex, params);
    {
        // Open all ten before the clock starts (raw libpq connects its ten beforehand too).
        std::vector<asiopg::pooled_connection> all;
        for (int k = 0; k < bench::w3_connections; ++k) all.push_back(co_await pool.async_acquire(use_awaitable));
    }
    bench::stopwatch sw;
    // 100 tasks, each running its share of the queries one after another through the pool.
    constexpr int per_task = bench::w3_queries / bench::w3_tasks;
    int finished = 0;
    std::exception_ptr failure;
    asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
    for (int t = 0; t < bench::w3_tasks; ++t) {
        asio::co_spawn(ex, w3_task(pool, t * per_task, (t + 1) * per_task), [&](std::exception_ptr e) {
            if (e && !failure) failure = e;
            if (++finished == bench::w3_tasks) all_done.cancel();
        });
    }
    co_await all_done.async_wait(asio::as_tuple(use_awaitable));
    if (failure) std::rethrow_exception(failure);
    sw.report(client, "W3", bench::w3_queries);
    co_await pool.async_close(use_awaitable);
}

asio::awaitable<void> w4() {
    asiopg::connection conn = co_await connect();
    bench::stopwatch sw;
    // A prepared statement: asiopg then knows the columns and asks for binary results (faster
    // for the timestamptz; see connection::set_result_format).
    asiopg::statement st = co_await conn.async_prepare(bench::w4_sql, use_awaitable);
    asiopg::result r = co_await conn.async_execute(st, use_awaitable);
    std::uint64_t acc = 0;
    for (asiopg::row_view row : r) {
        bench::w4_row v{row[0].as<std::int32_t>(), row[1].as<std::string>(),
                        row[2].as<std::chrono::sys_time<std::chrono::microseconds>>()};
        acc = bench::fold(acc, v);
    }
    check(r.size() == bench::w4_rows, "wrong row count");
    sw.report(client, "W4", static_cast<long>(r.size()));
    std::fprintf(stderr, "W4 fold %llu\n", static_cast<unsigned long long>(acc));
}

asio::awaitable<void> w5() {
    asiopg::connection conn = co_await connect();
    co_await conn.async_execute(bench::w5_setup_sql, use_awaitable);
    bench::stopwatch sw;
    asiopg::copy_writer writer(conn);
    co_await writer.async_start(bench::w5_copy_sql, use_awaitable);
    char name[24] = "row ";
    for (std::int32_t i = 1; i <= bench::w5_rows; ++i) {
        char* end = std::to_chars(name + 4, name + sizeof name, i).ptr;
        writer.write_row(i, std::string_view(name, end));
        if (writer.should_flush()) co_await writer.async_flush(use_awaitable);
    }
    std::uint64_t n = co_await writer.async_finish(use_awaitable);
    check(n == bench::w5_rows, "wrong row count");
    sw.report(client, "W5", bench::w5_rows);
}

} // namespace

int main(int argc, char** argv) {
    std::string_view w = argc > 1 ? argv[1] : "";
    asio::awaitable<void> (*run)() = w == "W1"   ? w1
                                     : w == "W2" ? w2
                                     : w == "W3" ? w3
                                     : w == "W4" ? w4
                                     : w == "W5" ? w5
                                                 : nullptr;
    if (!run) {
        std::fprintf(stderr, "usage: asiopg-bench W1|W2|W3|W4|W5\n");
        return 2;
    }
    asio::io_context ctx(1); // one thread: let Asio skip its locks
    int status = 0;
    asio::co_spawn(ctx, run(), [&](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            std::fprintf(stderr, "asiopg-bench: %s\n", ex.what());
        }
        status = 1;
    });
    ctx.run();
    return status;
}
