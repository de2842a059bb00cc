#define BOOST_TEST_MODULE asiopg_unit
#include <boost/test/unit_test.hpp>
