// Whether a call is refused the way asiopg refuses bad input before anything is sent:
// error_with_diagnostics with client_errc::invalid_parameter and a message.
#ifndef ASIOPG_TEST_REFUSED_HPP
#define ASIOPG_TEST_REFUSED_HPP

#include <asiopg/error.hpp>

namespace asiopg::test {

template <class F>
bool refused(F f) {
    try {
        f();
    } catch (const error_with_diagnostics& e) {
        return e.code() == client_errc::invalid_parameter && !e.get_diagnostics().message.empty();
    }
    return false;
}

} // namespace asiopg::test

#endif
