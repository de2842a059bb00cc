// Rows into Boost.Describe structs and tuples; uuid and json mappings.
#include <asiopg.hpp>
#include <asiopg/types/json.hpp>
#include <asiopg/types/uuid.hpp>

#include "session.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <boost/describe/class.hpp>
#include <boost/uuid/uuid_io.hpp>

using namespace asiopg;
using namespace asiopg::test;

namespace rows_test {
struct user {
    int id = 0;
    std::string name;
    std::optional<std::string> email;
    double score = 0;
};
BOOST_DESCRIBE_STRUCT(user, (), (id, name, email, score))

struct strict {
    int id = 0;
    std::string email; // not optional
};
BOOST_DESCRIBE_STRUCT(strict, (), (id, email))

struct wants_missing {
    int id = 0;
    int nonexistent = 0;
};
BOOST_DESCRIBE_STRUCT(wants_missing, (), (id, nonexistent))

struct with_enum_array {
    int id = 0;
    std::vector<std::string> moods;
};
BOOST_DESCRIBE_STRUCT(with_enum_array, (), (id, moods))

struct wrong_type {
    int id = 0;
    int name = 0; // a text column
};
BOOST_DESCRIBE_STRUCT(wrong_type, (), (id, name))
} // namespace rows_test

namespace {
// Through the extended protocol, so the result format applies.
result extended(session& s, std::string_view sql) { return s.query(sql, params()); }

const char* users_sql =
    "SELECT * FROM (VALUES (1, 'ann', 'ann@x.org', 1.5::float8), (2, 'bob', NULL, 2.0)) AS t(id, name, email, score)";
} // namespace

BOOST_AUTO_TEST_SUITE(rows)

ASIOPG_TEST_CASE(described_structs_by_column_name) {
    for (data_format f : {data_format::text, data_format::binary}) {
        session s;
        s.conn.set_result_format(f);
        // columns in another order than the members: matched by name
        result r = extended(s, "SELECT score, email, name, id FROM (" + std::string(users_sql) + ") u ORDER BY id");
        std::vector<rows_test::user> users = r.rows<rows_test::user>();
        BOOST_TEST_REQUIRE(users.size() == 2u);
        BOOST_TEST(users[0].id == 1);
        BOOST_TEST(users[0].name == "ann");
        BOOST_TEST(users[0].email.value_or("") == "ann@x.org");
        BOOST_TEST(users[0].score == 1.5);
        BOOST_TEST(!users[1].email);
        rows_test::user one = r[1].as<rows_test::user>();
        BOOST_TEST(one.name == "bob");
    }
}

ASIOPG_TEST_CASE(tuples_by_position) {
    session s;
    result r = extended(s, std::string(users_sql) + " ORDER BY 1");
    auto all = r.rows<std::tuple<int, std::string, std::optional<std::string>, double>>();
    BOOST_TEST(all.size() == 2u);
    BOOST_TEST(std::get<1>(all[1]) == "bob");
    auto [id, name, email, score] = r[0].as<std::tuple<long, std::string_view, std::optional<std::string>, float>>();
    BOOST_TEST(id == 1);
    BOOST_TEST(name == "ann");
    BOOST_TEST(score == 1.5f);
    using too_short = std::tuple<int, std::string>;
    BOOST_CHECK_EXCEPTION((void)r.rows<too_short>(), error_with_diagnostics,
                          [](const auto& e) { return e.code() == client_errc::conversion_error; });
}

ASIOPG_TEST_CASE(mismatches_are_reported_before_any_field_is_read) {
    session s;
    result r = extended(s, std::string(users_sql) + " ORDER BY 1");
    BOOST_CHECK_EXCEPTION((void)r.rows<rows_test::strict>(), error_with_diagnostics, [](const auto& e) {
        std::string w = e.what();
        return e.code() == client_errc::unexpected_null && w.find("row 1") != std::string::npos &&
               w.find("email") != std::string::npos;
    });
    BOOST_TEST(r[0].as<rows_test::strict>().email == "ann@x.org"); // row 0 has no NULL
    BOOST_CHECK_EXCEPTION((void)r.rows<rows_test::wants_missing>(), error_with_diagnostics, [](const auto& e) {
        return e.code() == client_errc::column_not_found && std::string(e.what()).find("nonexistent") != std::string::npos;
    });
    BOOST_CHECK_EXCEPTION((void)r.rows<rows_test::wrong_type>(), error_with_diagnostics, [](const auto& e) {
        std::string w = e.what();
        return e.code() == client_errc::conversion_error && w.find("name") != std::string::npos &&
               w.find("text") != std::string::npos;
    });
}

ASIOPG_TEST_CASE(arrays_of_unknown_types_map_into_members) {
    session s;
    BOOST_TEST(!s.exec("DROP TYPE IF EXISTS rows_mood; CREATE TYPE rows_mood AS ENUM ('sad', 'ok')").ec);
    result r = extended(s, "SELECT 1 AS id, ARRAY['ok', 'sad']::rows_mood[] AS moods");
    auto v = r.rows<rows_test::with_enum_array>();
    BOOST_TEST_REQUIRE(v.size() == 1u);
    BOOST_TEST((v[0].moods == std::vector<std::string>{"ok", "sad"}));
}

ASIOPG_TEST_CASE(empty_result_gives_no_rows_but_is_still_checked) {
    session s;
    result r = extended(s, std::string(users_sql) + " WHERE false");
    BOOST_TEST(r.rows<rows_test::user>().empty());
    BOOST_CHECK_THROW((void)r.rows<rows_test::wants_missing>(), error_with_diagnostics);
}

ASIOPG_TEST_CASE(uuid_round_trip) {
    for (data_format f : {data_format::text, data_format::binary}) {
        session s;
        s.conn.set_result_format(f);
        boost::uuids::uuid u = boost::uuids::string_generator()("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        auto out = run<result>(style::callback, s.ctx, [&](auto&& tok) {
            return s.conn.async_execute("SELECT $1::uuid, $1::uuid::text, 'not-a-uuid'", params(u), tok);
        });
        BOOST_TEST_REQUIRE(!out.ec, s.conn.get_diagnostics().message);
        BOOST_TEST((*out.value)[0][0].as<boost::uuids::uuid>() == u);
        BOOST_TEST((*out.value)[0][1].as<boost::uuids::uuid>() == u);
        BOOST_TEST(boost::uuids::to_string((*out.value)[0][0].as<boost::uuids::uuid>()) == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        BOOST_CHECK_THROW((void)(*out.value)[0][2].as<boost::uuids::uuid>(), error_with_diagnostics);
    }
}

ASIOPG_TEST_CASE(json_round_trip) {
    for (data_format f : {data_format::text, data_format::binary}) {
        session s;
        s.conn.set_result_format(f);
        boost::json::value doc = boost::json::parse(R"({"a": [1, 2.5, null], "b": {"c": "d\"e"}})");
        auto out = run<result>(style::callback, s.ctx, [&](auto&& tok) {
            return s.conn.async_execute("SELECT $1::jsonb, $1::json, $1::jsonb -> 'b' ->> 'c', '{bad'::text", params(doc), tok);
        });
        BOOST_TEST_REQUIRE(!out.ec, s.conn.get_diagnostics().message);
        BOOST_TEST(((*out.value)[0][0].as<boost::json::value>() == doc));
        BOOST_TEST(((*out.value)[0][1].as<boost::json::value>() == doc));
        BOOST_TEST((*out.value)[0][2].as<std::string>() == "d\"e");
        BOOST_CHECK_THROW((void)(*out.value)[0][3].as<boost::json::value>(), error_with_diagnostics);
    }
}

BOOST_AUTO_TEST_SUITE_END()
