// An HTTP JSON service on Boost.Beast, backed by the asiopg connection pool: a "notes" resource
// with list, read, create, replace and delete. One thread, C++20 coroutines, keep-alive.
//
// Usage: http_service <port> [conninfo]   (port 0: any free port; conninfo default: libpq's
//        PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Prints "listening on 127.0.0.1:<port>" once it serves; SIGINT/SIGTERM stop it: "stopped", exit 0.
// See doc/http_service.md for the endpoints and example/http_service/check for a tour with curl.

#include <asiopg/cancel_after.hpp>
#include <asiopg/error.hpp>
#include <asiopg/params.hpp>
#include <asiopg/pool.hpp>
#include <asiopg/result.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

constexpr std::size_t max_body_size = 64 * 1024; // larger requests get 413
constexpr std::int64_t default_limit = 100, max_limit = 1000;
constexpr auto idle_timeout = 30s; // a keep-alive connection silent that long is closed
constexpr auto db_timeout = 5s;    // a statement running longer is cancelled: 503
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// Every statement names the same columns; created_at is ISO 8601 in UTC whatever the session's
// DateStyle and TimeZone.
#define NOTE_COLUMNS \
    "id, title, body, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS created_at"

// A client error found while reading a request: thrown from anywhere in a handler, answered by
// handle() as {"error": what()} with this status.
struct http_error : std::runtime_error {
    http::status status;
    http_error(http::status s, const std::string& message) : std::runtime_error(message), status(s) {}
};

// ---- JSON helpers ----

response json_reply(http::status status, const json::value& body) {
    response res{status, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = json::serialize(body);
    return res;
}

response error_reply(http::status status, std::string_view message) {
    return json_reply(status, json::object{{"error", message}});
}

json::object note_json(asiopg::row_view row) {
    return {{"id", row["id"].as<std::int64_t>()},
            {"title", row["title"].as<std::string_view>()},
            {"body", row["body"].as<std::string_view>()},
            {"created_at", row["created_at"].as<std::string_view>()}};
}

struct note_input {
    std::string title;
    std::string body;
};

// A string member of `obj`, or `fallback` when absent (nullptr: required).
std::string text_member(const json::object& obj, std::string_view key, const char* fallback) {
    const json::value* v = obj.if_contains(key);
    if (!v && fallback) return fallback;
    if (!v) throw http_error(http::status::bad_request, std::string(key) + " is required");
    if (!v->is_string()) throw http_error(http::status::bad_request, std::string(key) + " must be a string");
    std::string_view s = v->get_string();
    // libpq sends text parameters as C strings: a "\u0000" would be refused by asiopg, later.
    if (s.find('\0') != s.npos)
        throw http_error(http::status::bad_request, std::string(key) + " must not contain NUL characters");
    return std::string(s);
}

// The body of POST and PUT: {"title": non-blank string, "body": string (optional, default "")}.
note_input parse_note(const request& req) {
    std::string_view type = req[http::field::content_type];
    type = type.substr(0, type.find(';')); // "application/json; charset=utf-8" is fine
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    if (!beast::iequals(type, "application/json"))
        throw http_error(http::status::unsupported_media_type, "Content-Type must be application/json");
    json::error_code ec;
    json::value doc = json::parse(req.body(), ec); // also rejects invalid UTF-8
    if (ec) throw http_error(http::status::bad_request, "malformed JSON: " + ec.message());
    if (!doc.is_object()) throw http_error(http::status::bad_request, "expected a JSON object");
    note_input in{text_member(doc.get_object(), "title", nullptr), text_member(doc.get_object(), "body", "")};
    if (in.title.find_first_not_of(" \t\r\n") == std::string::npos)
        throw http_error(http::status::bad_request, "title must not be empty");
    return in;
}

// ---- request parsing ----

// Digits only (no sign, no spaces), within int64: ids, limits and cursors.
std::int64_t parse_number(std::string_view text, std::string_view what) {
    std::int64_t n = 0;
    const char* end = text.data() + text.size();
    auto [stop, ec] = std::from_chars(text.data(), end, n);
    if (ec == std::errc::result_out_of_range)
        throw http_error(http::status::bad_request, std::string(what) + " out of range");
    if (text.empty() || text[0] == '-' || ec != std::errc{} || stop != end)
        throw http_error(http::status::bad_request, std::string(what) + " must be a non-negative integer");
    return n;
}

// The value of `key` in a query string "a=1&b=2", or "" when absent.
std::string_view query_param(std::string_view query, std::string_view key) {
    while (!query.empty()) {
        std::string_view pair = query.substr(0, query.find('&'));
        query.remove_prefix(std::min(query.size(), pair.size() + 1));
        if (pair.starts_with(key) && pair.size() > key.size() && pair[key.size()] == '=')
            return pair.substr(key.size() + 1);
    }
    return {};
}

// Statements are bounded: a stuck query is cancelled on the server and the request gets a 503.
auto deadline() { return asiopg::cancel_after(db_timeout, asio::use_awaitable); }

// A read is safe to repeat when its session was lost (a server restart, a failover, an
// administrator's pg_terminate_backend); writes are not retried (the first attempt may have
// committed), nor timeouts and failed connects (the pool waited already). When every session
// dies at once, a connection that came back just before is handed to the next waiter unchecked,
// and a retry may land on a second dead one: hence up to two retries.
bool session_lost(const asiopg::error_code& ec) {
    return ec == asiopg::condition::connection_error && ec != asiopg::client_errc::timeout &&
           ec != asiopg::client_errc::connect_failed;
}

template <class Params>
asio::awaitable<asiopg::result> read_with_retry(asiopg::connection_pool& pool, const char* sql, Params ps) {
    for (int attempt = 1;; ++attempt) {
        try {
            co_return co_await pool.async_execute(sql, ps, deadline());
        } catch (const asiopg::error_with_diagnostics& e) {
            if (attempt == 3 || !session_lost(e.code())) throw;
            std::cerr << "retrying a read (attempt " << attempt + 1 << "): " << e.what() << '\n';
        }
    }
}

// ---- handlers ----

// GET /notes?limit=N&after=ID: in id order, N at most (default 100, capped at 1000), ids above
// ID only (keyset pagination: pass the last id seen to get the next page).
asio::awaitable<response> list_notes(asiopg::connection_pool& pool, std::string_view query) {
    std::string_view limit_text = query_param(query, "limit"), after_text = query_param(query, "after");
    std::int64_t limit = limit_text.empty() ? default_limit : std::min(parse_number(limit_text, "limit"), max_limit);
    std::int64_t after = after_text.empty() ? 0 : parse_number(after_text, "after");
    asiopg::result r = co_await read_with_retry(
        pool, "SELECT " NOTE_COLUMNS " FROM notes WHERE id > $1 ORDER BY id LIMIT $2", asiopg::params(after, limit));
    json::array notes;
    for (asiopg::row_view row : r) notes.push_back(note_json(row));
    co_return json_reply(http::status::ok, notes);
}

asio::awaitable<response> get_note(asiopg::connection_pool& pool, std::int64_t id) {
    asiopg::result r =
        co_await read_with_retry(pool, "SELECT " NOTE_COLUMNS " FROM notes WHERE id = $1", asiopg::params(id));
    if (r.empty()) throw http_error(http::status::not_found, "no note with this id");
    co_return json_reply(http::status::ok, note_json(r[0]));
}

//[http_create
// POST /notes: validate everything before touching the database, bind the values as $1, $2,
// and answer 201 with the stored note (RETURNING: no second round trip) and its address.
asio::awaitable<response> create_note(asiopg::connection_pool& pool, const request& req) {
    note_input in = parse_note(req); // 415 or 400 on bad input
    asiopg::result r = co_await pool.async_execute(
        "INSERT INTO notes (title, body) VALUES ($1, $2) RETURNING " NOTE_COLUMNS,
        asiopg::params(in.title, in.body), deadline());
    response res = json_reply(http::status::created, note_json(r[0]));
    res.set(http::field::location, "/notes/" + std::to_string(r[0]["id"].as<std::int64_t>()));
    co_return res;
}
//]

// PUT /notes/{id}: replaces title and body (an absent body becomes "").
asio::awaitable<response> replace_note(asiopg::connection_pool& pool, const request& req, std::int64_t id) {
    note_input in = parse_note(req);
    asiopg::result r = co_await pool.async_execute(
        "UPDATE notes SET title = $2, body = $3 WHERE id = $1 RETURNING " NOTE_COLUMNS,
        asiopg::params(id, in.title, in.body), deadline());
    if (r.empty()) throw http_error(http::status::not_found, "no note with this id");
    co_return json_reply(http::status::ok, note_json(r[0]));
}

asio::awaitable<response> delete_note(asiopg::connection_pool& pool, std::int64_t id) {
    asiopg::result r = co_await pool.async_execute("DELETE FROM notes WHERE id = $1", asiopg::params(id), deadline());
    if (r.affected_rows() == 0) throw http_error(http::status::not_found, "no note with this id");
    co_return response{http::status::no_content, 11};
}

response method_not_allowed(const char* allow) {
    response res = error_reply(http::status::method_not_allowed, "method not allowed");
    res.set(http::field::allow, allow);
    return res;
}

// ---- router ----

// The resource is chosen by path, then the method; unknown paths are 404 whatever the method.
asio::awaitable<response> route(asiopg::connection_pool& pool, const request& req) {
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
    std::string_view query = path.size() < target.size() ? target.substr(path.size() + 1) : "";
    if (path == "/notes") {
        switch (req.method()) {
        case http::verb::get: co_return co_await list_notes(pool, query);
        case http::verb::post: co_return co_await create_note(pool, req);
        default: co_return method_not_allowed("GET, POST");
        }
    }
    std::string_view rest = path.starts_with("/notes/") ? path.substr(7) : "";
    if (rest.empty() || rest.find('/') != rest.npos) throw http_error(http::status::not_found, "no such resource");
    http::verb method = req.method();
    if (method != http::verb::get && method != http::verb::put && method != http::verb::delete_)
        co_return method_not_allowed("GET, PUT, DELETE");
    std::int64_t id = parse_number(rest, "id");
    if (method == http::verb::get) co_return co_await get_note(pool, id);
    if (method == http::verb::put) co_return co_await replace_note(pool, req, id);
    co_return co_await delete_note(pool, id);
}

//[http_errors
// Client mistakes are 4xx with their reason. Database trouble is logged in full on stderr (asiopg
// redacts the password from every message) while the client learns only its kind: 503 when
// the database cannot be reached or is too slow (worth a retry), 500 for anything else.
asio::awaitable<response> handle(asiopg::connection_pool& pool, const request& req) {
    try {
        co_return co_await route(pool, req);
    } catch (const http_error& e) {
        co_return error_reply(e.status, e.what());
    } catch (const asiopg::error_with_diagnostics& e) {
        std::cerr << req.method_string() << ' ' << req.target() << ": " << e.what() << '\n';
        if (e.code() == asiopg::condition::connection_error || e.code() == asiopg::client_errc::pool_exhausted ||
            e.code() == asiopg::client_errc::pool_closed || e.code() == asiopg::condition::query_canceled)
            co_return error_reply(http::status::service_unavailable, "database unavailable");
        co_return error_reply(http::status::internal_server_error, "internal error");
    } catch (const std::exception& e) {
        std::cerr << req.method_string() << ' ' << req.target() << ": " << e.what() << '\n';
        co_return error_reply(http::status::internal_server_error, "internal error");
    }
}
//]

// ---- HTTP ----

// Beast's parse errors are the client's fault and get an answer; a client that went away
// (end of stream, a message cut short) or timed out does not.
bool malformed(const beast::error_code& ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category() &&
           ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// One client connection: requests one after the other while the client keeps it alive.
asio::awaitable<void> session(tcp::socket socket, asiopg::connection_pool& pool) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (bool keep_alive = true; keep_alive;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(max_body_size); // a larger Content-Length fails at the header already
        stream.expires_after(idle_timeout);
        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, as_tuple_awaitable);
        // Clients such as curl ask before sending a large body; unanswered, they wait a second.
        if (!ec && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
            http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
            std::tie(ec, n) = co_await http::async_write(stream, go_on, as_tuple_awaitable);
        }
        if (!ec && !parser.is_done())
            std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);

        response res;
        if (ec == http::error::body_limit)
            res = error_reply(http::status::payload_too_large, "request body larger than 64 KiB");
        else if (ec == http::error::header_limit)
            res = error_reply(http::status::request_header_fields_too_large, "request header too large");
        else if (malformed(ec))
            res = error_reply(http::status::bad_request, "malformed HTTP request");
        else if (ec)
            break;
        else
            res = co_await handle(pool, parser.get());

        // After a read error the rest of the stream cannot be trusted: answer, then close.
        keep_alive = !ec && parser.get().keep_alive();
        res.version(parser.get().version() == 10 ? 10 : 11);
        res.keep_alive(keep_alive);
        res.prepare_payload();
        stream.expires_after(idle_timeout);
        std::tie(ec, n) = co_await http::async_write(stream, res, as_tuple_awaitable);
        if (ec) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> serve(tcp::acceptor& acceptor, asiopg::connection_pool& pool) {
    // The table the service needs; a second instance starting at the same time may race us to it.
    try {
        co_await pool.async_execute("CREATE TABLE IF NOT EXISTS notes ("
                                    " id bigserial PRIMARY KEY, title text NOT NULL, body text NOT NULL DEFAULT '',"
                                    " created_at timestamptz DEFAULT now())",
                                    asio::use_awaitable);
    } catch (const asiopg::error_with_diagnostics& e) {
        if (e.code() != asiopg::sqlstate::unique_violation && e.code() != asiopg::sqlstate::duplicate_table) throw;
    }
    // Ready only now: a script waiting for this line may send requests at once.
    std::cout << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(as_tuple_awaitable);
        if (ec == asio::error::operation_aborted) co_return; // shutting down
        if (ec) { // out of file descriptors, most likely: give the open sessions time to end
            asio::steady_timer pause(acceptor.get_executor(), 50ms);
            co_await pause.async_wait(as_tuple_awaitable);
            continue;
        }
        asio::co_spawn(acceptor.get_executor(), session(std::move(socket), pool), [](std::exception_ptr e) {
            try {
                if (e) std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::cerr << "session: " << ex.what() << '\n';
            }
        });
    }
}

} // namespace

int main(int argc, char** argv) {
    unsigned short port = 0;
    if (argc < 2 || argc > 3 || std::from_chars(argv[1], argv[1] + std::strlen(argv[1]), port).ec != std::errc{}) {
        std::cerr << "usage: http_service <port> [conninfo]   (port 0: any free port)\n";
        return 2;
    }
    // One thread: the pool gives its connections no strands (io_context concurrency hint 1).
    asio::io_context ctx(1);

    //[http_pool
    asiopg::pool_params params;
    params.connect.conninfo = argc > 2 ? argv[2] : ""; // "": libpq reads PGHOST, PGUSER …
    params.min_size = 2;                               // warm at start
    params.max_size = 10;                              // many more HTTP clients share these
    params.acquire_timeout = 5s;                       // a request waits that long, then 503
    params.connect_timeout = 5s;
    asiopg::connection_pool pool(ctx, std::move(params));
    //]

    tcp::acceptor acceptor(ctx);
    try {
        acceptor = tcp::acceptor(ctx, {asio::ip::make_address("127.0.0.1"), port});
    } catch (const boost::system::system_error& e) {
        std::cerr << "cannot listen on 127.0.0.1:" << port << ": " << e.code().message() << '\n';
        return 1;
    }

    // Stop accepting; statements in flight finish and their connections come back; then the
    // remaining sessions (idle keep-alive clients) are dropped with the io_context.
    int status = 0;
    bool stopping = false;
    asio::signal_set signals(ctx, SIGINT, SIGTERM);
    auto stop = [&] {
        if (std::exchange(stopping, true)) return;
        signals.cancel();
        acceptor.close();
        pool.async_close([&](asiopg::error_code) { ctx.stop(); });
    };
    signals.async_wait([&](const beast::error_code& ec, int) {
        if (!ec) stop();
    });
    asio::co_spawn(ctx, serve(acceptor, pool), [&](std::exception_ptr e) {
        try {
            if (e) std::rethrow_exception(e);
        } catch (const std::exception& ex) { // the database could not be reached at start …
            if (stopping) return;               // … or a signal came first: not a failure
            std::cerr << "error: " << ex.what() << '\n';
            status = 1;
            stop();
        }
    });
    ctx.run();
    if (status == 0) std::cout << "stopped" << std::endl; // for scripts: the pool closed, all is well
    return status;
}
