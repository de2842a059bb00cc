// Logging: silent by default; connection, statement and pool events when asked; Boost.Log;
// and the password never in a record, an error message or an exception.
#include <asiopg/boost_log.hpp>
#include <asiopg/cancel_after.hpp>
#include <asiopg/connection.hpp>
#include <asiopg/pool.hpp>

#include "pool.hpp"
#include "server.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/basic_sink_backend.hpp>
#include <boost/log/sinks/sync_frontend.hpp>

#include <algorithm>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

using namespace asiopg;
using namespace asiopg::test;
using namespace std::chrono_literals;

namespace {

struct captured {
    log_level level;
    std::string category;
    std::string message;
};

// A sink that keeps every record (the pool's may come from several threads).
struct capture {
    std::shared_ptr<std::mutex> mtx = std::make_shared<std::mutex>();
    std::shared_ptr<std::vector<captured>> records = std::make_shared<std::vector<captured>>();

    logger make(log_level level = log_level::trace) const {
        logger l;
        l.level = level;
        l.sink = [mtx = mtx, records = records](const log_record& r) {
            std::lock_guard<std::mutex> lk(*mtx);
            records->push_back({r.level, std::string(r.category), std::string(r.message)});
        };
        return l;
    }
    std::vector<captured> all() const {
        std::lock_guard<std::mutex> lk(*mtx);
        return *records;
    }
    void clear() const {
        std::lock_guard<std::mutex> lk(*mtx);
        records->clear();
    }
    // The first record whose text contains `needle` (and of `level`, if given).
    std::optional<captured> find(std::string_view needle, std::optional<log_level> level = {}) const {
        for (const captured& r : all())
            if (r.message.find(needle) != std::string::npos && (!level || r.level == *level)) return r;
        return std::nullopt;
    }
    std::string dump() const {
        std::string out;
        for (const captured& r : all()) out += std::string(to_string(r.level)) + " [" + r.category + "] " + r.message + "\n";
        return out;
    }
    bool mentions(std::string_view secret) const {
        auto rs = all();
        return std::any_of(rs.begin(), rs.end(), [&](const captured& r) { return r.message.find(secret) != std::string::npos; });
    }
};

void connect(asio::io_context& ctx, connection& conn, const connect_params& p) {
    auto c = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); });
    BOOST_TEST_REQUIRE(!c.ec, "connect: " << conn.get_diagnostics().message);
}

outcome<result> exec(asio::io_context& ctx, connection& conn, std::string_view sql) {
    return run<result>(style::callback, ctx, [&](auto&& tok) { return conn.async_execute(sql, tok); });
}
template <class... Ts>
outcome<result> exec(asio::io_context& ctx, connection& conn, std::string_view sql, const param_list<Ts...>& ps) {
    return run<result>(style::callback, ctx, [&](auto&& tok) { return conn.async_execute(sql, ps, tok); });
}

} // namespace

BOOST_AUTO_TEST_SUITE(logging)

ASIOPG_TEST_CASE(silent_by_default) {
    asio::io_context ctx;
    connection conn(ctx);
    BOOST_TEST(!conn.get_logger().sink);
    BOOST_TEST(!conn.get_logger().enabled(log_level::error));
    auto c = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(tcp_conninfo(), tok); });
    BOOST_TEST_REQUIRE(!c.ec);
    BOOST_TEST(!conn.get_logger().sink);
    BOOST_TEST(to_string(log_level::warning) == "warning");
}

ASIOPG_TEST_CASE(connection_events_name_the_server_never_the_password) {
    capture cap;
    asio::io_context ctx;
    connection conn(ctx);
    connect_params p = server_params();
    p.log = cap.make(log_level::trace);
    auto c = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); });
    BOOST_TEST_REQUIRE(!c.ec, conn.get_diagnostics().message);
    auto connected = cap.find("connected", log_level::info);
    BOOST_TEST_REQUIRE(connected.has_value(), cap.dump());
    BOOST_TEST(connected->category == "connection");
    BOOST_TEST(connected->message.find(server_host()) != std::string::npos);
    BOOST_TEST(connected->message.find(server_port()) != std::string::npos);
    BOOST_TEST(connected->message.find("\"" + server_db() + "\"") != std::string::npos);
    BOOST_TEST(connected->message.find("\"" + server_user() + "\"") != std::string::npos);
    BOOST_TEST(connected->message.find("backend pid " + std::to_string(conn.backend_pid())) != std::string::npos);
    BOOST_TEST(cap.find("connecting", log_level::debug).has_value(), cap.dump());

    // Reconnecting says so, and closing is logged at debug.
    const int old_pid = conn.backend_pid();
    c = run<no_value>(style::callback, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); });
    BOOST_TEST_REQUIRE(!c.ec);
    BOOST_TEST(cap.find("reconnecting: the session of backend pid " + std::to_string(old_pid)).has_value(), cap.dump());
    conn.close();
    BOOST_TEST(cap.find("closing the session of backend pid", log_level::debug).has_value(), cap.dump());
    BOOST_TEST(!cap.mentions(server_password()), cap.dump());
}

// The password given each way — params, conninfo keyword, URI — and a wrong one each way: in no
// record, no diagnostics, no exception text.
ASIOPG_TEST_CASE(password_in_no_record_error_or_exception) {
    const std::string good = server_password();
    const std::string wrong = "Wr0ng-Secret-Pa55";
    auto uri = [&](const std::string& pw) {
        return "postgresql://" + server_user() + ":" + pw + "@" + server_host() + ":" + server_port() + "/" + server_db();
    };
    auto keyword = [&](const std::string& pw) {
        return "host=" + server_host() + " port=" + server_port() + " user=" + server_user() + " password=" + pw +
               " dbname=" + server_db();
    };
    for (const std::string& pw : {good, wrong}) {
        std::vector<connect_params> ways(3);
        ways[0] = server_params();
        ways[0].password = pw;
        ways[1].conninfo = keyword(pw);
        ways[2].conninfo = uri(pw);
        for (std::size_t i = 0; i < ways.size(); ++i) {
            BOOST_TEST_CONTEXT("password " << (pw == good ? "right" : "wrong") << ", way " << i) {
                capture cap;
                ways[i].log = cap.make(log_level::trace);
                ways[i].log.echo = true;
                ways[i].log.parameters = true;
                for (style s : {style::callback, style::future}) {
                    asio::io_context ctx;
                    connection conn(ctx);
                    auto c = run<no_value>(s, ctx, [&](auto&& tok) { return conn.async_connect(ways[i], tok); });
                    BOOST_TEST(c.completed);
                    BOOST_TEST(bool(c.ec) == (pw == wrong));
                    if (c.ec) {
                        BOOST_TEST(conn.get_diagnostics().to_string().find(pw) == std::string::npos);
                        BOOST_TEST(c.what.find(pw) == std::string::npos, c.what);
                        BOOST_TEST(c.diag.to_string().find(pw) == std::string::npos);
                        BOOST_TEST(c.ec.message().find(pw) == std::string::npos);
                        BOOST_TEST(cap.find("connect failed", log_level::warning).has_value(), cap.dump());
                    } else {
                        BOOST_TEST_REQUIRE(!exec(ctx, conn, "SELECT $1::text", params(std::string("hello"))).ec);
                        auto bad = exec(ctx, conn, "SELECT no_such_column");
                        BOOST_TEST((bad.ec == sqlstate::undefined_column));
                    }
                    BOOST_TEST(!cap.mentions(pw), cap.dump());
                }
            }
        }
    }
    // A malformed conninfo quoting its password back: redacted in the error, nothing logged.
    capture cap;
    connect_params broken;
    broken.conninfo = "host=" + server_host() + " password='" + wrong;
    broken.log = cap.make(log_level::trace);
    asio::io_context ctx;
    connection conn(ctx);
    auto c = run<no_value>(style::future, ctx, [&](auto&& tok) { return conn.async_connect(broken, tok); });
    BOOST_TEST((c.ec == client_errc::invalid_conninfo));
    BOOST_TEST(c.what.find(wrong) == std::string::npos, c.what);
    BOOST_TEST(!cap.mentions(wrong), cap.dump());
}

ASIOPG_TEST_CASE(echo_logs_statements_with_duration_and_failures) {
    capture cap;
    asio::io_context ctx;
    connection conn(ctx);
    connect_params p = server_params();
    p.log = cap.make(log_level::info);
    p.log.echo = true;
    connect(ctx, conn, p);
    BOOST_TEST_REQUIRE(!exec(ctx, conn, "SELECT 1 AS simple").ec);
    BOOST_TEST_REQUIRE(!exec(ctx, conn, "SELECT $1::text AS bound", params(std::string("top-secret-value"))).ec);
    auto bad = exec(ctx, conn, "SELECT * FROM no_such_table_for_logging");
    BOOST_TEST((bad.ec == sqlstate::undefined_table));

    auto simple = cap.find("SELECT 1 AS simple", log_level::info);
    BOOST_TEST_REQUIRE(simple.has_value(), cap.dump());
    BOOST_TEST(simple->category == "statement");
    BOOST_TEST(simple->message.find(" ms: ") != std::string::npos, simple->message);
    BOOST_TEST(cap.find("SELECT $1::text AS bound", log_level::info).has_value(), cap.dump());
    // Parameter values are not logged unless asked for.
    BOOST_TEST(!cap.mentions("top-secret-value"), cap.dump());
    auto failed = cap.find("no_such_table_for_logging", log_level::warning);
    BOOST_TEST_REQUIRE(failed.has_value(), cap.dump());
    BOOST_TEST(failed->message.find("failed") != std::string::npos);
    BOOST_TEST(failed->message.find("42P01") != std::string::npos, failed->message);
    BOOST_TEST(failed->message.find("does not exist") != std::string::npos, failed->message);

    // Asked for: values listed, quoted, NULL as NULL, binary ones as text.
    cap.clear();
    logger with_values = conn.get_logger();
    with_values.parameters = true;
    conn.set_logger(with_values);
    BOOST_TEST_REQUIRE(!exec(ctx, conn, "SELECT $1::text, $2::int, $3::text",
                             params(std::string("it's"), 42, std::optional<std::string>()))
                            .ec);
    auto listed = cap.find("[$1='it''s', $2='42', $3=NULL]", log_level::info);
    BOOST_TEST(listed.has_value(), cap.dump());

    // A pipeline is one record.
    cap.clear();
    pipeline pl;
    pl.add("SELECT 1");
    pl.add("SELECT $1::int", params(2));
    auto r = run<std::vector<pipeline_result>>(style::callback, ctx, [&](auto&& tok) { return conn.async_execute(pl, tok); });
    BOOST_TEST_REQUIRE(!r.ec);
    BOOST_TEST(cap.find("pipeline of 2 statements", log_level::info).has_value(), cap.dump());

    // Echo off: nothing about statements.
    cap.clear();
    logger quiet = conn.get_logger();
    quiet.echo = false;
    conn.set_logger(quiet);
    BOOST_TEST_REQUIRE(!exec(ctx, conn, "SELECT 2").ec);
    BOOST_TEST(!exec(ctx, conn, "SELECT * FROM no_such_table_for_logging").value);
    BOOST_TEST(cap.all().empty(), cap.dump());
}

ASIOPG_TEST_CASE(slow_statements_are_warnings_without_echo) {
    capture cap;
    asio::io_context ctx;
    connection conn(ctx);
    connect_params p = server_params();
    p.log = cap.make(log_level::warning);
    p.log.slow_statement = 40ms;
    connect(ctx, conn, p);
    BOOST_TEST_REQUIRE(!exec(ctx, conn, "SELECT 'fast'").ec);
    BOOST_TEST_REQUIRE(!exec(ctx, conn, "SELECT pg_sleep(0.1), 'slow'").ec);
    BOOST_TEST(!cap.find("'fast'").has_value(), cap.dump());
    auto slow = cap.find("'slow'", log_level::warning);
    BOOST_TEST_REQUIRE(slow.has_value(), cap.dump());
    BOOST_TEST(slow->message.find("slow statement") != std::string::npos, slow->message);
    BOOST_TEST(slow->message.find("threshold 40 ms") != std::string::npos, slow->message);
}

ASIOPG_TEST_CASE(cancels_timeouts_and_lost_sessions) {
    capture cap;
    asio::io_context ctx;
    connection conn(ctx);
    connect_params p = server_params();
    p.log = cap.make(log_level::info);
    connect(ctx, conn, p);

    // Partial cancellation (cancel_after's default): a cancel request, the connection kept.
    auto cancelled = run<result>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_execute("SELECT pg_sleep(5)", cancel_after(50ms, tok));
    });
    BOOST_TEST((cancelled.ec == client_errc::timeout));
    BOOST_TEST(cap.find("cancel request sent", log_level::info).has_value(), cap.dump());
    BOOST_TEST(conn.is_open());

    // Terminal: the connection is given up.
    auto given_up = run<result>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_execute("SELECT pg_sleep(5)", cancel_after(50ms, tok, asio::cancellation_type::terminal));
    });
    BOOST_TEST(given_up.ec);
    BOOST_TEST(cap.find("connection closed").has_value(), cap.dump());

    // The server ends the session: the next statement reports the loss.
    connect(ctx, conn, p);
    asio::io_context other_ctx;
    connection other(other_ctx);
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, other_ctx, [&](auto&& tok) { return other.async_connect(tcp_conninfo(), tok); }).ec);
    BOOST_TEST_REQUIRE(!exec(other_ctx, other, "SELECT pg_terminate_backend($1)", params(conn.backend_pid())).ec);
    cap.clear();
    auto after = exec(ctx, conn, "SELECT 1");
    BOOST_TEST(after.ec);
    BOOST_TEST(cap.find("connection lost", log_level::warning).has_value(), cap.dump());
}

ASIOPG_TEST_CASE(pool_events_grow_discard_exhausted_close) {
    capture cap;
    asio::io_context ctx;
    pool_params pp = pool_params_for(1, 2);
    pp.connect.log = cap.make(log_level::debug);
    pp.acquire_timeout = 100ms;
    connection_pool pool(ctx, pp);
    auto a = run<pooled_connection>(style::callback, ctx, [&](auto&& tok) { return pool.async_acquire(tok); });
    auto b = run<pooled_connection>(style::callback, ctx, [&](auto&& tok) { return pool.async_acquire(tok); });
    BOOST_TEST_REQUIRE((!a.ec && !b.ec));
    BOOST_TEST(cap.find("opening connection #1", log_level::debug).has_value(), cap.dump());
    BOOST_TEST(cap.find("connection #2 open", log_level::info).has_value(), cap.dump());
    auto pool_records = cap.all();
    BOOST_TEST(std::any_of(pool_records.begin(), pool_records.end(), [](const captured& r) { return r.category == "pool"; }));

    // Exhausted.
    auto c = run<pooled_connection>(style::callback, ctx, [&](auto&& tok) { return pool.async_acquire(tok); });
    BOOST_TEST((c.ec == client_errc::pool_exhausted));
    BOOST_TEST(cap.find("acquire failed: no connection available within 100 ms", log_level::warning).has_value(), cap.dump());

    // A connection given back broken is discarded.
    (*b.value)->close();
    b.value->release();
    BOOST_TEST(run_until(ctx, [&] { return cap.find("returned closed or broken", log_level::warning).has_value(); }),
               cap.dump());
    a.value->release();
    BOOST_TEST_REQUIRE(!run<no_value>(style::callback, ctx, [&](auto&& tok) { return pool.async_close(tok); }).ec);
    BOOST_TEST(cap.find("pool closed", log_level::debug).has_value(), cap.dump());
    BOOST_TEST(!cap.mentions(server_password()), cap.dump());
}

ASIOPG_TEST_CASE(a_throwing_sink_breaks_nothing) {
    asio::io_context ctx;
    connection conn(ctx);
    connect_params p = server_params();
    p.log.level = log_level::trace;
    p.log.echo = true;
    p.log.sink = [](const log_record&) { throw std::runtime_error("sink failure"); };
    connect(ctx, conn, p);
    auto r = exec(ctx, conn, "SELECT 42");
    BOOST_TEST_REQUIRE(!r.ec);
    BOOST_TEST((*r.value)[0][0].as<int>() == 42);
}

namespace {
// A Boost.Log backend that keeps what reaches it.
struct kept_record {
    std::string channel, category, message;
    boost::log::trivial::severity_level severity;
};
class keeping_backend : public boost::log::sinks::basic_sink_backend<boost::log::sinks::synchronized_feeding> {
public:
    explicit keeping_backend(std::shared_ptr<std::vector<kept_record>> out) : out_(std::move(out)) {}
    void consume(const boost::log::record_view& rec) {
        namespace logging = boost::log;
        kept_record k;
        k.channel = logging::extract_or_default<std::string>("Channel", rec, std::string());
        k.category = logging::extract_or_default<std::string>("Category", rec, std::string());
        k.message = logging::extract_or_default<std::string>("Message", rec, std::string());
        k.severity = logging::extract_or_default<logging::trivial::severity_level>("Severity", rec, logging::trivial::fatal);
        out_->push_back(std::move(k));
    }

private:
    std::shared_ptr<std::vector<kept_record>> out_;
};
} // namespace

ASIOPG_TEST_CASE(boost_log_gets_channel_severity_and_category) {
    namespace logging = boost::log;
    auto kept = std::make_shared<std::vector<kept_record>>();
    auto sink = boost::make_shared<logging::sinks::synchronous_sink<keeping_backend>>(boost::make_shared<keeping_backend>(kept));
    // The application's filter decides, as for its own records.
    sink->set_filter(logging::expressions::attr<std::string>("Channel") == "asiopg" &&
                     logging::trivial::severity >= logging::trivial::info);
    logging::core::get()->add_sink(sink);
    struct remove_sink {
        decltype(sink) s;
        ~remove_sink() { logging::core::get()->remove_sink(s); }
    } cleanup{sink};

    asio::io_context ctx;
    connection conn(ctx);
    connect_params p = server_params();
    p.log = boost_log_logger(log_level::debug);
    p.log.echo = true;
    connect(ctx, conn, p);
    BOOST_TEST_REQUIRE(!exec(ctx, conn, "SELECT 'via boost log'").ec);
    sink->flush();
    auto has = [&](std::string_view text, logging::trivial::severity_level sev, std::string_view category) {
        return std::any_of(kept->begin(), kept->end(), [&](const kept_record& k) {
            return k.message.find(text) != std::string::npos && k.severity == sev && k.category == category &&
                   k.channel == "asiopg";
        });
    };
    BOOST_TEST(has("connected", logging::trivial::info, "connection"));
    BOOST_TEST(has("'via boost log'", logging::trivial::info, "statement"));
    // Debug records were passed on by asiopg and dropped by the application's filter.
    BOOST_TEST(std::none_of(kept->begin(), kept->end(), [](const kept_record& k) { return k.severity < logging::trivial::info; }));
    BOOST_TEST(std::none_of(kept->begin(), kept->end(), [](const kept_record& k) {
        return k.message.find(server_password()) != std::string::npos;
    }));
}

BOOST_AUTO_TEST_SUITE_END()
