// Streaming a large result: a million rows read ten thousand at a time with async_start_stream
// and async_read_rows, so the program holds one batch in memory, never the whole result. The
// server computes the same checksum to compare with; the peak RSS shows the memory used.
//
// Usage: streaming [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when every row arrived and the checksums agree.

#include <asiopg.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

namespace asio = boost::asio;

//[streaming
struct totals {
    std::int64_t rows = 0;
    std::int64_t sum = 0;      // of g
    std::int64_t checksum = 0; // of the first 8 hex digits of each md5, as numbers
};

asio::awaitable<totals> stream_rows(asiopg::connection& conn) {
    co_await conn.async_start_stream("SELECT g, md5(g::text) FROM generate_series(1, 1000000) g",
                                     asio::use_awaitable);
    asiopg::row_batch batch;
    totals t;
    for (;;) {
        // Up to 10,000 rows; fewer when no more have arrived yet. Until a read yields 0 rows
        // the connection belongs to the stream: any other operation fails with
        // operation_in_progress.
        std::size_t n = co_await conn.async_read_rows(batch, 10000, asio::use_awaitable);
        if (n == 0) break; // the stream is over and the connection free again
        t.rows += static_cast<std::int64_t>(n);
        for (asiopg::row_view row : batch) {
            t.sum += row[0].as<std::int64_t>();
            // A view into the batch: it dies when the next read replaces the batch's rows.
            std::string_view md5 = row[1].as<std::string_view>();
            std::uint32_t head = 0;
            std::from_chars(md5.data(), md5.data() + 8, head, 16);
            t.checksum += head;
        }
    }
    co_return t;
}
//]

// Peak resident set size of this process in KiB (Linux's VmHWM), -1 if unknown.
long peak_rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

asio::awaitable<bool> run(std::string conninfo) {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);

    totals t = co_await stream_rows(conn);

    // The same checksum, computed by the server (the stream is over: the connection is free).
    asiopg::result expected = co_await conn.async_execute(
        "SELECT sum(('x' || left(md5(g::text), 8))::bit(32)::bigint) FROM generate_series(1, 1000000) g",
        asio::use_awaitable);
    std::int64_t server_checksum = expected[0][0].as<std::int64_t>();

    std::cout << "rows:     " << t.rows << '\n'
              << "sum of g: " << t.sum << '\n'
              << "checksum: " << t.checksum << " (server: " << server_checksum << ")\n"
              << "peak RSS: " << peak_rss_kib() << " KiB\n";
    co_return t.rows == 1000000 && t.sum == std::int64_t{1000000} * 1000001 / 2 && t.checksum == server_checksum;
}

int main(int argc, char** argv) {
    bool ok = false;
    asio::io_context ctx;
    asio::co_spawn(ctx, run(argc > 1 ? argv[1] : ""), [&](std::exception_ptr e, bool result) {
        if (e) std::rethrow_exception(e);
        ok = result;
    });
    try {
        ctx.run();
    } catch (const std::exception& e) {
        std::cerr << "streaming: " << e.what() << '\n';
        return 1;
    }
    return ok ? 0 : 1;
}
