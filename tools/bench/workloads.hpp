// The workloads both benchmark programs run: the same SQL and sizes, and one way to time and
// report them, so that the only difference between the two programs is the client.
#ifndef ASIOPG_TOOLS_BENCH_WORKLOADS_HPP
#define ASIOPG_TOOLS_BENCH_WORKLOADS_HPP

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace bench {

// W1, W2, W3: one int parameter echoed back.
inline constexpr const char* select_int_sql = "SELECT $1::int";
inline constexpr int w1_queries = 20000;
inline constexpr int w2_queries = 20000;
inline constexpr int w3_queries = 50000;
inline constexpr int w3_tasks = 100;
inline constexpr int w3_connections = 10;

// W4: a million rows of (int, text, timestamptz) read into C++ values.
inline constexpr const char* w4_sql = "SELECT g, g::text, now() FROM generate_series(1,1000000) g";
inline constexpr int w4_rows = 1000000;

// W5: rows (i, 'row <i>') copied into an unlogged table.
inline constexpr const char* w5_setup_sql =
    "DROP TABLE IF EXISTS bench_copy; CREATE UNLOGGED TABLE bench_copy (id int, name text)";
inline constexpr const char* w5_copy_sql = "COPY bench_copy (id, name) FROM STDIN";
inline constexpr int w5_rows = 100000;

// What a W4 row becomes on the client, whichever program decodes it.
struct w4_row {
    std::int32_t g;
    std::string text;
    std::chrono::sys_time<std::chrono::microseconds> at;
};

// Folded over every row, so the decoding cannot be optimised away and both programs can be
// checked to have read the same thing.
inline std::uint64_t fold(std::uint64_t acc, const w4_row& r) {
    return acc + static_cast<std::uint64_t>(r.g) + r.text.size() +
           static_cast<std::uint64_t>(r.at.time_since_epoch().count() != 0);
}

// CPU seconds (user + system) this process has used so far.
inline double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Wall and CPU time of one workload, from after set-up (connections open, tables created) to
// its last result: connecting is not what is measured.
class stopwatch {
public:
    stopwatch() : wall_(std::chrono::steady_clock::now()), cpu_(cpu_seconds()) {}
    void report(std::string_view client, std::string_view workload, long ops) const {
        double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_).count();
        double cpu = cpu_seconds() - cpu_;
        std::printf("RESULT client=%.*s workload=%.*s ops=%ld seconds=%.6f cpu=%.6f\n",
                    static_cast<int>(client.size()), client.data(), static_cast<int>(workload.size()),
                    workload.data(), ops, wall, cpu);
        std::fflush(stdout);
    }

private:
    std::chrono::steady_clock::time_point wall_;
    double cpu_;
};

} // namespace bench

#endif
