// The short fragments of the documentation — doc/tutorial.md, doc/types.md and
// doc/thread-safety.md quote them — each inside a function this program runs against the server
// and checks.
//
// Usage: tutorial_snippets [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD,
// PGDATABASE). The fragments on connecting leave the server to those variables: set them
// (`eval "$(tools/pg-cluster env)"`).
// Exit status 0 when every fragment behaved as its page says.

#include <asiopg.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;

void check(bool condition, const std::string& what) {
    if (!condition) throw std::runtime_error("unexpected: " + what);
    std::cout << "ok: " << what << '\n';
}

// Where the connect_params fragment connects: as a program reads its settings (here from the
// PG* variables; empty ones are left to libpq's defaults).
struct server_settings {
    std::string host, port, user, password, dbname;
};

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// ---- doc/tutorial.md, "Connecting" ----

//[tutorial_connect
asio::awaitable<void> connect_three_ways() {
    asiopg::connection conn(co_await asio::this_coro::executor); // or conn(io_context)

    // libpq's keyword/value form, e.g. "host=db.example.com port=5432 user=app dbname=app";
    // the keywords left out come from the PG* variables
    co_await conn.async_connect("application_name=report connect_timeout=10", asio::use_awaitable);
    check(conn.parameter_status("application_name") == "report", "keyword/value: application_name=report");

    // a URI, e.g. "postgresql://app@db.example.com:5432/app?sslmode=require"
    co_await conn.async_connect("postgresql://?application_name=nightly", asio::use_awaitable);
    check(conn.parameter_status("application_name") == "nightly", "URI: application_name=nightly");

    // nothing: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE … decide
    co_await conn.async_connect("", asio::use_awaitable);
    check(conn.is_open() && conn.backend_pid() != 0, "connected a third time, the same object");
}
//]

//[tutorial_connect_params
// Field by field: each non-empty field overrides the same keyword of `p.conninfo` (a conninfo
// string or URI, empty here); `options` win over both; what is still unset comes from the PG*
// variables.
asio::awaitable<void> connect_field_by_field(asiopg::connection& conn, const server_settings& s) {
    asiopg::connect_params p;
    p.host = s.host;         // a name is resolved by Asio's resolver: libpq never blocks on DNS
    p.port = s.port;
    p.user = s.user;
    p.password = s.password; // never logged, and redacted from every error message
    p.dbname = s.dbname;
    p.options = {{"sslmode", "prefer"}, {"application_name", "report"}}; // any libpq keyword
    p.connect_timeout = std::chrono::seconds(5);
    co_await conn.async_connect(p, asio::use_awaitable);
}
//]

// ---- "Running queries" and "Reading results" ----

asio::awaitable<void> running(asiopg::connection& conn) {
    //[tutorial_simple_query
    asiopg::result r = co_await conn.async_execute(
        "CREATE TEMP TABLE m (x int); INSERT INTO m VALUES (1), (2); SELECT sum(x) FROM m",
        asio::use_awaitable);
    //]

    //[tutorial_statements
    // after "CREATE TEMP TABLE m (x int); INSERT INTO m VALUES (1), (2); SELECT sum(x) FROM m":
    check(r.statement_count() == 3, "three statements");
    check(r.statement(0).command_tag() == "CREATE TABLE", "the first one's tag is CREATE TABLE");
    check(r.statement(1).affected_rows() == 2, "the second one inserted 2 rows");
    check(r[0][0].as<int>() == 3, "r reads as the last statement: sum(x) is 3");
    //]

    co_await conn.async_execute("CREATE TEMP TABLE people (id int PRIMARY KEY, name text, score float8)",
                                asio::use_awaitable);
    //[tutorial_params
    int id = 3;
    std::string name = "O'Reilly";     // no escaping: the text is sent as a separate value
    std::optional<double> score;       // empty: NULL
    co_await conn.async_execute("INSERT INTO people (id, name, score) VALUES ($1, $2, $3)",
                                asiopg::params(id, name, score), asio::use_awaitable);
    //]
    co_await conn.async_execute("INSERT INTO people (id, name) VALUES (1, 'Ada'), (2, NULL)", asio::use_awaitable);
}

asio::awaitable<void> reading(asiopg::connection& conn) {
    //[tutorial_read
    asiopg::result people = co_await conn.async_execute("SELECT id, name FROM people ORDER BY id",
                                                        asio::use_awaitable);
    for (asiopg::row_view row : people) {
        int id = row["id"].as<int>();                                          // by column name
        auto name = row[1].as<std::optional<std::string>>();                   // by index; NULL: nullopt
        std::cout << id << ' ' << name.value_or("(null)") << '\n';
    }
    //]
    check(people.size() == 3 && people[2][1].as<std::string>() == "O'Reilly", "O'Reilly stored as sent");
    check(!people[1][1].as<std::optional<std::string>>(), "a NULL name reads as nullopt");
}

// ---- "Prepared statements and the statement cache" ----

// How many statements this session has prepared.
asio::awaitable<long> prepared_count(asiopg::connection& conn) {
    asiopg::result r = co_await conn.async_execute("SELECT count(*) FROM pg_prepared_statements", asio::use_awaitable);
    co_return r[0][0].as<long>();
}

asio::awaitable<void> statement_cache(std::string conninfo) {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);
    //[tutorial_statement_cache
    conn.set_statement_cache(200, 2); // capacity 200, prepare on the 2nd run
    for (int i = 0; i < 2; ++i)
        co_await conn.async_execute("SELECT $1::int + 1", asiopg::params(i), asio::use_awaitable);
    check(co_await prepared_count(conn) == 1, "prepared on its 2nd run");

    conn.set_statement_cache(0);      // off: every parameterised query runs unnamed
    for (int i = 0; i < 5; ++i)
        co_await conn.async_execute("SELECT $1::int + 2", asiopg::params(i), asio::use_awaitable);
    check(co_await prepared_count(conn) == 1, "with the cache off, nothing more is prepared");
    //]
}

// ---- "Safe SQL formatting" ----

asio::awaitable<void> formatting(asiopg::connection& conn) {
    co_await conn.async_execute("DROP TABLE IF EXISTS public.\"order items\";"
                                "CREATE TABLE public.\"order items\" (id int PRIMARY KEY, note text);"
                                "INSERT INTO public.\"order items\" VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')",
                                asio::use_awaitable);
    //[tutorial_format_sql
    std::string table = "order items";  // a name chosen at run time
    std::vector<int> ids = {3, 1, 2};
    bool newest_first = true;
    std::string sql = asiopg::format_sql(conn, "SELECT id, note FROM {} WHERE id IN ({}) ORDER BY {} {}",
                                         asiopg::identifier("public", table), ids, asiopg::identifier("id"),
                                         asiopg::raw_sql(newest_first ? "DESC" : "ASC"));
    // SELECT id, note FROM "public"."order items" WHERE id IN (3, 1, 2) ORDER BY "id" DESC
    asiopg::result r = co_await conn.async_execute(sql, asio::use_awaitable);

    std::string comment = "Bob's items";
    co_await conn.async_execute(asiopg::format_sql(conn, "COMMENT ON TABLE {} IS {}", asiopg::identifier(table),
                                                   comment),
                                asio::use_awaitable);
    // COMMENT ON TABLE "order items" IS 'Bob''s items'
    //]
    check(sql == "SELECT id, note FROM \"public\".\"order items\" WHERE id IN (3, 1, 2) ORDER BY \"id\" DESC",
          "format_sql wrote " + sql);
    check(r.size() == 3 && r[0][0].as<int>() == 3, "3 rows, newest first");
    asiopg::result c = co_await conn.async_execute("SELECT obj_description('public.\"order items\"'::regclass)",
                                                   asio::use_awaitable);
    check(c[0][0].as<std::string>() == "Bob's items", "the comment is Bob's items");
    co_await conn.async_execute("DROP TABLE public.\"order items\"", asio::use_awaitable);
}

// ---- "Cancellation and timeouts" ----

//[tutorial_cancel_signal
// A callback with a cancellation slot; the signal must outlive the operation.
void sleep_and_cancel(asiopg::connection& conn, asio::cancellation_signal& cancel, asio::steady_timer& later,
                      std::optional<asiopg::error_code>& outcome) {
    conn.async_execute("SELECT pg_sleep(10)",
                       asio::bind_cancellation_slot(cancel.slot(), [&outcome](asiopg::error_code ec, asiopg::result) {
                           // partial: ec == sqlstate::query_canceled, the connection stays open
                           outcome = ec;
                       }));
    // later, from the connection's executor (the timer's handler runs there):
    later.expires_after(std::chrono::milliseconds(100));
    later.async_wait([&cancel](asiopg::error_code) { cancel.emit(asio::cancellation_type::partial); });
}
//]

asio::awaitable<void> cancellation(asiopg::connection& conn) {
    asio::cancellation_signal cancel;
    asio::steady_timer later(conn.get_executor()), poll(conn.get_executor());
    std::optional<asiopg::error_code> outcome;
    auto start = std::chrono::steady_clock::now();
    sleep_and_cancel(conn, cancel, later, outcome);
    while (!outcome && std::chrono::steady_clock::now() - start < std::chrono::seconds(8)) {
        poll.expires_after(std::chrono::milliseconds(10));
        co_await poll.async_wait(asio::use_awaitable);
    }
    check(outcome && *outcome == asiopg::sqlstate::query_canceled, "the sleep was cancelled on the server: 57014");
    asiopg::result r = co_await conn.async_execute("SELECT 1", asio::use_awaitable);
    check(conn.is_open() && r[0][0].as<int>() == 1, "the connection stayed usable");
}

// ---- doc/types.md, "Your own types" ----

//[types_traits
// The shape of both customization points, for a type that travels as a float8.
struct celsius {
    double degrees = 0;
};

template <> struct asiopg::result_traits<celsius> {
    static void decode(const asiopg::value_view& v, celsius& out) { // v is never NULL
        if (v.type != asiopg::oids::float8) asiopg::conversion_failed(v, "celsius", "not a float8");
        asiopg::result_traits<double>::decode(v, out.degrees);      // text or binary
    }
    static bool accepts(asiopg::oid type) { return type == asiopg::oids::float8; } // optional
};

template <> struct asiopg::param_traits<celsius> {
    static asiopg::param_ref encode(const celsius& value, asiopg::param_scratch& scratch) {
        return asiopg::param_traits<double>::encode(value.degrees, scratch); // binary, in scratch.bytes
    }
};
//]

asio::awaitable<void> own_type(asiopg::connection& conn) {
    celsius boiling{100};
    asiopg::result r = co_await conn.async_execute("SELECT $1::float8 + 1 AS t, 'x'::text AS other",
                                                   asiopg::params(boiling), asio::use_awaitable);
    check(r[0]["t"].as<celsius>().degrees == 101, "celsius sent and read back: 101");
    try {
        (void)r[0]["other"].as<celsius>();
        check(false, "a text column refused as celsius");
    } catch (const asiopg::error_with_diagnostics& e) {
        check(e.code() == asiopg::client_errc::conversion_error, std::string("refused: ") + e.what());
    }
}

// ---- doc/thread-safety.md ----

//[thread_safety_strand
// Several threads run one io_context. Each task runs on a strand of its own, and its connection
// takes the task's executor: the connection, its handlers and timers never run on two threads at
// once, while different tasks do run in parallel.
asio::awaitable<int> double_it(std::string conninfo, int n) {
    asiopg::connection conn(co_await asio::this_coro::executor); // the strand
    co_await conn.async_connect(conninfo, asio::use_awaitable);
    asiopg::result r = co_await conn.async_execute("SELECT $1::int * 2", asiopg::params(n), asio::use_awaitable);
    co_return r[0][0].as<int>();
}

int sum_on_two_threads(const std::string& conninfo) {
    asio::io_context ctx;
    std::atomic<int> sum = 0, failed = 0;
    for (int n = 1; n <= 8; ++n)
        asio::co_spawn(asio::make_strand(ctx), double_it(conninfo, n), [&](std::exception_ptr e, int twice) {
            if (e) ++failed;
            else sum += twice;
        });
    std::thread other([&ctx] { ctx.run(); });
    ctx.run();
    other.join();
    return failed == 0 ? sum.load() : -1;
}
//]

asio::awaitable<void> run(std::string conninfo) {
    co_await connect_three_ways();

    asiopg::connection conn(co_await asio::this_coro::executor);
    server_settings settings{env("PGHOST"), env("PGPORT"), env("PGUSER"), env("PGPASSWORD"), env("PGDATABASE")};
    co_await connect_field_by_field(conn, settings);
    check(conn.parameter_status("application_name") == "report", "connect_params: application_name=report");

    co_await conn.async_connect(conninfo, asio::use_awaitable);
    co_await running(conn);
    co_await reading(conn);
    co_await statement_cache(conninfo);
    co_await formatting(conn);
    co_await cancellation(conn);
    co_await own_type(conn);
}

int main(int argc, char** argv) {
    std::string conninfo = argc > 1 ? argv[1] : "";
    asio::io_context ctx;
    asio::co_spawn(ctx, run(conninfo), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    try {
        ctx.run();
        int sum = sum_on_two_threads(conninfo);
        check(sum == 72, "8 tasks on 2 threads: 2 + 4 + … + 16 = " + std::to_string(sum));
    } catch (const std::exception& e) {
        std::cerr << "tutorial_snippets: " << e.what() << '\n';
        return 1;
    }
}
