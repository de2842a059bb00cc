// Pipelines: several statements sent in one round trip, each with its own outcome. Inserts, a
// deliberate failure (a duplicate key), a sync point that isolates it, then a query that shows
// what was kept.
//
// Usage: pipeline [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when every statement ended as expected.

#include <asiopg.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace asio = boost::asio;

asio::awaitable<bool> demo(std::string conninfo) {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);
    co_await conn.async_execute("CREATE TEMP TABLE fruit (id int PRIMARY KEY, name text NOT NULL)",
                                asio::use_awaitable);

    //[pipeline_build
    // Nothing is sent yet: `add` copies the SQL and the values into the pipeline.
    asiopg::pipeline p;
    p.add("INSERT INTO fruit VALUES ($1, $2)", asiopg::params(1, "apple"))     // 0
        .add("INSERT INTO fruit VALUES ($1, $2)", asiopg::params(2, "pear"))   // 1
        .sync() // ends a segment: what fails after it cannot undo the two inserts above
        .add("INSERT INTO fruit VALUES ($1, $2)", asiopg::params(3, "plum"))   // 2: runs, rolled back
        .add("INSERT INTO fruit VALUES ($1, $2)", asiopg::params(1, "quince")) // 3: fails, 23505
        .add("INSERT INTO fruit VALUES ($1, $2)", asiopg::params(4, "fig"))    // 4: skipped
        .sync()
        .add("SELECT count(*), string_agg(name, ', ' ORDER BY id) FROM fruit"); // 5
    //]

    //[pipeline_run
    // One write, one round trip. The operation itself fails only when the whole pipeline does
    // (connection lost, cancelled …); each statement's own error is in its pipeline_result.
    std::vector<asiopg::pipeline_result> out = co_await conn.async_execute(p, asio::use_awaitable);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const asiopg::pipeline_result& r = out[i];
        std::cout << i << ": ";
        if (r.ok())
            std::cout << r.value.command_tag() << '\n';
        else if (r.aborted()) // an earlier statement of the same segment failed
            std::cout << "skipped\n";
        else
            std::cout << "failed: " << r.diag.to_string() << '\n';
    }
    //]

    //[pipeline_check
    // Each segment between sync points is one implicit transaction: the failure at 3 rolled
    // back the plum of 2 too, while the apple and the pear of the first segment are kept.
    const asiopg::pipeline_result& summary = out.at(5);
    if (!summary.ok()) co_return false;
    auto count = summary.value.at(0).at(0).as<std::int64_t>();
    auto names = summary.value.at(0).at(1).as<std::string>();
    std::cout << count << " rows: " << names << '\n';
    //]
    //[pipeline_each
    // Thousands of statements: async_execute_each hands over each outcome as it comes, instead of
    // collecting them all, so memory stays that of one result and the work starts at the first.
    co_await conn.async_execute("CREATE TEMP TABLE reading (id int PRIMARY KEY, celsius real)", asio::use_awaitable);
    asiopg::pipeline bulk;
    for (int id = 1; id <= 10000; ++id)
        bulk.add("INSERT INTO reading VALUES ($1, $2)", asiopg::params(id, 15.0f + static_cast<float>(id % 100) / 10));
    std::size_t inserted = 0;
    co_await conn.async_execute_each(bulk, [&](std::size_t index, asiopg::pipeline_result&& r) {
        if (r.ok()) inserted += r.value.affected_rows();
        else std::cerr << "reading " << index + 1 << ": " << r.diag.to_string() << '\n';
    }, asio::use_awaitable);
    std::cout << inserted << " readings inserted\n";
    //]
    if (inserted != 10000) co_return false;

    //[auto_pipeline
    // Coroutines sharing one connection, no operation_in_progress: the first query is sent at
    // once; the two started while it is in flight wait for it, then go together in pipeline mode
    // (automatic pipelining: under steady load every query joins the pipeline as it starts).
    // Each gets its own result; the server runs them in the order they were started.
    // letters_in: the length of a fruit's name if the table holds it, else 0.
    auto letters_in = [&conn](std::string name) -> asio::awaitable<std::int64_t> {
        asiopg::result r = co_await conn.async_execute(
            "SELECT coalesce(sum(length(name)), 0)::bigint FROM fruit WHERE name = $1", asiopg::params(name),
            asio::use_awaitable);
        co_return r.at(0).at(0).as<std::int64_t>();
    };
    using namespace asio::experimental::awaitable_operators;
    auto [apple, pear, fig] = co_await (letters_in("apple") && letters_in("pear") && letters_in("fig"));
    std::cout << "apple " << apple << ", pear " << pear << ", fig " << fig << '\n';
    //]
    if (apple != 5 || pear != 4 || fig != 0) co_return false;

    co_return out.size() == 6 && out[0].ok() && out[1].ok() && out[2].ok() &&
              out[3].error == asiopg::sqlstate::unique_violation && out[4].aborted() && count == 2 &&
              names == "apple, pear";
}

int main(int argc, char** argv) {
    asio::io_context ctx;
    bool ok = false;
    asio::co_spawn(ctx, demo(argc > 1 ? argv[1] : ""), [&](std::exception_ptr e, bool result) {
        if (e) {
            try { std::rethrow_exception(e); }
            catch (const std::exception& ex) { std::cerr << "error: " << ex.what() << '\n'; }
        }
        ok = !e && result;
    });
    ctx.run();
    std::cout << (ok ? "ok" : "FAILED") << '\n';
    return ok ? 0 : 1;
}
