// Sanitizer builds only: the out-of-line part of Boost.Context's ucontext fiber backend.
//
// Under ASan the Jamroot selects Boost.Context's header-only ucontext backend
// (BOOST_USE_UCONTEXT + BOOST_USE_ASAN), which tells ASan about every stack switch, so that
// throwing inside a yield_context coroutine is not reported as a stack overflow. Debian's
// libboost_context is built for the fcontext backend and lacks the per-thread "current fiber"
// record this backend needs, so every program linking /asiopg//boost_context gets it from here
// (the Jamroot adds this file; it compiles to nothing in other builds).
#if defined(BOOST_USE_UCONTEXT)

#include <boost/context/fiber.hpp>

namespace boost::context::detail {

namespace {
thread_local fiber_activation_record* current_record = nullptr;
thread_local std::size_t users = 0;
} // namespace

// The thread's main context gets a record the first time a fiber is used on that thread.
fiber_activation_record_initializer::fiber_activation_record_initializer() noexcept {
    if (users++ == 0) current_record = new fiber_activation_record();
}

fiber_activation_record_initializer::~fiber_activation_record_initializer() {
    if (--users == 0) {
        delete current_record;
        current_record = nullptr;
    }
}

fiber_activation_record*& fiber_activation_record::current() noexcept {
    thread_local fiber_activation_record_initializer initializer;
    return current_record;
}

} // namespace boost::context::detail

#endif
