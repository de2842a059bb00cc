// Reading one pipeline_result in tests: a description for messages, and the int it must hold.
#ifndef ASIOPG_TEST_PIPELINE_OUTCOME_HPP
#define ASIOPG_TEST_PIPELINE_OUTCOME_HPP

#include <asiopg/pipeline.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

namespace asiopg::test {

inline std::string describe(const pipeline_result& r) {
    return r.ok() ? std::string("ok") : r.error.message() + " / " + r.diag.to_string();
}

/// The first field of the first row, required to be there.
inline int int_of(const pipeline_result& r) {
    BOOST_TEST_REQUIRE(r.ok(), describe(r));
    return r.value.at(0).at(0).as<int>();
}

} // namespace asiopg::test

#endif
