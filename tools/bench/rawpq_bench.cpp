// rawpq-bench: the yardstick. The workloads of workloads.hpp written straight on libpq,
// nonblocking, with no abstraction: prepared statements, binary parameters and results, one
// poll() per wait. What a careful C programmer would write; asiopg-bench is measured against it.
//
// Usage: rawpq-bench W1|W2|W3|W4|W5   (connects with libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD,
// PGDATABASE). Prints one RESULT line; exit status 1 on any error.

#include "workloads.hpp"

#include <libpq-fe.h>

#include <arpa/inet.h>
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view client = "rawpq";
constexpr Oid int4_oid = 23;

[[noreturn]] void fail(PGconn* c, const char* what) {
    std::fprintf(stderr, "rawpq-bench: %s: %s\n", what, c ? PQerrorMessage(c) : "");
    std::exit(1);
}

PGconn* connect() {
    PGconn* c = PQconnectdb("");
    if (PQstatus(c) != CONNECTION_OK) fail(c, "connect");
    if (PQsetnonblocking(c, 1) != 0) fail(c, "nonblocking");
    return c;
}

// Blocks until the socket is readable (and/or writable when `write`), then reads what came.
void wait_socket(PGconn* c, bool write) {
    pollfd p{PQsocket(c), static_cast<short>(POLLIN | (write ? POLLOUT : 0)), 0};
    if (poll(&p, 1, -1) < 0) fail(c, "poll");
    if ((p.revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(c)) fail(c, "read");
}

// Sends what libpq buffered, waiting for the socket while the kernel's buffer is full.
void flush(PGconn* c) {
    for (;;) {
        int r = PQflush(c);
        if (r == 0) return;
        if (r < 0) fail(c, "flush");
        wait_socket(c, true);
    }
}

// The next result, waiting for it: nullptr at the end of a query (as PQgetResult).
PGresult* next_result(PGconn* c) {
    while (PQisBusy(c)) wait_socket(c, false);
    return PQgetResult(c);
}

void expect(PGconn* c, PGresult* r, ExecStatusType status, const char* what) {
    if (!r || PQresultStatus(r) != status) fail(c, what);
}

// Reads one query's results up to its end, checking the one it returns.
void finish_query(PGconn* c, ExecStatusType status, const char* what) {
    PGresult* r = next_result(c);
    expect(c, r, status, what);
    PQclear(r);
    while ((r = next_result(c)) != nullptr) PQclear(r);
}

void prepare_select(PGconn* c) {
    if (!PQsendPrepare(c, "s", bench::select_int_sql, 1, &int4_oid)) fail(c, "prepare");
    flush(c);
    finish_query(c, PGRES_COMMAND_OK, "prepare");
}

// One binary int4 parameter, in network order.
struct int_param {
    explicit int_param(std::int32_t v) : net(htonl(static_cast<std::uint32_t>(v))) {}
    std::uint32_t net;
    const char* value() const { return reinterpret_cast<const char*>(&net); }
};
constexpr int int_length = 4;
constexpr int binary = 1;

bool send_select(PGconn* c, std::int32_t i) {
    int_param p(i);
    const char* values[] = {p.value()};
    return PQsendQueryPrepared(c, "s", 1, values, &int_length, &binary, binary) != 0;
}

std::int32_t int_of(const PGresult* r, int row, int column) {
    std::uint32_t net;
    std::memcpy(&net, PQgetvalue(r, row, column), 4);
    return static_cast<std::int32_t>(ntohl(net));
}

void check_echo(PGconn* c, const PGresult* r, std::int32_t i) {
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || int_of(r, 0, 0) != i) fail(c, "wrong result");
}

void w1() {
    PGconn* c = connect();
    bench::stopwatch sw;
    prepare_select(c);
    for (std::int32_t i = 0; i < bench::w1_queries; ++i) {
        if (!send_select(c, i)) fail(c, "send");
        flush(c);
        PGresult* r = next_result(c);
        if (!r) fail(c, "no result");
        check_echo(c, r, i);
        PQclear(r);
        while ((r = next_result(c)) != nullptr) PQclear(r);
    }
    sw.report(client, "W1", bench::w1_queries);
    PQfinish(c);
}

void w2() {
    PGconn* c = connect();
    bench::stopwatch sw;
    if (!PQenterPipelineMode(c)) fail(c, "pipeline mode");
    if (!PQsendPrepare(c, "s", bench::select_int_sql, 1, &int4_oid)) fail(c, "prepare");
    // Send and read at the same time: queue a slice of queries, send what the socket takes,
    // take whatever results have arrived; block only when everything is sent or the socket is
    // full, so neither side's buffers grow without bound.
    constexpr int slice = 256;
    std::int32_t sent = 0, received = 0;
    bool prepared = false, synced = false;
    auto take_results = [&] {
        bool after_null = false;
        while (!synced && !PQisBusy(c)) {
            PGresult* r = PQgetResult(c);
            if (!r) {
                if (after_null) return; // a second NULL: nothing more is queued
                after_null = true;      // the end of one query's results
                continue;
            }
            after_null = false;
            switch (PQresultStatus(r)) {
            case PGRES_COMMAND_OK:
                if (prepared) fail(c, "unexpected result");
                prepared = true;
                break;
            case PGRES_TUPLES_OK: check_echo(c, r, received++); break;
            case PGRES_PIPELINE_SYNC: synced = true; break;
            default: fail(c, PQresultErrorMessage(r));
            }
            PQclear(r);
        }
    };
    while (!synced) {
        if (sent < bench::w2_queries) {
            for (int k = 0; k < slice && sent < bench::w2_queries; ++k, ++sent)
                if (!send_select(c, sent)) fail(c, "send");
            if (sent == bench::w2_queries && !PQpipelineSync(c)) fail(c, "sync");
        }
        int pending = PQflush(c);
        if (pending < 0) fail(c, "flush");
        if (sent < bench::w2_queries && pending == 0) {
            pollfd p{PQsocket(c), POLLIN, 0};
            if (poll(&p, 1, 0) > 0 && !PQconsumeInput(c)) fail(c, "read");
        } else {
            wait_socket(c, pending != 0);
        }
        take_results();
    }
    if (received != bench::w2_queries) fail(c, "missing results");
    if (!PQexitPipelineMode(c)) fail(c, "exit pipeline mode");
    sw.report(client, "W2", bench::w2_queries);
    PQfinish(c);
}

void w3() {
    std::vector<PGconn*> conns;
    for (int k = 0; k < bench::w3_connections; ++k) conns.push_back(connect());
    bench::stopwatch sw;
    for (PGconn* c : conns) prepare_select(c);
    // Each connection runs one query at a time, as a pooled connection lent to one task does;
    // poll() multiplexes the ten.
    std::vector<std::int32_t> in_flight(conns.size(), -1);
    std::vector<pollfd> fds(conns.size());
    std::int32_t next = 0, done = 0;
    auto start = [&](std::size_t k) {
        if (next == bench::w3_queries) return;
        in_flight[k] = next++;
        if (!send_select(conns[k], in_flight[k])) fail(conns[k], "send");
        flush(conns[k]);
    };
    for (std::size_t k = 0; k < conns.size(); ++k) {
        fds[k] = {PQsocket(conns[k]), POLLIN, 0};
        start(k);
    }
    while (done < bench::w3_queries) {
        if (poll(fds.data(), fds.size(), -1) < 0) fail(nullptr, "poll");
        for (std::size_t k = 0; k < conns.size(); ++k) {
            if (!fds[k].revents) continue;
            PGconn* c = conns[k];
            if (!PQconsumeInput(c)) fail(c, "read");
            while (in_flight[k] >= 0 && !PQisBusy(c)) {
                PGresult* r = PQgetResult(c);
                if (r) {
                    check_echo(c, r, in_flight[k]);
                    PQclear(r);
                    continue;
                }
                ++done;
                in_flight[k] = -1;
                start(k);
            }
        }
    }
    sw.report(client, "W3", bench::w3_queries);
    for (PGconn* c : conns) PQfinish(c);
}

// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
constexpr std::int64_t pg_epoch_us = 946684800LL * 1000000;

void w4() {
    PGconn* c = connect();
    bench::stopwatch sw;
    // Binary results: the int and the timestamptz need no parsing (text is slower here).
    if (!PQsendQueryParams(c, bench::w4_sql, 0, nullptr, nullptr, nullptr, nullptr, binary)) fail(c, "send");
    flush(c);
    PGresult* r = next_result(c);
    expect(c, r, PGRES_TUPLES_OK, "select");
    std::uint64_t acc = 0;
    int rows = PQntuples(r);
    for (int i = 0; i < rows; ++i) {
        std::uint64_t net_us;
        std::memcpy(&net_us, PQgetvalue(r, i, 2), 8);
        bench::w4_row row{int_of(r, i, 0), std::string(PQgetvalue(r, i, 1), PQgetlength(r, i, 1)),
                          std::chrono::sys_time<std::chrono::microseconds>(std::chrono::microseconds(
                              static_cast<std::int64_t>(be64toh(net_us)) + pg_epoch_us))};
        acc = bench::fold(acc, row);
    }
    PQclear(r);
    while ((r = next_result(c)) != nullptr) PQclear(r);
    if (rows != bench::w4_rows) fail(c, "wrong row count");
    sw.report(client, "W4", rows);
    std::fprintf(stderr, "W4 fold %llu\n", static_cast<unsigned long long>(acc));
    PQfinish(c);
}

void w5() {
    PGconn* c = connect();
    if (!PQsendQuery(c, bench::w5_setup_sql)) fail(c, "setup");
    flush(c);
    for (PGresult* r; (r = next_result(c)) != nullptr;) PQclear(r);
    bench::stopwatch sw;
    if (!PQsendQuery(c, bench::w5_copy_sql)) fail(c, "copy");
    flush(c);
    PGresult* r = next_result(c);
    expect(c, r, PGRES_COPY_IN, "copy start");
    PQclear(r);
    // Text rows "<id>\trow <id>\n", handed over 64 KiB at a time.
    std::string buf;
    buf.reserve(70000);
    auto put = [&] {
        for (;;) {
            int k = PQputCopyData(c, buf.data(), static_cast<int>(buf.size()));
            if (k == 1) break;
            if (k < 0) fail(c, "copy data");
            wait_socket(c, true); // libpq's buffer is full: let the kernel take some
            if (PQflush(c) < 0) fail(c, "flush");
        }
        buf.clear();
    };
    char num[16];
    for (int i = 1; i <= bench::w5_rows; ++i) {
        int n = std::snprintf(num, sizeof num, "%d", i);
        buf.append(num, n).append("\trow ", 5).append(num, n).push_back('\n');
        if (buf.size() >= 65536) put();
    }
    if (!buf.empty()) put();
    for (;;) {
        int k = PQputCopyEnd(c, nullptr);
        if (k == 1) break;
        if (k < 0) fail(c, "copy end");
        wait_socket(c, true);
    }
    flush(c);
    r = next_result(c);
    expect(c, r, PGRES_COMMAND_OK, "copy");
    if (std::strtoull(PQcmdTuples(r), nullptr, 10) != static_cast<unsigned long long>(bench::w5_rows))
        fail(c, "wrong row count");
    PQclear(r);
    while ((r = next_result(c)) != nullptr) PQclear(r);
    sw.report(client, "W5", bench::w5_rows);
    PQfinish(c);
}

} // namespace

int main(int argc, char** argv) {
    std::string_view w = argc > 1 ? argv[1] : "";
    if (w == "W1") w1();
    else if (w == "W2") w2();
    else if (w == "W3") w3();
    else if (w == "W4") w4();
    else if (w == "W5") w5();
    else {
        std::fprintf(stderr, "usage: rawpq-bench W1|W2|W3|W4|W5\n");
        return 2;
    }
}
