// Rows into structs and tuples, then prepared statements: explicit (async_prepare) and the
// automatic statement cache. Works on a TEMP table, so it leaves nothing behind.
//
// Usage: rows [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when everything read back as expected.

#include <asiopg.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>

#include <exception>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace asio = boost::asio;

void check(bool condition, const char* what) {
    if (!condition) throw std::runtime_error(std::string("unexpected: ") + what);
}

//[rows
struct book {
    int id = 0;
    std::string title;
    std::optional<std::string> subtitle; // NULL reads as std::nullopt
    double price = 0;
};
BOOST_DESCRIBE_STRUCT(book, (), (id, title, subtitle, price))

struct strict_book {
    int id = 0;
    std::string subtitle; // not optional: a NULL does not fit
};
BOOST_DESCRIBE_STRUCT(strict_book, (), (id, subtitle))

asio::awaitable<void> read_rows(asiopg::connection& conn) {
    co_await conn.async_execute(
        "CREATE TEMP TABLE books (id int PRIMARY KEY, title text NOT NULL, subtitle text, price float8 NOT NULL);"
        "INSERT INTO books VALUES (1, 'Dune', 'Book One', 9.5), (2, 'Emma', NULL, 4.25), (3, 'Ulysses', NULL, 12)",
        asio::use_awaitable);

    // Structs: columns are matched to members by name, in any order.
    asiopg::result r = co_await conn.async_execute("SELECT price, subtitle, title, id FROM books ORDER BY id",
                                                   asio::use_awaitable);
    std::vector<book> books = r.rows<book>();
    for (const book& b : books)
        std::cout << b.id << ' ' << b.title << " (" << b.subtitle.value_or("no subtitle") << ") " << b.price << '\n';
    book emma = r[1].as<book>(); // one row
    check(books.size() == 3 && emma.title == "Emma" && !emma.subtitle, "Emma, without a subtitle");

    // Tuples: columns by position, one element per column.
    asiopg::result lengths = co_await conn.async_execute("SELECT title, length(title) FROM books ORDER BY id",
                                                         asio::use_awaitable);
    for (const auto& [title, length] : lengths.rows<std::tuple<std::string, int>>())
        std::cout << title << " has " << length << " letters\n";
    auto [title, length] = lengths[2].as<std::tuple<std::string, long>>();
    check(title == "Ulysses" && length == 7, "Ulysses has 7 letters");

    // The whole mapping is checked before any field is read: here row 1's NULL subtitle.
    try {
        (void)r.rows<strict_book>();
        check(false, "a NULL refused for a non-optional member");
    } catch (const asiopg::error_with_diagnostics& e) {
        std::cout << "strict_book: " << e.get_diagnostics().message << '\n';
        check(e.code() == asiopg::client_errc::unexpected_null, "unexpected_null");
    }
}
//]

//[prepared
asio::awaitable<void> prepared(asiopg::connection& conn) {
    // Parsed and described once; the statement knows its parameter types and result columns.
    asiopg::statement cheaper_than = co_await conn.async_prepare(
        "SELECT id, title, subtitle, price FROM books WHERE price < $1 ORDER BY id", asio::use_awaitable);
    std::cout << cheaper_than.name() << ": " << cheaper_than.param_count() << " parameter (type "
              << cheaper_than.param_type(0) << "), " << cheaper_than.columns() << " columns\n";

    // Executed twice with different values: only Bind and Execute travel each time.
    double limit = 5;
    asiopg::result cheap = co_await conn.async_execute(cheaper_than, asiopg::params(limit), asio::use_awaitable);
    limit = 10;
    asiopg::result less_cheap =
        co_await conn.async_execute(cheaper_than, asiopg::params(limit), asio::use_awaitable);
    for (const book& b : less_cheap.rows<book>()) std::cout << "under 10: " << b.title << '\n';
    check(cheap.size() == 1 && less_cheap.size() == 2, "1 book under 5, 2 under 10");

    // Without async_prepare, the statement cache prepares a parameterised query by itself the
    // 5th time the same SQL runs with the same parameter types (set_statement_cache(capacity,
    // threshold) tunes it; set_statement_cache(0) turns it off, e.g. behind PgBouncer's
    // transaction pooling).
    for (int id = 1; id <= 5; ++id)
        co_await conn.async_execute("SELECT title FROM books WHERE id = $1", asiopg::params(id),
                                    asio::use_awaitable);
    asiopg::result names = co_await conn.async_execute(
        "SELECT name, statement FROM pg_prepared_statements ORDER BY name", asio::use_awaitable);
    for (asiopg::row_view row : names)
        std::cout << row["name"].as<std::string>() << ": " << row["statement"].as<std::string>() << '\n';
    check(names.size() == 2, "two prepared statements: ours and the cache's");
}
//]

asio::awaitable<void> run(std::string conninfo) {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);
    co_await read_rows(conn);
    co_await prepared(conn);
}

int main(int argc, char** argv) {
    asio::io_context ctx;
    asio::co_spawn(ctx, run(argc > 1 ? argv[1] : ""), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    try {
        ctx.run();
    } catch (const std::exception& e) {
        std::cerr << "rows: " << e.what() << '\n';
        return 1;
    }
}
