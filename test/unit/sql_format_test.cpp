// format_sql without a server: what compiles, what a literal holds, and every error that is found
// before the connection is needed (format string, argument count, NUL bytes, empty lists and
// names) — then not_connected for a well-formed call on a closed connection.
#include <asiopg/connection.hpp>
#include <asiopg/sql_format.hpp>

#include "test_case.hpp"

#include <boost/asio/io_context.hpp>

#include <array>
#include <list>
#include <optional>
#include <ranges>
#include <string>
#include <vector>

using namespace asiopg;

namespace {

struct not_sql {};

// What format_sql threw: its code and message (a default code when it did not throw).
struct thrown {
    error_code ec;
    std::string message;
    bool other = false; // threw something other than error_with_diagnostics
};

template <class F>
thrown catch_error(F&& f) {
    thrown t;
    try {
        (void)f();
    } catch (const error_with_diagnostics& e) {
        t.ec = e.code();
        t.message = e.get_diagnostics().message;
        BOOST_TEST(!e.get_diagnostics().from_server());
        BOOST_TEST(std::string(e.what()).find(t.message) != std::string::npos);
    } catch (...) {
        t.other = true;
    }
    return t;
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

struct offline {
    boost::asio::io_context ctx;
    connection conn{ctx}; // never connected
};

} // namespace

// ---- compile-time: what is a literal, what format_sql accepts ----
static_assert(std::is_constructible_v<literal, std::string>);
static_assert(std::is_constructible_v<literal, const char*>);
static_assert(std::is_constructible_v<literal, int>);
static_assert(std::is_constructible_v<literal, std::uint64_t>);
static_assert(std::is_constructible_v<literal, double>);
static_assert(std::is_constructible_v<literal, bool>);
static_assert(std::is_constructible_v<literal, std::nullopt_t>);
static_assert(std::is_constructible_v<literal, std::optional<std::string>>);
static_assert(std::is_constructible_v<literal, std::vector<int>>);
static_assert(std::is_constructible_v<literal, std::vector<std::optional<std::string_view>>>);
static_assert(std::is_constructible_v<literal, std::list<std::string>>);
static_assert(std::is_constructible_v<literal, std::vector<bool>>);
static_assert(!std::is_constructible_v<literal, char>);                    // a char is neither text nor a number
static_assert(!std::is_constructible_v<literal, long double>);             // would lose precision
static_assert(!std::is_constructible_v<literal, std::vector<unsigned char>>); // asiopg::bytes: binary, not a list
static_assert(!std::is_constructible_v<literal, std::vector<std::vector<int>>>); // no nested lists
static_assert(!std::is_constructible_v<literal, not_sql>);
static_assert(!std::is_constructible_v<literal, identifier>);
static_assert(!std::is_convertible_v<std::string, identifier>); // names are always explicit
static_assert(!std::is_convertible_v<std::string, raw_sql>);    // and so is unquoted SQL
static_assert(!std::is_convertible_v<const char*, raw_sql>);

template <class... Args>
concept formattable = requires(const connection& c, const Args&... args) { format_sql(c, "", args...); };
static_assert(formattable<std::string, int, double, bool, std::nullopt_t, std::optional<long>>);
static_assert(formattable<literal, identifier, raw_sql, std::vector<identifier>, std::vector<std::string>>);
static_assert(formattable<char[4], const char*, std::string_view>);
static_assert(!formattable<not_sql>);
static_assert(!formattable<char>);
static_assert(!formattable<std::vector<unsigned char>>);
static_assert(!formattable<std::list<identifier>>); // names: a contiguous range
static_assert(!formattable<std::vector<raw_sql>>);

BOOST_AUTO_TEST_SUITE(sql_format_offline)

ASIOPG_TEST_CASE(a_literal_owns_its_values) {
    std::optional<literal> kept;
    {
        std::string s(100, 'x');
        std::vector<std::string> v{"a", std::string(50, 'b'), ""};
        kept.emplace(s);
        BOOST_TEST(!kept->is_list());
        BOOST_TEST(kept->size() == 1u);
        literal list(v);
        BOOST_TEST(list.is_list());
        BOOST_TEST(list.size() == 3u);
        literal copy = list;
        literal moved = std::move(list);
        BOOST_TEST(copy.size() == 3u);
        BOOST_TEST(moved.size() == 3u);
    }
    BOOST_TEST(kept->size() == 1u);
    BOOST_TEST(literal(std::vector<int>{}).is_list());
    BOOST_TEST(literal(std::vector<int>{}).size() == 0u);
    BOOST_TEST(literal(std::nullopt).size() == 1u);
    // a view of generated strings: each is copied while it exists
    auto generated = std::views::iota(0, 3) | std::views::transform([](int i) { return std::string(20, char('a' + i)); });
    BOOST_TEST(literal(generated).size() == 3u);
}

ASIOPG_TEST_CASE(identifier_parts) {
    identifier one("t");
    BOOST_TEST(one.parts().size() == 1u);
    identifier two("s", "t");
    BOOST_TEST(two.parts().size() == 2u);
    BOOST_TEST(two.parts()[0] == "s");
    identifier three("s", "t", "c");
    BOOST_TEST(three.parts()[2] == "c");
    BOOST_TEST(raw_sql("DESC").str() == "DESC");
}

ASIOPG_TEST_CASE(malformed_braces_are_refused_with_their_position) {
    offline o;
    for (std::string_view fmt : {"SELECT {", "SELECT {x}", "SELECT {0}", "SELECT }", "SELECT {}}", "{{}"}) {
        BOOST_TEST_CONTEXT(fmt) {
            auto t = catch_error([&] { return format_sql(o.conn, fmt, 1); });
            BOOST_TEST((t.ec == client_errc::invalid_parameter));
            BOOST_TEST(contains(t.message, "byte"), t.message);
        }
    }
    auto t = catch_error([&] { return format_sql(o.conn, "SELECT 1 {x}"); });
    BOOST_TEST(contains(t.message, "'{' at byte 9"), t.message);
    t = catch_error([&] { return format_sql(o.conn, "SELECT 1 }"); });
    BOOST_TEST(contains(t.message, "'}' at byte 9"), t.message);
}

ASIOPG_TEST_CASE(argument_count_must_match) {
    offline o;
    auto fewer = catch_error([&] { return format_sql(o.conn, "SELECT {}, {}", 1); });
    BOOST_TEST((fewer.ec == client_errc::invalid_parameter));
    BOOST_TEST(contains(fewer.message, "2 placeholders but 1 argument was given"), fewer.message);
    auto more = catch_error([&] { return format_sql(o.conn, "SELECT {}", 1, 2); });
    BOOST_TEST((more.ec == client_errc::invalid_parameter));
    BOOST_TEST(contains(more.message, "1 placeholder but 2 arguments were given"), more.message);
    auto none = catch_error([&] { return format_sql(o.conn, "SELECT '{{}}'", "x"); });
    BOOST_TEST(contains(none.message, "0 placeholders but 1 argument"), none.message);
}

ASIOPG_TEST_CASE(placeholders_inside_quotes_or_comments_are_refused) {
    offline o;
    struct case_ { std::string_view fmt; std::string_view where; };
    for (case_ c : {case_{"SELECT '{}'", "string constant"}, case_{"SELECT 'a''{}'", "string constant"},
                    case_{"SELECT E'\\'{}'", "string constant"}, case_{"SELECT \"{}\"", "quoted identifier"},
                    case_{"SELECT \"a\"\"{}\"", "quoted identifier"}, case_{"SELECT $${}$$", "dollar-quoted"},
                    case_{"SELECT $f$ $$ {} $f$", "dollar-quoted"}, case_{"SELECT 1 -- {}", "comment"},
                    case_{"SELECT /* /* */ {} */ 1", "comment"}}) {
        BOOST_TEST_CONTEXT(c.fmt) {
            auto t = catch_error([&] { return format_sql(o.conn, c.fmt, "x"); });
            BOOST_TEST((t.ec == client_errc::invalid_parameter));
            BOOST_TEST(contains(t.message, c.where), t.message);
            BOOST_TEST(contains(t.message, "placeholder at byte"), t.message);
        }
    }
    // ... and placeholders after such constructs are fine (the closed connection is the error)
    for (std::string_view fmt : {"SELECT 'a''b', {}", "SELECT E'\\\\', {}", "SELECT 'a\\', {}", "SELECT \"x\"\"y\", {}",
                                 "SELECT $$'$$, {}", "SELECT $a$ $$ $a$, {}", "SELECT $1, {}", "SELECT a$$b, {}",
                                 "SELECT 1 -- c\n, {}", "SELECT /* /* */ */ {}", "SELECT '{{x}}', {}",
                                 "SELECT x'1f', {}", "SELECT U&'\\0041', {}", "SELECT 5/*c*/-{}"}) {
        BOOST_TEST_CONTEXT(fmt) {
            auto t = catch_error([&] { return format_sql(o.conn, fmt, "x"); });
            BOOST_TEST((t.ec == client_errc::not_connected), t.message);
        }
    }
}

ASIOPG_TEST_CASE(nul_bytes_empty_lists_and_empty_names_are_refused) {
    offline o;
    std::string nul("ab\0cd", 5);
    auto value = catch_error([&] { return format_sql(o.conn, "SELECT {}, {}", 1, nul); });
    BOOST_TEST((value.ec == client_errc::invalid_parameter));
    BOOST_TEST(contains(value.message, "argument 2 (placeholder at byte 11)"), value.message);
    BOOST_TEST(contains(value.message, "NUL byte (at byte 2)"), value.message);

    auto element = catch_error([&] { return format_sql(o.conn, "x IN ({})", std::vector<std::string>{"a", nul}); });
    BOOST_TEST(contains(element.message, "list element 2"), element.message);
    BOOST_TEST(contains(element.message, "NUL"), element.message);

    auto name = catch_error([&] { return format_sql(o.conn, "SELECT {}", identifier("s", nul)); });
    BOOST_TEST((name.ec == client_errc::invalid_parameter));
    BOOST_TEST(contains(name.message, "name part 2"), name.message);
    auto raw = catch_error([&] { return format_sql(o.conn, "SELECT 1 {}", raw_sql(nul)); });
    BOOST_TEST(contains(raw.message, "raw_sql contains a NUL"), raw.message);
    auto in_fmt = catch_error([&] { return format_sql(o.conn, std::string_view("SELECT 1\0", 9)); });
    BOOST_TEST((in_fmt.ec == client_errc::invalid_parameter));
    BOOST_TEST(contains(in_fmt.message, "format string contains a NUL"), in_fmt.message);

    auto empty = catch_error([&] { return format_sql(o.conn, "x IN ({})", std::vector<int>{}); });
    BOOST_TEST((empty.ec == client_errc::invalid_parameter));
    BOOST_TEST(contains(empty.message, "list is empty"), empty.message);
    auto empty_literal = catch_error([&] { return format_sql(o.conn, "x IN ({})", literal(std::vector<std::string>{})); });
    BOOST_TEST((empty_literal.ec == client_errc::invalid_parameter));
    auto empty_name = catch_error([&] { return format_sql(o.conn, "SELECT {}", identifier("")); });
    BOOST_TEST(contains(empty_name.message, "identifier is empty"), empty_name.message);
    auto no_names = catch_error([&] { return format_sql(o.conn, "SELECT {}", std::vector<identifier>{}); });
    BOOST_TEST(contains(no_names.message, "list of identifiers is empty"), no_names.message);
}

ASIOPG_TEST_CASE(a_closed_connection_is_not_connected) {
    offline o;
    auto f = catch_error([&] { return format_sql(o.conn, "SELECT {}", "x"); });
    BOOST_TEST((f.ec == client_errc::not_connected));
    BOOST_TEST(contains(f.message, "not open"), f.message);
    auto none = catch_error([&] { return format_sql(o.conn, "SELECT 1"); });
    BOOST_TEST((none.ec == client_errc::not_connected));
    auto lit = catch_error([&] { return escape_literal(o.conn, "x"); });
    BOOST_TEST((lit.ec == client_errc::not_connected));
    BOOST_TEST(contains(lit.message, "escape_literal"), lit.message);
    auto id = catch_error([&] { return escape_identifier(o.conn, "x"); });
    BOOST_TEST((id.ec == client_errc::not_connected));
    // the value is checked first: a NUL is reported as such, even offline
    auto nul = catch_error([&] { return escape_literal(o.conn, std::string_view("a\0", 2)); });
    BOOST_TEST((nul.ec == client_errc::invalid_parameter));
    auto empty = catch_error([&] { return escape_identifier(o.conn, ""); });
    BOOST_TEST((empty.ec == client_errc::invalid_parameter));
    connection moved_from(std::move(o.conn));
    auto gone = catch_error([&] { return format_sql(o.conn, "SELECT {}", 1); });
    BOOST_TEST((gone.ec == client_errc::not_connected));
}

BOOST_AUTO_TEST_SUITE_END()
