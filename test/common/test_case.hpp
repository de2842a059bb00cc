// Every test case gets a wall-clock limit: a hung test fails instead of stalling CI.
#ifndef ASIOPG_TEST_TEST_CASE_HPP
#define ASIOPG_TEST_TEST_CASE_HPP

#include <boost/test/unit_test.hpp>

#define ASIOPG_TEST_CASE(name, ...) BOOST_AUTO_TEST_CASE(name, *boost::unit_test::timeout(60) __VA_ARGS__)

#endif
