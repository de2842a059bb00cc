// COPY: a bulk load with copy_writer (typed rows, sent a buffer at a time) and a bulk read with
// copy_reader (typed rows, a batch at a time). Neither side ever holds the whole data.
//
// Usage: copy [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when every row came back as written.

#include <asiopg.hpp>
#include <asiopg/copy.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <iomanip>
#include <iostream>
#include <optional>
#include <string>

namespace asio = boost::asio;

constexpr int item_count = 10000;

//[copy_write
asio::awaitable<std::uint64_t> load_items(asiopg::connection& conn) {
    asiopg::copy_writer writer(conn);
    co_await writer.async_start("COPY items (id, name, price) FROM STDIN", asio::use_awaitable);
    for (int id = 1; id <= item_count; ++id) {
        std::string name = "item " + std::to_string(id);
        std::optional<double> price; // every tenth item has no price: NULL
        if (id % 10 != 0) price = id * 0.25;
        // Encoded into the writer's buffer (no I/O); escaping is the writer's business.
        writer.write_row(id, name, price);
        // Send a buffer-full at a time (64 KiB by default).
        if (writer.should_flush()) co_await writer.async_flush(asio::use_awaitable);
    }
    // Sends the rest and waits for the server's verdict: the number of rows inserted.
    co_return co_await writer.async_finish(asio::use_awaitable);
}
//]

struct summary {
    std::int64_t rows = 0;
    std::int64_t id_sum = 0;
    std::int64_t priced = 0;
    double total = 0;
};

//[copy_read
asio::awaitable<summary> read_items(asiopg::connection& conn) {
    asiopg::copy_reader reader(conn);
    co_await reader.async_start("COPY items (id, name, price) TO STDOUT", asio::use_awaitable);
    asiopg::copy_rows rows;
    summary s;
    // Up to 1,000 rows per read; 0 when the COPY is over and the connection free again.
    while (co_await reader.async_read_rows(rows, 1000, asio::use_awaitable) > 0) {
        for (asiopg::copy_row_view row : rows) {
            auto [id, name, price] = row.as<int, std::string, std::optional<double>>();
            ++s.rows;
            s.id_sum += id;
            if (price) {
                ++s.priced;
                s.total += *price;
            }
        }
    }
    co_return s;
}
//]

asio::awaitable<bool> run(std::string conninfo) {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);
    co_await conn.async_execute("CREATE TEMP TABLE items (id int PRIMARY KEY, name text NOT NULL, price float8)",
                                asio::use_awaitable);

    std::uint64_t inserted = co_await load_items(conn);
    summary s = co_await read_items(conn);

    std::cout << "copied in " << inserted << " rows, read back " << s.rows << " (" << s.priced
              << " with a price, total " << std::fixed << std::setprecision(2) << s.total << ")\n";
    // Every price is a multiple of 0.25, so the sums are exact.
    double expected_total = 0;
    for (int id = 1; id <= item_count; ++id)
        if (id % 10 != 0) expected_total += id * 0.25;
    co_return inserted == item_count && s.rows == item_count &&
        s.id_sum == std::int64_t{item_count} * (item_count + 1) / 2 && s.priced == item_count - item_count / 10 &&
        s.total == expected_total;
}

int main(int argc, char** argv) {
    asio::io_context ctx;
    bool ok = false;
    asio::co_spawn(ctx, run(argc > 1 ? argv[1] : ""), [&](std::exception_ptr e, bool result) {
        if (e) {
            try { std::rethrow_exception(e); }
            catch (const std::exception& ex) { std::cerr << "copy: " << ex.what() << '\n'; }
        }
        ok = !e && result;
    });
    ctx.run();
    return ok ? 0 : 1;
}
