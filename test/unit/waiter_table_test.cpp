// The pool's table of waiting acquires: a ring indexed by waiter id.
#include "waiter_table.hpp"

#include "test_case.hpp"

#include <memory>
#include <string>

using asiopg::detail::waiter_table;

BOOST_AUTO_TEST_SUITE(waiter_table_suite)

ASIOPG_TEST_CASE(first_come_first_served) {
    waiter_table<std::string> t;
    for (std::uint64_t id = 1; id <= 100; ++id) t.insert(id, std::to_string(id));
    BOOST_TEST(t.size() == 100u);
    for (std::uint64_t id = 1; id <= 100; ++id) {
        auto v = t.take(id);
        BOOST_TEST_REQUIRE(v.has_value());
        BOOST_TEST(*v == std::to_string(id));
    }
    BOOST_TEST(t.empty());
    BOOST_TEST(!t.take(50).has_value());
}

ASIOPG_TEST_CASE(taken_out_of_order_and_twice) {
    waiter_table<std::string> t;
    for (std::uint64_t id = 10; id < 20; ++id) t.insert(id, std::to_string(id));
    BOOST_TEST((t.take(15) == std::string("15"))); // cancelled in the middle
    BOOST_TEST(!t.take(15).has_value());          // served or failed once only
    BOOST_TEST(!t.take(9).has_value());
    BOOST_TEST(!t.take(20).has_value());
    BOOST_TEST((t.take(19) == std::string("19")));
    BOOST_TEST((t.take(10) == std::string("10")));
    BOOST_TEST(t.size() == 7u);
    for (std::uint64_t id : {11, 12, 13, 14, 16, 17, 18}) BOOST_TEST((t.take(id) == std::to_string(id)));
    BOOST_TEST(t.empty());
}

ASIOPG_TEST_CASE(an_older_id_comes_back) {
    // A waiter granted a connection found dead goes back under its old id.
    waiter_table<std::string> t;
    for (std::uint64_t id = 1; id <= 5; ++id) t.insert(id, std::to_string(id));
    auto first = t.take(1);
    auto second = t.take(2);
    t.insert(2, *second);
    t.insert(1, *first);
    for (std::uint64_t id = 1; id <= 5; ++id) BOOST_TEST((t.take(id) == std::to_string(id)));
    // Alone, and into an empty table.
    t.insert(7, "7");
    auto seven = t.take(7);
    t.insert(7, *seven);
    BOOST_TEST((t.take(7) == std::string("7")));
    BOOST_TEST(t.empty());
}

ASIOPG_TEST_CASE(wraps_and_grows_without_losing_any) {
    waiter_table<std::unique_ptr<std::uint64_t>> t;
    std::uint64_t next = 1, oldest = 1;
    // A queue that slides around the ring many times, then grows past it while wrapped.
    for (int round = 0; round < 1000; ++round) {
        t.insert(next, std::make_unique<std::uint64_t>(next));
        ++next;
        if (next - oldest > 10) {
            auto v = t.take(oldest);
            BOOST_TEST_REQUIRE(v.has_value());
            BOOST_TEST(**v == oldest);
            ++oldest;
        }
    }
    for (int i = 0; i < 200; ++i, ++next) t.insert(next, std::make_unique<std::uint64_t>(next));
    BOOST_TEST(t.size() == static_cast<std::size_t>(next - oldest));
    for (std::uint64_t id = next - 1; id >= oldest; --id) { // newest first: shrinks from the back
        auto v = t.take(id);
        BOOST_TEST_REQUIRE(v.has_value());
        BOOST_TEST(**v == id);
    }
    BOOST_TEST(t.empty());
}

BOOST_AUTO_TEST_SUITE_END()
