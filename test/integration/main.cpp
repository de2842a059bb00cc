#define BOOST_TEST_MODULE asiopg_integration
#include <boost/test/unit_test.hpp>
