// Parameter encoding: what goes to libpq for each C++ type — no server needed.
#include <asiopg/param_buffer.hpp>
#include <asiopg/params.hpp>

#include "test_case.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

using namespace asiopg;

namespace {
template <class... Ts>
std::array<param_ref, sizeof...(Ts)> encode(param_scratch* scratch, const param_list<Ts...>& ps) {
    std::array<param_ref, sizeof...(Ts)> out;
    ps.encode(out, std::span<param_scratch>(scratch, sizeof...(Ts)));
    return out;
}
std::string bytes_of(const param_ref& p) { return std::string(p.data, static_cast<std::size_t>(p.length)); }
} // namespace

BOOST_AUTO_TEST_SUITE(parameters)

ASIOPG_TEST_CASE(integers_are_binary_big_endian_with_their_type) {
    param_scratch s[4];
    std::int16_t a = -2;
    auto p = encode(s, params(a, std::int32_t{0x01020304}, std::int64_t{-1}, 7u));
    BOOST_TEST(p[0].type == 21u);
    BOOST_TEST(bytes_of(p[0]) == std::string("\xff\xfe", 2));
    BOOST_TEST(p[1].type == 23u);
    BOOST_TEST(bytes_of(p[1]) == std::string("\x01\x02\x03\x04", 4));
    BOOST_TEST(p[2].type == 20u);
    BOOST_TEST(bytes_of(p[2]) == std::string(8, '\xff'));
    BOOST_TEST(p[3].type == 20u); // unsigned int may exceed int4: sent as int8
    BOOST_TEST((p[3].format == data_format::binary));
}

ASIOPG_TEST_CASE(uint64_goes_as_exact_numeric_text) {
    param_scratch s[1];
    auto p = encode(s, params(std::numeric_limits<std::uint64_t>::max()));
    BOOST_TEST(p[0].type == 1700u);
    BOOST_TEST((p[0].format == data_format::text));
    BOOST_TEST(bytes_of(p[0]) == "18446744073709551615");
}

ASIOPG_TEST_CASE(bool_double_float) {
    param_scratch s[3];
    auto p = encode(s, params(true, 1.5, -0.0f));
    BOOST_TEST(p[0].type == 16u);
    BOOST_TEST(bytes_of(p[0]) == std::string("\x01", 1));
    BOOST_TEST(p[1].type == 701u);
    BOOST_TEST(bytes_of(p[1]) == std::string("\x3f\xf8\0\0\0\0\0\0", 8));
    BOOST_TEST(p[2].type == 700u);
    BOOST_TEST(bytes_of(p[2]) == std::string("\x80\0\0\0", 4));
}

ASIOPG_TEST_CASE(strings_are_text_of_unknown_type_without_copy) {
    param_scratch s[3];
    std::string owned = "hello";
    std::string_view view = "world";
    auto p = encode(s, params(owned, view, "lit"));
    BOOST_TEST(p[0].data == owned.data()); // lvalues are referenced, not copied
    BOOST_TEST(p[0].type == 0u);
    BOOST_TEST((p[0].format == data_format::text));
    BOOST_TEST(bytes_of(p[1]) == "world");
    BOOST_TEST(bytes_of(p[2]) == "lit");
}

ASIOPG_TEST_CASE(rvalues_are_kept_alive_by_the_list) {
    param_scratch s[1];
    auto list = params(std::string(100, 'x'));
    auto p = encode(s, list);
    BOOST_TEST(bytes_of(p[0]) == std::string(100, 'x'));
}

ASIOPG_TEST_CASE(nulls_keep_their_type) {
    param_scratch s[4];
    std::optional<int> none;
    std::optional<int> some = 5;
    const char* null_cstr = nullptr;
    auto p = encode(s, params(none, some, std::nullopt, null_cstr));
    BOOST_TEST(p[0].data == nullptr);
    BOOST_TEST(p[0].type == 23u);
    BOOST_TEST(p[1].data != nullptr);
    BOOST_TEST(bytes_of(p[1]) == std::string("\0\0\0\5", 4));
    BOOST_TEST(p[2].data == nullptr);
    BOOST_TEST(p[2].type == 0u);
    BOOST_TEST(p[3].data == nullptr);
}

ASIOPG_TEST_CASE(bytes_are_binary_bytea) {
    param_scratch s[1];
    bytes b{0, 1, 255};
    auto p = encode(s, params(b));
    BOOST_TEST(p[0].type == 17u);
    BOOST_TEST((p[0].format == data_format::binary));
    BOOST_TEST(bytes_of(p[0]) == std::string("\0\1\xff", 3));
}

// refs() views the buffer's own bytes: a copy or a move must not keep views of the source's
// (short values live inside the string object itself, which a move does not carry along).
ASIOPG_TEST_CASE(param_buffer_copies_and_moves_view_their_own_bytes) {
    param_buffer original(params(std::string("abc"), 42, std::optional<int>()));
    BOOST_TEST_REQUIRE(original.refs().size() == 3u); // views made, then the buffer travels
    param_buffer copy = original;
    param_buffer moved = std::move(original);
    original = param_buffer(params(std::string("zz"))); // a stale view would now read "zz"
    for (const param_buffer* b : {&copy, &moved}) {
        auto r = b->refs();
        BOOST_TEST_REQUIRE(r.size() == 3u);
        BOOST_TEST(bytes_of(r[0]) == "abc");
        BOOST_TEST(r[1].length == 4);
        BOOST_TEST(r[2].data == nullptr);
    }
    BOOST_TEST(static_cast<const void*>(copy.refs()[0].data) != static_cast<const void*>(moved.refs()[0].data));
    BOOST_TEST(bytes_of(original.refs()[0]) == "zz");
    copy = moved; // assignments drop the views too
    moved = param_buffer();
    BOOST_TEST(bytes_of(copy.refs()[0]) == "abc");
    BOOST_TEST(moved.refs().empty());
}

ASIOPG_TEST_CASE(param_buffer_beyond_the_values_kept_in_place) {
    param_buffer b;
    for (int i = 0; i < 100; ++i) b.push_back(std::to_string(i));
    auto r = b.refs();
    BOOST_TEST_REQUIRE(r.size() == 100u);
    for (int i = 0; i < 100; ++i) BOOST_TEST(bytes_of(r[static_cast<std::size_t>(i)]) == std::to_string(i));
    param_buffer m = std::move(b);
    BOOST_TEST(b.empty());
    BOOST_TEST(bytes_of(m.refs()[99]) == "99");
}

BOOST_AUTO_TEST_SUITE_END()
