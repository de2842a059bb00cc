// Logging: asiopg is silent until given a logger. Here records go through Boost.Log (channel
// "asiopg"), statements are echoed (aiopg's echo) and slow ones flagged; then a logger of our
// own (a plain function) checks what a pool reports — and that the password is never in it.
//
// Usage: logging [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when everything behaved as expected.

//[logging_boost_log_setup
#include <asiopg.hpp>
#include <asiopg/boost_log.hpp>
#include <asiopg/pool.hpp>

#include <boost/log/expressions.hpp>
#include <boost/log/utility/setup/console.hpp>
#include <boost/log/utility/setup/common_attributes.hpp>
//]

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace logging = boost::log;
using namespace std::chrono_literals;

asio::awaitable<void> with_boost_log(std::string conninfo) {
    //[logging_boost_log
    // The application's Boost.Log set-up: asiopg's records are filtered and formatted like its own.
    logging::add_console_log(std::clog, logging::keywords::format =
                                            (logging::expressions::stream
                                             << "[" << logging::expressions::attr<std::string>("Channel") << "] "
                                             << logging::trivial::severity << ": "
                                             << logging::expressions::smessage));
    logging::core::get()->set_filter(logging::trivial::severity >= logging::trivial::info);

    asiopg::connect_params params;
    params.conninfo = conninfo;
    params.log = asiopg::boost_log_logger(asiopg::log_level::info); // channel "asiopg"
    params.log.echo = true;                                          // every statement, timed
    params.log.slow_statement = 50ms;                                // and a warning past 50 ms

    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(params, asio::use_awaitable);
    co_await conn.async_execute("SELECT $1::int + 1", asiopg::params(41), asio::use_awaitable);
    co_await conn.async_execute("SELECT pg_sleep(0.06)", asio::use_awaitable); // logged as slow
    //]
    logging::core::get()->remove_all_sinks();
}

asio::awaitable<bool> with_own_sink(std::string conninfo) {
    //[logging_own_sink
    // Any function will do as a sink: it is called on the thread running the operation, never
    // under a lock of asiopg's (a pool used by several threads calls it concurrently).
    struct kept {
        std::mutex mtx;
        std::vector<std::string> lines;
    };
    auto records = std::make_shared<kept>();
    asiopg::pool_params params;
    params.connect.conninfo = conninfo;
    params.max_size = 2;
    params.connect.log.level = asiopg::log_level::debug;
    params.connect.log.sink = [records](const asiopg::log_record& r) {
        std::lock_guard<std::mutex> lk(records->mtx);
        records->lines.push_back(std::string(to_string(r.level)) + " " + std::string(r.category) + ": " +
                                 std::string(r.message));
    };
    asiopg::connection_pool pool(co_await asio::this_coro::executor, params);
    co_await pool.async_execute("SELECT 1", asio::use_awaitable);
    co_await pool.async_close(asio::use_awaitable);
    //]
    bool opened = false, closed = false, leaked = false;
    const char* password = std::getenv("PGPASSWORD");
    std::lock_guard<std::mutex> lk(records->mtx);
    for (const std::string& line : records->lines) {
        std::cout << line << '\n';
        opened = opened || line.find("pool: connection #1 open") != std::string::npos;
        closed = closed || line.find("pool: closing connection #1: pool closed") != std::string::npos;
        leaked = leaked || (password && *password && line.find(password) != std::string::npos);
    }
    co_return opened && closed && !leaked;
}

asio::awaitable<bool> both(std::string conninfo) {
    co_await with_boost_log(conninfo);
    co_return co_await with_own_sink(conninfo);
}

int main(int argc, char** argv) {
    asio::io_context ctx;
    bool ok = false;
    asio::co_spawn(ctx, both(argc > 1 ? argv[1] : ""), [&](std::exception_ptr e, bool result) {
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
